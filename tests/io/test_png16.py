"""Tests of friqa.io.png16: 16-bit RGB PNGs written by save_image.

Every image is written by the test itself (tmp_path). Expected values come from
the definitions (k / 255, k / 65535, c * a + 1 - a, the EXIF orientation table)
or from Pillow's own conversions, never from running the loader.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from io_helpers import chw
from PIL import Image

from friqa.io import load_image, save_image


def test_save_image_16_bit_png_round_trip(tmp_path: Path) -> None:
    t = torch.rand(3, 6, 5, dtype=torch.float64)
    p = tmp_path / "out16.png"
    save_image(t, p, bit_depth=16)
    q = np.round(t.numpy() * 65535).astype(np.uint16).transpose(1, 2, 0)
    with Image.open(p) as im:  # Pillow itself keeps only the high bytes of 16-bit RGB
        assert im.format == "PNG" and im.size == (5, 6)
        assert np.array_equal(np.asarray(im), (q >> 8).astype(np.uint8))
    assert torch.equal(load_image(p, dtype=torch.float64), chw(q, 65535, torch.float64))
