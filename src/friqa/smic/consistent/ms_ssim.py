"""``ms_ssim+smic``: MS-SSIM with SMIC attention at every scale (consistent SMIC variant)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from torch import Tensor

from friqa.exceptions import InputError
from friqa.functional.ssim import ms_ssim_combine, ms_ssim_terms
from friqa.metrics.base import EncodedRef, Metric, MetricResult, expand_batch
from friqa.metrics.ms_ssim import MSSSIM
from friqa.metrics.registry import register_metric
from friqa.smic.consistent.variant import SMICVariant, consistent_info

__all__ = ["MSSSIMPlusSMIC", "MS_SSIM_PLUS_SMIC_INFO"]

MS_SSIM_PLUS_SMIC_INFO = consistent_info(
    "ms_ssim+smic",
    "MS-SSIM of 'ms_ssim', attention at every scale",
    "MS-SSIM with each scale's map weighted by SMIC attention (consistent SMIC)",
    lower_better=False,
    score_range=(0.0, 1.0),
)


@register_metric(MS_SSIM_PLUS_SMIC_INFO)
class MSSSIMPlusSMIC(SMICVariant):
    """MS-SSIM (``"ms_ssim"``) with SMIC attention at every scale; higher is better.

    At each scale the term MS-SSIM averages (``cs`` at the finer scales, SSIM at the
    coarsest) becomes ``1 - mean(att_j * (1 - map_j))`` per channel, with the
    attention zoomed to that scale's map; the terms are clipped at 0 and combined
    with MS-SSIM's exponents as usual. Map: the rectified finest-scale
    ``1 - SSIM`` map (as MS-SSIM's map). Differentiable (attention constant).
    """

    info = MS_SSIM_PLUS_SMIC_INFO
    base: MSSSIM

    @classmethod
    def base_metric(
        cls, weights: str | os.PathLike[str] | None, data_range: float, precision: str
    ) -> Metric:
        return MSSSIM(data_range)

    def _rectify(
        self, base: Any, dist: Tensor, grids: Mapping[str, Tensor], return_map: bool
    ) -> MetricResult:
        m = self.base
        if min(dist.shape[-2:]) < m.min_size:
            raise InputError(
                f"'{self.info.name}' needs images of at least {m.min_size}x{m.min_size} pixels"
            )
        encoded: EncodedRef = base
        scales = m.scale_maps(expand_batch(encoded.data, dist.shape[0]), dist)
        values: list[Tensor] = []
        atts: list[Tensor] = []
        for term in ms_ssim_terms(scales):
            att = self.combined_attention(grids, term.shape[-2:]).to(term.dtype)
            values.append(1.0 - (att * (1.0 - term)).mean(dim=(2, 3)))
            atts.append(att)
        score, clipped = ms_ssim_combine(values, m.weights)
        fine_map, fine_att = 1.0 - scales[0].ssim.mean(dim=1, keepdim=True), atts[0]
        extras: dict[str, Any] = {
            "grids": dict(grids),
            "attention": fine_att,
            "distortion_map": fine_map,
            "scale_values": clipped,
        }
        return MetricResult(
            score=score, map=fine_map * fine_att if return_map else None, extras=extras
        )
