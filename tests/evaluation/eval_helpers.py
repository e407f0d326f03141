"""Test-only metrics that record how the runner calls them (the runner is under test).

Imported by the tests of this folder and by the subprocess of the kill-and-resume
test (which puts this folder on ``sys.path``).
"""

from __future__ import annotations

import sys
import time
from typing import Any

import torch
from torch import Tensor

from friqa.metrics.base import EncodedRef, Metric, MetricInfo, MetricResult
from friqa.metrics.registry import register_metric

#: (kind, batch shape) of every call, kind in {"encode", "compute"}; tests clear it.
CALLS: list[tuple[str, tuple[int, ...]]] = []

MEAN_DIFF = MetricInfo(
    name="_test_mean_diff",
    lower_better=True,
    score_range=(0.0, 1.0),
    needs_weights=False,
    returns_map=False,
    differentiable=True,
    family="evaluation-test",
    description="test only: mean absolute difference",
)
SLOW = MetricInfo(
    name="_test_slow",
    lower_better=True,
    score_range=(0.0, 1.0),
    needs_weights=False,
    returns_map=False,
    differentiable=True,
    family="evaluation-test",
    description="test only: mean absolute difference, 50 ms per call",
)
UNALIGNED = MetricInfo(
    name="_test_unaligned",
    lower_better=False,
    score_range=(-1.0, 1.0),
    needs_weights=False,
    returns_map=False,
    differentiable=True,
    aligned=False,
    family="evaluation-test",
    description="test only: mean(dist) - mean(ref), any sizes",
)
FLAKY = MetricInfo(
    name="_test_flaky",
    lower_better=True,
    score_range=(0.0, 1.0),
    needs_weights=False,
    returns_map=False,
    differentiable=True,
    family="evaluation-test",
    description="test only: fails on images whose mean is above 0.55",
)


@register_metric(MEAN_DIFF)
class MeanDiff(Metric):
    info = MEAN_DIFF

    def _encode_ref(self, ref: Tensor) -> Any:
        CALLS.append(("encode", tuple(ref.shape)))
        return ref * 1.0

    def _compute(self, ref: EncodedRef, dist: Tensor, return_map: bool) -> MetricResult:
        CALLS.append(("compute", tuple(dist.shape)))
        return MetricResult((ref.data - dist).abs().mean(dim=(1, 2, 3)))


@register_metric(SLOW)
class Slow(MeanDiff):
    info = SLOW

    def _compute(self, ref: EncodedRef, dist: Tensor, return_map: bool) -> MetricResult:
        time.sleep(0.05)
        return MetricResult((ref.data - dist).abs().mean(dim=(1, 2, 3)))


@register_metric(UNALIGNED)
class Unaligned(Metric):
    info = UNALIGNED

    def _encode_ref(self, ref: Tensor) -> Any:
        CALLS.append(("encode", tuple(ref.shape)))
        return ref.mean(dim=(1, 2, 3))

    def _compute(self, ref: EncodedRef, dist: Tensor, return_map: bool) -> MetricResult:
        CALLS.append(("compute", tuple(dist.shape)))
        return MetricResult(dist.mean(dim=(1, 2, 3)) - ref.data)


@register_metric(FLAKY)
class Flaky(MeanDiff):
    info = FLAKY

    def _compute(self, ref: EncodedRef, dist: Tensor, return_map: bool) -> MetricResult:
        CALLS.append(("compute", tuple(dist.shape)))
        if bool((dist.mean(dim=(1, 2, 3)) > 0.55).any()):
            raise RuntimeError("too bright for this test metric")
        return MetricResult((ref.data - dist).abs().mean(dim=(1, 2, 3)))


def mean_abs_diff(ref: Tensor, dist: Tensor) -> float:
    """The oracle of ``_test_mean_diff`` for one pair of (3, H, W) images."""
    return float((ref.double() - dist.double()).abs().mean())


def run_slow(manifest_path: str, out_dir: str) -> None:
    """Entry point of the kill-and-resume subprocess."""
    from friqa.evaluation import read_manifest, score_manifest

    score_manifest(
        read_manifest(manifest_path), ["_test_slow", "psnr"], out_dir, batch_size=2, progress=False
    )


if __name__ == "__main__":  # pragma: no cover - used by the subprocess
    torch.set_num_threads(1)
    run_slow(sys.argv[1], sys.argv[2])
