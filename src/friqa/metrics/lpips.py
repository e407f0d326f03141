"""LPIPS (VGG16, v0.1): learned perceptual image patch similarity.

Zhang, Isola, Efros, Shechtman and Wang, "The Unreasonable Effectiveness of Deep
Features as a Perceptual Metric", CVPR 2018. Reference code:
github.com/richzhang/PerceptualSimilarity, released as the PyPI package
``lpips`` 0.1.4; this module reproduces ``lpips.LPIPS(net='vgg', version='0.1')``
called with ``normalize=True`` (inputs in [0, 1]).

What is computed, for a reference ``x`` and a distorted ``y`` in [0, 1]:

1. map to [-1, 1] (``2 x - 1``), then LPIPS' scaling layer
   ``(v - shift) / scale`` with ``shift = (-0.030, -0.088, -0.188)`` and
   ``scale = (0.458, 0.448, 0.450)``. This is ImageNet normalisation
   ``(x - mean) / std`` exactly: ``(1 + shift) / 2 = (0.485, 0.456, 0.406)`` and
   ``scale / 2 = (0.229, 0.224, 0.225)``. friqa computes it in that form, so that
   LPIPS shares its VGG16 pass with DeepSSIM and its first block with DISTS
   (:class:`friqa.MetricSet`); the float32 input then differs from the package's
   by rounding (scores by 1e-7 relative at most on the shared kadid pairs);
2. VGG16 with max pooling, features at relu1_2, relu2_2, relu3_3, relu4_3, relu5_3;
3. each feature vector divided by its channel norm plus ``eps = 1e-10``;
4. squared difference, weighted over channels by the learned non-negative v0.1
   weights (a bias-free 1x1 convolution per layer), averaged over space;
5. summed over the five layers. Lower is better; 0 for identical images.

The distortion map is LPIPS' ``spatial=True`` output: every per-layer map of
step 4 (before averaging) resized to the input size with bilinear interpolation
(``align_corners=False``) and summed; shape ``(N, 1, H, W)``. Its mean is close
to, but not exactly, the score (resizing does not preserve means).

The building blocks (features, linear weights, layer maps) are in
:mod:`friqa.functional.lpips`.
"""

from __future__ import annotations

import math
import os

from torch import Tensor

from friqa.backbone.precision import check_precision
from friqa.backbone.provenance import weights_repr
from friqa.exceptions import InputError
from friqa.functional.lpips import (
    LPIPS_LAYERS,
    LPIPS_MIN_SIZE,
    lpips_features,
    lpips_layer_maps,
    lpips_linear_weights,
    lpips_spatial_map,
)
from friqa.metrics.base import EncodedRef, Family, Metric, MetricInfo, MetricResult
from friqa.metrics.function_form import metric_function
from friqa.metrics.registry import register_metric

__all__ = ["LPIPS", "lpips", "LPIPS_INFO"]

LPIPS_INFO = MetricInfo(
    name="lpips",
    lower_better=True,
    score_range=(0.0, math.inf),
    needs_weights=True,
    returns_map=True,
    differentiable=True,
    aligned=True,
    family=Family.BASE,
    reference=(
        "Zhang et al., CVPR 2018; richzhang/PerceptualSimilarity as PyPI lpips 0.1.4, "
        "LPIPS(net='vgg', version='0.1'), normalize=True"
    ),
    description="LPIPS v0.1 (VGG16): learned weighted distance of unit-normalised deep features",
)


@register_metric(LPIPS_INFO)
class LPIPS(Metric):
    """LPIPS v0.1 on VGG16 (see the module docstring). Lower is better.

    Args:
        weights: VGG16 weights file (``None``: friqa's default resolution, see
            :func:`friqa.backbone.resolve_vgg16_weights`).
        data_range: the value of white in the inputs.
        precision: ``"fp32"`` (default) or ``"bf16"``: the backbone passes in bfloat16
            (CPU) / float16 (CUDA): faster, scores move slightly (see
            :mod:`friqa.backbone.precision`); never the default.

    ``compute(..., return_map=True)`` gives the ``(N, 1, H, W)`` map of LPIPS'
    ``spatial=True`` mode. ``extras["layers"]`` holds the per-layer scores
    ``(N,)`` and, with a map, ``extras["layer_maps"]`` the per-layer maps at
    feature resolution.

    Example:
        >>> metric = LPIPS()  # doctest: +SKIP
        >>> metric(ref, dist)  # doctest: +SKIP
        tensor([0.1745])
    """

    info = LPIPS_INFO
    lin_relu1_2: Tensor
    lin_relu2_2: Tensor
    lin_relu3_3: Tensor
    lin_relu4_3: Tensor
    lin_relu5_3: Tensor

    def __init__(
        self,
        weights: str | os.PathLike[str] | None = None,
        data_range: float = 1.0,
        *,
        precision: str = "fp32",
    ) -> None:
        super().__init__(data_range)
        self.weights = weights
        self.precision = check_precision(precision)
        for layer, w in lpips_linear_weights().items():
            self.register_buffer(f"lin_{layer}", w, persistent=False)

    def linear_weights(self) -> dict[str, Tensor]:
        """This module's linear weights, layer -> ``(1, C, 1, 1)`` buffer."""
        return {k: getattr(self, f"lin_{k}") for k in LPIPS_LAYERS}

    def features(self, x: Tensor) -> dict[str, Tensor]:
        """Unit-normalised LPIPS features of ``x`` (in ``[0, data_range]``)."""
        if min(x.shape[-2:]) < LPIPS_MIN_SIZE:
            raise InputError(
                f"LPIPS needs images of at least {LPIPS_MIN_SIZE}x{LPIPS_MIN_SIZE} pixels (VGG16's "
                f"four 2x2 max-pools before relu5_3), got {x.shape[-2]}x{x.shape[-1]}; upsample "
                "the images first"
            )
        return lpips_features(x / self.data_range, self.weights)

    def _encode_ref(self, ref: Tensor) -> dict[str, Tensor]:
        return self.features(ref)

    def _compute(self, ref: EncodedRef, dist: Tensor, return_map: bool) -> MetricResult:
        feats_ref: dict[str, Tensor] = ref.data
        feats_dist = self.features(dist)
        maps = lpips_layer_maps(feats_ref, feats_dist, self.linear_weights())
        n = dist.shape[0]
        means = {k: maps[k].mean(dim=(2, 3), keepdim=True) for k in LPIPS_LAYERS}
        total = means[LPIPS_LAYERS[0]]
        for k in LPIPS_LAYERS[1:]:  # the reference's order of summation
            total = total + means[k]
        extras: dict[str, object] = {"layers": {k: v.reshape(n) for k, v in means.items()}}
        dmap: Tensor | None = None
        if return_map:
            dmap = lpips_spatial_map(maps, (dist.shape[2], dist.shape[3]))
            extras["layer_maps"] = maps
        return MetricResult(score=total.reshape(n), map=dmap, extras=extras)

    def extra_repr(self) -> str:
        return f"{weights_repr(self.weights)}, data_range={self.data_range:g}"


lpips = metric_function(
    LPIPS,
    "lpips",
    """LPIPS v0.1 (VGG16) of each pair: scores ``(N,)``, or ``(scores, map)`` with a map.

    Function form of :class:`LPIPS`; see the module docstring for the definition.

    Example:
        >>> import torch
        >>> x = torch.rand(1, 3, 64, 64)
        >>> lpips(x, x)  # doctest: +SKIP
        tensor([0.])
    """,
)
