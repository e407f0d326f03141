"""Read images from files, PIL images, numpy arrays and torch tensors; write them back.

Every loader returns a float tensor ``(3, H, W)`` with values in ``[0, 1]``
(``load_batch``: ``(N, 3, H, W)``). The conventions, in one place:

Sources
    * a path (``str`` or ``os.PathLike``): the file is read once, read-only, and
      decoded with Pillow. Multi-frame files (GIF, multi-page TIFF) give their
      first frame. The EXIF Orientation tag is applied with the semantics of
      :func:`PIL.ImageOps.exif_transpose`.
    * a :class:`PIL.Image.Image`: used as it is (its EXIF orientation is applied
      to a copy; the caller's image is not changed).
    * a numpy array: ``(H, W)`` or ``(H, W, C)`` with ``C`` in ``{1, 3, 4}``,
      channel-last as images are stored.
    * a torch tensor: ``(H, W)`` or ``(C, H, W)`` with ``C`` in ``{1, 3, 4}``,
      channel-first as torch stores images. The result stays on the tensor's
      device.

Values
    * ``uint8`` (and 8-bit image modes) are divided by 255, ``uint16`` (and
      16-bit modes ``'I;16*'``) by 65535, ``bool`` (and bilevel ``'1'``) give
      exactly 0 or 1.
    * float arrays/tensors (and ``'F'`` images) are divided by ``data_range``,
      which defaults to 1.0.
    * other integer arrays/tensors (int8, int16, int32, int64, uint32, uint64)
      need an explicit ``data_range``; ``'I'`` images (32-bit integer, the mode
      some Pillow versions give 16-bit grayscale PNGs) default to 65535.
    * ``data_range``, when given, is the white level for every numeric source,
      overriding the defaults above (for instance ``data_range=4095`` for 12-bit
      data in a ``uint16`` array); it does not apply to ``bool`` / ``'1'``.
    * values outside ``[0, data_range]`` and NaN/inf are errors, with no
      tolerance: the loader never clips silently.
    * 16-bit colour PNG and TIFF files (which Pillow itself reduces to 8 bits)
      are decoded at full 16-bit precision.

Channels
    * grayscale is replicated to three identical channels.
    * alpha (RGBA, LA, PA, palettes with transparency, a ``tRNS`` colour key) is
      composited on white by default (``alpha="white"``:
      ``out = colour * a + (1 - a)``); ``alpha="drop"`` ignores it.
    * ``'P'`` (palette), ``'CMYK'``, ``'YCbCr'``, ``'HSV'``, ``'LAB'`` and
      ``'RGBX'`` images are converted to RGB with Pillow.

Errors
    Problems with a file or a PIL image raise :class:`~friqa.exceptions.ImageLoadError`;
    problems with an array, a tensor or an option raise
    :class:`~friqa.exceptions.InputError`. Messages name the source and say what
    was expected and what was found.

Precision
    The arithmetic runs in float64 when ``dtype=torch.float64`` and in float32
    otherwise (then cast to ``dtype``): ``k / 255`` and ``k / 65535`` are one
    division in that dtype (correctly rounded on CPU).
"""

from __future__ import annotations

import io
import os
import struct
import sys
import warnings
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal, Union

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from friqa.exceptions import FriqaError, ImageLoadError, InputError

__all__ = ["ImageSource", "load_image", "load_batch", "save_image", "to_pil"]

ImageSource = Union[str, "os.PathLike[str]", Image.Image, np.ndarray, torch.Tensor]
"""Anything :func:`load_image` accepts."""

AlphaMode = Literal["white", "drop"]

_ALPHA_MODES = ("white", "drop")
# Modes Pillow converts to RGB for us (real colour conversions, not byte copies).
_CONVERT_TO_RGB = ("CMYK", "YCbCr", "HSV", "LAB")
_SIXTEEN_BIT_GRAY = ("I;16", "I;16L", "I;16B", "I;16N")
_SUPPORTED_MODES = (
    "1, L, LA, La, P, PA, RGB, RGBA, RGBa, RGBX, CMYK, YCbCr, HSV, LAB, "
    "I;16, I;16L, I;16B, I;16N, I, F"
)

