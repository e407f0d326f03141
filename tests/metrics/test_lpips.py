"""LPIPS (VGG, v0.1): official scores, the ``lpips`` package as oracle, API properties.

The oracle is the reference package ``lpips`` 0.1.4 itself (installed with
``pip install --no-deps lpips``). It imports torchvision only for
``torchvision.models.vgg16(pretrained=True).features``; the tests give it a
stand-in torchvision whose ``vgg16`` is a plain ``nn.Sequential`` with
torchvision's layer layout loaded from the shared weight file, so the oracle
runs its own code on the same weights as friqa.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
from pathlib import Path
from typing import Any

import pytest
import torch
from oracle_packages import stand_in_torchvision
from torch import nn

import friqa.weights as friqa_weights
from friqa.exceptions import InputError, WeightsError
from friqa.functional.lpips import LPIPS_LAYERS
from friqa.metrics import create_metric, metric_info
from friqa.metrics.lpips import LPIPS, lpips
from friqa.weights import SHIPPED_SHA256, load_shipped, shipped_file
from metric_checks import (
    check_batch_equals_loop,
    check_data_range,
    check_deterministic,
    check_directional_derivative,
    check_encoded_reference,
    check_float64_follows_input_dtype,
    check_gradients_finite,
    check_official_scores,
    load_rgb,
    random_images,
)

# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def metric(vgg_weights_path: Path) -> LPIPS:
    return LPIPS(weights=vgg_weights_path)


@pytest.fixture(scope="module")
def oracle(vgg_weights_path: Path) -> tuple[nn.Module, nn.Module]:
    """``lpips.LPIPS(net='vgg', version='0.1')``, plain and ``spatial=True``."""
    if importlib.util.find_spec("lpips") is None:
        pytest.skip("the reference package lpips is not installed (pip install --no-deps lpips)")
    with stand_in_torchvision(vgg_weights_path, ("lpips",)):
        pkg = importlib.import_module("lpips")
        plain = pkg.LPIPS(net="vgg", version="0.1", verbose=False)
        spatial = pkg.LPIPS(net="vgg", version="0.1", spatial=True, verbose=False)
    return plain, spatial


def _lpips_package_file() -> Path:
    spec = importlib.util.find_spec("lpips")
    if spec is None or spec.origin is None:
        pytest.skip("the reference package lpips is not installed (pip install --no-deps lpips)")
    return Path(spec.origin).parent / "weights" / "v0.1" / "vgg.pth"


# --- the authors' numbers ------------------------------------------------------------------


@pytest.mark.slow
def test_official_scores(metric: LPIPS, official_scores: dict[str, Any], shared_data: Path) -> None:
    """lpips 0.1.4 scores of the real pairs (full size, [0, 1]) to 1e-4 relative."""
    check_official_scores(metric, official_scores, shared_data, "lpips_vgg", rtol=1e-4)


# --- the reference package as oracle ---------------------------------------------------------


def _compare_with_oracle(
    metric: LPIPS, oracle: tuple[nn.Module, nn.Module], ref: torch.Tensor, dist: torch.Tensor
) -> None:
    plain, spatial = oracle
    with torch.no_grad():
        want, want_layers = plain(ref, dist, retPerLayer=True, normalize=True)
        want_map = spatial(ref, dist, normalize=True)
        got = metric.compute(ref, dist, return_map=True)
    torch.testing.assert_close(got.score, want.reshape(-1), rtol=1e-5, atol=1e-7)
    for k, layer in enumerate(LPIPS_LAYERS):
        torch.testing.assert_close(
            got.extras["layers"][layer], want_layers[k].reshape(-1), rtol=1e-5, atol=1e-8
        )
    assert got.map is not None
    assert got.map.shape == (ref.shape[0], 1, ref.shape[2], ref.shape[3])
    torch.testing.assert_close(got.map, want_map, rtol=1e-5, atol=1e-7)


def test_matches_lpips_package_random(metric: LPIPS, oracle: tuple[nn.Module, nn.Module]) -> None:
    ref, dist = random_images(2, 64, 96, seed=1), random_images(2, 64, 96, seed=2)
    _compare_with_oracle(metric, oracle, ref, dist)
    # a milder distortion as well (dist close to ref)
    _compare_with_oracle(
        metric, oracle, ref, (ref + 0.05 * random_images(2, 64, 96, seed=3)).clamp(0, 1)
    )


def test_matches_lpips_package_real(
    metric: LPIPS, oracle: tuple[nn.Module, nn.Module], shared_data: Path
) -> None:
    ref = load_rgb(shared_data / "pairs" / "kadid" / "I47.png")[..., 100:228, 150:310]
    dist = load_rgb(shared_data / "pairs" / "kadid" / "I47_03_05.png")[..., 100:228, 150:310]
    _compare_with_oracle(metric, oracle, ref, dist)


def test_scaling_layer_is_imagenet_normalisation() -> None:
    """friqa computes LPIPS' (2x - 1 - shift) / scale as the equal (x - mean) / std."""
    from friqa.backbone import IMAGENET_MEAN, IMAGENET_STD
    from friqa.functional.lpips import LPIPS_SCALE, LPIPS_SHIFT

    assert [(1 + s) / 2 for s in LPIPS_SHIFT] == pytest.approx(IMAGENET_MEAN, rel=1e-15)
    assert [s / 2 for s in LPIPS_SCALE] == pytest.approx(IMAGENET_STD, rel=1e-15)


