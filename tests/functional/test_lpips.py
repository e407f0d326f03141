"""LPIPS kernels: the shipped linear weights, the channel normalisation, layer maps."""

from __future__ import annotations

from pathlib import Path

import torch

from friqa.functional.lpips import (
    LPIPS_CHANNELS,
    LPIPS_LAYERS,
    apply_lpips_linear,
    lpips_features,
    lpips_layer_maps,
    lpips_linear_weights,
    normalize_channels,
)
from friqa.weights import load_shipped
from metric_checks import random_images


def test_linear_weights_shapes_and_values() -> None:
    w = lpips_linear_weights(dtype=torch.float64)
    assert list(w) == list(LPIPS_LAYERS)
    raw = load_shipped("lpips_vgg_v0.1.pth")
    for i, (layer, c) in enumerate(zip(LPIPS_LAYERS, LPIPS_CHANNELS, strict=True)):
        assert w[layer].shape == (1, c, 1, 1) and w[layer].dtype == torch.float64
        assert torch.equal(w[layer].float(), raw[f"lin{i}.model.1.weight"])
        assert bool((w[layer] >= 0).all())  # v0.1 clamps the learned weights to >= 0


def test_normalize_channels_definition_and_zero_vectors() -> None:
    g = torch.Generator().manual_seed(0)
    f = torch.randn(2, 5, 3, 4, generator=g, dtype=torch.float64)
    f[0, :, 1, 2] = 0.0  # a zero feature vector (common after ReLU)
    f.requires_grad_(True)
    out = normalize_channels(f)
    norm = f.detach().pow(2).sum(1, keepdim=True).sqrt()
    torch.testing.assert_close(out.detach(), f.detach() / (norm + 1e-10), rtol=1e-12, atol=0)
    assert bool((out[0, :, 1, 2] == 0).all())
    out.sum().backward()
    assert f.grad is not None and bool(torch.isfinite(f.grad).all())
    # the plain formula would give NaN there, so the guard matters
    f2 = f.detach().clone().requires_grad_(True)
    naive = f2 / (f2.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
    naive.sum().backward()
    assert f2.grad is not None and not bool(torch.isfinite(f2.grad).all())


def test_layer_maps_and_linear_are_the_weighted_channel_sum(vgg_weights_path: Path) -> None:
    ref, dist = random_images(1, 32, 48, seed=4), random_images(1, 32, 48, seed=5)
    fr, fd = lpips_features(ref, vgg_weights_path), lpips_features(dist, vgg_weights_path)
    w = lpips_linear_weights()
    maps = lpips_layer_maps(fr, fd, w)
    for k in LPIPS_LAYERS:
        want = ((fr[k] - fd[k]) ** 2 * w[k]).sum(1, keepdim=True)
        torch.testing.assert_close(maps[k], want, rtol=1e-5, atol=1e-9)
        # patch-shaped input (N, C, L, k*k) takes the weighted sum over dim 1
        patches = ((fr[k] - fd[k]) ** 2).flatten(2).unsqueeze(-1)
        torch.testing.assert_close(
            apply_lpips_linear(patches, w[k]).squeeze(-1), want.flatten(2), rtol=1e-5, atol=1e-9
        )
    # features are unit vectors over channels (up to eps)
    norms = fr["relu3_3"].pow(2).sum(1).sqrt()
    assert bool(((norms - 1).abs() < 1e-5).all())
    # without scaling and normalisation: the raw backbone features (SMIC's LPIPS variant)
    raw = lpips_features(ref, vgg_weights_path, scale_input=False, unit_normalize=False)
    assert bool((raw["relu1_2"] >= 0).all()) and raw["relu1_2"].pow(2).sum(1).max() > 2
