"""numpy arrays and torch tensors as image sources (see :mod:`friqa.io.load`).

numpy arrays are channel-last ``(H, W)`` / ``(H, W, C)`` as images are stored,
torch tensors channel-first ``(H, W)`` / ``(C, H, W)`` as torch stores them, with
``C`` in ``{1, 3, 4}``. The dtype sets the default white level (uint8: 255,
uint16: 65535, floats: 1.0, bool: 0/1); other integer dtypes need ``data_range``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from friqa.exceptions import InputError
from friqa.io.values import compose_rgb, numpy_to_torch

__all__ = ["from_numpy", "from_torch"]


def _finish_in_memory(
    t: torch.Tensor, scale: float | None, why: str, alpha: str, dtype: torch.dtype, what: str
) -> torch.Tensor:
    """An in-memory (C, H, W) image of raw values, C in 1..4, one scale for colour and alpha."""
    colour, alph = (t[:3], t[3:]) if t.shape[0] == 4 else (t, None)
    return compose_rgb(
        colour,
        alph,
        scale=scale,
        alpha_scale=scale,
        why=why,
        alpha_mode=alpha,
        dtype=dtype,
        what=what,
        err=InputError,
    )


def _scale_for(
    kind: str, name: str, data_range: float | None, what: str
) -> tuple[float | None, str]:
    """Scale and its explanation for a value kind (u8, u16, bool, float, int) and dtype name."""
    if kind == "bool":
        return None, "bool"
    if data_range is not None:
        return data_range, f"data_range={data_range:g}"
    if kind == "u8":
        return 255.0, "uint8 data are divided by 255"
    if kind == "u16":
        return 65535.0, "uint16 data are divided by 65535"
    if kind == "float":
        return 1.0, f"{name} data use data_range, default 1.0"
    raise InputError(
        f"{what}: {name} data need an explicit data_range (the value meaning white); "
        "only bool, uint8, uint16 and floating data have a default"
    )


# --------------------------------------------------------------------------- numpy


def _numpy_kind(dtype: np.dtype[Any], what: str) -> tuple[str, str]:
    name = dtype.name
    if dtype.kind == "b":
        return "bool", name
    if dtype.kind == "u" and dtype.itemsize == 1:
        return "u8", name
    if dtype.kind == "u" and dtype.itemsize == 2:
        return "u16", name
    if dtype.kind in "ui":
        return "int", name
    if dtype.kind == "f":
        return "float", name
    raise InputError(
        f"{what}: expected a numeric dtype (bool, unsigned/signed integer or float); got {dtype}"
    )


def from_numpy(
    arr: np.ndarray, data_range: float | None, alpha: str, dtype: torch.dtype, what: str
) -> torch.Tensor:
    """``(3, H, W)`` image in ``[0, 1]`` of a channel-last array (``what`` names it in errors)."""
    kind, name = _numpy_kind(arr.dtype, what)
    if arr.ndim not in (2, 3) or arr.ndim == 3 and arr.shape[2] not in (1, 3, 4):
        hint = ""
        if arr.ndim == 3 and arr.shape[0] in (1, 3, 4):
            hint = " (it looks channel-first: use arr.transpose(1, 2, 0))"
        elif arr.ndim == 4:
            hint = " (for several images use load_batch)"
        raise InputError(
            f"{what}: expected shape (H, W) or (H, W, C) with C in {{1, 3, 4}} "
            f"(numpy arrays are channel-last); got shape {tuple(arr.shape)}{hint}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InputError(f"{what}: expected a non-empty image; got shape {tuple(arr.shape)}")
    scale, why = _scale_for(kind, name, data_range, what)
    t = numpy_to_torch(arr)
    t = t.unsqueeze(0) if t.ndim == 2 else t.permute(2, 0, 1)
    return _finish_in_memory(t, scale, why, alpha, dtype, what)


# --------------------------------------------------------------------------- torch


def _torch_kind(t: torch.Tensor, what: str) -> tuple[str, str]:
    dt = t.dtype
    name = str(dt).removeprefix("torch.")
    if t.is_quantized or dt.is_complex:
        raise InputError(
            f"{what}: expected a real numeric dtype (bool, integer or float); got {dt}"
        )
    if dt == torch.bool:
        return "bool", name
    if dt == torch.uint8:
        return "u8", name
    if dt == torch.uint16:
        return "u16", name
    if dt.is_floating_point:
        return "float", name
    return "int", name


def from_torch(
    t: torch.Tensor, data_range: float | None, alpha: str, dtype: torch.dtype, what: str
) -> torch.Tensor:
    """``(3, H, W)`` image in ``[0, 1]`` of a channel-first tensor, on the tensor's device."""
    kind, name = _torch_kind(t, what)
    if t.ndim not in (2, 3) or t.ndim == 3 and t.shape[0] not in (1, 3, 4):
        hint = ""
        if t.ndim == 3 and t.shape[2] in (1, 3, 4):
            hint = " (it looks channel-last: use t.permute(2, 0, 1))"
        elif t.ndim == 4:
            hint = " (for a batch use load_batch, or index the image you want)"
        raise InputError(
            f"{what}: expected shape (H, W) or (C, H, W) with C in {{1, 3, 4}} "
            f"(torch tensors are channel-first); got shape {tuple(t.shape)}{hint}"
        )
    if t.shape[-1] == 0 or t.shape[-2] == 0:
        raise InputError(f"{what}: expected a non-empty image; got shape {tuple(t.shape)}")
    scale, why = _scale_for(kind, name, data_range, what)
    if t.dtype in (torch.uint16, torch.uint32):
        t = t.to(torch.int64)
    elif t.dtype == torch.uint64:
        t = t.to(torch.float64)
    if t.ndim == 2:
        t = t.unsqueeze(0)
    return _finish_in_memory(t, scale, why, alpha, dtype, what)
