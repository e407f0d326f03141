"""The SMIC interface both families implement: inputs, pair grids, scoring with given grids."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from friqa.exceptions import InputError
from friqa.io import load_image
from friqa.metrics.registry import create_metric, list_metrics
from friqa.smic import SMICAttention, SMICMetric, SMICWrapper, smic_wrap
from friqa.smic.consistent import PSNRPlusSMIC
from friqa.smic.psnr_smic import local_mse_map


@pytest.fixture(scope="module")
def crop(shared_data: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """A real 112x128 crop of a KADID pair (below the SMIC resizing threshold)."""
    d = shared_data / "pairs" / "kadid"
    ref = load_image(d / "I47.png")[None, :, 100:212, 150:278]
    dist = load_image(d / "I47_03_05.png")[None, :, 100:212, 150:278]
    return ref, dist


def test_every_smic_metric_implements_the_interface(vgg_weights_path: Path) -> None:
    names = list_metrics("smic") + list_metrics("smic-consistent")
    assert len(names) == 9
    for name in names:
        m = create_metric(name, weights=vgg_weights_path)
        assert isinstance(m, SMICMetric), name
        assert m.attention_stages == ("relu3_3", "relu4_3")
        if name in list_metrics("smic-consistent"):
            assert isinstance(m, SMICWrapper)
    with pytest.raises(TypeError, match="abstract"):
        SMICMetric()  # type: ignore[abstract]


@pytest.mark.parametrize("name", ["psnr_smic", "lpips_smic", "deepwsd_smic", "ssim+smic"])
def test_own_grids_give_the_score_and_pair_grids_are_the_metrics(
    name: str, crop: tuple[torch.Tensor, torch.Tensor], vgg_weights_path: Path
) -> None:
    """compute_with_grids(own grids) == compute; pair_grids == the grids compute uses."""
    ref, dist = crop
    m = create_metric(name, weights=vgg_weights_path)
    assert isinstance(m, SMICMetric)
    full = m.compute(ref, dist)
    again = m.compute_with_grids(ref, dist, full.extras["grids"])
    assert torch.equal(again.score, full.score)
    grids = m.pair_grids(ref, dist)
    for stage in m.attention_stages:
        torch.testing.assert_close(grids[stage], full.extras["grids"][stage])
    if isinstance(m, SMICWrapper):
        assert list(m.attention_grids(ref, dist)) == list(grids)


def test_pair_grids_at_another_stride(
    crop: tuple[torch.Tensor, torch.Tensor], vgg_weights_path: Path
) -> None:
    ref, dist = crop
    faithful = create_metric("psnr_smic", weights=vgg_weights_path)
    consistent = create_metric("psnr+smic", weights=vgg_weights_path)
    assert isinstance(faithful, SMICMetric) and isinstance(consistent, SMICMetric)
    # 112x128 images: relu3_3 is 28x32, relu4_3 14x16; patches 7, stride 3
    want = SMICAttention(vgg_weights_path, stride=3).pair_grids(ref, dist)
    for m in (faithful, consistent):
        got = m.pair_grids(ref, dist, stride=3)
        assert got["relu3_3"].shape == (1, 8, 9) and got["relu4_3"].shape == (1, 3, 4)
        for stage in want:
            torch.testing.assert_close(got[stage], want[stage])
        assert not got["relu3_3"].requires_grad
        assert torch.equal(m.attention_input(ref), ref) and torch.equal(m.map_input(ref), ref)
    with pytest.raises(InputError, match="stride >= 1"):
        faithful.pair_grids(ref, dist, stride=0)


def test_faithful_scores_with_given_grids(
    crop: tuple[torch.Tensor, torch.Tensor], vgg_weights_path: Path
) -> None:
    ref, dist = crop
    m = create_metric("psnr_smic", weights=vgg_weights_path)
    assert isinstance(m, SMICMetric)
    ones = {"relu3_3": torch.ones(1, 3, 5, dtype=torch.float64), "relu4_3": torch.ones(1, 1, 2)}
    res = m.compute_with_grids(ref, dist, ones, return_map=True)
    mse = float(local_mse_map(ref, dist).double().mean())
    assert abs(float(res.score) - 10 * math.log10(1 / (mse + 1e-10))) < 1e-4
    assert res.map is not None and res.map.shape == (1, 1, 106, 122)
    assert res.extras["grids"]["relu3_3"].shape == (1, 3, 5)
    # the next plain call computes its own attention again
    assert not torch.equal(m(ref, dist), res.score)
    patchwise = create_metric("lpips_smic", weights=vgg_weights_path)
    assert isinstance(patchwise, SMICMetric)
    with pytest.raises(InputError, match=r"relu3_3 grid must be \(4, 4\)"):
        patchwise.compute_with_grids(ref, dist, ones)
    with pytest.raises(InputError, match="does not produce a distortion map"):
        patchwise.compute_with_grids(ref, dist, ones, return_map=True)
    with pytest.raises(InputError, match="missing"):
        m.compute_with_grids(ref, dist, {"relu3_3": ones["relu3_3"]})
    with pytest.raises(InputError, match=r"\(N, gh, gw\)"):
        m.compute_with_grids(ref, dist, {**ones, "relu4_3": torch.ones(2, 2)})


def test_wrap_finds_the_variants_through_the_registry(vgg_weights_path: Path) -> None:
    m = smic_wrap("PSNR", weights=vgg_weights_path, stride=4)
    assert type(m) is PSNRPlusSMIC and m.attention.stride == 4
    assert type(smic_wrap("psnr+smic", weights=vgg_weights_path)) is PSNRPlusSMIC
    assert m.info is PSNRPlusSMIC.info
    scaled = SMICWrapper(lambda r, d: (r - d) ** 2, weights=vgg_weights_path, data_range=255.0)
    x = torch.full((1, 3, 8, 8), 51.0)
    assert torch.equal(scaled.map_input(x), torch.full((1, 3, 8, 8), 0.2))
    assert scaled.info.name == "custom+smic" and SMICWrapper.info.name == "smic_wrapper"
