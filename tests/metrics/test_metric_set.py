"""MetricSet: every metric scored with shared backbone passes, bit-identical to one by one."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import friqa
from friqa.exceptions import InputError, UnknownMetricError
from friqa.io import load_image
from friqa.metrics.metric_set import MetricSet
from metric_checks import library_metrics

#: friqa's own metrics (test doubles other modules register are left out).
LIBRARY = library_metrics()
DEEP = [n for n in LIBRARY if friqa.metric_info(n).needs_weights]


def _pair(data: Path, dist: str = "I07_09_04") -> tuple[torch.Tensor, torch.Tensor]:
    """A real kadid pair, cut to 384x288 (SMIC still resizes it, to 256x192)."""
    kadid = data / "pairs" / "kadid"
    crop = (slice(None), slice(None), slice(48, 336), slice(64, 448))
    return (
        load_image(kadid / "I07.png").unsqueeze(0)[crop],
        load_image(kadid / f"{dist}.png").unsqueeze(0)[crop],
    )


@pytest.fixture(scope="module")
def every_metric(vgg_weights_path: Path) -> MetricSet:
    return MetricSet(LIBRARY, weights=vgg_weights_path).eval()


def test_deep_metrics_are_all_there() -> None:
    for name in ("lpips", "dists", "deepwsd", "deepssim", "lpips_smic", "dists_smic",
                 "psnr_smic", "ssim_smic", "deepwsd_smic", "lpips+smic"):  # fmt: skip
        assert name in DEEP


def test_scores_equal_one_by_one_on_a_real_pair(every_metric: MetricSet, shared_data: Path) -> None:
    ref, dist = _pair(shared_data)
    with torch.no_grad():
        alone = {name: metric(ref, dist) for name, metric in every_metric.items()}
        with every_metric.shared() as cache:
            together = every_metric(ref, dist)
    assert list(together) == LIBRARY
    for name in alone:
        assert torch.equal(together[name], alone[name]), name
    # passes were shared (psnr_smic, ssim_smic and dists_smic: one L2 pass per image) ...
    assert cache.hits > 0 and cache.resumed > 0
    assert len(cache) == 0  # ... and forgotten at the end of the scope


def test_maps_and_extras_equal_one_by_one(vgg_weights_path: Path, shared_data: Path) -> None:
    ms = MetricSet(["psnr_smic", "lpips", "ssim_smic", "dists"], weights=vgg_weights_path)
    ref, dist = _pair(shared_data, "I07_21_05")
    with torch.no_grad():
        together = ms.compute(ref, dist, return_map=True)
        for name, metric in ms.items():
            alone = metric.compute(ref, dist, return_map=metric.info.returns_map)
            assert torch.equal(together[name].score, alone.score), name
            if alone.map is None:
                assert together[name].map is None
            else:
                assert together[name].map is not None
                assert torch.equal(together[name].map, alone.map), name


def test_encoded_reference_path_equals_one_by_one(
    every_metric: MetricSet, shared_data: Path
) -> None:
    ref, d1 = _pair(shared_data)
    d2 = _pair(shared_data, "I07_21_05")[1]
    crop = (slice(None), slice(None), slice(32, 224), slice(32, 288))  # 256x192
    ref, dist = ref[crop], torch.cat([d1, d2])[crop]
    names = ["lpips", "dists", "psnr_smic", "dists_smic", "ssim_smic", "deepwsd_smic"]
    ms = MetricSet({n: every_metric[n] for n in names})
    with torch.no_grad():
        encoded = ms.encode_ref(ref)
        together = ms.compute_encoded(encoded, dist)
        for name in names:
            metric = every_metric[name]
            alone = metric.compute_encoded(metric.encode_ref(ref), dist).score
            assert torch.equal(together[name].score, alone), name


def test_construction(vgg_weights_path: Path) -> None:
    psnr = friqa.create_metric("psnr")
    ms = MetricSet([psnr, "SSIM"])
    assert list(ms) == ["psnr", "ssim"] and ms["psnr"] is psnr and len(ms) == 2
    assert MetricSet({"mine": psnr})["mine"] is psnr
    assert MetricSet(["lpips"], weights=vgg_weights_path)["lpips"].weights == str(vgg_weights_path)
    with pytest.raises(InputError, match="twice"):
        MetricSet(["psnr", "PSNR"])
    assert len(MetricSet([])) == 0
    with pytest.raises(UnknownMetricError):
        MetricSet(["nope"])
    with pytest.raises(InputError, match="no encoded reference"):
        ms.compute_encoded({}, torch.rand(1, 3, 16, 16))
