"""Per-image sum of squared differences with the input check in the same read, on CPU.

PSNR's arithmetic is one read of each image, but in torch the range check of
:func:`friqa.validation.check_pair` costs a pass per tensor and the difference and
its square are written to memory before being summed. :func:`checked_sse` runs
the compiled loop ``sse.c`` (built by :func:`friqa.native.load_kernel`) that
checks and sums in one read, without temporaries. It covers the common case
(float32 CPU tensors of one layout, no gradient) and returns ``None`` otherwise,
and when an input fails the check: the caller then runs its torch path, whose
:func:`~friqa.validation.check_pair` names the failure.

Values at most :data:`~friqa.validation.RANGE_TOLERANCE` outside ``[0, data_range]``
(any finite value with ``clamp=True``) are clamped into it first, as
:func:`~friqa.validation.check_batch` does.
"""

from __future__ import annotations

import ctypes
import math
import sys
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import cast

import torch
from torch import Tensor

from friqa.native import load_kernel
from friqa.validation import RANGE_TOLERANCE

__all__ = ["checked_sse", "SOURCE"]

#: The C source of the kernel.
SOURCE = Path(__file__).with_name("sse.c")
_FLOAT_MAX = 3.4028234663852886e38


def _bind(lib: ctypes.CDLL) -> Callable[..., int]:
    fn = lib.friqa_sse_batch
    ptr, i64, f32 = ctypes.c_void_p, ctypes.c_int64, ctypes.c_float
    fn.argtypes = [ptr, ptr, i64, i64, f32, f32, f32, ptr]
    fn.restype = ctypes.c_int
    return cast(Callable[..., int], fn)


def _inner_float32(value: float, towards: float) -> float:
    """The float32 nearest ``value`` on the side of ``towards``, so that comparing a
    float32 with it decides as comparing with ``value`` in double does."""
    f = torch.tensor(value, dtype=torch.float32)
    if (float(f) - value) * (towards - value) < 0:
        f = torch.nextafter(f, torch.tensor(towards, dtype=torch.float32))
    return float(f)


@lru_cache(maxsize=64)
def _bounds(data_range: float, clamp: bool) -> tuple[float, float]:
    """``[lo, hi]`` of the accepted values, as float32 numbers (see ``check_batch``)."""
    if clamp:
        return -_FLOAT_MAX, _FLOAT_MAX
    tol = RANGE_TOLERANCE * data_range
    return _inner_float32(-tol, math.inf), _inner_float32(data_range + tol, -math.inf)


def _same_dense_layout(ref: Tensor, dist: Tensor) -> bool:
    if ref.stride() != dist.stride():
        return False
    return ref.is_contiguous() or ref.is_contiguous(memory_format=torch.channels_last)


def checked_sse(
    ref: Tensor, dist: Tensor, data_range: float, *, clamp: bool = False
) -> Tensor | None:
    """``((ref - dist) ** 2).sum`` per image (float64, shape ``(N,)``), or ``None``.

    ``ref`` and ``dist`` are ``(N, C, H, W)`` batches of the same shape, already checked
    for everything but their values. ``None`` means: the kernel does not apply (not
    float32 CPU tensors of the same dense layout, a gradient to track, no compiler)
    or a value is NaN, infinite or out of range (see the module docstring).

    Example:
        >>> ref = torch.zeros(2, 3, 4, 4)
        >>> sse = checked_sse(ref, ref + 0.5, 1.0)
        >>> sse is None or sse.tolist() == [12.0, 12.0]
        True
    """
    if (
        ref.dtype != torch.float32
        or dist.dtype != torch.float32
        or ref.device.type != "cpu"
        or dist.device.type != "cpu"
        or ref.shape != dist.shape
        or (torch.is_grad_enabled() and (ref.requires_grad or dist.requires_grad))
        or not _same_dense_layout(ref, dist)
        or sys.byteorder != "little"
    ):
        return None
    fn = load_kernel(SOURCE, _bind)
    if fn is None:
        return None
    lo, hi = _bounds(data_range, clamp)
    n = ref.shape[0]
    out = torch.empty(n, dtype=torch.float64)
    flags = fn(
        ref.data_ptr(), dist.data_ptr(), n, ref[0].numel(), lo, hi, data_range, out.data_ptr()
    )
    return None if flags else out
