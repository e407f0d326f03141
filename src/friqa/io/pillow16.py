"""Full-precision decoding of 16-bit colour PNG and TIFF files with Pillow.

Pillow has no 16-bit colour image mode: it unpacks 16-bit RGB / RGBA samples
(raw modes ``'RGB;16B'``, ``'RGBA;16L'``, ...) to 8 bits by keeping each
sample's high byte, and 16-bit gray + alpha PNGs (``'LA;16B'``) to 8-bit RGBA.
:func:`sixteen_bit_colour` recovers the full samples by decoding the file a
second time with every tile's raw mode replaced:

* with the opposite byte order (``'RGB;16B'`` -> ``'RGB;16L'``) Pillow keeps the
  low bytes instead, and ``high * 256 + low`` is the 16-bit sample;
* ``'LA;16B'`` is read with the 8-bit ``'RGBA'`` raw mode, which has the same
  4 bytes per pixel and so exposes every byte.

Why the tile list is rewritten (``im.tile``, the decoding plan an
:class:`PIL.ImageFile.ImageFile` plugin sets up in ``open`` and ``load`` runs)
rather than calling :func:`PIL.Image.frombytes` with a raw mode and the file's
decoder: ``frombytes`` decodes one contiguous buffer, whereas the plugins' own
``load`` reads the file around the decoder. A PNG's compressed stream is split
over several ``IDAT`` chunks (encoders commonly split every 8-64 KiB) that
``PngImageFile.load_read`` joins, Adam7 interlacing is passed in
``decoderconfig``, and the ``libtiff`` decoder reads TIFF strips and tiles from
the open file. Replacing only the raw mode keeps all of that, so both decodes
see exactly the data Pillow sees; ``frombytes`` on the bytes after the first
tile offset fails for a PNG with two ``IDAT`` chunks ("cannot decode image
data", checked with Pillow 13). The EXIF orientation is applied to both decodes
as :func:`PIL.ImageOps.exif_transpose` does.

If the second decode fails (a decoder Pillow may change), a :class:`UserWarning`
is issued and the caller falls back on Pillow's 8-bit reduction.
"""

from __future__ import annotations

import io
import sys
import warnings
from typing import Any

import numpy as np
from PIL import Image, ImageOps

__all__ = ["sixteen_bit_colour"]

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


def sixteen_bit_colour(
    im: Image.Image, data: bytes, what: str
) -> tuple[np.ndarray, np.ndarray | None] | None:
    """Full-precision (colour, alpha) uint16 arrays for 16-bit colour files, else ``None``.

    ``im`` is the opened, not yet loaded image of the file contents ``data``;
    ``what`` names the file in the warning. Colour is ``(H, W, 3)`` (or
    ``(H, W, 1)`` for gray + alpha), alpha ``(H, W)`` or ``None``, both with the
    EXIF orientation applied.
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
