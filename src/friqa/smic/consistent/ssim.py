"""``ssim+smic``: the classic SSIM of ``"ssim"`` with SMIC attention (consistent SMIC variant)."""

from __future__ import annotations

import os

from torch import Tensor

from friqa.metrics.registry import register_metric
from friqa.metrics.ssim import SSIM
from friqa.ops.color import YChannel
from friqa.smic.consistent.variant import consistent_info
from friqa.smic.consistent.wrapper import AttentionScale, SMICWrapper

__all__ = ["SSIMPlusSMIC", "SSIM_PLUS_SMIC_INFO"]

SSIM_PLUS_SMIC_INFO = consistent_info(
    "ssim+smic",
    "the MATLAB ssim_index.m SSIM of 'ssim'",
    "1 - mean(att x (1 - SSIM map)) with the classic SSIM (consistent SMIC)",
    lower_better=False,
    score_range=(-1.0, 1.0),
    differentiable=False,
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
    ``"ssim"``). ``y_channel`` is SSIM's super-resolution option (the attention
    still sees the RGB images); for ``crop_border``, crop the images before scoring.
    """

    info = SSIM_PLUS_SMIC_INFO
    base: SSIM

    def __init__(
        self,
        weights: str | os.PathLike[str] | None = None,
        *,
        data_range: float = 1.0,
        quantize: bool = True,
        patch_size: int = 7,
        stride: int = 7,
        attention_scale: AttentionScale = "smic",
        y_channel: YChannel = False,
        precision: str = "fp32",
    ) -> None:
        super().__init__(
            SSIM(data_range, quantize=quantize, y_channel=y_channel),
            weights=weights,
            patch_size=patch_size,
            stride=stride,
            attention_scale=attention_scale,
            precision=precision,
            info=SSIM_PLUS_SMIC_INFO,
        )

    def reduce_score(self, pooled: Tensor) -> Tensor:
        return 1.0 - pooled
