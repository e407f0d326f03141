"""Tests of friqa.io.files: image files and PIL images, every mode and file error.

Every image is written by the test itself (tmp_path). Expected values come from
the definitions (k / 255, k / 65535, c * a + 1 - a, the EXIF orientation table)
or from Pillow's own conversions, never from running the loader.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from io_helpers import ORIENT, chw, exif_with_orientation, on_white, png_bytes, write
from PIL import Image, ImageOps

from friqa.exceptions import ImageLoadError
from friqa.io import load_batch, load_image

RNG = np.random.default_rng(20240611)


# --------------------------------------------------------------------------- files and PIL images


def test_rgb_png_from_str_path_and_pil_agree_exactly(tmp_path: Path) -> None:
    a = RNG.integers(0, 256, size=(5, 6, 3), dtype=np.uint8)
    p = tmp_path / "rgb.png"
    Image.fromarray(a).save(p)
    expected = chw(a, 255)
    assert torch.equal(load_image(p), expected)
    assert torch.equal(load_image(str(p)), expected)
    with Image.open(p) as im:
        assert torch.equal(load_image(im), expected)


def test_8_bit_grayscale_png(tmp_path: Path) -> None:
    a = RNG.integers(0, 256, size=(4, 7), dtype=np.uint8)
    p = tmp_path / "gray.png"
    Image.fromarray(a).save(p)
    assert torch.equal(load_image(p), chw(a, 255))


def test_bilevel_image(tmp_path: Path) -> None:
    a = np.array([[True, False, True], [False, False, True]])
    p = tmp_path / "bw.png"
    Image.fromarray(a).save(p)
    with Image.open(p) as im:
        assert im.mode == "1"
    assert load_image(p)[2].tolist() == [[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]]


def test_la_png_alpha_white_and_drop(tmp_path: Path) -> None:
    la = RNG.integers(0, 256, size=(3, 4, 2), dtype=np.uint8)
    la[0, 0] = [0, 0]
    p = write(tmp_path / "la.png", png_bytes(la))
    with Image.open(p) as im:
        assert im.mode == "LA"
    out = load_image(p, dtype=torch.float64)
    assert torch.allclose(out, on_white(la[..., :1], la[..., 1], 255), rtol=0, atol=1e-15)
    assert out[:, 0, 0].tolist() == [1.0, 1.0, 1.0]
    assert torch.equal(load_image(p, alpha="drop"), chw(la[..., 0], 255))


def test_rgba_png_alpha(tmp_path: Path) -> None:
    a = RNG.integers(0, 256, size=(3, 4, 4), dtype=np.uint8)
    p = tmp_path / "rgba.png"
    Image.fromarray(a).save(p)
    out = load_image(p)
    assert torch.allclose(out, on_white(a[..., :3], a[..., 3], 255).float(), rtol=0, atol=1e-6)
    assert torch.equal(load_image(p, alpha="drop"), chw(a[..., :3], 255))


def _palette_image() -> tuple[Image.Image, np.ndarray, np.ndarray]:
    palette = np.array([[255, 0, 0], [0, 255, 0], [10, 20, 30], [200, 100, 50]], dtype=np.uint8)
    idx = np.array([[0, 1, 2], [3, 2, 0]], dtype=np.uint8)
    im = Image.new("P", (3, 2))
    im.putpalette(palette.flatten().tolist())
    im.putdata(idx.flatten().tolist())
    return im, palette, idx


def test_palette_png_without_transparency(tmp_path: Path) -> None:
    im, palette, idx = _palette_image()
    p = tmp_path / "pal.png"
    im.save(p)
    assert torch.equal(load_image(p), chw(palette[idx], 255))


@pytest.mark.parametrize("ext", ["png", "gif"])
def test_palette_with_transparent_index(tmp_path: Path, ext: str) -> None:
    im, palette, idx = _palette_image()
    p = tmp_path / f"pal_t.{ext}"
    im.save(p, transparency=2)
    with Image.open(p) as check:
        assert check.mode == "P" and check.info.get("transparency") == 2
    out = load_image(p)
    expected = chw(palette[idx], 255)
    white = torch.from_numpy(idx == 2)
    expected[:, white] = 1.0
    assert torch.equal(out, expected)
    assert torch.equal(load_image(p, alpha="drop"), chw(palette[idx], 255))


def test_palette_with_partial_alpha_table(tmp_path: Path) -> None:
    im, palette, idx = _palette_image()
    p = tmp_path / "pal_a.png"
    im.save(p, transparency=bytes([255, 0, 128, 255]))  # tRNS alpha per palette entry
    alpha_of = np.array([255, 0, 128, 255], dtype=np.uint8)
    out = load_image(p, dtype=torch.float64)
    assert torch.allclose(out, on_white(palette[idx], alpha_of[idx], 255), rtol=0, atol=1e-15)


def test_rgb_colour_key_transparency(tmp_path: Path) -> None:
    a = np.array([[[1, 2, 3], [4, 5, 6]]], dtype=np.uint8)
    p = tmp_path / "key.png"
    Image.fromarray(a).save(p, transparency=(4, 5, 6))
    out = load_image(p)
    assert out[:, 0, 1].tolist() == [1.0, 1.0, 1.0]
    assert torch.equal(out[:, 0, 0], chw(a, 255)[:, 0, 0])


@pytest.mark.parametrize("mode", ["CMYK", "YCbCr", "HSV", "LAB"])
def test_colour_spaces_are_converted_like_pillow(mode: str) -> None:
    raw = RNG.integers(0, 256, size=(3, 4, 4 if mode == "CMYK" else 3), dtype=np.uint8)
    im = Image.frombytes(mode, (4, 3), raw.tobytes())
    expected = chw(np.asarray(im.convert("RGB")), 255)
    assert torch.equal(load_image(im), expected)


def test_cmyk_tiff_file(tmp_path: Path) -> None:
    im = Image.new("CMYK", (2, 1))
    im.putpixel((0, 0), (0, 255, 255, 0))  # pure red
    im.putpixel((1, 0), (0, 0, 0, 255))  # black
    p = tmp_path / "cmyk.tif"
    im.save(p)
    out = load_image(p)
    assert out[:, 0, 0].tolist() == [1.0, 0.0, 0.0]
    assert out[:, 0, 1].tolist() == [0.0, 0.0, 0.0]


def test_rgbx_rgba_premultiplied_and_la_premultiplied() -> None:
    raw = RNG.integers(0, 256, size=(2, 3, 4), dtype=np.uint8)
    x = Image.frombytes("RGBX", (3, 2), raw.tobytes())
    assert torch.equal(load_image(x), chw(raw[..., :3], 255))
    pm = Image.frombytes("RGBa", (3, 2), raw.tobytes())
    straight = np.asarray(pm.convert("RGBA"))
    assert torch.equal(load_image(pm, alpha="drop"), chw(straight[..., :3], 255))
    la = Image.frombytes("La", (3, 2), raw[..., :2].tobytes())
    straight_la = np.asarray(la.convert("LA"))
    assert torch.equal(load_image(la, alpha="drop"), chw(straight_la[..., 0], 255))


def test_16_bit_grayscale_png_round_trips_exactly(tmp_path: Path) -> None:
    a = np.array([[0, 1, 255, 256], [32768, 65534, 65535, 12345]], dtype=np.uint16)
    p = tmp_path / "g16.png"
    Image.fromarray(a).save(p)
    with Image.open(p) as im:
        assert im.mode.startswith("I")
    assert torch.equal(load_image(p, dtype=torch.float64), chw(a, 65535, torch.float64))
    assert torch.equal(load_image(p), chw(a, 65535))


def test_16_bit_grayscale_with_colour_key(tmp_path: Path) -> None:
    a = np.array([[[0], [1000], [65535]]], dtype=np.uint16)
    raw = png_bytes(a)
    trns = struct.pack(">I", 2) + b"tRNS" + struct.pack(">H", 1000)
    trns += struct.pack(">I", zlib.crc32(b"tRNS" + struct.pack(">H", 1000)) & 0xFFFFFFFF)
    iend = raw.rindex(b"IDAT") - 4
    p = write(tmp_path / "g16t.png", raw[:iend] + trns + raw[iend:])
    out = load_image(p, dtype=torch.float64)
    assert out[0].tolist() == [[0.0, 1.0, 1.0]]
    assert load_image(p, alpha="drop", dtype=torch.float64)[0, 0, 1].item() == 1000 / 65535


def test_float_tiff_uses_data_range(tmp_path: Path) -> None:
    a = np.array([[0.0, 0.25, 1.0]], dtype=np.float32)
    p = tmp_path / "f.tif"
    Image.fromarray(a).save(p)
    with Image.open(p) as im:
        assert im.mode == "F"
    assert load_image(p)[0].tolist() == [[0.0, 0.25, 1.0]]
    b = tmp_path / "f2.tif"
    Image.fromarray(a * 2).save(b)
    with pytest.raises(ImageLoadError, match=r"f2\.tif.*\[0, 1\].*\[0, 2\]"):
        load_image(b)
    assert load_image(b, data_range=2.0)[0].tolist() == [[0.0, 0.25, 1.0]]


def test_float_image_with_nan_is_rejected() -> None:
    im = Image.fromarray(np.array([[0.5, np.nan]], dtype=np.float32))
    with pytest.raises(ImageLoadError, match=r"PIL image .*mode 'F'.*1 NaN"):
        load_image(im)


def test_mode_i_image_with_16_bit_content() -> None:
    a = np.array([[0, 65535, 300]], dtype=np.int32)
    im = Image.fromarray(a)
    assert im.mode == "I"
    assert load_image(im, dtype=torch.float64)[0].tolist() == [[0.0, 1.0, 300 / 65535]]
    big = Image.fromarray(np.array([[0, 70000]], dtype=np.int32))
    with pytest.raises(ImageLoadError, match=r"mode 'I'.*\[0, 65535\].*70000"):
        load_image(big)
    assert load_image(big, data_range=70000)[0].tolist() == [[0.0, 1.0]]


# --------------------------------------------------------------------------- EXIF orientation


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_png(tmp_path: Path, orientation: int) -> None:
    a = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 10
    p = tmp_path / f"o{orientation}.png"
    Image.fromarray(a).save(p, exif=exif_with_orientation(orientation))
    with Image.open(p) as im:
        assert im.getexif().get(0x0112) == orientation
        pillow = np.asarray(ImageOps.exif_transpose(im))
    displayed = ORIENT[orientation](a)
    assert np.array_equal(pillow, displayed)  # our table agrees with Pillow's semantics
    assert torch.equal(load_image(p), chw(displayed, 255))


def test_exif_orientation_jpeg_swaps_height_and_width(tmp_path: Path) -> None:
    a = np.zeros((8, 16, 3), dtype=np.uint8)
    a[:, :8] = 255  # left half white
    p = tmp_path / "o6.jpg"
    Image.fromarray(a).save(p, exif=exif_with_orientation(6), quality=100)
    out = load_image(p)
    assert out.shape == (3, 16, 8)
    # rotated 90 degrees clockwise for display: the white half is now on top
    assert out[:, :6].min() > 0.95 and out[:, 10:].max() < 0.05


def test_pil_image_with_orientation_is_not_modified() -> None:
    im = Image.fromarray(RNG.integers(0, 256, size=(2, 3, 3), dtype=np.uint8))
    im.info["exif"] = exif_with_orientation(6).tobytes()
    im.getexif()[0x0112] = 6
    data = im.tobytes()
    out = load_image(im)
    assert out.shape == (3, 3, 2)
    assert im.size == (3, 2) and im.tobytes() == data and im.getexif().get(0x0112) == 6


def test_palette_pil_image_is_not_modified() -> None:
    im, _, _ = _palette_image()
    im.info["transparency"] = 2
    load_image(im)
    assert im.mode == "P" and im.info["transparency"] == 2


# --------------------------------------------------------------------------- file errors


def test_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "nope.png"
    with pytest.raises(ImageLoadError, match=r"image file '.*nope\.png': no such file") as info:
        load_image(p)
    assert isinstance(info.value, OSError)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError, match=r"is a directory; expected an image file"):
        load_image(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    p = write(tmp_path / "empty.png", b"")
    with pytest.raises(ImageLoadError, match=r"empty\.png.*empty \(0 bytes\)"):
        load_image(p)


def test_random_bytes_with_png_name(tmp_path: Path) -> None:
    p = write(tmp_path / "noise.png", RNG.integers(0, 256, 500, dtype=np.uint8).tobytes())
    with pytest.raises(ImageLoadError, match=r"noise\.png.*not an image Pillow can identify"):
        load_image(p)


def test_text_file(tmp_path: Path) -> None:
    p = write(tmp_path / "notes.txt", b"hello, this is not an image\n")
    with pytest.raises(ImageLoadError, match=r"notes\.txt.*b'hello, this is "):
        load_image(p)


@pytest.mark.parametrize("fmt", ["png", "jpeg"])
def test_truncated_file(tmp_path: Path, fmt: str) -> None:
    a = RNG.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format=fmt)
    data = buf.getvalue()
    p = write(tmp_path / f"cut.{fmt}", data[: len(data) // 2])
    with pytest.raises(ImageLoadError, match=rf"cut\.{fmt}': the image data are truncated"):
        load_image(p)


def test_corrupt_png_data(tmp_path: Path) -> None:
    a = RNG.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    data = bytearray(png_bytes(a))
    start = data.index(b"IDAT") + 4
    data[start + 10 : start + 40] = bytes(30)  # damage the zlib stream
    p = write(tmp_path / "bad.png", bytes(data))
    with pytest.raises(ImageLoadError, match=r"bad\.png.*truncated or corrupt"):
        load_image(p)


def test_zero_size_pil_image() -> None:
    with pytest.raises(ImageLoadError, match=r"at least 1x1 pixels; got 0x3"):
        load_image(Image.new("RGB", (0, 3)))


def test_files_are_left_untouched(tmp_path: Path) -> None:
    p = tmp_path / "ro.png"
    Image.fromarray(RNG.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)).save(p)
    os.chmod(p, 0o444)
    before, mtime = p.read_bytes(), p.stat().st_mtime_ns
    load_image(p)
    load_batch([p, p])
    assert p.read_bytes() == before and p.stat().st_mtime_ns == mtime


# --------------------------------------------------------------------------- real files


def test_real_bmp_and_png_files_match_pillow(shared_data: Path) -> None:
    files = sorted((shared_data / "tid2013-mini").rglob("*.bmp"))[:2]
    files += sorted((shared_data / "pairs" / "kadid").glob("*.png"))[:2]
    assert len(files) == 4, f"expected 2 BMP and 2 PNG files under {shared_data}"
    for f in files:
        with Image.open(f) as im:
            expected = chw(np.asarray(im.convert("RGB")), 255)
        assert torch.equal(load_image(f), expected), f
    batch = load_batch(files[2:])
    assert batch.shape == (2, 3, 384, 512)
