"""Image files and PIL images as image sources (see :mod:`friqa.io.load`).

A file is read once, read-only, and decoded with Pillow (first frame of
multi-frame files); 16-bit colour PNG and TIFF files go through
:mod:`friqa.io.pillow16` for full precision. The EXIF orientation is applied as
:func:`PIL.ImageOps.exif_transpose` does (to a copy of a caller's PIL image).
Palette, premultiplied and other colour-space modes are converted with Pillow;
alpha channels and ``tRNS`` colour keys become an alpha mask. Errors are
:class:`~friqa.exceptions.ImageLoadError`.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from friqa.exceptions import FriqaError, ImageLoadError
from friqa.io.pillow16 import sixteen_bit_colour
from friqa.io.values import compose_rgb, numpy_to_torch

__all__ = ["from_path", "from_pil"]

# Modes Pillow converts to RGB for us (real colour conversions, not byte copies).
_CONVERT_TO_RGB = ("CMYK", "YCbCr", "HSV", "LAB")
_SIXTEEN_BIT_GRAY = ("I;16", "I;16L", "I;16B", "I;16N")
_SUPPORTED_MODES = (
    "1, L, LA, La, P, PA, RGB, RGBA, RGBa, RGBX, CMYK, YCbCr, HSV, LAB, "
    "I;16, I;16L, I;16B, I;16N, I, F"
)


def _colour_key_alpha(values: np.ndarray, key: Any) -> np.ndarray | None:
    """Alpha mask (bool, H x W) for a tRNS colour key, or ``None`` when there is none."""
    if isinstance(key, (int, np.integer)) and values.shape[-1] == 1:
        return np.asarray(values[..., 0] != key)
    if (
        isinstance(key, tuple)
        and len(key) == values.shape[-1] == 3
        and all(isinstance(k, (int, np.integer)) for k in key)
    ):
        return np.asarray((values != np.asarray(key)).any(axis=-1))
    return None


def _pil_arrays(im: Image.Image, what: str) -> tuple[np.ndarray, np.ndarray | None, str]:
    """(colour H x W x {1,3}, alpha H x W or None, value kind) of an oriented PIL image."""
    mode = im.mode
    if mode == "P" or mode == "PA":
        im, mode = im.convert("RGBA"), "RGBA"
    elif mode == "RGBa":
        im, mode = im.convert("RGBA"), "RGBA"
    elif mode == "La":
        im, mode = im.convert("LA"), "LA"
    elif mode in _CONVERT_TO_RGB:
        im, mode = im.convert("RGB"), "RGB"
    if mode == "1":
        kind = "bool"
    elif mode in ("L", "LA", "RGB", "RGBA", "RGBX"):
        kind = "u8"
    elif mode in _SIXTEEN_BIT_GRAY:
        kind = "u16"
    elif mode == "I":
        kind = "I"
    elif mode == "F":
        kind = "float"
    else:
        raise ImageLoadError(
            f"{what}: unsupported image mode {mode!r}; supported modes are {_SUPPORTED_MODES}"
        )
    arr = np.asarray(im)
    if arr.ndim == 2:
        arr = arr[..., None]
    if mode == "RGBX":
        arr = arr[..., :3]
    if mode in ("LA", "RGBA"):
        return arr[..., :-1], arr[..., -1], kind
    return arr, _colour_key_alpha(arr, im.info.get("transparency")), kind


def _from_arrays(
    colour: np.ndarray,
    alpha: np.ndarray | None,
    kind: str,
    data_range: float | None,
    alpha_mode: str,
    dtype: torch.dtype,
    what: str,
) -> torch.Tensor:
    if kind == "bool":
        scale, why = None, "bilevel"
    elif data_range is not None:
        scale, why = data_range, f"data_range={data_range:g}"
    else:
        scale, why = {
            "u8": (255.0, "8-bit image"),
            "u16": (65535.0, "16-bit image"),
            "I": (65535.0, "32-bit integer mode 'I' is read as 16-bit content"),
            "float": (1.0, "float mode 'F' uses data_range, default 1.0"),
        }[kind]
    alpha_scale = None if alpha is not None and alpha.dtype == np.bool_ else scale
    c = numpy_to_torch(colour).permute(2, 0, 1)
    a = None if alpha is None else numpy_to_torch(alpha).unsqueeze(0)
    return compose_rgb(
        c,
        a,
        scale=scale,
        alpha_scale=alpha_scale,
        why=why,
        alpha_mode=alpha_mode,
        dtype=dtype,
        what=what,
        err=ImageLoadError,
    )


def _check_pil_size(im: Image.Image, what: str) -> None:
    w, h = im.size
    if w == 0 or h == 0:
        raise ImageLoadError(f"{what}: expected an image of at least 1x1 pixels; got {w}x{h} (WxH)")


def from_pil(
    im: Image.Image, data_range: float | None, alpha: str, dtype: torch.dtype, what: str
) -> torch.Tensor:
    """``(3, H, W)`` image in ``[0, 1]`` of a PIL image, which is left unchanged."""
    _check_pil_size(im, what)
    try:
        oriented = ImageOps.exif_transpose(im)
    except Exception as exc:
        raise ImageLoadError(f"{what}: could not read the image data ({exc})") from exc
    colour, alph, kind = _pil_arrays(oriented, what)
    return _from_arrays(colour, alph, kind, data_range, alpha, dtype, what)


def from_path(
    path: Path, data_range: float | None, alpha: str, dtype: torch.dtype, what: str
) -> torch.Tensor:
    """``(3, H, W)`` image in ``[0, 1]`` of an image file, read once and never written."""
    if not path.exists():
        raise ImageLoadError(f"{what}: no such file; expected an existing image file")
    if path.is_dir():
        raise ImageLoadError(f"{what}: is a directory; expected an image file")
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise ImageLoadError(f"{what}: cannot be read ({exc.strerror or exc})") from exc
    if not data:
        raise ImageLoadError(f"{what}: the file is empty (0 bytes); expected image data")
    try:
        im = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as exc:
        raise ImageLoadError(
            f"{what}: not an image Pillow can identify; expected PNG, JPEG, TIFF, BMP, ... "
            f"data, got a file starting with {data[:16]!r}"
        ) from exc
    except Exception as exc:
        raise ImageLoadError(f"{what}: corrupt image header ({exc})") from exc
    with im:
        _check_pil_size(im, what)
        try:
            wide = sixteen_bit_colour(im, data, what)
            if wide is not None:
                colour, alph = wide
                tkey = im.info.get("transparency") if alph is None else None
                alph = _colour_key_alpha(colour, tkey) if tkey is not None else alph
                kind = "u16"
            else:
                oriented = ImageOps.exif_transpose(im)
                colour, alph, kind = _pil_arrays(oriented, what)
        except FriqaError:
            raise
        except Exception as exc:
            raise ImageLoadError(
                f"{what}: the image data are truncated or corrupt; expected a complete "
                f"{im.format or 'image'} file ({type(exc).__name__}: {exc})"
            ) from exc
    return _from_arrays(colour, alph, kind, data_range, alpha, dtype, what)
