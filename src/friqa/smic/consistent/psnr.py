"""``psnr+smic``: PSNR of the SMIC-weighted squared error (consistent SMIC variant)."""

from __future__ import annotations

import math
import os

from torch import Tensor

from friqa.metrics.psnr import PSNR, psnr_from_mse
from friqa.metrics.registry import register_metric
from friqa.ops.color import YChannel
from friqa.smic.consistent.variant import consistent_info
from friqa.smic.consistent.wrapper import AttentionScale, SMICWrapper

__all__ = ["PSNRPlusSMIC", "PSNR_PLUS_SMIC_INFO"]

PSNR_PLUS_SMIC_INFO = consistent_info(
    "psnr+smic",
    "PSNR's per-pixel squared error, full size",
    "PSNR of the attention-weighted squared error (consistent SMIC; = psnr at att 1)",
    lower_better=False,
    score_range=(0.0, math.inf),
)


@register_metric(PSNR_PLUS_SMIC_INFO)
class PSNRPlusSMIC(SMICWrapper):
    """PSNR of the SMIC-weighted squared error, ``10 log10(L^2 / mean(att * e^2))``; higher better.

    The map is PSNR's own (squared error averaged over channels, full size, no 7x7
    window); identical images give ``+inf`` as PSNR does. Compare ``"psnr_smic"``, the
    reference's variant (7x7 local MSE, resized images, ``1e-10`` offset).
    Differentiable with respect to ``dist`` (attention constant). ``y_channel`` is
    PSNR's super-resolution option (the attention still sees the RGB images); for
    ``crop_border``, crop the images before scoring so that attention and map align.
    """

    info = PSNR_PLUS_SMIC_INFO

    def __init__(
        self,
        weights: str | os.PathLike[str] | None = None,
        *,
        data_range: float = 1.0,
        patch_size: int = 7,
        stride: int = 7,
        attention_scale: AttentionScale = "smic",
        y_channel: YChannel = False,
        precision: str = "fp32",
    ) -> None:
        super().__init__(
            PSNR(data_range, y_channel=y_channel),
            weights=weights,
            patch_size=patch_size,
            stride=stride,
            attention_scale=attention_scale,
            precision=precision,
            info=PSNR_PLUS_SMIC_INFO,
        )

    def reduce_score(self, pooled: Tensor) -> Tensor:
        return psnr_from_mse(pooled, self.data_range)
