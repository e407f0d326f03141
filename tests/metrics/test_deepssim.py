"""DeepSSIM: fixtures of the authors' code, a loop oracle of the block statistics, API."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch

from friqa.exceptions import InputError
from friqa.metrics import create_metric, metric_info
from friqa.metrics.deepssim import DeepSSIM, deepssim
from metric_checks import load_rgb

REL_TOL = 1e-5


def _load(path: Path) -> torch.Tensor:
    """(3, H, W) float32 in [0, 1], as torchvision's ToTensor on a PIL RGB image."""
    return load_rgb(path)[0]


def _rand(*shape: int, seed: int = 0, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=g, dtype=dtype)


def _smooth(n: int, h: int, w: int, seed: int) -> torch.Tensor:
    """Natural-ish random images: low-frequency noise upsampled, in [0, 1]."""
    low = _rand(n, 3, max(h // 8, 2), max(w // 8, 2), seed=seed)
    return torch.nn.functional.interpolate(low, size=(h, w), mode="bilinear", align_corners=False)


# ----------------------------------------------------------------------------- fixtures


def test_fixture_every_pair_through_list_api(
    official_scores: dict[str, Any], shared_data: Path, vgg_weights_path: Path
) -> None:
    """All 7 reference pairs (incl. 1024x700 vs 512x700) in one call with lists."""
    pairs = official_scores["pairs"]
    refs = [_load(shared_data / p["ref"]) for p in pairs.values()]
    dists = [_load(shared_data / p["dist"]) for p in pairs.values()]
    scores = deepssim(refs, dists, weights=vgg_weights_path)
    assert scores.shape == (len(pairs),)
    for (name, pair), score in zip(pairs.items(), scores.tolist(), strict=True):
        expected = pair["deepssim"]
        assert abs(score / expected - 1) <= REL_TOL, (name, score, expected)


def test_fixture_saliency_with_shipped_gbvs_maps(
    official_scores: dict[str, Any], shared_data: Path, vgg_weights_path: Path
) -> None:
    pair = official_scores["pairs"]["butterfly_retarget"]
    ref = _load(shared_data / pair["ref"]).unsqueeze(0)
    dist = _load(shared_data / pair["dist"]).unsqueeze(0)
    sal_dir = shared_data / "pairs" / "deepssim" / "saliency"
    maps = (sal_dir / "butterfly.png", sal_dir / "butterfly_shif_0.50.png")
    score = deepssim(ref, dist, saliency=maps, weights=vgg_weights_path).item()
    assert abs(score / pair["deepssim_saliency"] - 1) <= REL_TOL
    # the calibration changes the score: the maps did take effect
    assert abs(score - pair["deepssim"]) > 1e-5


def test_module_encoded_reference(vgg_weights_path: Path) -> None:
    """One encoded reference compared with a batch equals the pairwise scores."""
    ref = _smooth(1, 64, 48, seed=50)
    dist = _smooth(2, 40, 72, seed=51)
    metric = create_metric("deepssim", weights=vgg_weights_path)
    assert isinstance(metric, DeepSSIM)
    result = metric.compute_encoded(metric.encode_ref(ref), dist)
    expected = deepssim(ref.expand(2, -1, -1, -1), dist, weights=vgg_weights_path)
    torch.testing.assert_close(result.score, expected, rtol=1e-6, atol=1e-7)
    blocks = result.extras["block_similarity"]
    assert blocks.shape == (2, 128, 128)
    torch.testing.assert_close(blocks.mean(dim=(1, 2)), result.score)


# ----------------------------------------------------------------------------- behaviour


def test_identical_symmetric_and_unaligned(vgg_weights_path: Path) -> None:
    w = vgg_weights_path
    ref = _smooth(2, 64, 64, seed=6)
    dist = _smooth(2, 48, 80, seed=7)
    same = deepssim(ref, ref, weights=w)
    torch.testing.assert_close(same, torch.ones(2), rtol=0, atol=1e-5)
    s_rd = deepssim(ref, dist, weights=w)
    s_dr = deepssim(dist, ref, weights=w)
    torch.testing.assert_close(s_rd, s_dr, rtol=1e-6, atol=1e-7)
    assert bool((s_rd < 1).all()) and bool((s_rd >= -1).all())
    # the module accepts unaligned pairs (aligned=False)
    metric = DeepSSIM(weights=w)
    torch.testing.assert_close(metric(ref, dist), s_rd)
    # data_range
    torch.testing.assert_close(deepssim(ref * 255, dist * 255, weights=w, data_range=255), s_rd)


def test_list_groups_sizes_and_keeps_order(vgg_weights_path: Path) -> None:
    w = vgg_weights_path
    refs = [_smooth(1, 64, 64, 10)[0], _smooth(1, 48, 80, 11)[0], _smooth(1, 64, 64, 12)[0]]
    dists = [_smooth(1, 32, 64, 13)[0], _smooth(1, 64, 64, 14)[0], _smooth(1, 32, 64, 15)]
    got = deepssim(refs, dists, weights=w)
    want = torch.cat(
        [deepssim(r.reshape(1, 3, *r.shape[-2:]), d.reshape(1, 3, *d.shape[-2:]), weights=w)
         for r, d in zip(refs, dists, strict=True)]
    )  # fmt: skip
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-7)


def test_saliency_masks(vgg_weights_path: Path) -> None:
    w = vgg_weights_path
    ref, dist = _smooth(2, 48, 48, seed=20), _smooth(2, 48, 64, seed=21)
    plain = deepssim(ref, dist, weights=w)
    ones = (torch.ones(2, 48, 48), torch.ones(2, 1, 48, 64))
    torch.testing.assert_close(deepssim(ref, dist, saliency=ones, weights=w), plain, rtol=0, atol=0)
    # graded maps + threshold == the binary maps they threshold to
    graded_r = torch.full((2, 48, 48), 0.3)
    graded_r[..., 24:] = 0.8
    graded_d = torch.full((2, 48, 64), 0.8)
    graded_d[:, :10] = 0.2
    binary = ((graded_r > 0.5).float(), (graded_d > 0.5).float())
    s_graded = deepssim(ref, dist, saliency=(graded_r, graded_d), threshold=0.5, weights=w)
    s_binary = deepssim(ref, dist, saliency=binary, weights=w)
    torch.testing.assert_close(s_graded, s_binary, rtol=0, atol=0)
    assert not torch.allclose(s_binary, plain)
    # per-image lists of maps, as for list inputs
    s_list = deepssim(list(ref), list(dist), saliency=(list(binary[0]), list(binary[1])), weights=w)
    torch.testing.assert_close(s_list, s_binary, rtol=1e-6, atol=1e-7)
    # the module takes the maps as the function does (the function calls it)
    module = DeepSSIM(saliency=binary, weights=w)
    torch.testing.assert_close(module(ref, dist), s_binary, rtol=0, atol=0)
    lists = DeepSSIM(saliency=(list(binary[0]), list(binary[1])), weights=w)
    torch.testing.assert_close(lists(list(ref), list(dist)), s_list, rtol=0, atol=0)


def test_gbvs_saliency_option(vgg_weights_path: Path) -> None:
    try:
        from friqa.saliency import gbvs
    except ImportError as exc:
        pytest.skip(f"friqa.saliency.gbvs is not available yet ({exc})")
    w = vgg_weights_path
    ref, dist = _smooth(1, 128, 160, seed=30), _smooth(1, 128, 128, seed=31)
    # the reference reads GBVS maps from 8-bit PNGs: quantise, then > threshold
    maps = tuple(torch.round(gbvs(x) * 255).to(torch.uint8) for x in (ref, dist))
    expected = deepssim(ref, dist, saliency=maps, weights=w)  # type: ignore[arg-type]
    torch.testing.assert_close(DeepSSIM(saliency="gbvs", weights=w)(ref, dist), expected)


def test_differentiable_gradcheck(vgg_weights_path: Path) -> None:
    ref = _smooth(1, 32, 32, seed=40).double()
    dist = _smooth(1, 32, 48, seed=41).double().requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda d: deepssim(ref, d, weights=vgg_weights_path), (dist,), fast_mode=True
    )


