"""Raw pixel values to float images in ``[0, 1]``: the steps every image source shares.

The loaders (:mod:`friqa.io.arrays` for numpy arrays and torch tensors,
:mod:`friqa.io.files` for files and PIL images) turn their source into raw
channel values and an optional alpha channel; this module checks the options,
checks every value lies in ``[0, white]`` (never clipping), divides by the white
level, composites alpha on white and replicates grayscale to three channels
(:func:`compose_rgb`). :mod:`friqa.io.write` uses :func:`scale_values` to check
the tensors it writes.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch

from friqa.exceptions import FriqaError, InputError

__all__ = [
    "ALPHA_MODES",
    "AlphaMode",
    "check_options",
    "compose_rgb",
    "numpy_to_torch",
    "scale_values",
]

AlphaMode = Literal["white", "drop"]
"""How :func:`friqa.io.load_image` treats alpha: composite on white, or ignore it."""

ALPHA_MODES = ("white", "drop")


def check_options(data_range: float | None, alpha: str, dtype: torch.dtype) -> float | None:
    """Validate the loader options; returns ``data_range`` as a float (or ``None``)."""
    if alpha not in ALPHA_MODES:
        raise InputError(f"alpha must be one of {ALPHA_MODES}; got {alpha!r}")
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise InputError(
            f"dtype must be a floating torch dtype (e.g. torch.float32); got {dtype!r}"
        )
    if data_range is None:
        return None
    if isinstance(data_range, (bool, np.bool_)) or not isinstance(
        data_range, (int, float, np.integer, np.floating)
    ):
        raise InputError(
            f"data_range must be a positive finite number or None; "
            f"got {data_range!r} of type {type(data_range).__name__}"
        )
    value = float(data_range)
    if not (np.isfinite(value) and value > 0):
        raise InputError(f"data_range must be a positive finite number or None; got {data_range!r}")
    return value


def _work_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.float64 if dtype == torch.float64 else torch.float32


def scale_values(
    x: torch.Tensor,
    scale: float | None,
    why: str,
    what: str,
    err: type[FriqaError],
    work: torch.dtype,
) -> torch.Tensor:
    """Check ``x`` (any real dtype) lies in ``[0, scale]`` and return ``x / scale`` (a copy).

    ``scale=None`` means boolean content (0 or 1). ``why`` explains the scale and
    ``what`` names the source in the error (of type ``err``); ``work`` is the
    dtype of the result.
    """
    if x.dtype == torch.bool or scale is None:  # only bool content comes without a scale
        return x.to(work, copy=True)
    if x.dtype.is_floating_point:
        finite = torch.isfinite(x)
        if not bool(finite.all()):
            n_nan = int(torch.isnan(x).sum())
            n_inf = int((~finite).sum()) - n_nan
            raise err(
                f"{what}: expected finite values in [0, {scale:g}]; "
                f"found {n_nan} NaN and {n_inf} infinite value(s)"
            )
    lo, hi = x.min(), x.max()
    if bool(lo < 0) or bool(hi > scale):
        raise err(
            f"{what}: expected values in [0, {scale:g}] ({why}); got values in "
            f"[{lo.item():g}, {hi.item():g}]. Pass data_range=<white level> if the data "
            "uses another range (values are never clipped)"
        )
    out = x.to(work, copy=True)
    if scale != 1.0:
        out = out / scale
    return out


def compose_rgb(
    colour: torch.Tensor,
    alpha: torch.Tensor | None,
    *,
    scale: float | None,
    alpha_scale: float | None,
    why: str,
    alpha_mode: str,
    dtype: torch.dtype,
    what: str,
    err: type[FriqaError],
) -> torch.Tensor:
    """``colour`` (1 or 3, H, W) and optional ``alpha`` (1, H, W), raw values -> (3, H, W).

    The arithmetic runs in float64 for ``dtype=torch.float64`` and in float32
    otherwise, then the result is cast to ``dtype``.
    """
    work = _work_dtype(dtype)
    c = scale_values(colour, scale, why, what, err, work)
    if alpha is not None:
        a = scale_values(alpha, alpha_scale, why, what + " (alpha channel)", err, work)
        if alpha_mode == "white":
            c = c * a + (1.0 - a)
    if c.shape[0] == 1:
        c = c.repeat(3, 1, 1)
    return c.to(dtype).contiguous()


def numpy_to_torch(arr: np.ndarray) -> torch.Tensor:
    """A torch view/copy of ``arr`` in a dtype torch can compare (never writes to ``arr``)."""
    kind, size = arr.dtype.kind, arr.dtype.itemsize
    if kind == "u" and size in (2, 4):
        target: np.dtype[Any] = np.dtype(np.int64)
    elif kind == "u" and size == 8 or kind == "f" and size > 8:
        target = np.dtype(np.float64)
    else:
        target = arr.dtype.newbyteorder("=")
    if not arr.flags.writeable:  # torch.from_numpy wants a writable buffer; copy instead
        return torch.from_numpy(np.array(arr, dtype=target))
    return torch.from_numpy(np.ascontiguousarray(arr, dtype=target))
