"""Attention maps for display: the reference's stride-1 fixture, metric panels, the PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from friqa import create_metric
from friqa.backbone import get_vgg16
from friqa.exceptions import InputError
from friqa.io import load_image
from friqa.smic.attention import min_max_normalize
from friqa.smic.maps import attention_maps, smic_maps


@pytest.fixture(scope="module")
def kadid(shared_data: Path) -> tuple[torch.Tensor, torch.Tensor]:
    d = shared_data / "pairs" / "kadid"
    return load_image(d / "I07.png")[None], load_image(d / "I07_09_04.png")[None]


@pytest.mark.slow
def test_stride1_maps_match_the_reference_script(
    kadid: tuple[torch.Tensor, torch.Tensor], vgg_weights_path: Path, shared_dir: Path
) -> None:
    """official_map_kadid_I07_09_04.npz: the reference's normalised stride-1 grids.

    Every cell matches to 1e-6 except where two projected float32 features nearly
    tie and the reference's convolution kernels rounded them the other way (MIC
    depends on ranks only): measured 6 of 4,640 cells at relu3_3 and 1 of 962 at
    relu4_3, off by at most 1.2e-3 (one projection's MIC out of 32). The same
    bounds as tests/smic/test_attention.py: under 0.5 % of cells, and below 5e-3.
    """
    fixture = np.load(shared_dir / "fixtures" / "official_map_kadid_I07_09_04.npz")
    maps = attention_maps(*kadid, weights=vgg_weights_path)  # stride 1, preprocess
    assert maps.ref.shape == (1, 3, 256, 341) and maps.attention.shape == (1, 1, 256, 341)
    for stage, key in (("relu3_3", "stage3"), ("relu4_3", "stage4")):
        ours = maps.normalized[stage][0].numpy()
        want = fixture[key]
        assert ours.shape == want.shape
        diff = np.abs(ours - want)
        assert (diff > 1e-6).mean() < 0.005, (stage, int((diff > 1e-6).sum()))
        assert diff.max() < 5e-3, stage
    assert float(maps.attention.min()) >= 0 and float(maps.attention.max()) <= 1


def test_metric_maps_on_a_crop(
    kadid: tuple[torch.Tensor, torch.Tensor], vgg_weights_path: Path
) -> None:
    ref, dist = kadid[0][..., 100:228, 160:320], kadid[1][..., 100:228, 160:320]
    maps = smic_maps(ref, dist, "psnr_smic", weights=vgg_weights_path, stride=2)
    assert maps.metric == "psnr_smic" and maps.stride == 2
    assert maps.distortion is not None and maps.rectified is not None and maps.score is not None
    assert maps.distortion.shape == maps.rectified.shape == (1, 1, 122, 154)
    assert maps.grids["relu3_3"].shape == (1, 13, 17)  # 32x40 relu3_3, k7 s2
    torch.testing.assert_close(maps.normalized["relu3_3"], min_max_normalize(maps.grids["relu3_3"]))
    arrays = maps.arrays()
    assert arrays["ref"].shape == (128, 160, 3) and arrays["attention"].shape == (128, 160)
    assert {"grid_relu4_3", "normalized_relu3_3", "distortion", "rectified", "score"} <= set(arrays)
    # a base metric with a map is wrapped; its maps are full size
    wrapped = smic_maps(ref, dist, "ssim_rgb", weights=vgg_weights_path, stride=7)
    assert wrapped.metric == "ssim_rgb+smic" and wrapped.rectified is not None
    assert wrapped.rectified.shape == (1, 1, 118, 150)
    with pytest.raises(InputError, match="no distortion map"):
        smic_maps(ref, dist, "dists_smic", weights=vgg_weights_path)


@pytest.mark.parametrize(("metric", "passes"), [("psnr_smic", 2), ("lpips+smic", 4)])
def test_the_display_grids_reuse_the_scores_backbone_passes(
    kadid: tuple[torch.Tensor, torch.Tensor], vgg_weights_path: Path, metric: str, passes: int
) -> None:
    """One VGG16 pass per image and kind of input (lpips+smic: LPIPS' and the attention's),
    not a second pass for the stride-1 grids; the grids equal those computed alone."""
    ref, dist = kadid[0][..., 100:228, 160:320], kadid[1][..., 100:228, 160:320]
    calls: list[int] = []
    hooks = [
        get_vgg16(vgg_weights_path, pooling)
        .features[0]
        .register_forward_hook(lambda *_a: calls.append(1))
        for pooling in ("max", "l2")
    ]
    try:
        maps = smic_maps(ref, dist, metric, weights=vgg_weights_path, stride=1)
    finally:
        for h in hooks:
            h.remove()
    assert len(calls) == passes
    m = create_metric(metric, weights=vgg_weights_path)
    alone = m.pair_grids(ref, dist, stride=1)
    for stage, grid in alone.items():
        assert torch.equal(maps.grids[stage], grid), stage


def test_panel_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from PIL import Image

    from friqa.plotting.maps import smic_panel

    g = np.random.default_rng(0)
    img = g.random((40, 60, 3))
    out = tmp_path / "panel.png"
    fig = smic_panel(
        img,
        img,
        g.random((34, 54)),
        g.random((40, 60)),
        g.random((34, 54)),
        suptitle="test",
        path=out,
    )
    assert len(fig.axes) == 8  # five panels and three colour bars
    with Image.open(out) as png:
        assert png.format == "PNG" and png.size[0] > png.size[1]
    with pytest.raises(InputError, match="five"):
        smic_panel(img, img, img[..., 0], img[..., 0], img[..., 0], titles=("a",))
    with pytest.raises(InputError, match="2-D map"):
        smic_panel(img, img, img, img[..., 0], img[..., 0])
