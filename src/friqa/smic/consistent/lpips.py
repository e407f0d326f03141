"""``lpips+smic``: LPIPS with SMIC attention at every layer (consistent SMIC variant)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from friqa.functional.lpips import LPIPS_LAYERS, lpips_layer_maps
from friqa.metrics.base import EncodedRef, Metric, MetricResult, expand_batch
from friqa.metrics.lpips import LPIPS
from friqa.metrics.registry import register_metric
from friqa.smic.consistent.variant import SMICVariant, consistent_info

__all__ = ["LPIPSPlusSMIC", "LPIPS_PLUS_SMIC_INFO"]

LPIPS_PLUS_SMIC_INFO = consistent_info(
    "lpips+smic",
    "LPIPS v0.1 VGG, every layer kept as in LPIPS",
    "LPIPS with every layer's map weighted by SMIC attention (consistent SMIC)",
    lower_better=True,
    score_range=(0.0, math.inf),
)


@register_metric(LPIPS_PLUS_SMIC_INFO)
class LPIPSPlusSMIC(SMICVariant):
    """LPIPS (v0.1, VGG) with SMIC attention at every layer; lower is better.

    Everything of LPIPS is kept (input scaling, unit normalisation of the features,
    the learned linear weights at all five layers); each layer's map
    ``lin((f_R - f_D)^2)`` is multiplied by the attention zoomed to that layer's
    size before the spatial mean. Map: the rectified layer maps upsampled to the
    input size (bilinear, as LPIPS' ``spatial=True``) and summed (``extras``:
    ``"layers"`` always; ``"distortion_map"`` and ``"layer_maps"`` with a map). Compare
    ``"lpips_smic"``, the reference's variant (no normalisation, no linear weights
    at relu3_3/relu4_3, raw patch sums). Differentiable (attention constant).
    """

    info = LPIPS_PLUS_SMIC_INFO
    base: LPIPS

    @classmethod
    def base_metric(
        cls, weights: str | os.PathLike[str] | None, data_range: float, precision: str
    ) -> Metric:
        return LPIPS(weights, data_range, precision=precision)

    def _rectify(
        self, base: Any, dist: Tensor, grids: Mapping[str, Tensor], return_map: bool
    ) -> MetricResult:
        encoded: EncodedRef = base
        feats_ref: dict[str, Tensor] = expand_batch(encoded.data, dist.shape[0])
        feats_dist = self.base.features(dist)
        maps = lpips_layer_maps(feats_ref, feats_dist, self.base.linear_weights())
        rect: dict[str, Tensor] = {}
        layers: dict[str, Tensor] = {}
        for k in LPIPS_LAYERS:
            att = self.combined_attention(grids, maps[k].shape[-2:]).to(maps[k].dtype)
            rect[k] = maps[k] * att
            layers[k] = rect[k].mean(dim=(1, 2, 3))
        total = layers[LPIPS_LAYERS[0]]
        for k in LPIPS_LAYERS[1:]:
            total = total + layers[k]
        size = (dist.shape[-2], dist.shape[-1])
        extras: dict[str, Any] = {
            "grids": dict(grids),
            "attention": self.combined_attention(grids, size),
            "layers": layers,
        }
        rectified: Tensor | None = None
        if return_map:

            def spatial(ms: Mapping[str, Tensor]) -> Tensor:
                ups = [
                    F.interpolate(ms[k], size=size, mode="bilinear", align_corners=False)
                    for k in LPIPS_LAYERS
                ]
                return torch.stack(ups).sum(dim=0)

            rectified = spatial(rect)
            extras["distortion_map"] = spatial(maps)
            extras["layer_maps"] = rect
        return MetricResult(score=total, map=rectified, extras=extras)
