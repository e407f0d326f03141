"""SSIM kernels: the MS-SSIM scale pyramid and its combination, piece by piece."""

from __future__ import annotations

import pytest
import torch

from friqa.exceptions import InputError
from friqa.functional.ssim import (
    check_image_size,
    check_ssim_params,
    downsample2x,
    ms_ssim_combine,
    ms_ssim_scale_maps,
    ms_ssim_terms,
    ssim_cs_maps,
)
from friqa.metrics.ms_ssim import MSSSIM
from friqa.ops.filters import gaussian_kernel1d


def _rand(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_scale_maps_are_ssim_of_the_downsampled_images() -> None:
    x, y = _rand(2, 3, 37, 30, seed=1), _rand(2, 3, 37, 30, seed=2)
    kernel = gaussian_kernel1d(5, 1.0, dtype=torch.float64)
    scales = ms_ssim_scale_maps(x, y, kernel, 1e-4, 9e-4, 3)
    assert [tuple(s.ssim.shape) for s in scales] == [(2, 3, 33, 26), (2, 3, 15, 11), (2, 3, 6, 4)]
    for s in scales:
        torch.testing.assert_close(tuple(s), ssim_cs_maps(x, y, kernel, 1e-4, 9e-4), rtol=0, atol=0)
        x, y = downsample2x(x), downsample2x(y)
    terms = ms_ssim_terms(scales)
    assert terms[0] is scales[0].cs and terms[1] is scales[1].cs and terms[2] is scales[2].ssim


def test_combine_clips_and_weights_and_the_metric_uses_it() -> None:
    values = [torch.tensor([[0.5, -0.2]]), torch.tensor([[0.25, 0.81]])]
    score, clipped = ms_ssim_combine(values, (1.0, 0.5))
    assert clipped.shape == (2, 1, 2) and float(clipped.min()) == 0.0
    torch.testing.assert_close(score, torch.tensor([(0.5 * 0.5 + 0.0) / 2]))
    # MSSSIM is scale_maps -> terms -> combine
    ref, dist = _rand(1, 3, 41, 45, seed=3), _rand(1, 3, 41, 45, seed=4)
    metric = MSSSIM(window_size=5, weights=(0.2, 0.3, 0.5))
    scales = metric.scale_maps(ref, dist)
    want, _ = ms_ssim_combine([t.mean(dim=(2, 3)) for t in ms_ssim_terms(scales)], metric.weights)
    torch.testing.assert_close(metric(ref, dist), want, rtol=0, atol=0)


def test_parameter_and_size_checks() -> None:
    check_ssim_params(7, 1.5, 0.01, 0.03)
    with pytest.raises(InputError, match="odd"):
        check_ssim_params(6, 1.5, 0.01, 0.03)
    with pytest.raises(InputError, match="at least 9x9"):
        check_image_size(torch.zeros(1, 3, 8, 20), 9, "demo")
