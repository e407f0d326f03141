"""Tests of friqa.io.write: to_pil and save_image.

Every image is written by the test itself (tmp_path). Expected values come from
the definitions (k / 255, k / 65535, c * a + 1 - a, the EXIF orientation table)
or from Pillow's own conversions, never from running the loader.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from io_helpers import chw
from PIL import Image

from friqa.exceptions import InputError
from friqa.io import load_image, save_image, to_pil

RNG = np.random.default_rng(20240611)


# --------------------------------------------------------------------------- to_pil / save_image


def test_to_pil_rounds_to_nearest() -> None:
    levels = torch.arange(256, dtype=torch.float64) / 255
    t = levels.reshape(1, 16, 16).expand(3, 16, 16).float()
    im = to_pil(t)
    assert im.mode == "RGB" and im.size == (16, 16)
    assert np.array_equal(np.asarray(im)[..., 0], np.arange(256).reshape(16, 16))
    v = torch.tensor([0.5, (127.5 - 1e-6) / 255, (127.5 + 1e-6) / 255, 1.0], dtype=torch.float64)
    row = np.asarray(to_pil(v.reshape(1, 1, 4).expand(3, 1, 4)))[0, :, 0]
    assert row.tolist() == [128, 127, 128, 255]


def test_to_pil_accepts_batch_of_one_and_is_exact_for_8_bit_images() -> None:
    a = RNG.integers(0, 256, size=(5, 6, 3), dtype=np.uint8)
    im = to_pil(load_image(a)[None])
    assert np.array_equal(np.asarray(im), a)


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (torch.rand(4, 2, 2), r"\(3, H, W\) or \(1, 3, H, W\)"),
        (torch.rand(2, 3, 2, 2), r"\(3, H, W\) or \(1, 3, H, W\)"),
        (torch.full((3, 2, 2), 1.5), r"\[0, 1\]"),
        (torch.full((3, 2, 2), float("nan")), "NaN"),
        (torch.zeros(3, 2, 2, dtype=torch.uint8), "floating"),
        (np.zeros((3, 2, 2)), "torch tensor"),
        (torch.zeros(3, 0, 2), "non-empty"),
    ],
)
def test_to_pil_and_save_image_reject_bad_tensors(tmp_path: Path, bad: object, match: str) -> None:
    with pytest.raises(InputError, match=match):
        to_pil(bad)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=match):
        save_image(bad, tmp_path / "x.png")  # type: ignore[arg-type]
    assert not (tmp_path / "x.png").exists()


def test_save_image_png_round_trip_and_overwrite(tmp_path: Path) -> None:
    t = torch.rand(3, 5, 7)
    p = tmp_path / "out.png"
    p.write_bytes(b"old content")
    save_image(t, p)
    with Image.open(p) as im:
        assert im.format == "PNG" and im.mode == "RGB"
        got = np.asarray(im)
    expected = np.round(t.double().numpy() * 255).astype(np.uint8).transpose(1, 2, 0)
    assert np.array_equal(got, expected)
    save_image(t[None], str(p))  # a batch of one, str path
    assert torch.equal(load_image(p), chw(expected, 255))


@pytest.mark.parametrize(("ext", "fmt"), [(".bmp", "BMP"), (".jpg", "JPEG"), (".TIF", "TIFF")])
def test_save_image_format_follows_extension(tmp_path: Path, ext: str, fmt: str) -> None:
    t = torch.rand(3, 8, 8)
    p = tmp_path / f"out{ext}"
    save_image(t, p)
    with Image.open(p) as im:
        assert im.format == fmt and im.size == (8, 8)
    if fmt != "JPEG":
        assert torch.equal(load_image(p), chw(np.asarray(to_pil(t)), 255))


def test_save_image_bad_extension_and_bit_depth(tmp_path: Path) -> None:
    t = torch.rand(3, 2, 2)
    with pytest.raises(InputError, match=r"extension of '.*out\.xyz'"):
        save_image(t, tmp_path / "out.xyz")
    with pytest.raises(InputError, match=r"bit_depth=16 is written as PNG only"):
        save_image(t, tmp_path / "out.jpg", bit_depth=16)
    with pytest.raises(InputError, match=r"bit_depth must be 8 or 16; got 12"):
        save_image(t, tmp_path / "out.png", bit_depth=12)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_save_image_does_not_modify_tensor(tmp_path: Path) -> None:
    t = torch.rand(1, 3, 4, 4)
    before = t.clone()
    save_image(t, tmp_path / "a.png")
    save_image(t, tmp_path / "b.png", bit_depth=16)
    to_pil(t)
    assert torch.equal(t, before)
