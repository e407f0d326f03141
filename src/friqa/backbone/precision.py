"""Opt-in reduced precision for the VGG16 passes of the deep metrics.

Every deep metric takes ``precision="fp32"`` (the default: the pass runs in the
input's dtype, exactly as the reference code) or ``precision="bf16"``: its
backbone passes then run in bfloat16 on the CPU (fast where the CPU has
AVX512-BF16 or AMX) on a bfloat16 copy of the weights made once per backbone
(:meth:`friqa.backbone.vgg16.VGG16.layers_for`; :func:`torch.autocast` would
cast every weight again at each pass, which made DISTS about 1.5x slower), and under
float16 :func:`torch.autocast` on CUDA, in the ``channels_last`` memory format;
the features are handed back in the input's dtype, so everything after the
backbone (normalisation, layer terms, MIC, Wasserstein distances) computes as
before. Scores move by about 1e-3 to
1e-2 relative (measured per metric in ``docs/benchmarks.md``): fine for ranking
images, not for reproducing published numbers. It is never the default.

A metric enters :func:`reduced_precision` around its own work
(:class:`friqa.metrics.base.Metric` does it from the ``precision`` attribute);
:meth:`friqa.backbone.vgg16.VGG16.forward` reads :func:`active_precision`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import torch

from friqa.exceptions import InputError

__all__ = [
    "PRECISIONS",
    "check_precision",
    "reduced_precision",
    "active_precision",
    "autocast_dtype",
]

#: Accepted values of the ``precision`` option.
PRECISIONS: tuple[str, ...] = ("fp32", "bf16")

_ACTIVE: ContextVar[str] = ContextVar("friqa_precision", default="fp32")


def check_precision(precision: str) -> str:
    """``precision`` lower-cased when it is one of :data:`PRECISIONS`, else InputError."""
    value = str(precision).lower()
    if value not in PRECISIONS:
        raise InputError(
            f"precision must be one of {', '.join(PRECISIONS)} (bf16: bfloat16 autocast on the "
            f"CPU, float16 on CUDA), got {precision!r}"
        )
    return value


@contextmanager
def reduced_precision(precision: str) -> Iterator[str]:
    """Run the backbone passes inside this block at ``precision``.

    ``"fp32"`` changes nothing (an enclosing ``"bf16"`` block stays in force), so a
    metric wrapping another one keeps the outer choice.
    """
    value = check_precision(precision)
    if value == "fp32":
        yield _ACTIVE.get()
        return
    token = _ACTIVE.set(value)
    try:
        yield value
    finally:
        _ACTIVE.reset(token)


def active_precision() -> str:
    """The precision of the innermost :func:`reduced_precision` block (``"fp32"`` outside)."""
    return _ACTIVE.get()


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """The autocast dtype of ``"bf16"`` on ``device``: bfloat16 on CPU, float16 on CUDA."""
    if device.type == "cpu":
        return torch.bfloat16
    if device.type == "cuda":
        return torch.float16
    return None
