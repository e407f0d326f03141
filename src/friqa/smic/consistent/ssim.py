"""``ssim+smic``: the classic SSIM of ``"ssim"`` with SMIC attention (consistent SMIC variant)."""

from __future__ import annotations

import os

from friqa.metrics.base import MetricInfo
from friqa.metrics.registry import register_metric
from friqa.metrics.ssim import SSIM
from friqa.smic.consistent.wrapper import CONSISTENT_REFERENCE, AttentionScale, SMICWrapper

__all__ = ["SSIMPlusSMIC", "SSIM_PLUS_SMIC_INFO"]

SSIM_PLUS_SMIC_INFO = MetricInfo(
    name="ssim+smic",
    lower_better=False,
    score_range=(-1.0, 1.0),
    needs_weights=True,
    returns_map=True,
    differentiable=False,
    family="smic-consistent",
    reference=CONSISTENT_REFERENCE + " (the MATLAB ssim_index.m SSIM of 'ssim')",
    description="1 - mean(att x (1 - SSIM map)) with the classic SSIM (consistent SMIC)",
    gradient_note=(
        "the 8-bit quantisation of its SSIM ('ssim') has no gradient; use quantize=False "
        "for training"
    ),
)


@register_metric(SSIM_PLUS_SMIC_INFO)
class SSIMPlusSMIC(SMICWrapper):
    """Classic SSIM (``"ssim"``) with SMIC attention: ``1 - mean(att * (1 - SSIM map))``.

    Higher is better, 1 for identical images; the SSIM map is the MATLAB
    ``ssim_index.m`` map of ``"ssim"`` (luminance, 11x11 Gaussian). Compare
    ``"ssim_smic"``, the reference's variant (per-channel 7-tap SSIM, resized images,
    a weighted dissimilarity). ``quantize=False`` makes it differentiable (as for
    ``"ssim"``).
    """

    info = SSIM_PLUS_SMIC_INFO

    def __init__(
        self,
        weights: str | os.PathLike[str] | None = None,
        *,
        data_range: float = 1.0,
        quantize: bool = True,
        stride: int = 7,
        attention_scale: AttentionScale = "smic",
        precision: str = "fp32",
    ) -> None:
        super().__init__(
            SSIM(data_range, quantize=quantize),
            weights=weights,
            stride=stride,
            attention_scale=attention_scale,
            precision=precision,
            reduce=lambda m: 1.0 - m,
            info=SSIM_PLUS_SMIC_INFO,
        )
