"""A training loss from any registered differentiable metric.

The metric's score is turned so that lower is better, from its metadata
(:class:`~friqa.metrics.base.MetricInfo`), never from its name:

- ``lower_better`` (LPIPS, DISTS, DeepWSD): the score as it is;
- higher is better with a finite best value ``hi = score_range[1]`` (SSIM,
  MS-SSIM, DeepSSIM): ``hi - score``, so 0 for identical images;
- higher is better without a bound (PSNR): ``-score``; identical images give
  ``-inf`` with a zero gradient, so train with ``"mse"`` rather than PSNR.

The reference goes through the metric's :meth:`~friqa.metrics.base.Metric.encode_ref`
once per reference tensor (see :mod:`friqa.losses.base`), the output through
:meth:`~friqa.metrics.base.Metric.compute_encoded`; the metric's own input checks
apply. A network's output may step outside ``[0, data_range]``, which every
metric refuses, so it is clamped to that range first: pixels beyond it get no
gradient from this term (a pixel term such as L1 pulls them back).
"""

from __future__ import annotations

import math
from typing import Any

from torch import Tensor

from friqa.exceptions import NotDifferentiableError
from friqa.losses.base import Loss
from friqa.metrics.base import EncodedRef, Metric, MetricInfo
from friqa.metrics.gradients import not_differentiable_message

__all__ = ["MetricLoss", "orientation"]


def orientation(info: MetricInfo) -> tuple[float, float, str]:
    """``(offset, sign, label)`` with ``loss = offset + sign * score`` lower-is-better.

    Example:
        >>> from friqa.metrics import metric_info
        >>> orientation(metric_info("ssim_rgb"))
        (1.0, -1.0, '1 - ssim_rgb')
        >>> orientation(metric_info("lpips"))
        (0.0, 1.0, 'lpips')
    """
    if info.lower_better:
        return 0.0, 1.0, info.name
    best = float(info.score_range[1])
    if math.isfinite(best):
        return best, -1.0, f"{best:g} - {info.name}"
    return 0.0, -1.0, f"-{info.name}"


class MetricLoss(Loss):
    """``(N, 3, H, W)`` in [0, data_range], ``ref`` first: a metric as a lower-is-better loss.

    Made by :func:`friqa.losses.create_loss`; see the module docstring for the
    orientation and the clamping of the output.

    Args:
        metric: a metric whose ``differentiable`` property is True (its options
            decide: ``ssim`` with ``quantize=False`` is).
        reduction: ``"mean"`` (default), ``"sum"`` or ``"none"``.
        weight: factor applied to every per-image value.

    Raises:
        NotDifferentiableError: the metric has no gradient (one line: why, and what to use).
    """

    def __init__(self, metric: Metric, reduction: str = "mean", weight: float = 1.0) -> None:
        if not metric.differentiable:
            raise NotDifferentiableError(
                not_differentiable_message(metric.info.name, metric.info.gradient_note)
            )
        super().__init__(reduction=reduction, weight=weight)
        self.metric = metric.eval().requires_grad_(False)
        self.offset, self.sign, self.label = orientation(metric.info)

    def _encode_ref(self, ref: Tensor) -> EncodedRef:
        return self.metric.encode_ref(ref)

    def _loss(self, ref: Any, dist: Tensor) -> Tensor:
        x = dist.clamp(0.0, self.metric.data_range)
        score = self.metric.compute_encoded(ref, x).score
        if self.sign > 0 and self.offset == 0.0:
            return score
        return self.offset + self.sign * score

    def extra_repr(self) -> str:
        return f"{self.label!r}, reduction={self.reduction!r}, weight={self.weight:g}"