# ----------------------------------------------------------------------------- metadata/errors


def test_registry_metadata() -> None:
    info = metric_info("deepssim")
    assert info.aligned is False
    assert info.lower_better is False
    assert info.returns_map is False
    assert info.needs_weights is True
    assert info.score_range == (-1.0, 1.0)
    assert info.family == "deepssim"
    assert math.isfinite(info.score_range[0])


def test_input_errors(vgg_weights_path: Path) -> None:
    w = vgg_weights_path
    x = _rand(1, 3, 32, 32)
    with pytest.raises(InputError, match="batch size"):
        deepssim(x, _rand(2, 3, 32, 32), weights=w)
    with pytest.raises(InputError, match="at least 16x16"):
        deepssim(x, _rand(1, 3, 8, 32), weights=w)
    with pytest.raises(InputError, match="both be tensors"):
        deepssim(x, [x[0]], weights=w)
    with pytest.raises(InputError, match="1 reference and 2"):
        deepssim([x[0]], [x[0], x[0]], weights=w)
    with pytest.raises(InputError, match="saliency must be"):
        deepssim(x, x, saliency="itti", weights=w)
    with pytest.raises(InputError, match="pair"):
        deepssim(x, x, saliency=(torch.ones(1, 32, 32),) * 3, weights=w)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="threshold"):
        deepssim(x, x, threshold=1.5, weights=w)
    with pytest.raises(InputError, match="image size"):
        deepssim(x, x, saliency=(torch.ones(1, 32, 31), torch.ones(1, 32, 32)), weights=w)
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        deepssim(x, x, saliency=(torch.full((1, 32, 32), 2.0),) * 2, weights=w)
    with pytest.raises(InputError, match="values must lie"):
        deepssim(x * 2, x, weights=w)
    with pytest.raises(InputError, match="distortion map"):
        DeepSSIM(weights=w).compute(x, x, return_map=True)
    with pytest.raises(InputError, match="saliency must be"):
        DeepSSIM(saliency=42, weights=w)  # type: ignore[arg-type]
