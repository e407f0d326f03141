"""DISTS: official scores, the ``DISTS_pytorch`` package as oracle, the spec, API properties.

The oracle is the reference package ``dists-pytorch`` 0.1 (module
``DISTS_pytorch``, installed with ``pip install --no-deps dists-pytorch``). It
imports ``torchvision.models`` (for ``vgg16(pretrained=True).features``) and
``torchvision.transforms`` (only for its image-loading helper); the tests give it
a stand-in torchvision whose ``vgg16`` is a plain ``nn.Sequential`` with
torchvision's layer layout loaded from the shared weight file.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from oracle_packages import stand_in_torchvision

from friqa.exceptions import InputError
from friqa.functional.dists import (
    DISTS_CHANNELS,
    DISTS_LAYERS,
    dists_alpha_beta,
    dists_features,
    dists_structure_texture,
)
from friqa.metrics import create_metric, metric_info
from friqa.metrics.dists import DISTS, dists
from friqa.weights import load_shipped, shipped_file
from metric_checks import (
    check_batch_equals_loop,
    check_data_range,
    check_deterministic,
    check_directional_derivative,
    check_encoded_reference,
    check_float64_follows_input_dtype,
    check_gradients_finite,
    check_official_scores,
    finite_gradient,
    load_rgb,
    random_images,
)

# --- helpers -----------------------------------------------------------------------------


def _spec_structure_texture(
    x: np.ndarray, y: np.ndarray, axes: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """S1/S2 straight from the DISTS paper's definitions, float64 NumPy."""
    c1 = c2 = 1e-6
    mx, my = x.mean(axis=axes), y.mean(axis=axes)
    vx, vy = x.var(axis=axes), y.var(axis=axes)  # biased (ddof=0)
    cov = ((x - x.mean(axis=axes, keepdims=True)) * (y - y.mean(axis=axes, keepdims=True))).mean(
        axis=axes
    )
    return (2 * mx * my + c1) / (mx**2 + my**2 + c1), (2 * cov + c2) / (vx + vy + c2)


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def metric(vgg_weights_path: Path) -> DISTS:
    return DISTS(weights=vgg_weights_path)


@pytest.fixture(scope="module")
def oracle(vgg_weights_path: Path) -> Any:
    """``DISTS_pytorch.DISTS()`` with its own alpha/beta file (installed in ``sys.prefix``)."""
    if importlib.util.find_spec("DISTS_pytorch") is None:
        pytest.skip(
            "the reference package dists-pytorch is not installed "
            "(pip install --no-deps dists-pytorch)"
        )
    if not (Path(sys.prefix) / "weights.pt").is_file():
        pytest.skip(f"dists-pytorch's weights.pt is not in {sys.prefix} (a broken install)")
    with stand_in_torchvision(vgg_weights_path, ("DISTS_pytorch",)):
        pkg = importlib.import_module("DISTS_pytorch")
        model = pkg.DISTS()
    return model.eval()


# --- the authors' numbers ------------------------------------------------------------------


@pytest.mark.slow
def test_official_scores(metric: DISTS, official_scores: dict[str, Any], shared_data: Path) -> None:
    """DISTS_pytorch 0.1 scores of the real pairs (full size, [0, 1]) to 1e-4 relative."""
    check_official_scores(metric, official_scores, shared_data, "dists", rtol=1e-4)


# --- the reference package as oracle ---------------------------------------------------------


def _compare_with_oracle(metric: DISTS, oracle: Any, ref: torch.Tensor, dist: torch.Tensor) -> None:
    with torch.no_grad():
        want = oracle(ref, dist).reshape(-1)
        got = metric(ref, dist)
        want_feats = oracle.forward_once(dist)
        got_feats = dists_features(dist, metric.weights)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    for layer, f in zip(DISTS_LAYERS, want_feats, strict=True):
        torch.testing.assert_close(got_feats[layer], f, rtol=1e-4, atol=1e-4)


def test_matches_dists_package_random(metric: DISTS, oracle: Any) -> None:
    ref, dist = random_images(2, 64, 96, seed=1), random_images(2, 64, 96, seed=2)
    _compare_with_oracle(metric, oracle, ref, dist)
    _compare_with_oracle(
        metric, oracle, ref, (ref + 0.05 * random_images(2, 64, 96, seed=3)).clamp(0, 1)
    )


def test_matches_dists_package_real(metric: DISTS, oracle: Any, shared_data: Path) -> None:
    ref = load_rgb(shared_data / "pairs" / "smic" / "Img2_ref.png")[..., 120:248, 100:260]
    dist = load_rgb(shared_data / "pairs" / "smic" / "Img2_dist.png")[..., 120:248, 100:260]
    _compare_with_oracle(metric, oracle, ref, dist)


