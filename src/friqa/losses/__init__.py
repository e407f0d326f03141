"""Training losses built on friqa's metrics."""

from friqa.losses.deepssim_lite import (
    DeepSSIMLiteLoss,
    deepssim_lite_loss,
    deepssim_lite_similarity,
)

__all__ = ["DeepSSIMLiteLoss", "deepssim_lite_loss", "deepssim_lite_similarity"]
