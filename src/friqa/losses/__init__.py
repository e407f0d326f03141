"""Training losses built on friqa's metrics: ``create_loss(name)(ref, dist)``, lower is better.

See ``docs/losses.md``. Every loss takes ``(N, 3, H, W)`` batches in [0, 1],
the reference first, has ``reduction`` and ``weight``, and composes by
arithmetic (``create_loss("l1") + 0.1 * create_loss("lpips")``).
"""

from friqa.losses.base import REDUCTIONS, CompositeLoss, Loss
from friqa.losses.deepssim_lite import (
    DeepSSIMLite,
    DeepSSIMLiteLoss,
    deepssim_lite_loss,
    deepssim_lite_similarity,
)
from friqa.losses.factory import create_loss, list_losses, loss_needs_weights
from friqa.losses.metric_loss import MetricLoss
from friqa.losses.pixel import PixelLoss

__all__ = [
    "create_loss",
    "list_losses",
    "loss_needs_weights",
    "Loss",
    "CompositeLoss",
    "MetricLoss",
    "PixelLoss",
    "DeepSSIMLite",
    "REDUCTIONS",
    "DeepSSIMLiteLoss",
    "deepssim_lite_loss",
    "deepssim_lite_similarity",
]