# 16-bit colour raw modes Pillow unpacks to 8 bits by keeping each sample's high
# byte. Decoding the same data a second time with the opposite byte order keeps
# the low bytes instead; high * 256 + low is the full 16-bit sample.
_NATIVE_OTHER = "B" if sys.byteorder == "little" else "L"
_LOW_BYTE_RAWMODE = {
    "RGB;16B": "RGB;16L",
    "RGB;16L": "RGB;16B",
    "RGB;16N": "RGB;16" + _NATIVE_OTHER,
    "RGBA;16B": "RGBA;16L",
    "RGBA;16L": "RGBA;16B",
    "RGBA;16N": "RGBA;16" + _NATIVE_OTHER,
}
# 16-bit gray + alpha PNG (Pillow gives RGBA from the high bytes): the 8-bit
# 'RGBA' raw mode has the same 4 bytes per pixel, so it exposes every byte.
_RAW_BYTES_RAWMODE = {"LA;16B": "RGBA"}


# --------------------------------------------------------------------------- options


def _check_options(data_range: float | None, alpha: str, dtype: torch.dtype) -> float | None:
    if alpha not in _ALPHA_MODES:
        raise InputError(f"alpha must be one of {_ALPHA_MODES}; got {alpha!r}")
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


# --------------------------------------------------------------------------- core


def _scaled(
    x: torch.Tensor,
    scale: float | None,
    why: str,
    what: str,
    err: type[FriqaError],
    work: torch.dtype,
) -> torch.Tensor:
    """Check ``x`` (any real dtype) lies in ``[0, scale]`` and return ``x / scale`` (a copy).

    ``scale=None`` means boolean content (0 or 1).
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


def _finish(
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
    """``colour`` (1 or 3, H, W) and optional ``alpha`` (1, H, W), raw values -> (3, H, W)."""
    work = _work_dtype(dtype)
    c = _scaled(colour, scale, why, what, err, work)
    if alpha is not None:
        a = _scaled(alpha, alpha_scale, why, what + " (alpha channel)", err, work)
        if alpha_mode == "white":
            c = c * a + (1.0 - a)
    if c.shape[0] == 1:
        c = c.repeat(3, 1, 1)
    return c.to(dtype).contiguous()


def _finish_in_memory(
    t: torch.Tensor, scale: float | None, why: str, alpha: str, dtype: torch.dtype, what: str
) -> torch.Tensor:
    """An in-memory (C, H, W) image of raw values, C in 1..4, one scale for colour and alpha."""
    colour, alph = (t[:3], t[3:]) if t.shape[0] == 4 else (t, None)
    return _finish(
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


def _numpy_to_torch(arr: np.ndarray) -> torch.Tensor:
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


def _from_numpy(
    arr: np.ndarray, data_range: float | None, alpha: str, dtype: torch.dtype, what: str
) -> torch.Tensor:
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
    t = _numpy_to_torch(arr)
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


def _from_torch(
    t: torch.Tensor, data_range: float | None, alpha: str, dtype: torch.dtype, what: str
) -> torch.Tensor:
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


# --------------------------------------------------------------------------- PIL


def _rawmode(tile_args: Any) -> str | None:
    if isinstance(tile_args, str):
        return tile_args
    if isinstance(tile_args, tuple) and tile_args and isinstance(tile_args[0], str):
        return tile_args[0]
    return None


def _with_rawmode(tile_args: Any, rawmode: str) -> Any:
    return rawmode if isinstance(tile_args, str) else (rawmode, *tile_args[1:])


def _decode_with_rawmode(data: bytes, rawmode: str) -> np.ndarray:
    """Decode ``data`` again with every tile's raw mode replaced; EXIF orientation applied."""
    with Image.open(io.BytesIO(data)) as im:
        im.tile = [t._replace(args=_with_rawmode(t.args, rawmode)) for t in im.tile]
        out = ImageOps.exif_transpose(im)
        return np.asarray(out)


