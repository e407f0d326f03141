"""PSNR against scikit-image's peak_signal_noise_ratio."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio

from friqa.exceptions import InputError
from friqa.metrics import create_metric, metric_info
from friqa.metrics.psnr import PSNR, psnr


def _load_u8(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")).copy()


def _to_tensor(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a).permute(2, 0, 1).to(torch.float64) / 255.0


def _real_pairs(shared_data: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    pairs = []
    for folder in ("pairs/kadid", "tid2013-mini"):
        with open(shared_data / folder / "manifest.csv") as fh:
            for row in csv.DictReader(fh):
                base = shared_data / folder
                pairs.append((_load_u8(base / row["ref"]), _load_u8(base / row["dist"])))
    return pairs


def _rand(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_matches_skimage_on_random_images() -> None:
    ref, dist = _rand(4, 3, 13, 17, seed=1), _rand(4, 3, 13, 17, seed=2)
    dist[2] = (ref[2] + 0.01 * dist[2]).clamp(0, 1)  # one close pair (high PSNR)
    score = psnr(ref, dist)
    assert score.shape == (4,) and score.dtype == torch.float64
    for i in range(4):
        expected = peak_signal_noise_ratio(
            ref[i].permute(1, 2, 0).numpy(), dist[i].permute(1, 2, 0).numpy(), data_range=1.0
        )
        assert abs(float(score[i]) - expected) < 1e-6


def test_matches_skimage_on_real_images(shared_data: Path) -> None:
    pairs = _real_pairs(shared_data)
    ref = torch.stack([_to_tensor(r) for r, _ in pairs])
    dist = torch.stack([_to_tensor(d) for _, d in pairs])
    score = psnr(ref, dist)
    for i, (r, d) in enumerate(pairs):
        expected = peak_signal_noise_ratio(r, d, data_range=255)
        assert abs(float(score[i]) - expected) < 1e-6
    # float32 inputs (the usual case) agree to float32 round-off
    score32 = psnr(ref.float(), dist.float())
    assert score32.dtype == torch.float32
    np.testing.assert_allclose(score32.numpy(), score.numpy(), rtol=0, atol=1e-4)


def test_data_range_255() -> None:
    ref, dist = _rand(2, 3, 8, 9, seed=3), _rand(2, 3, 8, 9, seed=4)
    torch.testing.assert_close(psnr(ref * 255, dist * 255, data_range=255), psnr(ref, dist))
    expected = peak_signal_noise_ratio(
        (ref[0] * 255).numpy(), (dist[0] * 255).numpy(), data_range=255
    )
    assert abs(float(psnr(ref * 255, dist * 255, data_range=255)[0]) - expected) < 1e-6


def test_batch_equals_loop() -> None:
    ref, dist = _rand(5, 3, 11, 7, seed=5), _rand(5, 3, 11, 7, seed=6)
    batched, bmap = psnr(ref, dist, return_map=True)
    for i in range(5):
        single, smap = psnr(ref[i : i + 1], dist[i : i + 1], return_map=True)
        torch.testing.assert_close(batched[i : i + 1], single, rtol=0, atol=1e-12)
        torch.testing.assert_close(bmap[i : i + 1], smap, rtol=0, atol=0)


def test_map_is_channel_mean_squared_error() -> None:
    ref, dist = _rand(2, 3, 6, 5, seed=7), _rand(2, 3, 6, 5, seed=8)
    score, dmap = psnr(ref, dist, return_map=True)
    assert dmap.shape == (2, 1, 6, 5)
    expected = ((ref.numpy() - dist.numpy()) ** 2).mean(axis=1, keepdims=True)
    np.testing.assert_allclose(dmap.numpy(), expected, rtol=1e-14)
    # its spatial mean is the MSE behind the score
    torch.testing.assert_close(score, 10 * torch.log10(1 / dmap.mean(dim=(1, 2, 3))))


def test_identical_images_give_inf_with_zero_gradient() -> None:
    ref = _rand(2, 3, 8, 8, seed=9)
    dist = ref.clone()
    dist[1] = (dist[1] + 0.05).clamp(0, 1)
    dist.requires_grad_(True)
    score = psnr(ref, dist)
    values = score.detach()
    assert math.isinf(float(values[0])) and float(values[0]) > 0
    assert math.isfinite(float(values[1]))
    with np.errstate(divide="ignore"):  # scikit-image gives +inf too
        assert peak_signal_noise_ratio(ref[0].numpy(), ref[0].numpy(), data_range=1) == np.inf
    (g1,) = torch.autograd.grad(score[1], dist, retain_graph=True)
    assert torch.isfinite(g1).all() and bool((g1 != 0).any())
    (g0,) = torch.autograd.grad(score[0], dist)  # at the maximum: zero gradient, not NaN
    assert bool((g0 == 0).all())


def test_gradients_finite_and_correct() -> None:
    ref = _rand(1, 3, 5, 4, seed=10)
    dist = _rand(1, 3, 5, 4, seed=11).requires_grad_(True)
    score = psnr(ref, dist)
    score.sum().backward()
    assert dist.grad is not None and torch.isfinite(dist.grad).all()
    assert torch.autograd.gradcheck(lambda d: psnr(ref, d), (dist.detach().requires_grad_(True),))


def test_module_registry_and_metadata() -> None:
    info = metric_info("psnr")
    assert info is PSNR.info
    assert (info.lower_better, info.score_range, info.returns_map, info.differentiable) == (
        False,
        (0.0, math.inf),
        True,
        True,
    )
    assert not info.needs_weights and info.reference
    metric = create_metric("psnr", data_range=255)
    assert isinstance(metric, PSNR) and metric.data_range == 255
    ref, dist = _rand(3, 3, 8, 8, seed=12), _rand(3, 3, 8, 8, seed=13)
    torch.testing.assert_close(PSNR()(ref, dist), psnr(ref, dist))
    result = PSNR().compute(ref, dist, return_map=True)
    assert result.map is not None and result.map.shape == (3, 1, 8, 8)
    assert PSNR().compute(ref, dist).map is None


def test_encoded_reference_is_compared_with_each_image() -> None:
    ref, dist = _rand(1, 3, 8, 8, seed=14), _rand(3, 3, 8, 8, seed=15)
    metric = PSNR()
    encoded = metric.encode_ref(ref)
    torch.testing.assert_close(
        metric.compute_encoded(encoded, dist).score, psnr(ref.expand(3, -1, -1, -1), dist)
    )


def test_input_errors() -> None:
    ref = _rand(1, 3, 8, 8)
    with pytest.raises(InputError, match="same shape"):
        psnr(ref, _rand(1, 3, 8, 9))
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        psnr(ref, ref * 2)
    with pytest.raises(InputError, match="4 dimensions"):
        psnr(ref[0], ref[0])
    with pytest.raises(InputError, match="data_range"):
        PSNR(data_range=0)


def test_follows_dtype() -> None:
    ref, dist = _rand(1, 3, 4, 4).float(), _rand(1, 3, 4, 4, seed=1).float()
    assert psnr(ref, dist).dtype == torch.float32
