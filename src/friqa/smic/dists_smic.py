"""DISTS-SMIC: the SMIC reference's DISTS variant, with local terms weighted by attention.

Reproduces ``DISTS_SMIC`` of the SMIC reference (KANGX99/SMIC 6736abe,
``smic-pytorch/DISTS_SMIC.py``), one score per image:

1. preprocessing (``preprocess=True``): :func:`friqa.ops.resize.smic_prepare`;
2. VGG16 with L2 pooling on the [0, 1] image **without** ImageNet normalisation;
   feature sets image, relu1_2, relu2_2, relu3_3, relu4_3, relu5_3;
3. DISTS' alpha/beta divided by their joint sum over all 1475 channels (as in
   DISTS); global structure/texture terms (``c1 = c2 = 1e-6``) for image,
   relu1_2, relu2_2 and relu5_3 only: ``d = sum alpha S1 + sum beta S2``;
4. relu3_3, relu4_3: 7x7 patches with **stride 6** (for the attention and the
   statistics alike); per patch S1 and S2 from the patch's own statistics,
   averaged *uniformly* over the channels (alpha/beta are not used here), term
   ``(1 - mean MIC) * (2 - S1 - S2)``, averaged over the patches;
5. ``score = (1 - d) + term(relu3_3) + term(relu4_3)``. Lower is better.

Quirks of the reference kept here: no ImageNet normalisation (DISTS normalises);
the alpha/beta of relu3_3 and relu4_3 still count in the normalising sum though
their global terms are dropped, so ``1 - d`` never falls below their share
(0.4321 with the shipped weights): identical images score 0.4321, not 0; the
local terms are unweighted channel means, on another scale than the global ones.

There is no distortion map whose mean is the score, so ``returns_map`` is
False; ``extras`` holds ``"grids"`` (attention), ``"patch_distortion"``
(stage -> ``(N, gh, gw)``, the unweighted ``2 - S1 - S2``), ``"global"``
(``(N,)``, the ``1 - d`` part) and ``"layers"`` (the two local terms).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from torch import Tensor

from friqa.functional.dists import (
    DISTS_LAYERS,
    dists_alpha_beta,
    dists_distance,
    dists_structure_texture,
)
from friqa.metrics.base import Family, MetricInfo, MetricResult
from friqa.metrics.registry import register_metric
from friqa.ops.patches import grid_shape, patch_columns
from friqa.smic._faithful import SMIC_GRADIENT_NOTE, SMIC_REFERENCE, SMIC_STAGES, FaithfulSMICMetric

__all__ = ["DISTSSMIC", "dists_smic", "DISTS_SMIC_INFO", "patch_structure_texture"]

DISTS_SMIC_INFO = MetricInfo(
    name="dists_smic",
    lower_better=True,
    # 1 - d >= 0.4321 (the dropped layers' share of alpha/beta), <= 1.125 (see "dists");
    # each local term lies in [0, 3]
    score_range=(0.0, 7.125),
    needs_weights=True,
    returns_map=False,
    differentiable=False,
    family=Family.SMIC,
    gradient_note=SMIC_GRADIENT_NOTE,
    reference=f"{SMIC_REFERENCE}, DISTS_SMIC.py",
    description=(
        "DISTS-SMIC as the reference: un-normalised L2-pooled VGG16, global DISTS terms at "
        "image/relu1_2/2_2/5_3, attention-weighted patch S1/S2 (k7 s6) at relu3_3/4_3"
    ),
)

#: Feature sets with global DISTS terms in DISTS-SMIC.
GLOBAL_LAYERS: tuple[str, ...] = ("image", "relu1_2", "relu2_2", "relu5_3")


def patch_structure_texture(
    fx: Tensor, fy: Tensor, patch_size: int, stride: int
) -> tuple[Tensor, Tensor]:
    """DISTS' ``S1`` and ``S2`` of every ``k x k`` patch, averaged over channels.

    ``(N, C, h, w)`` features -> two ``(N, gh, gw)`` tensors (patch grid as
    :func:`friqa.ops.patches.patch_columns`); statistics as
    :func:`friqa.functional.dists.dists_structure_texture` over the patch positions.
    """
    n = fx.shape[0]
    gh, gw = grid_shape(fx.shape[2], fx.shape[3], patch_size, stride)
    px, py = patch_columns(fx, patch_size, stride), patch_columns(fy, patch_size, stride)
    s1, s2 = dists_structure_texture(px, py, 2)  # (N, C, L)
    return s1.mean(dim=1).view(n, gh, gw), s2.mean(dim=1).view(n, gh, gw)


@register_metric(DISTS_SMIC_INFO)
class DISTSSMIC(FaithfulSMICMetric):
    """DISTS-SMIC (see the module docstring); lower is better.

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

    info = DISTS_SMIC_INFO
    taps = DISTS_LAYERS
    pooling = "l2"
    stride = 6
    alpha: Tensor
    beta: Tensor

    def __init__(
        self,
        weights: str | os.PathLike[str] | None = None,
        *,
        preprocess: bool = True,
        data_range: float = 1.0,
        precision: str = "fp32",
    ) -> None:
        super().__init__(weights, preprocess=preprocess, data_range=data_range, precision=precision)
        alpha, beta = dists_alpha_beta()
        for name, parts in (("alpha", alpha), ("beta", beta)):
            for k in GLOBAL_LAYERS:
                self.register_buffer(f"{name}_{k}", parts[k], persistent=False)

    def _score(
        self,
        ref: Tensor,
        dist: Tensor,
        ref_feats: Mapping[str, Tensor],
        dist_feats: Mapping[str, Tensor],
        return_map: bool,
    ) -> MetricResult:
        alpha = {k: getattr(self, f"alpha_{k}") for k in GLOBAL_LAYERS}
        beta = {k: getattr(self, f"beta_{k}") for k in GLOBAL_LAYERS}
        global_part, _ = dists_distance(ref_feats, dist_feats, alpha, beta, GLOBAL_LAYERS)
        grids = self.attention_grids(ref_feats, dist_feats)
        raw: dict[str, Tensor] = {}
        layers: dict[str, Tensor] = {}
        for k in SMIC_STAGES:
            s1, s2 = patch_structure_texture(
                ref_feats[k], dist_feats[k], self.patch_size, self.stride
            )
            raw[k] = 2 - s1 - s2
            layers[k] = (raw[k].to(grids[k].dtype) * grids[k]).mean(dim=(1, 2))
        score = global_part.to(layers[SMIC_STAGES[0]].dtype)
        for k in SMIC_STAGES:
            score = score + layers[k]
        extras: dict[str, object] = {
            "grids": grids,
            "patch_distortion": raw,
            "global": global_part,
            "layers": layers,
        }
        return MetricResult(score=score.to(dist.dtype), extras=extras)


def dists_smic(
    ref: Tensor,
    dist: Tensor,
    *,
    weights: str | os.PathLike[str] | None = None,
    preprocess: bool = True,
    data_range: float = 1.0,
) -> Tensor:
    """DISTS-SMIC of each pair, ``(N,)``; function form of :class:`DISTSSMIC`."""
    return DISTSSMIC(weights, preprocess=preprocess, data_range=data_range)(ref, dist)
