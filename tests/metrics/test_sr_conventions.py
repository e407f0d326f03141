"""The super-resolution conventions (``y_channel``, ``crop_border``) of psnr and ssim.

The oracle is written out here in numpy from the published formulas, without
friqa: ITU-R BT.601 luma on the 8-bit scale, ``Y = 16 + (65.481 R + 128.553 G +
24.966 B) / 255`` for 8-bit ``R, G, B`` (kept in floating point, as BasicSR's
``bgr2ycbcr(y_only=True)``; MATLAB's ``rgb2ycbcr`` on uint8 rounds it), the
border crop, PSNR with peak 255, and Wang et al. (2004) SSIM with an 11x11
Gaussian window (sigma 1.5), K = (0.01, 0.03), L = 255, valid positions only.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from friqa.exceptions import InputError
from friqa.metrics import create_metric
from friqa.metrics.psnr import psnr
from friqa.metrics.ssim import ssim
from friqa.ops.color import crop_border, rgb_to_y


# --- the oracle ----------------------------------------------------------------------------
def _luma(rgb8: np.ndarray, rounded: bool) -> np.ndarray:
    rgb = rgb8.astype(np.float64)
    y = 16.0 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255.0
    return np.floor(y + 0.5) if rounded else y


def _crop(a: np.ndarray, n: int) -> np.ndarray:
    return a[n : a.shape[0] - n, n : a.shape[1] - n] if n else a


def _oracle_psnr(a: np.ndarray, b: np.ndarray) -> float:
    return 10.0 * math.log10(255.0**2 / float(np.mean((a - b) ** 2)))


def _window_mean(img: np.ndarray, w: np.ndarray) -> np.ndarray:
    k = w.shape[0]
    views = np.lib.stride_tricks.sliding_window_view(img, (k, k))
    return np.einsum("ijkl,kl->ij", views, w)


def _oracle_ssim(a: np.ndarray, b: np.ndarray) -> float:
    t = np.arange(11) - 5.0
    g = np.exp(-(t**2) / (2 * 1.5**2))
    w = np.outer(g, g)
    w /= w.sum()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu_a, mu_b = _window_mean(a, w), _window_mean(b, w)
    var_a = _window_mean(a * a, w) - mu_a**2
    var_b = _window_mean(b * b, w) - mu_b**2
    cov = _window_mean(a * b, w) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    return float(np.mean(num / den))


# --- real pairs ----------------------------------------------------------------------------
def _load_u8(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")).copy()


def _tensor(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a).permute(2, 0, 1)[None].to(torch.float64) / 255.0


@pytest.fixture(scope="module")
def real_pairs(shared_data: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    pairs = []
    for folder in ("pairs/kadid", "tid2013-mini"):
        with open(shared_data / folder / "manifest.csv") as fh:
            for row in list(csv.DictReader(fh))[:3]:
                base = shared_data / folder
                pairs.append((_load_u8(base / row["ref"]), _load_u8(base / row["dist"])))
    return pairs


@pytest.mark.parametrize("border", [0, 4])
@pytest.mark.parametrize("y_channel", ["float", "matlab"])
def test_psnr_y_channel_matches_the_formula(real_pairs, y_channel, border):
    for ref8, dist8 in real_pairs:
        rounded = y_channel == "matlab"
        expected = _oracle_psnr(
            _crop(_luma(ref8, rounded), border), _crop(_luma(dist8, rounded), border)
        )
        got = psnr(_tensor(ref8), _tensor(dist8), y_channel=y_channel, crop_border=border)
        assert got.item() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("border", [0, 4])
@pytest.mark.parametrize("y_channel", ["float", "matlab"])
def test_ssim_y_channel_matches_the_formula(real_pairs, y_channel, border):
    for ref8, dist8 in real_pairs:
        rounded = y_channel == "matlab"
        expected = _oracle_ssim(
            _crop(_luma(ref8, rounded), border), _crop(_luma(dist8, rounded), border)
        )
        got = ssim(_tensor(ref8), _tensor(dist8), y_channel=y_channel, crop_border=border)
        assert got.item() == pytest.approx(expected, abs=1e-6)


def test_float_paths_agree_with_the_formula_on_8bit_images(real_pairs):
    ref8, dist8 = real_pairs[0]
    expected = _oracle_ssim(_crop(_luma(ref8, False), 3), _crop(_luma(dist8, False), 3))
    got = ssim(_tensor(ref8), _tensor(dist8), y_channel=True, quantize=False, crop_border=3)
    assert got.item() == pytest.approx(expected, abs=1e-6)
    # y_channel=True is "float"
    assert psnr(_tensor(ref8), _tensor(dist8), y_channel=True).item() == pytest.approx(
        _oracle_psnr(_luma(ref8, False), _luma(dist8, False)), abs=1e-6
    )


def test_crop_only_keeps_rgb_psnr(real_pairs):
    ref8, dist8 = real_pairs[1]
    a, b = _crop(ref8.astype(np.float64), 6), _crop(dist8.astype(np.float64), 6)
    got = psnr(_tensor(ref8), _tensor(dist8), crop_border=6)
    assert got.item() == pytest.approx(_oracle_psnr(a, b), abs=1e-6)


def test_data_range_scales_the_luma():
    x = torch.rand(2, 3, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    y1, y255 = rgb_to_y(x), rgb_to_y(x * 255, 255.0)
    assert torch.allclose(y1 * 255, y255)
    assert y255.min() >= 16 and y255.max() <= 235
    assert rgb_to_y(torch.ones(1, 3, 2, 2)).mul(255).allclose(torch.tensor(235.0))


def test_gradients_follow_the_option():
    ref = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(2))
    dist = (ref * 0.9).requires_grad_()
    psnr(ref, dist, y_channel=True, crop_border=2).sum().backward()
    assert dist.grad is not None and torch.isfinite(dist.grad).all()
    assert dist.grad[..., :2, :].abs().sum() == 0  # cropped pixels do not count
    assert not create_metric("psnr", y_channel="matlab").differentiable
    assert create_metric("ssim", quantize=False, y_channel=True).differentiable
    assert not create_metric("ssim", quantize=False, y_channel="matlab").differentiable


def test_invalid_options_are_input_errors():
    with pytest.raises(InputError, match="y_channel"):
        create_metric("psnr", y_channel="yuv")
    with pytest.raises(InputError, match="crop_border"):
        create_metric("ssim", crop_border=-1)
    with pytest.raises(InputError, match="crop_border"):
        psnr(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8), crop_border=4)
    with pytest.raises(InputError, match="RGB"):
        rgb_to_y(torch.rand(1, 1, 4, 4))
    assert crop_border(torch.zeros(1, 1, 5, 5), 0).shape == (1, 1, 5, 5)


def test_defaults_are_unchanged():
    ref = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(3))
    dist = ref.flip(-1)
    assert torch.equal(psnr(ref, dist), create_metric("psnr", y_channel=False)(ref, dist))
    assert torch.equal(ssim(ref, dist), create_metric("ssim", crop_border=0)(ref, dist))


def test_smic_consistent_variants_pass_y_channel_to_their_base():
    for name in ("psnr+smic", "ssim+smic"):
        metric = create_metric(name, y_channel=True)
        assert metric.base.y_channel == "float"
