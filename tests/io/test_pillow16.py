"""Tests of friqa.io.pillow16: 16-bit colour files at full precision.

Every image is written by the test itself (tmp_path). Expected values come from
the definitions (k / 255, k / 65535, c * a + 1 - a, the EXIF orientation table)
or from Pillow's own conversions, never from running the loader.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from io_helpers import chw, exif_with_orientation, on_white, png_bytes, write

from friqa.io import load_image, pillow16

RNG = np.random.default_rng(20240611)


@pytest.mark.parametrize("channels", [3, 4, 2])
def test_16_bit_colour_png_keeps_full_precision(tmp_path: Path, channels: int) -> None:
    a = RNG.integers(0, 65536, size=(7, 9, channels), dtype=np.uint16)
    a[0, 0] = 0x03E8  # 1000: high byte 3, low byte 232
    p = write(tmp_path / f"c16_{channels}.png", png_bytes(a))
    colour = a[..., :-1] if channels in (2, 4) else a
    out = load_image(p, alpha="drop", dtype=torch.float64)
    assert torch.equal(out, chw(colour, 65535, torch.float64))
    assert out[0, 0, 0].item() == 1000 / 65535
    if channels in (2, 4):
        white = load_image(p, dtype=torch.float64)
        expected = on_white(colour, a[..., -1], 65535)
        assert torch.allclose(white, expected, rtol=0, atol=1e-15)


def test_16_bit_colour_tiff_keeps_full_precision(tmp_path: Path) -> None:
    tifffile = pytest.importorskip("tifffile", reason="tifffile writes the 16-bit RGB TIFFs")
    a = RNG.integers(0, 65536, size=(5, 6, 3), dtype=np.uint16)
    for compression in (None, "zlib"):
        p = tmp_path / f"c16_{compression}.tif"
        tifffile.imwrite(p, a, photometric="rgb", compression=compression)
        out = load_image(p, dtype=torch.float64)
        assert torch.equal(out, chw(a, 65535, torch.float64)), compression


def test_16_bit_fallback_warns_and_uses_pillow_8_bits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = RNG.integers(0, 65536, size=(3, 4, 3), dtype=np.uint16)
    p = write(tmp_path / "c16.png", png_bytes(a))
    bad = {k: "not-a-rawmode" for k in pillow16._LOW_BYTE_RAWMODE}
    monkeypatch.setattr(pillow16, "_LOW_BYTE_RAWMODE", bad)
    with pytest.warns(UserWarning, match=r"c16\.png.*8-bit"):
        out = load_image(p, dtype=torch.float64)
    assert torch.equal(out, chw(a >> 8, 255, torch.float64))


def test_exif_orientation_16_bit_colour(tmp_path: Path) -> None:
    a = RNG.integers(0, 65536, size=(2, 3, 3), dtype=np.uint16)
    exif = exif_with_orientation(8).tobytes()
    p = write(tmp_path / "o8_16.png", png_bytes(a, exif=exif))
    out = load_image(p, dtype=torch.float64)
    assert torch.equal(out, chw(np.rot90(a, 1), 65535, torch.float64))
