"""Several metrics scored together, sharing their backbone passes.

:class:`MetricSet` holds metrics by registry name and scores a batch with each
of them inside one :func:`friqa.backbone.feature_cache.feature_cache` scope:
every distinct VGG16 pass (same weights, pooling, prepared input, device,
dtype) then runs once per image, as deep as the deepest tap any metric asks
for, and the scores are bit-identical to calling the metrics one by one
(``tests/metrics/test_metric_set.py``). ``friqa score`` and the evaluation
runner use it.

Example:
    >>> import torch
    >>> ms = MetricSet(["psnr", "ssim"])
    >>> x = torch.rand(1, 3, 32, 32)
    >>> sorted(ms(x, x))
    ['psnr', 'ssim']
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any

from torch import Tensor, nn

from friqa.backbone.feature_cache import DEFAULT_CACHE_BYTES, FeatureCache, feature_cache
from friqa.exceptions import InputError
from friqa.metrics.base import EncodedRef, Metric, MetricResult
from friqa.metrics.factory import metric_options
from friqa.metrics.registry import create_metric, metric_info

__all__ = ["MetricSet"]


class MetricSet(nn.Module):
    """Metrics scored together; their common VGG16 passes run once per batch.

    Args:
        metrics: registry names and/or :class:`Metric` instances (keyed by their
            ``info.name``), or a mapping name -> metric.
        weights: VGG16 weights for the named metrics that need them.
        options: per-metric constructor options for the named metrics,
            ``{"lpips": {"weights": "vgg16.pth"}}``.
        cache_bytes: byte budget of the shared features of one batch (least recently
            used passes are recomputed beyond it).

    Calling the set gives ``{name: scores (N,)}`` in the order of ``metrics``;
    :meth:`compute`, :meth:`encode_ref` and :meth:`compute_encoded` mirror the
    :class:`Metric` methods, one entry per metric. :meth:`shared` opens the
    sharing scope for code that calls the metrics itself.
    """

    def __init__(
        self,
        metrics: Iterable[str | Metric] | Mapping[str, Metric],
        *,
        weights: str | os.PathLike[str] | None = None,
        options: Mapping[str, Mapping[str, Any]] | None = None,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
    ) -> None:
        super().__init__()
        items = list(metrics.items()) if isinstance(metrics, Mapping) else list(metrics)
        names = [m for m in items if isinstance(m, str)]
        opts = metric_options(names, weights=weights, options=options)
        built: dict[str, Metric] = {}
        for item in items:
            if isinstance(item, tuple):
                name, metric = item
            elif isinstance(item, str):
                name = metric_info(item).name
                metric = create_metric(name, **opts.get(name, {}))
            elif isinstance(item, Metric):
                name, metric = item.info.name, item
            else:
                raise InputError(f"MetricSet takes metric names or Metric modules, got {item!r}")
            if name in built:
                raise InputError(f"metric '{name}' is given twice to the MetricSet")
            built[name] = metric
        self.metrics = nn.ModuleDict(built)
        self.cache_bytes = int(cache_bytes)

    # --- mapping-like access ----------------------------------------------------------
    def __len__(self) -> int:
        return len(self.metrics)

    def __iter__(self) -> Iterator[str]:
        return iter(self.metrics.keys())

    def __getitem__(self, name: str) -> Metric:
        metric = self.metrics[name]
        if not isinstance(metric, Metric):  # pragma: no cover - only Metrics are stored
            raise InputError(f"'{name}' is not a metric")
        return metric

    def items(self) -> list[tuple[str, Metric]]:
        """``(name, metric)`` pairs in order."""
        return [(name, self[name]) for name in self]

    def shared(self) -> AbstractContextManager[FeatureCache]:
        """A scope in which the deep metrics share their VGG16 passes (one batch's worth)."""
        return feature_cache(self.cache_bytes)

    # --- scoring ------------------------------------------------------------------------
    def forward(self, ref: Tensor, dist: Tensor) -> dict[str, Tensor]:
        """Scores ``(N,)`` of every metric, keyed by name."""
        with self.shared():
            return {name: metric(ref, dist) for name, metric in self.items()}

    def compute(
        self, ref: Tensor, dist: Tensor, *, return_map: bool = False
    ) -> dict[str, MetricResult]:
        """:meth:`Metric.compute` of every metric; with ``return_map=True`` the metrics
        that produce a distortion map give it (the others ``map=None``)."""
        with self.shared():
            return {
                name: metric.compute(ref, dist, return_map=return_map and metric.info.returns_map)
                for name, metric in self.items()
            }

    def encode_ref(self, ref: Tensor) -> dict[str, EncodedRef]:
        """:meth:`Metric.encode_ref` of every metric (their common passes run once)."""
        with self.shared():
            return {name: metric.encode_ref(ref) for name, metric in self.items()}

    def compute_encoded(
        self, encoded: Mapping[str, EncodedRef], dist: Tensor, *, return_map: bool = False
    ) -> dict[str, MetricResult]:
        """:meth:`Metric.compute_encoded` of every metric against :meth:`encode_ref`'s output."""
        missing = [name for name in self if name not in encoded]
        if missing:
            raise InputError(f"no encoded reference for {missing}; use MetricSet.encode_ref")
        with self.shared():
            return {
                name: metric.compute_encoded(
                    encoded[name], dist, return_map=return_map and metric.info.returns_map
                )
                for name, metric in self.items()
            }

    def extra_repr(self) -> str:
        return f"cache_bytes={self.cache_bytes}"
