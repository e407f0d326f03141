"""DeepWSD-SMIC: the SMIC reference's DeepWSD variant, with per-patch terms weighted by attention.

Reproduces ``DeepWSD_SMIC`` of the SMIC reference (KANGX99/SMIC 6736abe,
``smic-pytorch/DeepWSD_SMIC.py``, called with ``as_loss=False``), one score per
image:

1. preprocessing (``preprocess=True``): DeepWSD's ``wsd_prepare_image``
   (:func:`friqa.ops.resize.deepwsd_prepare`: longer side in (512, 1000) ->
   256x256 with PIL bilinear, aspect ratio not kept);
2. average pooling by ``f = max(1, round(max(H, W) / 256))`` (part of the model,
   always applied); DeepWSD's window is 16 when ``f >= 5``, else 4;
3. VGG16 with L2 pooling on the un-normalised image; layers image, relu1_2,
   relu2_2, relu3_3, relu4_3, relu5_3, each padded as DeepWSD pads
   (:func:`friqa.functional.deepwsd.deepwsd_pad`: Python ``round``, zeros on the
   left columns and bottom rows, a negative amount crops);
4. image, relu1_2, relu2_2, relu5_3: DeepWSD's layer term
   (:func:`friqa.functional.deepwsd.deepwsd_layer_term`: the memory-reinterpreting
   reshape, POT's unnormalised ``wasserstein_1d`` with p = 2, plus the weighted L2
   term of the reference's ``ws_distance``), each added as ``log(term + 1)``;
5. relu3_3, relu4_3: the *padded* layer and its projections are cut into 4x4
   patches with stride 4; per patch the same layer term of that patch alone
   (window 4, whatever DeepWSD's window), with the weights normalised by the sums
   of the *whole padded layer*, times ``1 - mean MIC`` of the patch (MIC on 16
   points), **summed** over patches (no log, no mean);
6. ``score = total / 6``, reported as ``log(score + 1)`` when ``f == 1`` and
   ``log(score + 1) ** 2`` otherwise (``as_loss=True``: the raw ``score``).
   Lower is better; 0 for identical images.

Quirks kept: the log is applied per layer at the four global layers but not to
the two SMIC layers, whose terms are sums over patches (so they dominate); the
patch term always uses window 4 while the padding uses DeepWSD's window; the base
DeepWSD instead sums the raw terms of all six layers before its log.

DeepWSD's columns are chunks of memory, not spatial regions, so there is no
distortion map (``returns_map=False``); ``extras`` holds ``"grids"``,
``"patch_distortion"`` (stage -> ``(N, gh, gw)`` unweighted patch terms),
``"layer_terms"`` (the six summands, ``(N, 6)``), ``"pool_factor"`` and
``"window"``.
"""

from __future__ import annotations

import math
import os
from typing import Any

import torch
from torch import Tensor

from friqa.exceptions import InputError
from friqa.functional.deepwsd import (
    DEEPWSD_TAPS,
    deepwsd_layer_term,
    deepwsd_model_input,
    deepwsd_output,
    deepwsd_pad,
    deepwsd_window,
)
from friqa.metrics.base import EncodedRef, MetricResult
from friqa.metrics.function_form import score_function
from friqa.metrics.registry import register_metric
from friqa.ops.patches import grid_shape, patch_vectors
from friqa.smic._faithful import SMIC_STAGES, FaithfulSMICMetric, faithful_info

__all__ = ["DeepWSDSMIC", "deepwsd_smic", "DEEPWSD_SMIC_INFO", "patch_layer_terms"]

DEEPWSD_SMIC_INFO = faithful_info(
    "deepwsd_smic",
    "DeepWSD_SMIC.py (as_loss=False); DeepWSD: github.com/Buka-Xing/DeepWSD @532c728",
    "DeepWSD-SMIC as the reference: log DeepWSD terms at image/relu1_2/2_2/5_3, "
    "attention-weighted 4x4 patch terms at relu3_3/4_3, DeepWSD resizing and pooling",
    lower_better=True,
    score_range=(0.0, math.inf),
    returns_map=False,
)

#: Layers with a global ``log(term + 1)`` in DeepWSD-SMIC.
GLOBAL_LAYERS: tuple[str, ...] = ("image", "relu1_2", "relu2_2", "relu5_3")


def patch_layer_terms(ref_feat: Tensor, dist_feat: Tensor, patch_size: int = 4) -> Tensor:
    """DeepWSD's layer term of every ``k x k`` patch (stride ``k``), normalised by the layer sums.

    ``(N, C, h, w)`` padded features -> ``(N, h // k, w // k)``. Each patch
    ``(C, k, k)`` is scored on its own with :func:`deepwsd_layer_term` (window ``k``),
    with the weights divided by the sum of the *whole* layer of its image, as the
    reference's ``ws_distance_faster``. All patches go through one batched call.
    """
    n, ch, h, w = ref_feat.shape
    k = patch_size
    gh, gw = grid_shape(h, w, k, k)

    def patches(x: Tensor) -> Tensor:  # (N * L, C, k, k)
        return patch_vectors(x, k, k).reshape(n * gh * gw, ch, k, k)

    ref_sum = ref_feat.sum(dim=(1, 2, 3)).repeat_interleave(gh * gw)
    dist_sum = dist_feat.sum(dim=(1, 2, 3)).repeat_interleave(gh * gw)
    terms = deepwsd_layer_term(
        patches(ref_feat), patches(dist_feat), k, ref_sum=ref_sum, dist_sum=dist_sum
    )
    return terms.view(n, gh, gw)


