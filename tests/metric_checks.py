"""Checks shared by the metric tests: image helpers and the properties every metric has.

Each check takes the metric and the inputs (seeds, sizes, tolerances stay in the
calling test) and fails with ``assert`` / ``torch.testing.assert_close``. Test files
in every folder find this module because pytest puts ``tests`` (the folder of the
root ``conftest.py``) on ``sys.path``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import Tensor

import friqa
from friqa.metrics.base import Metric, MetricResult

__all__ = [
    "load_rgb",
    "random_images",
    "check_official_scores",
    "finite_gradient",
    "check_gradients_finite",
    "check_directional_derivative",
    "check_batch_equals_loop",
    "check_encoded_reference",
    "check_deterministic",
    "check_float64_follows_input_dtype",
    "check_data_range",
]


def load_rgb(path: Path) -> Tensor:
    """An image file as a ``(1, 3, H, W)`` float32 batch in [0, 1] (8-bit values / 255)."""
    arr = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0).contiguous()


def random_images(n: int, h: int, w: int, seed: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """``(n, 3, h, w)`` uniform noise in [0, 1) from its own generator seeded with ``seed``."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, h, w, generator=g, dtype=dtype)


def check_official_scores(
    metric: Metric,
    official_scores: dict[str, Any],
    shared_data: Path,
    key: str,
    rtol: float = 1e-4,
    min_pairs: int = 6,
) -> None:
    """The metric matches the authors' scores ``pairs[*][key]`` of the real pairs (full size).

    Pairs sharing a reference are scored as one batch against one encoded reference.
    """
    by_ref: dict[str, list[tuple[str, str, float]]] = {}
    for name, entry in official_scores["pairs"].items():
        if key in entry:
            by_ref.setdefault(entry["ref"], []).append((name, entry["dist"], entry[key]))
    assert sum(len(v) for v in by_ref.values()) >= min_pairs
    errors: dict[str, float] = {}
    with torch.no_grad():
        for ref_path, items in by_ref.items():
            enc = metric.encode_ref(load_rgb(shared_data / ref_path))
            dist = torch.cat([load_rgb(shared_data / d) for _, d, _ in items])
            got = metric.compute_encoded(enc, dist).score
            for (name, _, want), value in zip(items, got.tolist(), strict=True):
                errors[name] = abs(value - want) / abs(want)
    worst = max(errors.values())
    assert worst < rtol, errors


def finite_gradient(metric: Metric, ref: Tensor, dist: Tensor) -> Tensor:
    """The gradient of ``metric(ref, dist).sum()`` w.r.t. ``dist``, asserted finite."""
    x = dist.detach().clone().requires_grad_(True)
    metric(ref, x).sum().backward()
    assert x.grad is not None and bool(torch.isfinite(x.grad).all())
    return x.grad


def check_gradients_finite(metric: Metric, ref: Tensor, dist: Tensor) -> Tensor:
    """Finite, non-zero gradient at ``dist``; finite at ``dist == ref``, which is returned."""
    grad = finite_gradient(metric, ref, dist)
    assert float(grad.abs().sum()) > 0
    return finite_gradient(metric, ref, ref)


def check_directional_derivative(
    metric: Metric,
    ref: Tensor,
    dist: Tensor,
    h: float,
    seed: int,
    rtol: float = 1e-4,
    atol: float = 1e-10,
) -> None:
    """Autograd's derivative along a random direction ``v`` (seeded) equals the central
    difference ``(f(dist + h v) - f(dist - h v)) / 2h``; use float64 inputs."""
    x = dist.detach().clone().requires_grad_(True)
    metric(ref, x).sum().backward()
    assert x.grad is not None
    g = torch.Generator().manual_seed(seed)
    v = torch.randn(x.shape, generator=g, dtype=x.dtype)
    with torch.no_grad():
        fd = (metric(ref, x + h * v) - metric(ref, x - h * v)) / (2 * h)
    torch.testing.assert_close((x.grad * v).sum(), fd.sum(), rtol=rtol, atol=atol)


def check_batch_equals_loop(
    metric: Metric,
    ref: Tensor,
    dist: Tensor,
    rtol: float,
    atol: float,
    with_map: bool = False,
    batch: MetricResult | None = None,
) -> None:
    """Scoring the batch at once equals scoring each pair alone (and the maps, ``with_map``).

    ``batch``: the batch's result when already computed (saves a run).
    """
    if batch is None:
        batch = metric.compute(ref, dist, return_map=with_map)
    for i in range(ref.shape[0]):
        one = metric.compute(ref[i : i + 1], dist[i : i + 1], return_map=with_map)
        torch.testing.assert_close(batch.score[i : i + 1], one.score, rtol=rtol, atol=atol)
        if with_map:
            assert batch.map is not None and one.map is not None
            torch.testing.assert_close(batch.map[i : i + 1], one.map, rtol=rtol, atol=atol)


def check_encoded_reference(
    metric: Metric, ref: Tensor, dist: Tensor, rtol: float, atol: float
) -> None:
    """One encoded reference (batch 1) against a batch equals the expanded pairwise scores."""
    enc = metric.encode_ref(ref)
    got = metric.compute_encoded(enc, dist).score
    want = metric(ref.expand(dist.shape[0], -1, -1, -1), dist)
    torch.testing.assert_close(got, want, rtol=rtol, atol=atol)


def check_deterministic(
    metric: Metric,
    ref: Tensor,
    dist: Tensor,
    with_map: bool = False,
    first: MetricResult | None = None,
) -> None:
    """Two runs on the same inputs give bit-identical scores (and maps, ``with_map``).

    ``first``: the first run's result when already computed (saves a run).
    """
    a = metric.compute(ref, dist, return_map=with_map) if first is None else first
    b = metric.compute(ref, dist, return_map=with_map)
    assert torch.equal(a.score, b.score)
    if with_map:
        assert a.map is not None and b.map is not None and torch.equal(a.map, b.map)


def check_float64_follows_input_dtype(
    metric: Metric,
    ref: Tensor,
    dist: Tensor,
    rtol: float,
    atol: float,
    s32: Tensor | None = None,
    s64: Tensor | None = None,
) -> None:
    """float32 inputs give float32 scores, float64 inputs float64 ones, and they agree.

    ``s32``, ``s64``: the scores of the float32 / float64 inputs when already computed.
    """
    s32 = metric(ref.float(), dist.float()) if s32 is None else s32
    s64 = metric(ref.double(), dist.double()) if s64 is None else s64
    assert s64.dtype == torch.float64 and s32.dtype == torch.float32
    torch.testing.assert_close(s64.float(), s32, rtol=rtol, atol=atol)


def check_data_range(
    metric: Metric, scaled: Metric, ref: Tensor, dist: Tensor, rtol: float, atol: float
) -> None:
    """``scaled`` (a ``data_range`` other than 1) on ``data_range``-scaled inputs equals
    ``metric`` (``data_range=1``) on the inputs in [0, 1]."""
    assert metric.data_range == 1.0 and scaled.data_range != 1.0
    k = scaled.data_range
    torch.testing.assert_close(scaled(ref * k, dist * k), metric(ref, dist), rtol=rtol, atol=atol)


def library_metrics() -> list[str]:
    """The registered metrics that friqa itself defines, read from the registry.

    Test doubles that other test modules register (one sleeps, one raises on purpose)
    are left out by where their class lives, not by name. Creating a metric is cheap:
    the deep ones load their weights on first use.
    """
    return [
        name
        for name in friqa.list_metrics()
        if type(friqa.create_metric(name)).__module__.partition(".")[0] == "friqa"
    ]