def test_kernels_same_bits_with_and_without_a_gradient() -> None:
    """Without a gradient the kernels reuse their buffers; the values must not move."""
    from friqa.functional.lpips import lpips_layer_maps, lpips_linear_weights, normalize_channels

    g = torch.Generator().manual_seed(6)
    fr = {"relu1_2": torch.rand(2, 64, 20, 24, generator=g)}
    fd = {"relu1_2": torch.rand(2, 64, 20, 24, generator=g)}
    fr["relu1_2"][0, :, 3, 4] = 0.0  # a zero feature vector
    weights = lpips_linear_weights()
    with torch.no_grad():
        fast = lpips_layer_maps(
            {"relu1_2": normalize_channels(fr["relu1_2"])},
            {"relu1_2": normalize_channels(fd["relu1_2"])},
            weights,
            ["relu1_2"],
        )["relu1_2"]
    with torch.enable_grad():
        tracked = lpips_layer_maps(
            {"relu1_2": normalize_channels(fr["relu1_2"].clone().requires_grad_())},
            {"relu1_2": normalize_channels(fd["relu1_2"])},
            weights,
            ["relu1_2"],
        )["relu1_2"]
    assert torch.equal(fast, tracked.detach())


def test_shipped_weights_are_the_packages_file() -> None:
    original = _lpips_package_file().read_bytes()
    assert len(original) == 7289
    assert shipped_file("lpips_vgg_v0.1.pth").read_bytes() == original


# --- API properties -----------------------------------------------------------------------------


def test_identical_images_score_zero_and_zero_map(metric: LPIPS) -> None:
    x = random_images(2, 40, 56, seed=6)
    res = metric.compute(x, x.clone(), return_map=True)
    assert res.score.shape == (2,)
    assert bool((res.score == 0).all())
    assert res.map is not None and bool((res.map == 0).all())


def test_map_is_nonnegative_and_its_mean_tracks_the_score(metric: LPIPS) -> None:
    ref, dist = random_images(2, 64, 80, seed=7), random_images(2, 64, 80, seed=8)
    res = metric.compute(ref, dist, return_map=True)
    assert res.map is not None and bool((res.map >= 0).all())
    torch.testing.assert_close(res.map.mean((1, 2, 3)), res.score, rtol=0.1, atol=0)
    assert set(res.extras["layer_maps"]) == set(LPIPS_LAYERS)


def test_batch_equals_loop(metric: LPIPS) -> None:
    ref, dist = random_images(3, 48, 64, seed=9), random_images(3, 48, 64, seed=10)
    check_batch_equals_loop(metric, ref, dist, rtol=1e-5, atol=1e-8, with_map=True)


def test_encoded_reference_is_reused(metric: LPIPS) -> None:
    ref = random_images(1, 48, 64, seed=11)
    dist = random_images(2, 48, 64, seed=12)
    check_encoded_reference(metric, ref, dist, rtol=1e-5, atol=1e-8)
    with pytest.raises(InputError):
        metric.compute_encoded(metric.encode_ref(ref), random_images(2, 48, 60, seed=13))