@register_metric(DEEPWSD_SMIC_INFO)
class DeepWSDSMIC(FaithfulSMICMetric):
    """DeepWSD-SMIC (see the module docstring); lower is better.

    Gradients: with ``preprocess=False`` the score is differentiable with respect to
    ``dist`` (the average pooling and the backbone are), the attention being a
    constant weight; the default PIL preprocessing has none.

    Args:
        weights: VGG16 weights file.
        preprocess: DeepWSD's resizing (default True). The ``f x f`` average pooling
            is part of the model and always applied.
        as_loss: return the raw ``total / 6`` instead of the ``log`` output.
        data_range: the value of white in the inputs.
        patch_size: attention patches and patch terms, which tile the layers (default 4).
        precision: ``"fp32"`` (default) or ``"bf16"``: the backbone passes in bfloat16
            (CPU) / float16 (CUDA): faster, scores move slightly (see
            :mod:`friqa.backbone.precision`); never the default.
    """

    info = DEEPWSD_SMIC_INFO
    taps = DEEPWSD_TAPS
    pooling = "l2"
    patch_size = 4
    stride = 4

    def __init__(
        self,
        weights: str | os.PathLike[str] | None = None,
        *,
        preprocess: bool = True,
        as_loss: bool = False,
        data_range: float = 1.0,
        patch_size: int | None = None,
        precision: str = "fp32",
    ) -> None:
        super().__init__(
            weights,
            preprocess=preprocess,
            data_range=data_range,
            patch_size=patch_size,
            stride=patch_size,  # the patch terms tile the layer: stride = patch size
            precision=precision,
        )
        self.as_loss = bool(as_loss)

    def prepare_pooled(self, x: Tensor) -> tuple[Tensor, int]:
        """Scale, resize (``preprocess``) and average-pool: the model's input and ``f``."""
        x = x / self.data_range if self.data_range != 1.0 else x
        return deepwsd_model_input(x, resize=self.preprocess)

    def prepare(self, x: Tensor) -> Tensor:
        return self.prepare_pooled(x)[0]

    def padded_features(self, x: Tensor, factor: int) -> dict[str, Tensor]:
        """The six layers of ``x`` (the pooled input), each padded as DeepWSD pads."""
        window = deepwsd_window(factor)
        return {k: deepwsd_pad(v, window) for k, v in self.features(x).items()}

    def _encode_ref(self, ref: Tensor) -> dict[str, Any]:
        x, factor = self.prepare_pooled(ref)
        return {"image": x, "factor": factor, "feats": self.padded_features(x, factor)}

    def _compute(self, ref: EncodedRef, dist: Tensor, return_map: bool) -> MetricResult:
        data: dict[str, Any] = ref.data
        y, factor = self.prepare_pooled(dist)
        if tuple(y.shape[1:]) != tuple(data["image"].shape[1:]) or factor != data["factor"]:
            raise InputError(
                f"'{self.info.name}': the prepared reference is {tuple(data['image'].shape)} "
                f"but the prepared distorted batch is {tuple(y.shape)}; give images of one size"
            )
        rf: dict[str, Tensor] = data["feats"]
        df = self.padded_features(y, factor)
        window = deepwsd_window(factor)
        summands: dict[str, Tensor] = {}
        for k in GLOBAL_LAYERS:
            summands[k] = torch.log(deepwsd_layer_term(rf[k], df[k], window) + 1)
        grids = self.attention_grids(rf, df)
        raw: dict[str, Tensor] = {}
        for k in SMIC_STAGES:
            raw[k] = patch_layer_terms(rf[k], df[k], self.patch_size)
            summands[k] = (raw[k].to(grids[k].dtype) * grids[k]).sum(dim=(1, 2))
        order = (*GLOBAL_LAYERS, *SMIC_STAGES)  # the reference's order of summation
        total = summands[order[0]].to(torch.float64)
        for k in order[1:]:
            total = total + summands[k]
        score = total / 6
        out = score if self.as_loss else deepwsd_output(score, factor)
        extras: dict[str, object] = {
            "grids": grids,
            "patch_distortion": raw,
            "layer_terms": torch.stack([summands[k].to(torch.float64) for k in order], dim=1),
            "pool_factor": factor,
            "window": window,
        }
        return MetricResult(score=out.to(dist.dtype), extras=extras)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, as_loss={self.as_loss}"


deepwsd_smic = score_function(
    DeepWSDSMIC,
    "deepwsd_smic",
    """DeepWSD-SMIC of each pair, ``(N,)``; function form of :class:`DeepWSDSMIC`.""",
)