def _sixteen_bit_colour(
    im: Image.Image, data: bytes, what: str
) -> tuple[np.ndarray, np.ndarray | None] | None:
    """Full-precision (colour, alpha) uint16 arrays for 16-bit colour files, else ``None``.

    ``im`` is the opened, not yet loaded image of ``data``.
    """
    tiles = getattr(im, "tile", None) or []
    rawmodes = {_rawmode(t.args) for t in tiles}
    if len(rawmodes) != 1:
        return None
    (raw,) = rawmodes
    if raw not in _LOW_BYTE_RAWMODE and raw not in _RAW_BYTES_RAWMODE:
        return None
    try:
        if raw in _RAW_BYTES_RAWMODE:
            b = _decode_with_rawmode(data, _RAW_BYTES_RAWMODE[raw]).astype(np.uint16)
            gray = b[..., 0] * 256 + b[..., 1]
            return gray[..., None], b[..., 2] * 256 + b[..., 3]
        high = np.asarray(ImageOps.exif_transpose(im)).astype(np.uint16)
        low = _decode_with_rawmode(data, _LOW_BYTE_RAWMODE[raw]).astype(np.uint16)
        full = high * 256 + low
    except Exception as exc:  # an unexpected decoder: fall back on Pillow's 8 bits
        warnings.warn(
            f"{what}: 16-bit colour data ({raw}) could not be decoded at full precision "
            f"({exc}); using Pillow's 8-bit reduction",
            UserWarning,
            stacklevel=4,
        )
        return None
    return (full[..., :3], full[..., 3]) if full.shape[-1] == 4 else (full, None)


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
    c = _numpy_to_torch(colour).permute(2, 0, 1)
    a = None if alpha is None else _numpy_to_torch(alpha).unsqueeze(0)
    return _finish(
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


def _from_pil(
    im: Image.Image, data_range: float | None, alpha: str, dtype: torch.dtype, what: str
) -> torch.Tensor:
    _check_pil_size(im, what)
    try:
        oriented = ImageOps.exif_transpose(im)
    except Exception as exc:
        raise ImageLoadError(f"{what}: could not read the image data ({exc})") from exc
    colour, alph, kind = _pil_arrays(oriented, what)
    return _from_arrays(colour, alph, kind, data_range, alpha, dtype, what)


def _from_path(
    path: Path, data_range: float | None, alpha: str, dtype: torch.dtype, what: str
) -> torch.Tensor:
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
            wide = _sixteen_bit_colour(im, data, what)
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


# --------------------------------------------------------------------------- public API


def _describe(source: object, index: int | None) -> str:
    at = "" if index is None else f" (item {index})"
    if isinstance(source, (str, os.PathLike)):
        return f"image file '{os.fsdecode(source)}'{at}"
    if isinstance(source, Image.Image):
        return f"PIL image{at} (mode {source.mode!r}, {source.width}x{source.height} WxH)"
    if isinstance(source, np.ndarray):
        return f"array{at}"
    if isinstance(source, torch.Tensor):
        return f"tensor{at}"
    return f"source{at}"


def _load(
    source: object,
    data_range: float | None,
    alpha: str,
    dtype: torch.dtype,
    index: int | None,
) -> torch.Tensor:
    what = _describe(source, index)
    if isinstance(source, (str, os.PathLike)):
        return _from_path(Path(os.fsdecode(source)), data_range, alpha, dtype, what)
    if isinstance(source, Image.Image):
        return _from_pil(source, data_range, alpha, dtype, what)
    if isinstance(source, np.ndarray):
        return _from_numpy(source, data_range, alpha, dtype, what)
    if isinstance(source, torch.Tensor):
        return _from_torch(source, data_range, alpha, dtype, what)
    raise InputError(
        f"{what}: expected a path (str or os.PathLike), a PIL image, a numpy array or a "
        f"torch tensor; got {type(source).__name__}"
    )


def load_image(
    source: ImageSource,
    *,
    data_range: float | None = None,
    alpha: AlphaMode = "white",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Load one image as a new ``(3, H, W)`` tensor with values in ``[0, 1]``.

    Args:
        source: a path, a PIL image, an ``(H, W[, C])`` numpy array or an
            ``(H, W)`` / ``(C, H, W)`` torch tensor (see the module docstring).
        data_range: the value meaning white; default 255 for 8-bit, 65535 for
            16-bit and ``'I'`` data, 1.0 for floats; required for other integer
            arrays/tensors. Ignored for bool / bilevel data.
        alpha: ``"white"`` composites transparent pixels on white, ``"drop"``
            ignores the alpha channel.
        dtype: floating dtype of the result.

    Raises:
        ImageLoadError: a file or PIL image cannot be read as described.
        InputError: an array, tensor or option is not as described.

    The input is never modified and the result never shares memory with it.

    >>> import numpy as np
    >>> load_image(np.array([[0, 255]], dtype=np.uint8)).tolist()
    [[[0.0, 1.0]], [[0.0, 1.0]], [[0.0, 1.0]]]
    """
    dr = _check_options(data_range, alpha, dtype)
    return _load(source, dr, alpha, dtype, None)


def load_batch(
    sources: Iterable[ImageSource],
    *,
    data_range: float | None = None,
    alpha: AlphaMode = "white",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Load several images of one size as an ``(N, 3, H, W)`` tensor.

    Options as in :func:`load_image`, applied to every item. Items given as
    tensors must share a device. Raises :class:`InputError` naming the items
    whose size differs from the first item's, or whose device differs.

    >>> import numpy as np
    >>> load_batch([np.zeros((2, 3)), np.ones((2, 3))]).shape
    torch.Size([2, 3, 2, 3])
    """
    dr = _check_options(data_range, alpha, dtype)
    if isinstance(sources, (str, os.PathLike, Image.Image, np.ndarray)):
        raise InputError(
            f"sources: expected a sequence of images; got a single {type(sources).__name__} "
            "(use load_image, or wrap it in a list)"
        )
    if isinstance(sources, torch.Tensor):
        if sources.ndim != 4:
            raise InputError(
                f"sources: a tensor batch must have shape (N, C, H, W); got {tuple(sources.shape)}"
            )
        items: Sequence[object] = list(sources.unbind(0))
    else:
        items = list(sources)
    if not items:
        raise InputError("sources: expected at least one image; got an empty sequence")
    images = [_load(s, dr, alpha, dtype, i) for i, s in enumerate(items)]
    first = images[0]
    size = tuple(first.shape[1:])
    odd = [i for i, im in enumerate(images) if tuple(im.shape[1:]) != size]
    if odd:
        listed = ", ".join(
            f"{_describe(items[i], i)} is {images[i].shape[1]}x{images[i].shape[2]}" for i in odd
        )
        raise InputError(
            f"images in a batch must all have the size of item 0 ({_describe(items[0], 0)}, "
            f"{size[0]}x{size[1]} HxW); but {listed}"
        )
    devices = {im.device for im in images}
    if len(devices) > 1:
        raise InputError(f"images in a batch must share a device; got {sorted(map(str, devices))}")
    return torch.stack(images)


# --------------------------------------------------------------------------- writing


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
    _scaled(t, 1.0, "float images are in [0, 1]", what, InputError, t.dtype)
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


def _png16_bytes(rgb: np.ndarray) -> bytes:
    """A 16-bit RGB PNG (no filtering, zlib level 6) of an (H, W, 3) uint16 array."""
    h, w, _ = rgb.shape
    rows = np.zeros((h, 1 + 6 * w), dtype=np.uint8)  # filter byte 0 (None) on each row
    rows[:, 1:] = np.ascontiguousarray(rgb, dtype=">u2").view(np.uint8).reshape(h, 6 * w)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)  # 16-bit truecolour
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


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
        p.write_bytes(_png16_bytes(_quantise(t, 65535)))
        return
    if bit_depth != 8:
        raise InputError(f"bit_depth must be 8 or 16; got {bit_depth!r}")
    Image.fromarray(_quantise(t, 255)).save(p, format=fmt)
