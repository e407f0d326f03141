"""Tests of friqa.io.images: every source kind, mode, option and error.

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
from PIL import Image, ImageOps

from friqa.exceptions import ImageLoadError, InputError
from friqa.io import images as images_module
from friqa.io import load_batch, load_image, save_image, to_pil

RNG = np.random.default_rng(20240611)


# --------------------------------------------------------------------------- helpers


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


# --------------------------------------------------------------------------- numpy arrays


def test_uint8_rgb_array_is_divided_by_255_exactly() -> None:
    a = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 7
    out = load_image(a)
    assert out.dtype == torch.float32 and out.shape == (3, 2, 3)
    assert torch.equal(out, chw(a, 255))
    assert out[:, 0, 0].tolist() == [0.0, np.float32(7 / 255), np.float32(14 / 255)]


def test_every_uint8_level_maps_to_k_over_255() -> None:
    a = np.arange(256, dtype=np.uint8).reshape(16, 16)
    assert torch.equal(load_image(a), chw(a, 255))


@pytest.mark.parametrize("shape", [(4, 5), (4, 5, 1)])
def test_grayscale_array_is_replicated_to_three_channels(shape: tuple[int, ...]) -> None:
    a = RNG.integers(0, 256, size=shape, dtype=np.uint8)
    out = load_image(a)
    assert out.shape == (3, 4, 5)
    assert torch.equal(out[0], out[1]) and torch.equal(out[1], out[2])
    assert torch.equal(out[0], torch.from_numpy(a.reshape(4, 5) / 255).float())


def test_uint16_array_is_divided_by_65535_exactly() -> None:
    a = np.array([[[0, 1, 65535], [256, 1000, 65534]]], dtype=np.uint16)
    out = load_image(a, dtype=torch.float64)
    assert out.dtype == torch.float64
    assert torch.equal(out, chw(a, 65535, torch.float64))
    assert out[2, 0, 0].item() == 1.0 and out[1, 0, 0].item() == 1 / 65535


def test_every_uint16_level_float32() -> None:
    a = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    assert torch.equal(load_image(a), chw(a, 65535))


def test_big_endian_uint16_array() -> None:
    a = np.array([[1, 65535], [300, 0]], dtype=">u2")
    assert torch.equal(load_image(a), chw(a.astype(np.uint16), 65535))


def test_bool_array_gives_zero_and_one_and_ignores_data_range() -> None:
    a = np.array([[True, False], [False, True]])
    out = load_image(a)
    assert out[0].tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert torch.equal(load_image(a, data_range=255), out)


def test_float_array_default_range_is_one() -> None:
    a = RNG.random((3, 4, 3)).astype(np.float32)
    assert torch.equal(load_image(a), torch.from_numpy(a).permute(2, 0, 1))


def test_float_array_with_data_range() -> None:
    a = np.array([[0.0, 127.5, 255.0]], dtype=np.float64)
    out = load_image(a, data_range=255.0, dtype=torch.float64)
    assert out[0].tolist() == [[0.0, 0.5, 1.0]]


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint32, np.uint64])
def test_other_integer_arrays_need_data_range(dtype: type) -> None:
    a: np.ndarray = np.array([[0, 100]], dtype=dtype)
    with pytest.raises(InputError, match=r"array: .*data_range") as info:
        load_image(a)
    assert np.dtype(dtype).name in str(info.value)
    out = load_image(a, data_range=100, dtype=torch.float64)
    assert out[0].tolist() == [[0.0, 1.0]]


def test_data_range_overrides_uint16_default_for_12_bit_data() -> None:
    a = np.array([[0, 4095, 2048]], dtype=np.uint16)
    out = load_image(a, data_range=4095, dtype=torch.float64)
    assert out[0].tolist() == [[0.0, 1.0, 2048 / 4095]]
    with pytest.raises(InputError, match=r"\[0, 4095\].*4096"):
        load_image(np.array([[4096]], dtype=np.uint16), data_range=4095)


def test_rgba_array_composited_on_white_by_default() -> None:
    a = RNG.integers(0, 256, size=(4, 5, 4), dtype=np.uint8)
    a[0, 0] = [10, 20, 30, 0]  # fully transparent -> white
    a[0, 1] = [10, 20, 30, 255]  # opaque -> its colour
    out = load_image(a, dtype=torch.float64)
    assert torch.allclose(out, on_white(a[..., :3], a[..., 3], 255), rtol=0, atol=1e-15)
    assert out[:, 0, 0].tolist() == [1.0, 1.0, 1.0]
    assert out[:, 0, 1].tolist() == [10 / 255, 20 / 255, 30 / 255]


def test_rgba_array_alpha_drop_keeps_colour() -> None:
    a = RNG.integers(0, 256, size=(4, 5, 4), dtype=np.uint8)
    assert torch.equal(load_image(a, alpha="drop"), chw(a[..., :3], 255))


def test_float_rgba_array_alpha() -> None:
    a = np.zeros((1, 2, 4))
    a[0, 0] = [0.2, 0.4, 0.6, 0.5]
    a[0, 1] = [0.0, 0.0, 0.0, 0.25]
    out = load_image(a, dtype=torch.float64)
    assert torch.allclose(out[:, 0, 0], torch.tensor([0.6, 0.7, 0.8], dtype=torch.float64))
    assert out[:, 0, 1].tolist() == [0.75, 0.75, 0.75]


def test_float_array_just_above_range_is_rejected_with_values() -> None:
    a = np.array([[0.5, np.nextafter(1.0, 2.0)]])
    with pytest.raises(InputError) as info:
        load_image(a)
    msg = str(info.value)
    assert msg.startswith("array:") and "[0, 1]" in msg and "data_range" in msg


def test_negative_values_are_rejected() -> None:
    with pytest.raises(InputError, match=r"array: expected values in \[0, 1\].*-0\.25"):
        load_image(np.array([[-0.25, 0.5]], dtype=np.float32))
    with pytest.raises(InputError, match=r"\[-3, 5\]"):
        load_image(np.array([[-3, 5]], dtype=np.int32), data_range=10)


@pytest.mark.parametrize(
    ("bad", "word"), [(np.nan, "1 NaN"), (np.inf, "1 infinite"), (-np.inf, "1 infinite")]
)
def test_non_finite_array_values_are_rejected(bad: float, word: str) -> None:
    a = np.full((2, 2, 3), 0.5, dtype=np.float32)
    a[1, 1, 2] = bad
    with pytest.raises(InputError, match=word) as info:
        load_image(a)
    assert str(info.value).startswith("array:")


@pytest.mark.parametrize(
    ("shape", "hint"),
    [
        ((5,), ""),
        ((2, 3, 4, 3), "load_batch"),
        ((4, 5, 2), ""),
        ((3, 4, 5), "channel-first"),
        ((4, 5, 6), ""),
    ],
)
def test_array_with_wrong_shape_is_rejected(shape: tuple[int, ...], hint: str) -> None:
    with pytest.raises(InputError) as info:
        load_image(np.zeros(shape, dtype=np.uint8))
    msg = str(info.value)
    assert "(H, W) or (H, W, C)" in msg and str(shape) in msg and hint in msg


@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (0, 0, 3), (3, 0, 4)])
def test_zero_size_arrays_are_rejected(shape: tuple[int, ...]) -> None:
    with pytest.raises(InputError, match="non-empty") as info:
        load_image(np.zeros(shape, dtype=np.float32))
    assert str(shape) in str(info.value)


@pytest.mark.parametrize(
    "arr",
    [
        np.zeros((2, 2), dtype=np.complex64),
        np.array([["a", "b"], ["c", "d"]]),
        np.array([[1, None]], dtype=object),
        np.zeros((2, 2), dtype="datetime64[s]"),
    ],
)
def test_non_numeric_arrays_are_rejected(arr: np.ndarray) -> None:
    with pytest.raises(InputError, match=r"array: expected a numeric dtype") as info:
        load_image(arr)
    assert str(arr.dtype) in str(info.value)


def test_arrays_are_never_modified() -> None:
    cases: list[np.ndarray] = [
        RNG.integers(0, 256, size=(4, 5, 4), dtype=np.uint8),
        RNG.random((4, 5, 3)).astype(np.float32),
        RNG.random((4, 5)).astype(np.float64),
        RNG.integers(0, 65536, size=(4, 5, 4), dtype=np.uint16),
    ]
    for a in cases:
        before = a.copy()
        out = load_image(a)
        out.add_(1.0)  # writing to the result must not reach the input
        assert np.array_equal(a, before)
        assert a.dtype == before.dtype


def test_read_only_array_is_accepted() -> None:
    a = RNG.integers(0, 256, size=(3, 3, 3), dtype=np.uint8)
    a.flags.writeable = False
    assert torch.equal(load_image(a), chw(a, 255))


# --------------------------------------------------------------------------- torch tensors


def test_tensor_layouts_are_channel_first() -> None:
    t = torch.arange(24, dtype=torch.uint8).reshape(3, 2, 4)
    assert torch.equal(load_image(t), t.double().div(255).float())
    g = torch.arange(8, dtype=torch.uint8).reshape(2, 4)
    assert torch.equal(load_image(g), g.double().div(255).float().expand(3, 2, 4))
    assert torch.equal(load_image(g[None]), load_image(g))


def test_rgba_tensor() -> None:
    t = torch.tensor([[[0.2]], [[0.4]], [[0.6]], [[0.5]]], dtype=torch.float64)
    out = load_image(t, dtype=torch.float64)
    assert torch.allclose(out[:, 0, 0], torch.tensor([0.6, 0.7, 0.8], dtype=torch.float64))
    assert torch.equal(load_image(t, alpha="drop", dtype=torch.float64), t[:3])


def test_uint16_and_bool_tensors() -> None:
    t = torch.tensor([[0, 65535, 1]], dtype=torch.uint16)
    assert load_image(t, dtype=torch.float64)[0].tolist() == [[0.0, 1.0, 1 / 65535]]
    b = torch.tensor([[True, False]])
    assert load_image(b)[1].tolist() == [[1.0, 0.0]]


def test_int_tensor_needs_data_range() -> None:
    t = torch.tensor([[0, 50]], dtype=torch.int64)
    with pytest.raises(InputError, match=r"tensor: int64 data need an explicit data_range"):
        load_image(t)
    assert load_image(t, data_range=100)[0].tolist() == [[0.0, 0.5]]


def test_channel_last_tensor_is_rejected_with_hint() -> None:
    with pytest.raises(InputError, match=r"channel-first.*\(5, 6, 3\).*permute"):
        load_image(torch.zeros(5, 6, 3))


@pytest.mark.parametrize("shape", [(3, 0, 4), (0, 4), (1, 2, 0)])
def test_zero_size_tensors_are_rejected(shape: tuple[int, ...]) -> None:
    with pytest.raises(InputError, match=r"tensor: expected a non-empty image"):
        load_image(torch.zeros(shape))


def test_four_dim_tensor_is_rejected_by_load_image() -> None:
    with pytest.raises(InputError, match="load_batch"):
        load_image(torch.zeros(1, 3, 4, 4))


@pytest.mark.parametrize(("bad", "word"), [(float("nan"), "NaN"), (float("inf"), "infinite")])
def test_non_finite_tensors_are_rejected(bad: float, word: str) -> None:
    t = torch.full((3, 2, 2), 0.5)
    t[0, 1, 1] = bad
    with pytest.raises(InputError, match=f"tensor: .*{word}"):
        load_image(t)


def test_out_of_range_tensor_is_rejected() -> None:
    with pytest.raises(InputError, match=r"tensor: expected values in \[0, 1\].*1\.5"):
        load_image(torch.tensor([[[0.0, 1.5]]]))
    with pytest.raises(InputError, match=r"\[0, 255\]"):
        load_image(torch.tensor([[300.0]]), data_range=255)


def test_complex_tensor_is_rejected() -> None:
    with pytest.raises(InputError, match=r"tensor: expected a real numeric dtype.*complex64"):
        load_image(torch.zeros(3, 2, 2, dtype=torch.complex64))


def test_tensors_are_never_modified_and_never_shared() -> None:
    t = torch.rand(3, 4, 5)
    before = t.clone()
    out = load_image(t)  # already float32 (3, H, W) in [0, 1]: still a new tensor
    assert torch.equal(out, t)
    out.add_(1.0)
    assert torch.equal(t, before)
    rgba = torch.rand(4, 4, 5, dtype=torch.float64)
    before = rgba.clone()
    load_image(rgba)
    assert torch.equal(rgba, before)


def test_dtype_option() -> None:
    a = np.array([[1, 2]], dtype=np.uint8)
    assert load_image(a, dtype=torch.float16).dtype == torch.float16
    assert load_image(a, dtype=torch.float16)[0].tolist() == [
        [float(np.float16(1 / 255)), float(np.float16(2 / 255))]
    ]
    with pytest.raises(InputError, match=r"dtype must be a floating torch dtype.*int32"):
        load_image(a, dtype=torch.int32)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), True, "255"])
def test_bad_data_range_is_rejected(bad: object) -> None:
    with pytest.raises(InputError, match="data_range must be a positive finite number"):
        load_image(np.zeros((2, 2)), data_range=bad)  # type: ignore[arg-type]


def test_bad_alpha_option_is_rejected() -> None:
    with pytest.raises(InputError, match=r"alpha must be one of \('white', 'drop'\); got 'black'"):
        load_image(np.zeros((2, 2)), alpha="black")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [[[0.0, 1.0]], 3.0, b"\x89PNG"])
def test_unsupported_source_types_are_rejected(bad: object) -> None:
    with pytest.raises(InputError, match="expected a path .*got " + type(bad).__name__):
        load_image(bad)  # type: ignore[arg-type]


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
    bad = {k: "not-a-rawmode" for k in images_module._LOW_BYTE_RAWMODE}
    monkeypatch.setattr(images_module, "_LOW_BYTE_RAWMODE", bad)
    with pytest.warns(UserWarning, match=r"c16\.png.*8-bit"):
        out = load_image(p, dtype=torch.float64)
    assert torch.equal(out, chw(a >> 8, 255, torch.float64))


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


def test_exif_orientation_16_bit_colour(tmp_path: Path) -> None:
    a = RNG.integers(0, 65536, size=(2, 3, 3), dtype=np.uint16)
    exif = exif_with_orientation(8).tobytes()
    p = write(tmp_path / "o8_16.png", png_bytes(a, exif=exif))
    out = load_image(p, dtype=torch.float64)
    assert torch.equal(out, chw(np.rot90(a, 1), 65535, torch.float64))


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


# --------------------------------------------------------------------------- load_batch


def test_load_batch_stacks_mixed_sources_in_order(tmp_path: Path) -> None:
    a = RNG.integers(0, 256, size=(3, 4, 3), dtype=np.uint8)
    p = tmp_path / "a.png"
    Image.fromarray(a).save(p)
    t = torch.rand(3, 3, 4)
    out = load_batch([p, a.astype(np.float64) / 255, t, Image.fromarray(a)])
    assert out.shape == (4, 3, 3, 4)
    assert torch.equal(out[0], chw(a, 255))
    assert torch.equal(out[1], chw(a, 255))
    assert torch.equal(out[2], t)
    assert torch.equal(out[3], chw(a, 255))


def test_load_batch_names_items_of_another_size(tmp_path: Path) -> None:
    paths = []
    for name, size in [("a.png", (4, 5)), ("b.png", (4, 5)), ("c.png", (6, 5)), ("d.png", (4, 4))]:
        paths.append(tmp_path / name)
        Image.new("RGB", (size[1], size[0])).save(paths[-1])
    with pytest.raises(InputError) as info:
        load_batch(paths)
    msg = str(info.value)
    assert "a.png" in msg and "4x5" in msg
    assert "c.png' (item 2) is 6x5" in msg and "d.png' (item 3) is 4x4" in msg
    assert "b.png" not in msg


def test_load_batch_reports_the_failing_item() -> None:
    with pytest.raises(InputError, match=r"array \(item 1\): .*NaN"):
        load_batch([np.zeros((2, 2)), np.full((2, 2), np.nan)])


def test_load_batch_accepts_a_4d_tensor_and_rejects_single_sources(tmp_path: Path) -> None:
    t = torch.rand(2, 3, 4, 4)
    assert torch.equal(load_batch(t), t)
    with pytest.raises(InputError, match="expected at least one image"):
        load_batch([])
    with pytest.raises(InputError, match="got a single str"):
        load_batch(str(tmp_path / "x.png"))
    with pytest.raises(InputError, match=r"\(N, C, H, W\)"):
        load_batch(torch.rand(3, 4, 4))


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


def test_save_image_16_bit_png_round_trip(tmp_path: Path) -> None:
    t = torch.rand(3, 6, 5, dtype=torch.float64)
    p = tmp_path / "out16.png"
    save_image(t, p, bit_depth=16)
    q = np.round(t.numpy() * 65535).astype(np.uint16).transpose(1, 2, 0)
    with Image.open(p) as im:  # Pillow itself keeps only the high bytes of 16-bit RGB
        assert im.format == "PNG" and im.size == (5, 6)
        assert np.array_equal(np.asarray(im), (q >> 8).astype(np.uint8))
    assert torch.equal(load_image(p, dtype=torch.float64), chw(q, 65535, torch.float64))


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
