"""LPIPS-SMIC: the SMIC reference's LPIPS variant, with attention on relu3_3 and relu4_3.

Reproduces ``LPIPS_SMIC`` of the SMIC reference (KANGX99/SMIC 6736abe,
``smic-pytorch/LPIPS_SMIC.py``), one score per image:

1. preprocessing (``preprocess=True``): :func:`friqa.ops.resize.smic_prepare`;
2. VGG16 with **max** pooling on the [0, 1] image as it is;
3. relu1_2, relu2_2, relu5_3: LPIPS v0.1's linear weights applied to
   ``(f_R - f_D)^2``, averaged over space;
4. relu3_3, relu4_3: the features are cut into 7x7 patches (stride 7); per patch
   the plain sum of ``(f_R - f_D)^2`` over all channels and the 49 positions,
   times the patch's attention ``1 - mean MIC`` (computed from the same
   features), averaged over the patches;
5. score = the sum of the five terms. Lower is better; 0 for identical images.

**This is not LPIPS with attention.** Quirks of the reference, all kept because
the published numbers include them:

* no LPIPS input scaling (``2x - 1`` and the shift/scale layer) and no ImageNet
  normalisation: the [0, 1] image goes straight into VGG16;
* no unit normalisation of the feature vectors over channels (LPIPS divides every
  feature vector by its norm) at any layer;
* at the two SMIC layers the learned linear weights are dropped and the raw
  squared differences are *summed* over channels and patch positions, so these
  two terms are in units of squared raw activations and dominate the score by
  orders of magnitude (scores are in the millions, against ~0.2 for LPIPS).

For LPIPS itself re-weighted by SMIC attention (normalisation and linear weights
kept at every layer) use the consistent variant ``"lpips+smic"``
(:class:`friqa.smic.consistent.LPIPSPlusSMIC`).

There is no single distortion map whose mean is the score (the layers are pooled
differently), so ``returns_map`` is False; ``extras`` holds the attention grids
(``"grids"``), the per-patch sums at the SMIC layers before weighting
(``"patch_distortion"``, stage -> ``(N, gh, gw)``) and the five per-layer terms
(``"layers"``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from torch import Tensor

from friqa.functional.lpips import LPIPS_LAYERS, apply_lpips_linear, lpips_linear_weights
from friqa.metrics.base import Family, MetricInfo, MetricResult
from friqa.metrics.registry import register_metric
from friqa.ops.patches import grid_shape, patch_columns
from friqa.smic._faithful import SMIC_GRADIENT_NOTE, SMIC_REFERENCE, SMIC_STAGES, FaithfulSMICMetric

__all__ = ["LPIPSSMIC", "lpips_smic", "LPIPS_SMIC_INFO", "patch_sums"]

LPIPS_SMIC_INFO = MetricInfo(
    name="lpips_smic",
    lower_better=True,
    score_range=(0.0, math.inf),
    needs_weights=True,
    returns_map=False,
    differentiable=False,
    family=Family.SMIC,
    gradient_note=SMIC_GRADIENT_NOTE,
    reference=f"{SMIC_REFERENCE}, LPIPS_SMIC.py",
    description=(
        "LPIPS-SMIC as the reference: un-normalised VGG16 (max pool), LPIPS v0.1 weights at "
        "relu1_2/2_2/5_3, attention-weighted raw patch sums at relu3_3/4_3"
    ),
)

#: Layers with LPIPS linear weights in LPIPS-SMIC (the others carry attention).
LINEAR_LAYERS: tuple[str, ...] = ("relu1_2", "relu2_2", "relu5_3")


def patch_sums(x: Tensor, patch_size: int, stride: int) -> Tensor:
    """Sum of ``x`` ``(N, C, h, w)`` over channels and each ``k x k`` patch: ``(N, gh, gw)``.

    Patches as :func:`friqa.ops.patches.patch_columns` (row-major grid, patches
    that do not fit are dropped).

    Example:
        >>> import torch
        >>> patch_sums(torch.ones(1, 2, 9, 9), 3, 3)
        tensor([[[18., 18., 18.],
                 [18., 18., 18.],
                 [18., 18., 18.]]])
    """
    gh, gw = grid_shape(x.shape[2], x.shape[3], patch_size, stride)
    cols = patch_columns(x, patch_size, stride).flatten(1, 2)  # (N, C*k*k, L)
    return cols.sum(dim=1).view(x.shape[0], gh, gw)


@register_metric(LPIPS_SMIC_INFO)
class LPIPSSMIC(FaithfulSMICMetric):
    """LPIPS-SMIC (see the module docstring for what it is and is not); lower is better.

    Gradients: with ``preprocess=False`` the score is differentiable with respect to
    ``dist``, the attention being a constant weight; the default PIL preprocessing
    has none.

    Args:
        weights: VGG16 weights file.
        preprocess: the reference's resizing (default True).
        data_range: the value of white in the inputs.
        precision: ``"fp32"`` (default) or ``"bf16"``: the backbone passes in bfloat16
            (CPU) / float16 (CUDA) autocast: faster, scores move slightly (see
            :mod:`friqa.backbone.precision`); never the default.
    """

    info = LPIPS_SMIC_INFO
    taps = LPIPS_LAYERS
    pooling = "max"
    lin_relu1_2: Tensor
    lin_relu2_2: Tensor
    lin_relu5_3: Tensor

    def __init__(
        self,
        weights: str | os.PathLike[str] | None = None,
        *,
        preprocess: bool = True,
        data_range: float = 1.0,
        precision: str = "fp32",
    ) -> None:
        super().__init__(weights, preprocess=preprocess, data_range=data_range, precision=precision)
        lin = lpips_linear_weights()
        for layer in LINEAR_LAYERS:
            self.register_buffer(f"lin_{layer}", lin[layer], persistent=False)

    def _score(
        self,
        ref: Tensor,
        dist: Tensor,
        ref_feats: Mapping[str, Tensor],
        dist_feats: Mapping[str, Tensor],
        return_map: bool,
    ) -> MetricResult:
        n = dist.shape[0]
        layers: dict[str, Tensor] = {}
        for k in LINEAR_LAYERS:
            diff = (ref_feats[k] - dist_feats[k]) ** 2
            layers[k] = apply_lpips_linear(diff, getattr(self, f"lin_{k}")).mean(dim=(1, 2, 3))
        grids = self.attention_grids(ref_feats, dist_feats)
        raw: dict[str, Tensor] = {}
        for k in SMIC_STAGES:
            raw[k] = patch_sums((ref_feats[k] - dist_feats[k]) ** 2, self.patch_size, self.stride)
            layers[k] = (raw[k].to(grids[k].dtype) * grids[k]).mean(dim=(1, 2))
        total = layers[LINEAR_LAYERS[0]]
        for k in (*LINEAR_LAYERS[1:], *SMIC_STAGES):  # the reference's order of summation
            total = total + layers[k]
        extras: dict[str, object] = {
            "grids": grids,
            "patch_distortion": raw,
            "layers": {k: layers[k].reshape(n) for k in LPIPS_LAYERS},
        }
        return MetricResult(score=total.to(dist.dtype), extras=extras)


def lpips_smic(
    ref: Tensor,
    dist: Tensor,
    *,
    weights: str | os.PathLike[str] | None = None,
    preprocess: bool = True,
    data_range: float = 1.0,
) -> Tensor:
    """LPIPS-SMIC of each pair, ``(N,)``; function form of :class:`LPIPSSMIC`."""
    return LPIPSSMIC(weights, preprocess=preprocess, data_range=data_range)(ref, dist)
