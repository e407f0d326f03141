"""Tests of friqa.io.arrays: numpy arrays and torch tensors as image sources.

Every image is written by the test itself (tmp_path). Expected values come from
the definitions (k / 255, k / 65535, c * a + 1 - a, the EXIF orientation table)
or from Pillow's own conversions, never from running the loader.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from io_helpers import chw, on_white

from friqa.exceptions import InputError
from friqa.io import load_image

RNG = np.random.default_rng(20240611)


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
