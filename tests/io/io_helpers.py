"""Image-writing helpers and expected-value builders shared by the tests of friqa.io."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image


def chw(a: np.ndarray, scale: float, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(3, H, W) expected tensor of an (H, W), (H, W, 1) or (H, W, 3) array divided by scale."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 2:
        a = a[..., None]
    if a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    return torch.from_numpy(a / scale).permute(2, 0, 1).to(dtype)


def on_white(rgb: np.ndarray, a: np.ndarray, scale: float) -> torch.Tensor:
    """Float64 (3, H, W) of colour rgb (H, W, C) composited on white with alpha a (H, W)."""
    c = np.asarray(rgb, dtype=np.float64) / scale
    al = np.asarray(a, dtype=np.float64)[..., None] / scale
    out = c * al + (1.0 - al)
    if out.shape[2] == 1:
        out = np.repeat(out, 3, axis=2)
    return torch.from_numpy(out).permute(2, 0, 1)


def png_bytes(arr: np.ndarray, exif: bytes | None = None) -> bytes:
    """A PNG of an (H, W, C) uint8/uint16 array, written from the PNG spec.

    Rows cycle through the None, Sub and Up filters so that the decoder's
    bytes-per-pixel handling is exercised. C = 1, 2, 3, 4 is gray, gray+alpha,
    RGB, RGBA.
    """
    h, w, c = arr.shape
    depth = 16 if arr.dtype == np.uint16 else 8
    bpp = c * depth // 8
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    body = bytearray()
    prev = np.zeros(w * bpp, dtype=np.int64)
    for y in range(h):
        row = np.frombuffer(arr[y].astype(">u2" if depth == 16 else "u1").tobytes(), np.uint8)
        row = row.astype(np.int64)
        kind = y % 3
        if kind == 1:  # Sub
            left = np.concatenate([np.zeros(bpp, np.int64), row[:-bpp]])
            filtered = (row - left) % 256
        elif kind == 2:  # Up
            filtered = (row - prev) % 256
        else:
            filtered = row
        body.append(kind)
        body.extend(filtered.astype(np.uint8).tobytes())
        prev = row

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + tag
            + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    out = b"\x89PNG\r\n\x1a\n" + chunk(
        b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour_type, 0, 0, 0)
    )
    if exif is not None:
        out += chunk(b"eXIf", exif)
    return out + chunk(b"IDAT", zlib.compress(bytes(body))) + chunk(b"IEND", b"")


def exif_with_orientation(value: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif


# The displayed image for each EXIF Orientation value (EXIF 2.3, tag 0x0112).
ORIENT = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: np.rot90(a, -1)[::-1],
    8: lambda a: np.rot90(a, 1),
}


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
