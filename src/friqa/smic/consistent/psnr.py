"""``psnr+smic``: PSNR of the SMIC-weighted squared error (consistent SMIC variant)."""

from __future__ import annotations

import math
import os

from friqa.metrics.base import MetricInfo
from friqa.metrics.psnr import PSNR, psnr_from_mse
from friqa.metrics.registry import register_metric
from friqa.smic.consistent.wrapper import CONSISTENT_REFERENCE, AttentionScale, SMICWrapper

__all__ = ["PSNRPlusSMIC", "PSNR_PLUS_SMIC_INFO"]

PSNR_PLUS_SMIC_INFO = MetricInfo(
    name="psnr+smic",
    lower_better=False,
    score_range=(0.0, math.inf),
    needs_weights=True,
    returns_map=True,
    differentiable=True,
    family="smic-consistent",
    reference=CONSISTENT_REFERENCE + " (PSNR's per-pixel squared error, full size)",
    description="PSNR of the attention-weighted squared error (consistent SMIC; = psnr at att 1)",
)


@register_metric(PSNR_PLUS_SMIC_INFO)
class PSNRPlusSMIC(SMICWrapper):
    """PSNR of the SMIC-weighted squared error, ``10 log10(L^2 / mean(att * e^2))``; higher better.

    The map is PSNR's own (squared error averaged over channels, full size, no 7x7
    window); identical images give ``+inf`` as PSNR does. Compare ``"psnr_smic"``, the
    reference's variant (7x7 local MSE, resized images, ``1e-10`` offset).
    Differentiable with respect to ``dist`` (attention constant).
    """

    info = PSNR_PLUS_SMIC_INFO

    def __init__(
        self,
        weights: str | os.PathLike[str] | None = None,
        *,
        data_range: float = 1.0,
        stride: int = 7,
        attention_scale: AttentionScale = "smic",
        precision: str = "fp32",
    ) -> None:
        dr = float(data_range)
        super().__init__(
            PSNR(data_range),
            weights=weights,
            stride=stride,
            attention_scale=attention_scale,
            precision=precision,
            reduce=lambda m: psnr_from_mse(m, dr),
            info=PSNR_PLUS_SMIC_INFO,
        )
