"""``psnr+smic``: PSNR of the SMIC-weighted squared error (consistent SMIC variant)."""

from __future__ import annotations

import math
import os

from torch import Tensor

from friqa.metrics.base import Metric
from friqa.metrics.psnr import PSNR, psnr_from_mse
from friqa.metrics.registry import register_metric
from friqa.smic.consistent.variant import SMICVariant, consistent_info

__all__ = ["PSNRPlusSMIC", "PSNR_PLUS_SMIC_INFO"]

PSNR_PLUS_SMIC_INFO = consistent_info(
    "psnr+smic",
    "PSNR's per-pixel squared error, full size",
    "PSNR of the attention-weighted squared error (consistent SMIC; = psnr at att 1)",
    lower_better=False,
    score_range=(0.0, math.inf),
)


@register_metric(PSNR_PLUS_SMIC_INFO)
class PSNRPlusSMIC(SMICVariant):
    """PSNR of the SMIC-weighted squared error, ``10 log10(L^2 / mean(att * e^2))``; higher better.

    The map is PSNR's own (squared error averaged over channels, full size, no 7x7
    window); identical images give ``+inf`` as PSNR does. Compare ``"psnr_smic"``, the
    reference's variant (7x7 local MSE, resized images, ``1e-10`` offset).
    Differentiable with respect to ``dist`` (attention constant).
    """

    info = PSNR_PLUS_SMIC_INFO

    @classmethod
    def base_metric(cls, weights: str | os.PathLike[str] | None, data_range: float) -> Metric:
        return PSNR(data_range)

    def reduce_score(self, pooled: Tensor) -> Tensor:
        return psnr_from_mse(pooled, self.data_range)
