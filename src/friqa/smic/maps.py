"""SMIC attention maps for display: the stride-1 maps of the paper's figures, and metric panels.

The reference's map script (KANGX99/SMIC 6736abe, ``smic-pytorch/SMIC_Map.py``)
computes the attention ``1 - mean MIC`` of every 7x7 patch at stride 1 over the
relu3_3 and relu4_3 features (L2-pooled VGG16, un-normalised input, images
resized by ``prepare_image``), min-max normalises each stage's grid and shows it
zoomed to the image size with the colour map "magma" (the paper's Figures 1, 4
and 5). :func:`attention_maps` computes those grids (any stride), batched;
:func:`smic_maps` adds a metric's own distortion and rectified maps for a
Figure-5-style panel (:func:`friqa.plotting.maps.smic_panel`), for any metric of
either SMIC family through the interface they share
(:class:`friqa.smic.protocol.SMICMetric`), which gives the attention grids at the
display stride from the metric's own attention backbone and input.

The displayed attention combines the two normalised stage grids as the metrics
combine theirs (relu4_3 zoomed to the relu3_3 grid, averaged) and zooms the
result to the image size (``scipy.ndimage.zoom`` order-1 semantics).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from friqa.backbone.feature_cache import feature_cache
from friqa.exceptions import InputError
from friqa.metrics.base import Metric
from friqa.metrics.registry import create_metric, metric_info
from friqa.ops.resize import smic_prepare
from friqa.smic.attention import SMIC_STAGES, SMICAttention, combine_grids, min_max_normalize
from friqa.smic.consistent import smic_wrap
from friqa.smic.protocol import SMICMetric
from friqa.validation import check_pair

__all__ = ["SMICMaps", "attention_maps", "smic_maps"]


@dataclass
class SMICMaps:
    """Attention maps of a batch of pairs (and, from :func:`smic_maps`, a metric's maps).

    Attributes:
        ref, dist: ``(N, 3, H, W)`` the images the maps refer to (after the metric's
            preprocessing, in [0, 1]).
        grids: stage -> ``(N, gh, gw)`` raw attention ``1 - mean MIC`` (float64).
        normalized: stage -> the same grids min-max normalised per image.
        attention: ``(N, 1, H, W)`` the normalised stage grids combined and zoomed to
            the image size (what the panel shows).
        distortion: the metric's distortion map ``(N, 1, h, w)`` or ``None``.
        rectified: the metric's rectified map (distortion x its own attention).
        score: the metric's scores ``(N,)`` or ``None``.
        metric: the metric's name or ``None``.
        stride, patch_size: of the attention grids.
    """

    ref: Tensor
    dist: Tensor
    grids: dict[str, Tensor]
    normalized: dict[str, Tensor]
    attention: Tensor
    distortion: Tensor | None = None
    rectified: Tensor | None = None
    score: Tensor | None = None
    metric: str | None = None
    stride: int = 1
    patch_size: int = 7
    extras: dict[str, Any] = field(default_factory=dict)

    def arrays(self, index: int = 0) -> dict[str, np.ndarray]:
        """The maps of pair ``index`` as numpy arrays (for ``numpy.savez``)."""
        out: dict[str, np.ndarray] = {
            "ref": self.ref[index].detach().cpu().permute(1, 2, 0).numpy(),
            "dist": self.dist[index].detach().cpu().permute(1, 2, 0).numpy(),
            "attention": self.attention[index, 0].detach().cpu().numpy(),
        }
        for stage, g in self.grids.items():
            out[f"grid_{stage}"] = g[index].detach().cpu().numpy()
            out[f"normalized_{stage}"] = self.normalized[stage][index].detach().cpu().numpy()
        if self.distortion is not None:
            out["distortion"] = self.distortion[index, 0].detach().cpu().numpy()
        if self.rectified is not None:
            out["rectified"] = self.rectified[index, 0].detach().cpu().numpy()
        if self.score is not None:
            out["score"] = np.asarray(float(self.score[index]))
        return out


def _display(grids: Mapping[str, Tensor], size: Sequence[int]) -> tuple[dict[str, Tensor], Tensor]:
    """The grids min-max normalised per stage, and those combined and zoomed to ``size``."""
    normalized = {s: min_max_normalize(g) for s, g in grids.items()}
    return normalized, combine_grids(list(normalized.values()), size=tuple(size))


def attention_maps(
    ref: Tensor,
    dist: Tensor,
    *,
    weights: str | os.PathLike[str] | None = None,
    stride: int = 1,
    patch_size: int = 7,
    preprocess: bool = True,
    data_range: float = 1.0,
    stages: Sequence[str] = SMIC_STAGES,
) -> SMICMaps:
    """The SMIC attention maps of the reference's map script (stride 1 by default), batched.

    Args:
        ref, dist: ``(N, 3, H, W)`` images in ``[0, data_range]``.
        weights: VGG16 weights file.
        stride, patch_size: attention patches (the map script: 1 and 7).
        preprocess: resize as the reference's ``prepare_image`` first (default).
        data_range: the value of white.
        stages: VGG16 taps (relu3_3, relu4_3).

    Returns:
        :class:`SMICMaps` without metric maps; ``normalized`` holds the grids the
        reference script draws.

    Example:
        >>> maps = attention_maps(ref, dist, weights=path)  # doctest: +SKIP
        >>> maps.normalized["relu3_3"].shape  # doctest: +SKIP
        torch.Size([1, 58, 80])
    """
    ref, dist = check_pair(ref, dist, data_range=data_range)
    if data_range != 1.0:
        ref, dist = ref / data_range, dist / data_range
    if preprocess:
        ref, dist = smic_prepare(ref), smic_prepare(dist)
    att = SMICAttention(weights, pooling="l2", patch_size=patch_size, stride=stride, stages=stages)
    grids = att.pair_grids(ref, dist)
    normalized, combined = _display(grids, ref.shape[-2:])
    return SMICMaps(
        ref=ref,
        dist=dist,
        grids=grids,
        normalized=normalized,
        attention=combined,
        stride=stride,
        patch_size=patch_size,
    )


def _map_metric(metric: Metric | str, weights: str | os.PathLike[str] | None) -> SMICMetric:
    if isinstance(metric, str):
        info = metric_info(metric)
        if info.family not in ("smic", "smic-consistent"):
            if not info.returns_map:
                raise InputError(f"'{info.name}' has no distortion map for SMIC to weight")
            return smic_wrap(info.name, weights=weights)
        if not info.returns_map:
            raise InputError(
                f"'{info.name}' has no distortion map to draw (its score pools layers "
                "differently); use a metric with a map, for example psnr_smic, ssim_smic, "
                f"or the consistent variant of its base metric (see `friqa list`)"
            )
        metric = create_metric(info.name, weights=weights)
        if not isinstance(metric, SMICMetric):
            raise InputError(f"'{info.name}' does not implement friqa.smic.SMICMetric")
    if not isinstance(metric, SMICMetric):
        return smic_wrap(metric, weights=weights)
    if not metric.info.returns_map:
        raise InputError(f"'{metric.info.name}' has no distortion map to draw")
    return metric


def smic_maps(
    ref: Tensor,
    dist: Tensor,
    metric: Metric | str = "psnr_smic",
    *,
    weights: str | os.PathLike[str] | None = None,
    stride: int = 1,
    patch_size: int = 7,
) -> SMICMaps:
    """A metric's distortion and rectified maps with the stride-``stride`` attention map.

    ``metric``: a faithful SMIC metric with a map (``"psnr_smic"``, ``"ssim_smic"``), a
    consistent variant (``"lpips+smic"``, ...), any :class:`~friqa.smic.protocol.SMICMetric`
    with a map, or any metric with a map (wrapped with
    :func:`friqa.smic.consistent.smic_wrap`); ``weights`` serve to create it from a
    name or to wrap it. The images, the attention and the maps are those the metric
    works on (:meth:`~friqa.smic.protocol.SMICMetric.map_input`,
    :meth:`~friqa.smic.protocol.SMICMetric.pair_grids`): the reference's resized
    images for the faithful metrics, the images as given for the others (whose
    attention backbone sees the images at the SMIC working size; the attention is
    zoomed back).

    The rectified map is the metric's own (its distortion map times the attention
    its score uses, at its stride); the displayed attention is the stride-``stride``
    map, min-max normalised per stage as in the paper's figures.
    """
    m = _map_metric(metric, weights)
    ref, dist = check_pair(ref, dist, data_range=m.data_range)
    # One scope: the stride-``stride`` grids reuse the VGG16 passes of the score.
    with torch.no_grad(), feature_cache():
        result = m.compute(ref, dist, return_map=True)
        grids = m.pair_grids(ref, dist, stride=stride, patch_size=patch_size)
        shown_ref, shown_dist = m.map_input(ref), m.map_input(dist)
    normalized, combined = _display(grids, shown_ref.shape[-2:])
    return SMICMaps(
        ref=shown_ref,
        dist=shown_dist,
        grids=grids,
        normalized=normalized,
        attention=combined,
        distortion=result.extras.get("distortion_map"),
        rectified=result.map,
        score=result.score,
        metric=m.info.name,
        stride=stride,
        patch_size=patch_size,
    )
