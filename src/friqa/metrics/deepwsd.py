"""DeepWSD: Wasserstein distances between deep features.

Liao, Chen, Zhu, Wang, Zhang, Kwong, "DeepWSD: Projecting Degradations in
Perceptual Space to Wasserstein Distance in Deep Feature Space", ACM MM 2022.
Reference code: github.com/Buka-Xing/DeepWSD, commit 532c728 (MIT). This module
reproduces what that code computes (``DeepWSD()(ref, dist, as_loss=False)``),
one score per image:

1. Optional preprocessing (``resize="deepwsd"``, the reference's
   ``prepare_image``): images whose longer side is in (512, 1000) are resized to
   256x256 with PIL bilinear (:func:`friqa.ops.resize.deepwsd_prepare`). Off by
   default (``resize=None``), as for every friqa base metric.
2. Average pooling by ``f = max(1, round(max(H, W) / 256))`` (f x f, stride f;
   part of the model, always applied); the window is 16 when ``f >= 5``, else 4.
3. VGG16 with L2 pooling, **no** ImageNet normalisation (the [0, 1] image goes in
   as it is); layers image, relu1_2, relu2_2, relu3_3, relu4_3, relu5_3.
4. Per layer: :func:`~friqa.functional.deepwsd.deepwsd_pad` (Python ``round``,
   zeros on the left columns and bottom rows, a negative amount crops), then
   :func:`~friqa.functional.deepwsd.deepwsd_layer_term`.
5. ``score = sum of the six terms / 6``; reported as ``log(score + 1)`` when
   ``f == 1`` and ``log(score + 1) ** 2`` otherwise (``as_loss=True`` gives the
   raw ``score``, the reference's loss mode).

The per-layer term does not compare spatial windows: the reference *reinterprets
the memory* of the ``(C, H, W)`` feature tensor as ``(window**2, C*H*W/window**2)``
(row ``i`` is the ``i``-th contiguous chunk of the flattened tensor). Each of the
``C*H*W/window**2`` columns is one "distribution" of ``window**2`` atoms at the
positions ``0 .. window**2 - 1``, weighted by ``x**2 / (sum(x) + 1e-6)`` where the
sum runs over the whole padded layer. The columns of ref and dist are compared
with :func:`~friqa.functional.deepwsd.wasserstein_1d` (p = 2, weights *not*
normalised, POT's semantics), plus a weighted squared difference; see
:func:`~friqa.functional.deepwsd.deepwsd_layer_term`. Because the
columns are not spatial regions, DeepWSD gives no distortion map
(``returns_map=False``); the six per-layer terms are in
``compute(...).extras["layer_terms"]``.
"""

from __future__ import annotations

import math
import os
from typing import Any

import torch
from torch import Tensor

from friqa.backbone.precision import check_precision
from friqa.backbone.provenance import weights_repr
from friqa.exceptions import InputError
from friqa.functional.deepwsd import (
    DEEPWSD_TAPS,
    deepwsd_features,
    deepwsd_layer_term,
    deepwsd_model_input,
    deepwsd_output,
    deepwsd_pad,
    deepwsd_window,
)
from friqa.metrics.base import EncodedRef, Family, Metric, MetricInfo, MetricResult
from friqa.metrics.registry import register_metric

__all__ = ["DEEPWSD_INFO", "DeepWSD", "deepwsd"]

DEEPWSD_INFO = MetricInfo(
    name="deepwsd",
    lower_better=True,
    score_range=(0.0, math.inf),
    needs_weights=True,
    returns_map=False,
    differentiable=True,
    aligned=True,
    family=Family.BASE,
    reference=(
        "Liao et al., DeepWSD: Projecting Degradations in Perceptual Space to Wasserstein "
        "Distance in Deep Feature Space, ACM MM 2022; github.com/Buka-Xing/DeepWSD @532c728"
    ),
    description="Wasserstein distances between VGG16 (L2-pooled) feature distributions",
)


