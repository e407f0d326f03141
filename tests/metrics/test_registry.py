"""The registry, the Metric base class and its reference-caching API."""

from __future__ import annotations

import math
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
