"""Tests of friqa.ops.filters against numpy/scipy oracles."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import ndimage, signal

from friqa.exceptions import InputError
from friqa.ops import (
    box_filter,
    depthwise_conv2d,
    gaussian_kernel1d,
    gaussian_kernel2d,
    pad2d,
    separable_filter,
    shifted_sum,
)

# our mode name -> (numpy.pad mode, scipy.ndimage mode)
MODES = {
    "zeros": ("constant", "constant"),
    "edge": ("edge", "nearest"),
    "reflect": ("reflect", "mirror"),
    "symmetric": ("symmetric", "reflect"),
    "wrap": ("wrap", "wrap"),
}


def _rand(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize(("size", "sigma"), [(11, 1.5), (7, 1.5), (9, 1.0), (1, 2.0), (4, 0.8)])
def test_gaussian_kernel1d_formula(size: int, sigma: float) -> None:
    x = np.arange(size) - (size - 1) / 2
    expected = np.exp(-(x**2) / (2 * sigma**2))
    expected /= expected.sum()
    k = gaussian_kernel1d(size, sigma, dtype=torch.float64)
    assert k.shape == (size,) and k.dtype == torch.float64
    np.testing.assert_allclose(k.numpy(), expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("sigma", [1.5, 1.0, 2.0])
def test_gaussian_kernel2d_is_scipy_gaussian_impulse_response(sigma: float) -> None:
    radius = int(3.5 * sigma + 0.5)  # scipy's radius for truncate=3.5
    size = 2 * radius + 1
    delta = np.zeros((size, size))
    delta[radius, radius] = 1.0
    expected = ndimage.gaussian_filter(delta, sigma, truncate=3.5, mode="constant")
    w = gaussian_kernel2d(size, sigma, dtype=torch.float64)
    np.testing.assert_allclose(w.numpy(), expected, rtol=0, atol=1e-15)


def test_gaussian_kernel_dtype_and_default() -> None:
    assert gaussian_kernel1d(5, 1.0).dtype == torch.get_default_dtype()
    assert gaussian_kernel1d(5, 1.0, dtype=torch.float16).dtype == torch.float16


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_gaussian_kernel_bad_size(bad: object) -> None:
    with pytest.raises(InputError, match="size"):
        gaussian_kernel1d(bad, 1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0.0, -1.0, float("inf"), float("nan")])
def test_gaussian_kernel_bad_sigma(bad: float) -> None:
    with pytest.raises(InputError, match="sigma"):
        gaussian_kernel1d(5, bad)


@pytest.mark.parametrize("mode", list(MODES))
def test_pad2d_matches_numpy_pad(mode: str) -> None:
    x = _rand(2, 3, 5, 6)
    pad = (3, 1, 2, 4)  # left, right, top, bottom
    widths = ((0, 0), (0, 0), (2, 4), (3, 1))
    expected = np.pad(x.numpy(), widths, mode=MODES[mode][0])  # type: ignore[call-overload]
    np.testing.assert_array_equal(pad2d(x, pad, mode).numpy(), expected)  # type: ignore[arg-type]


def test_pad2d_errors() -> None:
    x = _rand(1, 1, 3, 3)
    with pytest.raises(InputError, match="reflect"):
        pad2d(x, (3, 0, 0, 0), "reflect")
    with pytest.raises(InputError, match="symmetric"):
        pad2d(x, (0, 0, 4, 0), "symmetric")
    with pytest.raises(InputError, match="unknown padding mode"):
        pad2d(x, (1, 1, 1, 1), "mirror")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="non-negative"):
        pad2d(x, (1, -1, 1, 1))
    with pytest.raises(InputError, match="N, C, H, W"):
        pad2d(x[0], (1, 1, 1, 1))


@pytest.mark.parametrize(("kh", "kw"), [(11, 11), (7, 3), (4, 5)])
def test_separable_valid_matches_correlate2d(kh: int, kw: int) -> None:
    x = _rand(2, 3, 17, 23)
    a = torch.rand(kh, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    b = torch.rand(kw, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    out = separable_filter(x, a, b)
    assert out.shape == (2, 3, 17 - kh + 1, 23 - kw + 1)
    w2 = np.outer(a.numpy(), b.numpy())  # asymmetric: checks correlation, not convolution
    for n in range(2):
        for c in range(3):
            expected = signal.correlate2d(x[n, c].numpy(), w2, mode="valid")
            np.testing.assert_allclose(out[n, c].numpy(), expected, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("mode", list(MODES))
def test_separable_same_matches_ndimage(mode: str) -> None:
    x = _rand(1, 2, 9, 12, seed=3)
    a = torch.tensor([0.1, 0.5, 0.2, 0.15, 0.05], dtype=torch.float64)
    b = torch.tensor([0.3, 0.6, 0.1], dtype=torch.float64)
    out = separable_filter(x, a, b, padding="same", mode=mode)  # type: ignore[arg-type]
    smode = MODES[mode][1]
    for c in range(2):
        e = ndimage.correlate1d(x[0, c].numpy(), a.numpy(), axis=0, mode=smode)
        e = ndimage.correlate1d(e, b.numpy(), axis=1, mode=smode)
        np.testing.assert_allclose(out[0, c].numpy(), e, rtol=1e-12, atol=1e-13)


def test_separable_follows_dtype_and_is_differentiable() -> None:
    x = _rand(1, 2, 6, 7).requires_grad_(True)
    k = gaussian_kernel1d(3, 1.0)  # float32 kernel is cast to the input's dtype
    out = separable_filter(x, k)
    assert out.dtype == torch.float64
    assert torch.autograd.gradcheck(lambda t: separable_filter(t, k, padding="same"), (x,))


def test_separable_errors() -> None:
    x = _rand(1, 1, 8, 8)
    with pytest.raises(InputError, match="does not fit"):
        separable_filter(x, torch.ones(9) / 9)
    with pytest.raises(InputError, match="odd"):
        separable_filter(x, torch.ones(4) / 4, padding="same")
    with pytest.raises(InputError, match="padding"):
        separable_filter(x, torch.ones(3) / 3, padding="full")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="1-D"):
        separable_filter(x, torch.ones(3, 3))
    with pytest.raises(InputError, match="N, C, H, W"):
        separable_filter(torch.ones(8, 8), torch.ones(3))
    with pytest.raises(InputError, match="floating"):
        separable_filter(torch.ones(1, 1, 8, 8, dtype=torch.int64), torch.ones(3))


def test_depthwise_shared_kernel_matches_correlate2d() -> None:
    x = _rand(2, 3, 10, 13, seed=4)
    w = torch.rand(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    out = depthwise_conv2d(x, w)
    for n in range(2):
        for c in range(3):
            e = signal.correlate2d(x[n, c].numpy(), w.numpy(), mode="valid")
            np.testing.assert_allclose(out[n, c].numpy(), e, rtol=1e-12, atol=1e-13)


def test_depthwise_per_channel_kernels_stride_and_same() -> None:
    x = _rand(1, 3, 11, 9, seed=6)
    w = torch.rand(3, 3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    out = depthwise_conv2d(x, w, stride=2, padding="same", mode="symmetric")
    assert out.shape == (1, 3, 6, 5)
    for c in range(3):
        full = ndimage.correlate(x[0, c].numpy(), w[c].numpy(), mode="reflect")
        np.testing.assert_allclose(out[0, c].numpy(), full[::2, ::2], rtol=1e-12, atol=1e-13)


def test_depthwise_errors() -> None:
    x = _rand(1, 3, 8, 8)
    with pytest.raises(InputError, match="per-channel"):
        depthwise_conv2d(x, torch.ones(2, 3, 3))
    with pytest.raises(InputError, match="stride"):
        depthwise_conv2d(x, torch.ones(3, 3), stride=0)
    with pytest.raises(InputError, match="kernel"):
        depthwise_conv2d(x, torch.ones(3))


@pytest.mark.parametrize("mode", list(MODES))
def test_box_filter_same_matches_uniform_filter(mode: str) -> None:
    x = _rand(2, 3, 12, 10, seed=8)
    out = box_filter(x, (5, 3), padding="same", mode=mode)  # type: ignore[arg-type]
    e = ndimage.uniform_filter(x.numpy(), size=(1, 1, 5, 3), mode=MODES[mode][1])
    np.testing.assert_allclose(out.numpy(), e, rtol=1e-12, atol=1e-13)


def test_box_filter_valid_is_window_mean() -> None:
    x = _rand(1, 3, 9, 8, seed=9)
    out = box_filter(x, 7)
    assert out.shape == (1, 3, 3, 2)
    for i in range(3):
        for j in range(2):
            np.testing.assert_allclose(
                out[0, :, i, j].numpy(), x[0, :, i : i + 7, j : j + 7].mean(dim=(1, 2)).numpy()
            )
    with pytest.raises(InputError, match="does not fit"):
        box_filter(x, 10)
    with pytest.raises(InputError, match="positive"):
        box_filter(x, 0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(("taps", "sigma"), [(11, 1.5), (7, 1.5), (1, 1.0)])
def test_shifted_sums_equal_the_depthwise_convolutions(
    dtype: torch.dtype, taps: int, sigma: float
) -> None:
    """The CPU path of separable_filter gives the grouped convolutions' numbers exactly."""
    x = torch.rand(3, 5, 61, 83, generator=torch.Generator().manual_seed(taps), dtype=dtype)
    k = gaussian_kernel1d(taps, sigma, dtype=dtype)
    kw = gaussian_kernel1d(taps, sigma + 0.5, dtype=dtype)
    c = x.shape[1]
    col = k.view(1, 1, -1, 1).expand(c, 1, taps, 1)
    row = kw.view(1, 1, 1, -1).expand(c, 1, 1, taps)
    want = F.conv2d(F.conv2d(x, col, groups=c), row, groups=c)
    got = separable_filter(x, k, kw)
    assert got.dtype == dtype and torch.equal(got, want)


def test_shifted_sum_is_differentiable() -> None:
    x = torch.rand(1, 1, 9, 12, dtype=torch.float64, requires_grad=True)
    k = gaussian_kernel1d(5, 1.0, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda t: shifted_sum(shifted_sum(t, k, -2), k, -1), (x,))