def test_alpha_beta_match_the_package(oracle: Any) -> None:
    alpha, beta = dists_alpha_beta()
    w_sum = oracle.alpha.sum() + oracle.beta.sum()
    want_a = torch.split(oracle.alpha.detach() / w_sum, list(DISTS_CHANNELS), dim=1)
    want_b = torch.split(oracle.beta.detach() / w_sum, list(DISTS_CHANNELS), dim=1)
    for k, layer in enumerate(DISTS_LAYERS):
        assert torch.equal(alpha[layer], want_a[k].reshape(-1))
        assert torch.equal(beta[layer], want_b[k].reshape(-1))


def test_shipped_weights_are_the_packages_file() -> None:
    spec = importlib.util.find_spec("DISTS_pytorch")
    if spec is None or spec.origin is None:
        pytest.skip("the reference package dists-pytorch is not installed")
    original = (Path(spec.origin).parent / "weights.pt").read_bytes()
    assert shipped_file("dists_alpha_beta.pt").read_bytes() == original


# --- building blocks and the definition ------------------------------------------------------


def test_structure_texture_follow_the_definition() -> None:
    g = torch.Generator().manual_seed(4)
    x = torch.rand(2, 5, 6, 7, generator=g, dtype=torch.float64)
    y = 0.5 * x + 0.5 * torch.rand(2, 5, 6, 7, generator=g, dtype=torch.float64)
    s1, s2 = dists_structure_texture(x, y)
    w1, w2 = _spec_structure_texture(x.numpy(), y.numpy(), (2, 3))
    np.testing.assert_allclose(s1.numpy(), w1, rtol=1e-12)
    np.testing.assert_allclose(s2.numpy(), w2, rtol=1e-10)
    # per-patch statistics: (N, L, C, k, k) over the last two dims
    px = x.unfold(2, 3, 3).unfold(3, 3, 3).permute(0, 2, 3, 1, 4, 5).reshape(2, 4, 5, 3, 3)
    py = y.unfold(2, 3, 3).unfold(3, 3, 3).permute(0, 2, 3, 1, 4, 5).reshape(2, 4, 5, 3, 3)
    p1, p2 = dists_structure_texture(px, py, (-2, -1))
    w1, w2 = _spec_structure_texture(px.numpy(), py.numpy(), (3, 4))
    assert p1.shape == (2, 4, 5)
    np.testing.assert_allclose(p1.numpy(), w1, rtol=1e-12)
    np.testing.assert_allclose(p2.numpy(), w2, rtol=1e-10)
    k1, _ = dists_structure_texture(x, y, (2, 3), keepdim=True)
    assert k1.shape == (2, 5, 1, 1)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_structure_texture_same_bits_with_and_without_a_gradient(dtype: torch.dtype) -> None:
    """Without a gradient the terms reuse one scratch tensor; the values must not move."""
    g = torch.Generator().manual_seed(5)
    x = torch.rand(2, 64, 33, 47, generator=g).to(dtype)
    y = 0.3 * x + 0.7 * torch.rand(2, 64, 33, 47, generator=g).to(dtype)
    with torch.no_grad():
        fast = dists_structure_texture(x, y)
    with torch.enable_grad():
        tracked = dists_structure_texture(x.clone().requires_grad_(), y)
    for a, b in zip(fast, tracked, strict=True):
        assert torch.equal(a, b.detach())
    broadcast = dists_structure_texture(x[:1], y)  # shapes differ: the plain path
    expanded = dists_structure_texture(x[:1].expand_as(y), y)
    for a, b in zip(broadcast, expanded, strict=True):
        assert torch.equal(a, b)


def test_score_from_the_definition(metric: DISTS, vgg_weights_path: Path) -> None:
    """Score = 1 - sum alpha S1 - sum beta S2 over the six feature sets, in float64 NumPy."""
    ref, dist = random_images(1, 48, 64, seed=5), random_images(1, 48, 64, seed=6)
    fr = dists_features(ref, vgg_weights_path)
    fd = dists_features(dist, vgg_weights_path)
    raw = load_shipped("dists_alpha_beta.pt")
    a = raw["alpha"].double().reshape(-1).numpy()
    b = raw["beta"].double().reshape(-1).numpy()
    a, b = a / (a.sum() + b.sum()), b / (a.sum() + b.sum())
    s1 = np.concatenate(
        [_spec_structure_texture(fr[k].double().numpy(), fd[k].double().numpy(), (2, 3))[0][0]
         for k in DISTS_LAYERS]
    )  # fmt: skip
    s2 = np.concatenate(
        [_spec_structure_texture(fr[k].double().numpy(), fd[k].double().numpy(), (2, 3))[1][0]
         for k in DISTS_LAYERS]
    )  # fmt: skip
    want = 1 - (a @ s1 + b @ s2)
    res = metric.compute(ref, dist)
    np.testing.assert_allclose(float(res.score[0]), want, rtol=1e-5)
    # extras: per-layer weighted terms and the raw S1/S2
    total = sum(float(res.extras["structure"][k][0] + res.extras["texture"][k][0])
                for k in DISTS_LAYERS)  # fmt: skip
    np.testing.assert_allclose(1 - total, float(res.score[0]), rtol=1e-5)
    assert [tuple(res.extras["s1"][k].shape) for k in DISTS_LAYERS] == [
        (1, c) for c in DISTS_CHANNELS
    ]
    assert fr["image"] is ref