def test_deterministic(metric: LPIPS) -> None:
    ref, dist = random_images(1, 40, 40, seed=14), random_images(1, 40, 40, seed=15)
    check_deterministic(metric, ref, dist, with_map=True)


def test_gradients_finite_on_random_and_identical_inputs(metric: LPIPS) -> None:
    ref = random_images(1, 32, 32, seed=16)
    at_ref = check_gradients_finite(metric, ref, random_images(1, 32, 32, seed=17))
    assert float(at_ref.abs().max()) == 0.0  # a minimum of the distance
    # through the map as well
    dist2 = random_images(1, 32, 32, seed=18).requires_grad_(True)
    res = metric.compute(ref, dist2, return_map=True)
    assert res.map is not None
    res.map.sum().backward()
    assert dist2.grad is not None and bool(torch.isfinite(dist2.grad).all())


def test_gradient_matches_finite_differences(metric: LPIPS) -> None:
    ref = random_images(1, 32, 32, seed=19, dtype=torch.float64)
    dist = 0.3 + 0.4 * random_images(1, 32, 32, seed=20, dtype=torch.float64)
    check_directional_derivative(metric, ref, dist, h=1e-6, seed=21, rtol=1e-4, atol=1e-10)


def test_float64_follows_input_dtype(metric: LPIPS) -> None:
    ref, dist = random_images(1, 40, 48, seed=22), random_images(1, 40, 48, seed=23)
    check_float64_follows_input_dtype(metric, ref, dist, rtol=1e-4, atol=1e-7)


def test_data_range(vgg_weights_path: Path, metric: LPIPS) -> None:
    ref, dist = random_images(1, 40, 48, seed=24), random_images(1, 40, 48, seed=25)
    scaled = LPIPS(weights=vgg_weights_path, data_range=255.0)
    check_data_range(metric, scaled, ref, dist, rtol=1e-5, atol=1e-8)


def test_wrong_sizes_and_values_raise(metric: LPIPS) -> None:
    with pytest.raises(InputError, match="same shape"):
        metric(random_images(1, 32, 32, seed=0), random_images(1, 32, 40, seed=0))
    with pytest.raises(InputError):
        metric(random_images(1, 32, 32, seed=0), random_images(1, 32, 32, seed=0) * 2)
    with pytest.raises(InputError, match="at least 16x16"):
        metric(random_images(1, 15, 32, seed=0), random_images(1, 15, 32, seed=0))
    assert metric(random_images(1, 16, 16, seed=0), random_images(1, 16, 16, seed=1)).shape == (1,)


def test_function_form_and_registry(vgg_weights_path: Path, metric: LPIPS) -> None:
    ref, dist = random_images(2, 40, 48, seed=26), random_images(2, 40, 48, seed=27)
    score = lpips(ref, dist, weights=vgg_weights_path)
    score2, dmap = lpips(ref, dist, weights=vgg_weights_path, return_map=True)
    want = metric.compute(ref, dist, return_map=True)
    assert torch.equal(score, want.score) and torch.equal(score2, want.score)
    assert want.map is not None and torch.equal(dmap, want.map)
    info = metric_info("lpips")
    assert info.lower_better and info.returns_map and info.differentiable and info.needs_weights
    made = create_metric("lpips", weights=vgg_weights_path)
    assert isinstance(made, LPIPS)
    assert made.state_dict() == {}  # the small weights are non-persistent buffers


# --- the shipped-weights module ---------------------------------------------------------------


def test_shipped_files_hash_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, digest in SHIPPED_SHA256.items():
        assert hashlib.sha256(shipped_file(name).read_bytes()).hexdigest() == digest
    with pytest.raises(WeightsError, match="not a weight file"):
        shipped_file("nope.pth")
    monkeypatch.setitem(friqa_weights.SHIPPED_SHA256, "lpips_vgg_v0.1.pth", "0" * 64)
    with pytest.raises(WeightsError, match="corrupt"):
        shipped_file("lpips_vgg_v0.1.pth")


def test_load_shipped_returns_copies() -> None:
    a = load_shipped("lpips_vgg_v0.1.pth")
    a["lin0.model.1.weight"].zero_()
    b = load_shipped("lpips_vgg_v0.1.pth")
    assert float(b["lin0.model.1.weight"].abs().sum()) > 0
