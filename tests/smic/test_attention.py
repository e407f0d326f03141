"""SMIC attention grids: the reference's stride-1 maps, batching, combination."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from friqa.exceptions import InputError
from friqa.io import load_image
from friqa.mic.reference import mic_reference
from friqa.ops.resize import smic_prepare
from friqa.smic.attention import (
    SMICAttention,
    attention_grid,
    attention_grids,
    combine_grids,
    min_max_normalize,
)


def test_attention_grid_equals_reference_mic_per_patch() -> None:
    """1 - mean MIC over projections, checked patch by patch with the slow reference MIC."""
    g = torch.Generator().manual_seed(0)
    ref = torch.rand(2, 6, 9, 10, generator=g).clamp_min(0.3) - 0.3  # ReLU-like ties at zero
    dist = (ref + 0.2 * torch.rand(2, 6, 9, 10, generator=g)).round(decimals=1)
    proj = torch.randn(3, 6, generator=g)
    grid = attention_grid(ref, dist, proj, patch_size=4, stride=3)
    assert grid.shape == (2, 2, 3) and grid.dtype == torch.float64
    pr = torch.einsum("pc,nchw->nphw", proj, ref)
    pd = torch.einsum("pc,nchw->nphw", proj, dist)
    for n in range(2):
        for i in range(2):
            for j in range(3):
                a = pr[n, :, 3 * i : 3 * i + 4, 3 * j : 3 * j + 4].flatten(1).double().numpy()
                b = pd[n, :, 3 * i : 3 * i + 4, 3 * j : 3 * j + 4].flatten(1).double().numpy()
                want = 1 - np.mean([mic_reference(a[k], b[k], 0.5, 10) for k in range(3)])
                assert abs(grid[n, i, j].item() - want) < 1e-12


def test_several_stages_in_one_call_equal_one_call_per_stage() -> None:
    g = torch.Generator().manual_seed(5)
    ref = {"a": torch.rand(2, 6, 13, 15, generator=g), "b": torch.rand(2, 9, 8, 9, generator=g)}
    dist = {k: v + 0.3 * torch.rand(v.shape, generator=g) for k, v in ref.items()}
    proj = {"a": torch.randn(4, 6, generator=g), "b": torch.randn(5, 9, generator=g)}
    both = attention_grids(ref, dist, proj, patch_size=4, stride=3)
    assert list(both) == ["a", "b"]
    for k in ("a", "b"):
        one = attention_grid(ref[k], dist[k], proj[k], patch_size=4, stride=3)
        assert torch.equal(both[k], one)
    assert both["b"].shape == (2, 2, 2)
    assert attention_grids(ref, dist, {}) == {}
    with pytest.raises(InputError, match="does not fit"):
        attention_grids(ref, dist, {"a": proj["b"]})


def test_combine_and_normalise() -> None:
    a = torch.rand(2, 4, 6, dtype=torch.float64)
    b = torch.rand(2, 2, 3, dtype=torch.float64)
    out = combine_grids([a, b], size=(9, 13))
    assert out.shape == (2, 1, 9, 13)
    both = combine_grids([a, b])
    assert both.shape == (2, 1, 4, 6)
    torch.testing.assert_close(both[:, 0, 0, 0], (a[:, 0, 0] + b[:, 0, 0]) / 2)  # corners align
    torch.testing.assert_close(both[:, 0, -1, -1], (a[:, -1, -1] + b[:, -1, -1]) / 2)
    nm = min_max_normalize(out)
    assert torch.allclose(nm.flatten(1).min(1).values, torch.zeros(2, dtype=torch.float64))
    assert torch.allclose(nm.flatten(1).max(1).values, torch.ones(2, dtype=torch.float64))
    assert torch.equal(min_max_normalize(torch.ones(1, 3, 3)), torch.zeros(1, 3, 3))


@pytest.fixture(scope="module")
def kadid_pair(shared_data: Path) -> tuple[torch.Tensor, torch.Tensor]:
    d = shared_data / "pairs" / "kadid"
    ref = smic_prepare(load_image(d / "I07.png")[None])
    dist = smic_prepare(load_image(d / "I07_09_04.png")[None])
    return ref, dist


def test_stride1_map_matches_the_reference(
    kadid_pair: tuple[torch.Tensor, torch.Tensor], vgg_weights_path: Path, shared_dir: Path
) -> None:
    """The reference's min-max normalised stride-1 grids (official_map_kadid_I07_09_04.npz).

    The reference ran VGG16 in float32 with its own convolution kernels. MIC
    depends only on the order of values, so where two projected values are nearly
    tied the float32 rounding of the features decides the order; a different BLAS
    or thread count rounds differently. On this pair that flips at most a handful
    of the 4,640 + 962 patches (by one projection's MIC, about 1e-3 of attention);
    every other cell must match to 1e-6.
    """
    ref, dist = kadid_pair
    fixture = np.load(shared_dir / "fixtures" / "official_map_kadid_I07_09_04.npz")
    att = SMICAttention(vgg_weights_path, stride=1)
    grids = att(ref, dist)["grids"]
    assert isinstance(grids, dict)
    for stage, key in (("relu3_3", "stage3"), ("relu4_3", "stage4")):
        ours = min_max_normalize(grids[stage])[0].numpy()
        want = fixture[key]
        assert ours.shape == want.shape
        diff = np.abs(ours - want)
        assert (diff > 1e-6).mean() < 0.005, (stage, int((diff > 1e-6).sum()))
        assert diff.max() < 5e-3, stage


def test_batch_equals_single(
    kadid_pair: tuple[torch.Tensor, torch.Tensor], vgg_weights_path: Path
) -> None:
    ref, dist = kadid_pair
    att = SMICAttention(vgg_weights_path)
    ref2 = torch.cat([ref, dist])
    dist2 = torch.cat([dist, ref])
    batch = att(ref2, dist2, size=(50, 60))
    one = att(ref, dist, size=(50, 60))
    two = att(dist, ref, size=(50, 60))
    assert isinstance(batch["map"], torch.Tensor)
    torch.testing.assert_close(batch["map"][:1], one["map"], rtol=0, atol=1e-12)
    torch.testing.assert_close(batch["map"][1:], two["map"], rtol=0, atol=1e-12)
    # MIC is symmetric, so swapping ref and dist gives the same attention
    torch.testing.assert_close(one["combined"], two["combined"], rtol=0, atol=1e-12)
    assert batch["map"].shape == (2, 1, 50, 60)
