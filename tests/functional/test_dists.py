"""DISTS kernels: the shipped alpha/beta, normalised, and the bound they give the score."""

from __future__ import annotations

import torch

from friqa.functional.dists import (
    DISTS_CHANNELS,
    DISTS_LAYERS,
    dists_alpha_beta,
    dists_distance,
    dists_structure_texture,
)
from friqa.metrics import metric_info
from friqa.weights import load_shipped


def test_alpha_beta_normalised_and_bound() -> None:
    alpha, beta = dists_alpha_beta(dtype=torch.float64)
    assert [alpha[k].numel() for k in DISTS_LAYERS] == list(DISTS_CHANNELS)
    total = sum(float(alpha[k].sum() + beta[k].sum()) for k in DISTS_LAYERS)
    assert abs(total - 1) < 1e-6
    assert all(bool((alpha[k] >= 0).all() and (beta[k] >= 0).all()) for k in DISTS_LAYERS)
    # S1 in [0, 1] and S2 in [-1, 1] bound the score by 1 + sum(beta)
    beta_sum = sum(float(beta[k].sum()) for k in DISTS_LAYERS)
    assert metric_info("dists").score_range[1] >= 1 + beta_sum
    raw_a, _ = dists_alpha_beta(normalized=False)
    assert torch.equal(raw_a["image"], load_shipped("dists_alpha_beta.pt")["alpha"][0, :3, 0, 0])


def test_distance_sums_the_layer_terms_in_order() -> None:
    g = torch.Generator().manual_seed(0)
    layers = ("a", "b", "c")
    fx = {k: torch.rand(2, 4, 5, 6, generator=g, dtype=torch.float64) for k in layers}
    fy = {k: torch.rand(2, 4, 5, 6, generator=g, dtype=torch.float64) for k in layers}
    alpha = {k: torch.rand(4, generator=g, dtype=torch.float64) / 10 for k in layers}
    beta = {k: torch.rand(4, generator=g, dtype=torch.float64) / 10 for k in layers}
    score, terms = dists_distance(fx, fy, alpha, beta, layers[:2])
    assert list(terms) == ["a", "b"]
    for k, t in terms.items():
        s1, s2 = dists_structure_texture(fx[k], fy[k])
        torch.testing.assert_close(t.s1, s1, rtol=0, atol=0)
        torch.testing.assert_close(t.structure, (alpha[k] * s1).sum(dim=1), rtol=0, atol=0)
        torch.testing.assert_close(t.texture, (beta[k] * s2).sum(dim=1), rtol=0, atol=0)
    want = 1 - (
        (terms["a"].structure + terms["b"].structure) + (terms["a"].texture + terms["b"].texture)
    )
    torch.testing.assert_close(score, want, rtol=0, atol=0)
