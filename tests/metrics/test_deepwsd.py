"""DeepWSD: POT-exact Wasserstein, the reference's layer term and padding, fixtures, batching."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch

from friqa.exceptions import InputError
from friqa.functional.deepwsd import DEEPWSD_TAPS
from friqa.metrics.deepwsd import DeepWSD, deepwsd
from friqa.metrics.registry import create_metric, metric_info
from friqa.ops.resize import pil_resize_like_torchvision
from metric_checks import load_rgb


# --- the metric ---------------------------------------------------------------------------
def test_official_scores(
    shared_dir: Path, official_scores: dict[str, Any], vgg_weights_path: Path
) -> None:
    metric = DeepWSD(resize="deepwsd", weights=vgg_weights_path)
    checked = 0
    for name, pair in official_scores["pairs"].items():
        if "deepwsd" not in pair:
            continue
        ref = load_rgb(shared_dir / "data" / pair["ref"])
        dist = load_rgb(shared_dir / "data" / pair["dist"])
        with torch.no_grad():
            got = metric(ref, dist)
        assert got.shape == (1,)
        assert got.item() == pytest.approx(pair["deepwsd"], rel=1e-4), name
        checked += 1
    assert checked >= 6


def test_registry_metadata() -> None:
    info = metric_info("deepwsd")
    assert info.lower_better and info.score_range == (0.0, math.inf)
    assert info.needs_weights and not info.returns_map and info.differentiable
    assert isinstance(create_metric("deepwsd", resize="deepwsd"), DeepWSD)
    with pytest.raises(InputError):
        DeepWSD(resize="bicubic")
    with pytest.raises(InputError):
        DeepWSD().compute(torch.rand(1, 3, 40, 40), torch.rand(1, 3, 40, 40), return_map=True)


@pytest.fixture(scope="module")
def pair_batch() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    ref = torch.rand(3, 3, 40, 56, generator=g)  # f = 1; relu3_3 10x14 crops and pads
    dist = (ref + 0.15 * torch.randn(3, 3, 40, 56, generator=g)).clamp(0, 1)
    return ref, dist


def test_batch_equals_one_by_one_and_encoded(
    pair_batch: tuple[torch.Tensor, torch.Tensor], vgg_weights_path: Path
) -> None:
    ref, dist = pair_batch
    metric = DeepWSD(weights=vgg_weights_path)
    with torch.no_grad():
        res = metric.compute(ref, dist)
        singles = torch.cat([metric(ref[i : i + 1], dist[i : i + 1]) for i in range(3)])
        enc = metric.encode_ref(ref[:1])
        one_ref = metric.compute_encoded(enc, dist).score
        loop_one_ref = torch.cat([metric(ref[:1], dist[i : i + 1]) for i in range(3)])
    torch.testing.assert_close(res.score, singles, rtol=1e-5, atol=0)
    torch.testing.assert_close(one_ref, loop_one_ref, rtol=1e-5, atol=0)
    assert res.score.shape == (3,) and bool((res.score > 0).all())
    assert res.extras["pool_factor"] == 1 and res.extras["window"] == 4
    # f = 1: the output is log(mean of the six layer terms + 1); as_loss gives the mean
    layer_terms = res.extras["layer_terms"]
    assert layer_terms.shape == (3, len(DEEPWSD_TAPS))
    torch.testing.assert_close(res.score, torch.log(layer_terms.mean(dim=1) + 1))
    with torch.no_grad():
        raw = deepwsd(ref, dist, as_loss=True, weights=vgg_weights_path)
        scaled = deepwsd(ref * 255, dist * 255, weights=vgg_weights_path, data_range=255)
    torch.testing.assert_close(raw, layer_terms.mean(dim=1))
    torch.testing.assert_close(scaled, res.score, rtol=1e-5, atol=0)


def test_identical_images_score_zero_and_gradients_finite(
    pair_batch: tuple[torch.Tensor, torch.Tensor], vgg_weights_path: Path
) -> None:
    ref, dist = pair_batch
    metric = DeepWSD(weights=vgg_weights_path)
    for identical in (False, True):
        x = (ref[:2] if identical else dist[:2]).clone().requires_grad_(True)
        score = metric(ref[:2], x)
        score.sum().backward()
        assert x.grad is not None and bool(torch.isfinite(x.grad).all())
        if identical:
            assert torch.equal(score.detach(), torch.zeros(2))
        else:
            assert float(x.grad.abs().sum()) > 0


def test_small_images_are_rejected(vgg_weights_path: Path) -> None:
    x = torch.rand(1, 3, 20, 64)  # relu5_3 would be 2 rows: round(2 / 4) = 0 windows
    with pytest.raises(InputError, match="too small"):
        DeepWSD(weights=vgg_weights_path)(x, x)


def test_resize_deepwsd_is_prepare_image_then_the_model(vgg_weights_path: Path) -> None:
    g = torch.Generator().manual_seed(8)
    ref = (torch.randint(0, 256, (1, 3, 300, 520), generator=g) / 255).float()
    dist = (ref + 0.1 * torch.randn(ref.shape, generator=g)).clamp(0, 1)
    # max side 520 is in (512, 1000): PIL bilinear to 256x256, then f = 1 (log output)
    small = [pil_resize_like_torchvision(t, (256, 256)) for t in (ref, dist)]
    with torch.no_grad():
        res = DeepWSD(resize="deepwsd", weights=vgg_weights_path).compute(ref, dist)
        want = DeepWSD(weights=vgg_weights_path)(*small)
    assert res.extras["pool_factor"] == 1  # without resizing it would be round(520/256) = 2
    torch.testing.assert_close(res.score, want)