# --- API properties -----------------------------------------------------------------------------


def test_identical_images_score_zero(metric: DISTS) -> None:
    x = random_images(2, 40, 56, seed=7)
    score = metric(x, x.clone())
    assert score.shape == (2,)
    assert float(score.abs().max()) < 1e-6


def test_no_map(metric: DISTS, vgg_weights_path: Path) -> None:
    x = random_images(1, 32, 32, seed=8)
    assert not metric_info("dists").returns_map
    with pytest.raises(InputError, match="map"):
        metric.compute(x, x, return_map=True)
    with pytest.raises(InputError, match="map"):
        dists(x, x, weights=vgg_weights_path, return_map=True)


def test_batch_equals_loop(metric: DISTS) -> None:
    ref, dist = random_images(3, 48, 64, seed=9), random_images(3, 48, 64, seed=10)
    check_batch_equals_loop(metric, ref, dist, rtol=1e-5, atol=1e-7)


def test_encoded_reference_is_reused(metric: DISTS) -> None:
    ref = random_images(1, 48, 64, seed=11)
    dist = random_images(2, 48, 64, seed=12)
    check_encoded_reference(metric, ref, dist, rtol=1e-5, atol=1e-7)


def test_deterministic(metric: DISTS) -> None:
    ref, dist = random_images(1, 40, 40, seed=13), random_images(1, 40, 40, seed=14)
    check_deterministic(metric, ref, dist)


def test_gradients_finite_on_random_and_identical_inputs(metric: DISTS) -> None:
    ref, dist = random_images(1, 32, 32, seed=15), random_images(1, 32, 32, seed=16)
    check_gradients_finite(metric, ref, dist)
    # flat (constant) images: zero variances everywhere in the image layer
    flat = torch.full((1, 3, 32, 32), 0.5)
    finite_gradient(metric, flat, flat)


def test_gradient_matches_finite_differences(metric: DISTS) -> None:
    ref = random_images(1, 32, 32, seed=17, dtype=torch.float64)
    dist = 0.3 + 0.4 * random_images(1, 32, 32, seed=18, dtype=torch.float64)
    # small steps: ReLU kinks and the near-zero variances of deep channels (c2 = 1e-6)
    # make DISTS strongly non-linear at the 1e-6 scale on a 32x32 image
    check_directional_derivative(metric, ref, dist, h=1e-7, seed=19, rtol=1e-4, atol=1e-10)


def test_float64_follows_input_dtype(metric: DISTS) -> None:
    ref, dist = random_images(1, 40, 48, seed=20), random_images(1, 40, 48, seed=21)
    check_float64_follows_input_dtype(metric, ref, dist, rtol=1e-4, atol=1e-6)


def test_data_range(vgg_weights_path: Path, metric: DISTS) -> None:
    ref, dist = random_images(1, 40, 48, seed=22), random_images(1, 40, 48, seed=23)
    scaled = DISTS(weights=vgg_weights_path, data_range=255.0)
    check_data_range(metric, scaled, ref, dist, rtol=1e-5, atol=1e-7)


def test_wrong_sizes_raise(metric: DISTS) -> None:
    with pytest.raises(InputError, match="same shape"):
        metric(random_images(1, 32, 32, seed=0), random_images(1, 40, 32, seed=0))
    with pytest.raises(InputError, match="same shape"):
        metric.compute_encoded(
            metric.encode_ref(random_images(1, 32, 32, seed=0)), random_images(1, 32, 36, 0)
        )


def test_function_form_and_registry(vgg_weights_path: Path, metric: DISTS) -> None:
    ref, dist = random_images(2, 40, 48, seed=24), random_images(2, 40, 48, seed=25)
    assert torch.equal(dists(ref, dist, weights=vgg_weights_path), metric(ref, dist))
    info = metric_info("dists")
    assert info.lower_better and info.differentiable and info.needs_weights
    made = create_metric("dists", weights=vgg_weights_path)
    assert isinstance(made, DISTS)
    assert made.state_dict() == {}
