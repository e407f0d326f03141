"""Metrics ready to score: created with their options, weights resolved, on a device, eval mode.

The one place where the CLI commands and the evaluation runner turn metric
names into :class:`~friqa.metrics.base.Metric` modules.

Example:
    >>> metrics = build_metrics(["PSNR", "ssim"])
    >>> list(metrics), metrics["psnr"].training
    (['psnr', 'ssim'], False)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import torch

from friqa.metrics.base import Metric
from friqa.metrics.registry import create_metric, metric_info

__all__ = ["metric_options", "build_metrics"]


def metric_options(
    names: Iterable[str],
    *,
    weights: str | os.PathLike[str] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Per-metric constructor options: ``options`` (keys lower-cased) plus ``weights``.

    ``weights`` is given to every metric of ``names`` that needs the VGG16
    weights, unless its own options already name a file.

    >>> metric_options(["psnr", "lpips"], weights="vgg.pth", options={"PSNR": {"data_range": 2}})
    {'psnr': {'data_range': 2}, 'lpips': {'weights': 'vgg.pth'}}
    """
    out: dict[str, dict[str, Any]] = {k.lower(): dict(v) for k, v in (options or {}).items()}
    if weights is not None:
        for name in names:
            info = metric_info(name)
            if info.needs_weights:
                out.setdefault(info.name, {}).setdefault("weights", os.fspath(weights))
    return out


def build_metrics(
    names: Iterable[str],
    *,
    weights: str | os.PathLike[str] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype | None = None,
) -> dict[str, Metric]:
    """Create the named metrics, keyed by registry name, on ``device`` and in eval mode.

    Args:
        names: registry names (any case).
        weights: VGG16 weights for the metrics that need them (see :func:`metric_options`).
        options: per-metric constructor options, ``{"lpips": {"weights": "vgg16.pth"}}``.
        device: where the metrics compute.
        dtype: cast the metrics' floating parameters to this dtype (None: leave them).

    When a metric needs VGG16 weights they are resolved first, so a missing file
    fails here with the full explanation
    (:class:`~friqa.exceptions.WeightsError`) rather than on every image.
    """
    from friqa.backbone.weights import resolve_vgg16_weights

    names = list(names)
    opts = metric_options(names, weights=weights, options=options)
    dev = torch.device(device)
    metrics: dict[str, Metric] = {}
    for name in names:
        info = metric_info(name)
        kwargs = opts.get(info.name, {})
        if info.needs_weights:
            resolve_vgg16_weights(kwargs.get("weights"))
        metric = create_metric(info.name, **kwargs)
        metrics[info.name] = metric.to(device=dev, dtype=dtype).eval()
    return metrics
