"""``create_loss``: the one way to make a loss, by name or from a metric.

Names are the registered metrics whose score has a gradient (``friqa list``:
``differentiable``), plus the losses that are not metrics: ``"l1"``, ``"mse"``
(:mod:`friqa.losses.pixel`) and ``"deepssim_lite"``
(:mod:`friqa.losses.deepssim_lite`).
"""

from __future__ import annotations

from typing import Any

from friqa.exceptions import InputError, UnknownMetricError
from friqa.losses.base import Loss
from friqa.losses.deepssim_lite import DeepSSIMLite
from friqa.losses.metric_loss import MetricLoss
from friqa.losses.pixel import PIXEL_LOSSES, PixelLoss
from friqa.metrics.base import Metric
from friqa.metrics.registry import create_metric, list_metrics, metric_info

__all__ = ["create_loss", "list_losses", "loss_needs_weights"]

#: Losses that are not registered metrics.
OWN_LOSSES = (*PIXEL_LOSSES, "deepssim_lite")


def list_losses() -> list[str]:
    """Names :func:`create_loss` accepts: friqa's own losses, then every metric with a gradient.

    Metrics whose gradient needs an option (``ssim`` with ``quantize=False``) are
    not listed but accepted with that option.
    """
    metrics = [n for n in list_metrics() if metric_info(n).differentiable]
    return [*OWN_LOSSES, *metrics]


def loss_needs_weights(name: str) -> bool:
    """Whether the loss ``name`` runs the VGG16 backbone (and so takes ``weights=``).

    Example:
        >>> loss_needs_weights("lpips"), loss_needs_weights("l1")
        (True, False)
    """
    key = name.lower()
    if key in OWN_LOSSES:
        return key == "deepssim_lite"
    return metric_info(key).needs_weights


def create_loss(
    metric: str | Metric, *, reduction: str = "mean", weight: float = 1.0, **options: Any
) -> Loss:
    """A lower-is-better loss ``loss(ref, dist)`` on ``(N, 3, H, W)`` batches in [0, 1].

    Args:
        metric: a name from :func:`list_losses` (or a metric accepting ``options``
            that make it differentiable), or a :class:`~friqa.metrics.base.Metric`.
        reduction: ``"mean"`` (default), ``"sum"`` or ``"none"`` (shape ``(N,)``).
        weight: factor applied to every per-image value.
        **options: options of the metric (``weights=``, ``quantize=False``, ...) or
            of DeepSSIM-Lite (``weights=``).

    Raises:
        NotDifferentiableError: the metric has no gradient (one line: why, what to use).
        UnknownMetricError: no such loss or metric.

    Example:
        >>> import torch
        >>> loss = create_loss("l1") + 0.5 * create_loss("ssim_rgb")
        >>> loss.describe()
        'l1 + 0.5 * (1 - ssim_rgb)'
        >>> x = torch.rand(2, 3, 32, 32)
        >>> float(loss(x, x))
        0.0
    """
    if isinstance(metric, Metric):
        if options:
            raise InputError("options go to create_metric; pass a name or a metric, not both")
        return MetricLoss(metric, reduction=reduction, weight=weight)
    if not isinstance(metric, str):
        raise InputError(f"create_loss takes a loss name or a Metric, got {type(metric).__name__}")
    name = metric.lower()
    if name in PIXEL_LOSSES:
        if options:
            raise InputError(f"the pixel loss '{name}' takes no options, got {sorted(options)}")
        return PixelLoss(name, reduction=reduction, weight=weight)
    if name == "deepssim_lite":
        extra = sorted(set(options) - {"weights"})
        if extra:
            raise InputError(f"'deepssim_lite' takes only weights=, got {extra}")
        return DeepSSIMLite(reduction=reduction, weight=weight, **options)
    try:
        metric_info(name)
    except UnknownMetricError as exc:
        raise UnknownMetricError(
            f"unknown loss '{metric}'; available: {', '.join(list_losses())}"
        ) from exc
    return MetricLoss(create_metric(name, **options), reduction=reduction, weight=weight)
