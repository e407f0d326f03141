"""The registry, the Metric base class and its reference-caching API."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import Tensor

import friqa
from friqa.exceptions import InputError, UnknownMetricError
from friqa.metrics.base import EncodedRef, Metric, MetricInfo, MetricResult, expand_batch
from friqa.metrics.registry import create_metric, list_metrics, metric_info, register_metric

_INFO = MetricInfo(
    name="test_mean_abs",
    lower_better=True,
    score_range=(0.0, math.inf),
    needs_weights=False,
    returns_map=True,
    differentiable=True,
    family="test",
    description="mean absolute difference (a test metric)",
)


@register_metric(_INFO)
class _MeanAbs(Metric):
    info = _INFO
    encodes = 0

    def __init__(self, scale: float = 1.0, data_range: float = 1.0) -> None:
        super().__init__(data_range)
        self.scale = scale

    def _encode_ref(self, ref: Tensor) -> Any:
        type(self).encodes += 1
        return {"img": ref * self.scale}

    def _compute(self, ref: EncodedRef, dist: Tensor, return_map: bool) -> MetricResult:
        diff = (ref.data["img"] - dist * self.scale).abs().mean(1, keepdim=True)
        return MetricResult(diff.flatten(1).mean(1), diff if return_map else None)


def test_registry_lists_and_creates() -> None:
    assert "test_mean_abs" in list_metrics()
    assert list_metrics("test") == ["test_mean_abs"]
    assert metric_info("TEST_MEAN_ABS") is _INFO
    m = create_metric("test_mean_abs", scale=2.0)
    assert isinstance(m, _MeanAbs) and m.scale == 2.0
    assert friqa.create_metric is create_metric


def test_unknown_metric_and_bad_options() -> None:
    with pytest.raises(
        UnknownMetricError, match="unknown metric 'nope'; available: .*test_mean_abs"
    ):
        create_metric("nope")
    with pytest.raises(InputError, match="bad options for metric 'test_mean_abs'"):
        create_metric("test_mean_abs", colour="red")


def test_conflicting_registration() -> None:
    other = MetricInfo("test_mean_abs", False, (0, 1), False, False, False)
    with pytest.raises(InputError, match="already registered"):
        register_metric(other)(_MeanAbs)


def test_every_registered_metric_has_consistent_metadata() -> None:
    for name in list_metrics():
        info = metric_info(name)
        assert info.name == name and name == name.lower()
        lo, hi = info.score_range
        assert lo < hi
        assert info.as_dict()["name"] == name


def test_compute_map_and_encoded_reference() -> None:
    m = _MeanAbs()
    ref = torch.rand(1, 3, 5, 6)
    dists = torch.rand(4, 3, 5, 6)
    direct = torch.stack([m(ref, d[None])[0] for d in dists])
    before = _MeanAbs.encodes
    enc = m.encode_ref(ref)
    res = m.compute_encoded(enc, dists, return_map=True)
    assert _MeanAbs.encodes == before + 1
    torch.testing.assert_close(res.score, direct)
    assert res.map is not None and res.map.shape == (4, 1, 5, 6)
    with pytest.raises(InputError, match="same shape"):
        m.compute_encoded(enc, torch.rand(4, 3, 5, 7))
    with pytest.raises(InputError, match="batch size 2"):
        m.compute_encoded(m.encode_ref(torch.rand(2, 3, 5, 6)), dists)
    with pytest.raises(InputError, match=r"values must lie in \[0, 1\]"):
        m.compute_encoded(enc, dists + 2)


def test_expand_batch_nested() -> None:
    t = torch.rand(1, 2)
    out = expand_batch({"a": [t, (t, 3)], "b": torch.rand(5, 1)}, 5)
    assert out["a"][0].shape == (5, 2) and out["a"][1][0].shape == (5, 2) and out["a"][1][1] == 3
    with pytest.raises(InputError):
        expand_batch(torch.rand(2, 1), 5)


def test_options_help_families_and_batch_size_resume(
    tmp_path: Path, vgg_weights_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 14, finding 11: help(create_metric) names every metric and shows an example;
    the SMIC patch size is an option (library and --metric-option); an unknown family is
    an error listing the families; a resume with another --batch-size is allowed."""
    import numpy as np
    from PIL import Image

    from friqa.cli.main import main
    from friqa.evaluation.synthetic import make_synthetic_dataset

    doc = create_metric.__doc__ or ""
    assert "Example:" in doc and "--metric-option" in doc
    for name in list_metrics():
        if not name.lstrip("_").startswith("test"):  # metrics registered by the tests
            assert f"``{name}``" in doc, name
    small = torch.rand(1, 3, 48, 48, generator=torch.Generator().manual_seed(0))
    dist = (small + 0.05).clamp(0, 1)
    default = create_metric("psnr_smic", weights=vgg_weights_path, preprocess=False)
    with pytest.raises(InputError, match="smaller patch_size"):
        default(small, dist)
    m = create_metric("psnr_smic", weights=vgg_weights_path, preprocess=False, patch_size=3)
    assert m.patch_size == 3 and "patch_size=3" in repr(m)
    assert torch.isfinite(m(small, dist)).all()
    with pytest.raises(InputError, match="patch_size >= 2"):
        create_metric("lpips_smic", patch_size=1)
    Image.fromarray((small[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8)).save(
        tmp_path / "a.png"
    )
    Image.fromarray((dist[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8)).save(
        tmp_path / "b.png"
    )
    argv = ["score", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-m", "psnr_smic"]
    opts = ["--metric-option", "psnr_smic.preprocess=false", "--weights", str(vgg_weights_path)]
    assert main([*argv, *opts, "--metric-option", "psnr_smic.patch_size=3"]) == 0
    assert capsys.readouterr().out.startswith("psnr_smic")
    assert main([*argv, "--metric-option", "lpips.weights=x"]) == 2
    assert "not computed" in capsys.readouterr().err
    assert main(["list", "--family", "bogus"]) == 2
    err = capsys.readouterr().err
    assert "unknown family 'bogus'" in err and "base" in err and "smic-consistent" in err
    make_synthetic_dataset(tmp_path / "syn", n_refs=1, levels=2, size=16)
    ev = ["evaluate", "--manifest", str(tmp_path / "syn" / "manifest.csv"), "-m", "psnr"]
    ev += ["--out", str(tmp_path / "out"), "--no-plots", "--bootstrap", "0", "--no-progress"]
    assert main([*ev, "--batch-size", "2"]) == 0
    assert main([*ev, "--batch-size", "3"]) == 0
    assert "0 scored, 4 already done" in capsys.readouterr().out
