"""Write ``(3, H, W)`` tensors in ``[0, 1]`` as PIL images and image files.

Samples are rounded to the nearest integer (``round(x * 255)``, or
``round(x * 65535)`` for 16-bit PNG), computed in float64; values outside
``[0, 1]`` or non-finite raise :class:`~friqa.exceptions.InputError` (no
clipping). 16-bit files are written by :mod:`friqa.io.png16`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from PIL import Image

from friqa.exceptions import InputError
from friqa.io.png16 import png16_bytes
from friqa.io.values import scale_values

__all__ = ["save_image", "to_pil"]


def _check_rgb_tensor(tensor: object, what: str) -> torch.Tensor:
    """``(3, H, W)`` view of a ``(3, H, W)`` or ``(1, 3, H, W)`` float tensor in ``[0, 1]``."""
    if not isinstance(tensor, torch.Tensor):
        raise InputError(f"{what}: expected a torch tensor; got {type(tensor).__name__}")
    t = tensor.detach()
    if t.ndim == 4 and t.shape[0] == 1:
        t = t[0]
    if t.ndim != 3 or t.shape[0] != 3:
        raise InputError(
            f"{what}: expected shape (3, H, W) or (1, 3, H, W); got {tuple(tensor.shape)}"
        )
    if t.shape[1] == 0 or t.shape[2] == 0:
        raise InputError(f"{what}: expected a non-empty image; got shape {tuple(tensor.shape)}")
    if not t.dtype.is_floating_point:
        raise InputError(f"{what}: expected a floating tensor with values in [0, 1]; got {t.dtype}")
    scale_values(t, 1.0, "float images are in [0, 1]", what, InputError, t.dtype)
    return t


def _quantise(t: torch.Tensor, levels: int) -> np.ndarray:
    """Round ``t * levels`` to the nearest integer, ties to even; (H, W, 3) numpy array."""
    q = torch.round(t.to(torch.float64) * levels).permute(1, 2, 0).cpu().numpy()
    return q.astype(np.uint16 if levels > 255 else np.uint8)


def to_pil(tensor: torch.Tensor) -> Image.Image:
    """An 8-bit RGB PIL image of a ``(3, H, W)`` or ``(1, 3, H, W)`` tensor in ``[0, 1]``.

    Each value becomes ``round(x * 255)`` (computed in float64, nearest integer;
    the only exact tie, ``x = 0.5``, goes to the even 128). Values outside
    ``[0, 1]`` or non-finite raise :class:`InputError`. So
    ``to_pil(load_image(img))`` gives back an 8-bit RGB image exactly.

    >>> import torch
    >>> to_pil(torch.full((3, 1, 2), 0.5)).getpixel((0, 0))
    (128, 128, 128)
    """
    t = _check_rgb_tensor(tensor, "tensor")
    return Image.fromarray(_quantise(t, 255))


def save_image(
    tensor: torch.Tensor,
    path: str | os.PathLike[str],
    *,
    bit_depth: Literal[8, 16] = 8,
) -> None:
    """Write a ``(3, H, W)`` or ``(1, 3, H, W)`` tensor in ``[0, 1]`` to ``path``.

    The format follows the extension (``.png``, ``.jpg``, ``.bmp``, ``.tif``,
    ... whatever Pillow writes, with Pillow's default options, e.g. JPEG
    quality 75), with 8-bit samples rounded as in
    :func:`to_pil`. ``bit_depth=16`` writes a 16-bit RGB PNG
    (``round(x * 65535)``) and needs a ``.png`` path. An existing file at
    ``path`` is overwritten (also if it was an input); a missing parent folder
    or an unwritable path raises the usual :class:`OSError`.
    """
    t = _check_rgb_tensor(tensor, "tensor")
    p = Path(os.fsdecode(path))
    ext = p.suffix.lower()
    fmt = Image.registered_extensions().get(ext)
    if fmt is None or fmt not in Image.SAVE:
        raise InputError(
            f"cannot tell an image format Pillow can write from the extension of '{p}'; "
            "expected e.g. .png, .jpg, .bmp, .tif"
        )
    if bit_depth == 16:
        if fmt != "PNG":
            raise InputError(f"bit_depth=16 is written as PNG only; got '{p}' ({fmt})")
        p.write_bytes(png16_bytes(_quantise(t, 65535)))
        return
    if bit_depth != 8:
        raise InputError(f"bit_depth must be 8 or 16; got {bit_depth!r}")
    Image.fromarray(_quantise(t, 255)).save(p, format=fmt)
