"""``ms_ssim+smic``: MS-SSIM with SMIC attention at every scale (consistent SMIC variant)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from friqa.exceptions import InputError
from friqa.metrics.base import EncodedRef, MetricInfo, MetricResult, expand_batch
from friqa.metrics.ms_ssim import MSSSIM, downsample2x
from friqa.metrics.registry import register_metric
from friqa.metrics.ssim import _ssim_cs_maps
from friqa.ops.filters import gaussian_kernel1d
from friqa.smic.consistent.wrapper import CONSISTENT_REFERENCE, AttentionScale, SMICWrapper

__all__ = ["MSSSIMPlusSMIC", "MS_SSIM_PLUS_SMIC_INFO"]

MS_SSIM_PLUS_SMIC_INFO = MetricInfo(
    name="ms_ssim+smic",
    lower_better=False,
    score_range=(0.0, 1.0),
    needs_weights=True,
    returns_map=True,
    differentiable=True,
    family="smic-consistent",
    reference=CONSISTENT_REFERENCE + " (MS-SSIM of 'ms_ssim', attention at every scale)",
    description="MS-SSIM with each scale's map weighted by SMIC attention (consistent SMIC)",
)


@register_metric(MS_SSIM_PLUS_SMIC_INFO)
class MSSSIMPlusSMIC(SMICWrapper):
    """MS-SSIM (``"ms_ssim"``) with SMIC attention at every scale; higher is better.

    At each scale the term MS-SSIM averages (``cs`` at the finer scales, SSIM at the
    coarsest) becomes ``1 - mean(att_j * (1 - map_j))`` per channel, with the
    attention zoomed to that scale's map; the terms are clipped at 0 and combined
    with MS-SSIM's exponents as usual. Map: the rectified finest-scale
    ``1 - SSIM`` map (as MS-SSIM's map). Differentiable (attention constant).
    """

    info = MS_SSIM_PLUS_SMIC_INFO
    base: MSSSIM

    def __init__(
        self,
        weights: str | os.PathLike[str] | None = None,
        *,
        data_range: float = 1.0,
        stride: int = 7,
        attention_scale: AttentionScale = "smic",
    ) -> None:
        super().__init__(
            MSSSIM(data_range),
            weights=weights,
            stride=stride,
            attention_scale=attention_scale,
            info=MS_SSIM_PLUS_SMIC_INFO,
        )

    def _rectify(
        self, base: Any, dist: Tensor, grids: Mapping[str, Tensor], return_map: bool
    ) -> MetricResult:
        m = self.base
        if min(dist.shape[-2:]) < m.min_size:
            raise InputError(
                f"'{self.info.name}' needs images of at least {m.min_size}x{m.min_size} pixels"
            )
        encoded: EncodedRef = base
        x: Tensor = expand_batch(encoded.data, dist.shape[0])
        y = dist
        kernel = gaussian_kernel1d(m.window_size, m.sigma, device=y.device, dtype=y.dtype)
        c1, c2 = (m.k1 * m.data_range) ** 2, (m.k2 * m.data_range) ** 2
        levels = len(m.weights)
        values: list[Tensor] = []
        fine_map = fine_att = dist.new_empty(0)
        for level in range(levels):
            if level > 0:
                x, y = downsample2x(x), downsample2x(y)
            s, cs = _ssim_cs_maps(x, y, kernel, c1, c2)
            att = self.combined_attention(grids, s.shape[-2:]).to(s.dtype)
            term = s if level == levels - 1 else cs
            values.append(1.0 - (att * (1.0 - term)).mean(dim=(2, 3)))
            if level == 0:
                fine_map, fine_att = 1.0 - s.mean(dim=1, keepdim=True), att
        clipped = torch.relu(torch.stack(values))  # (levels, N, C)
        w = torch.tensor(m.weights, device=dist.device, dtype=clipped.dtype).view(-1, 1, 1)
        score = (clipped**w).prod(dim=0).mean(dim=1)
        extras: dict[str, Any] = {
            "grids": dict(grids),
            "attention": fine_att,
            "distortion_map": fine_map,
            "scale_values": clipped,
        }
        return MetricResult(
            score=score, map=fine_map * fine_att if return_map else None, extras=extras
        )
