"""A minimal 16-bit RGB PNG encoder (PNG specification, ISO/IEC 15948).

Pillow has no 16-bit colour image mode (from 9.1, the floor in pyproject, to
13.0 at least), and its PNG writer knows only 8-bit RGB / RGBA and 16-bit gray
(``'I;16'``), so :func:`friqa.io.save_image` with ``bit_depth=16`` writes
the file with :func:`png16_bytes`: one ``IHDR`` (bit depth 16, colour type 2),
one ``IDAT`` of unfiltered rows compressed with zlib, and ``IEND``.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

__all__ = ["png16_bytes"]


def png16_bytes(rgb: np.ndarray) -> bytes:
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