# --- the metric ---------------------------------------------------------------------------
@register_metric(DEEPWSD_INFO)
class DeepWSD(Metric):
    """DeepWSD (Liao et al., ACM MM 2022), as the reference computes it (see the module docs).

    Args:
        resize: ``None`` (default, no resizing) or ``"deepwsd"`` (the reference's
            ``prepare_image``: longer side in (512, 1000) -> 256x256 via PIL; not
            differentiable when it applies). The model's own f x f average pooling
            is always applied.
        as_loss: return the raw mean of the six layer terms (the reference's
            ``as_loss=True``) instead of the ``log``/``log**2`` output.
        weights: VGG16 weights (see :func:`friqa.backbone.get_vgg16`).
        data_range: the value of white in the inputs.
        precision: ``"fp32"`` (default) or ``"bf16"``: the backbone passes in bfloat16
            (CPU) / float16 (CUDA): faster, scores move slightly (see
            :mod:`friqa.backbone.precision`); never the default.

    Scores: lower is better, 0 for identical images, one per image; a batch gives
    the same scores as its images one by one.
    """

    info = DEEPWSD_INFO

    def __init__(
        self,
        resize: str | None = None,
        as_loss: bool = False,
        weights: str | os.PathLike[str] | None = None,
        data_range: float = 1.0,
        *,
        precision: str = "fp32",
    ) -> None:
        super().__init__(data_range=data_range)
        self.precision = check_precision(precision)
        if resize not in (None, "deepwsd"):
            raise InputError(f"resize must be None or 'deepwsd', got {resize!r}")
        self.resize = resize
        self.as_loss = bool(as_loss)
        self.weights = weights

    def _prepare(self, x: Tensor) -> tuple[Tensor, int]:
        x = x / self.data_range if self.data_range != 1.0 else x
        return deepwsd_model_input(x, resize=self.resize == "deepwsd")

    def _encode_ref(self, ref: Tensor) -> Any:
        x, factor = self._prepare(ref)
        window = deepwsd_window(factor)
        feats = deepwsd_features(x, self.weights)
        return {"feats": [deepwsd_pad(feats[t], window) for t in DEEPWSD_TAPS], "factor": factor}

    def _compute(self, ref: EncodedRef, dist: Tensor, return_map: bool) -> MetricResult:
        y, factor = self._prepare(dist)
        if factor != ref.data["factor"]:
            raise InputError("ref and dist were prepared with different pooling factors")
        window = deepwsd_window(factor)
        feats = deepwsd_features(y, self.weights)
        terms = [
            deepwsd_layer_term(r, deepwsd_pad(feats[t], window), window)
            for r, t in zip(ref.data["feats"], DEEPWSD_TAPS, strict=True)
        ]
        layer_terms = torch.stack(terms, dim=1)
        score = layer_terms.sum(dim=1) / len(terms)
        out = score if self.as_loss else deepwsd_output(score, factor)
        return MetricResult(
            score=out,
            extras={"layer_terms": layer_terms, "pool_factor": factor, "window": window},
        )

    def extra_repr(self) -> str:
        return (
            f"{weights_repr(self.weights)}, resize={self.resize!r}, as_loss={self.as_loss}, "
            + super().extra_repr()
        )


def deepwsd(
    ref: Tensor,
    dist: Tensor,
    *,
    resize: str | None = None,
    as_loss: bool = False,
    weights: str | os.PathLike[str] | None = None,
    data_range: float = 1.0,
) -> Tensor:
    """DeepWSD scores ``(N,)`` of ``dist`` against ``ref`` (``(N, 3, H, W)`` in [0, data_range]).

    Function form of :class:`DeepWSD`; see it for the options.
    """
    metric = DeepWSD(resize=resize, as_loss=as_loss, weights=weights, data_range=data_range)
    return metric(ref, dist)
