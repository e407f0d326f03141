"""DISTS: deep image structure and texture similarity.

Ding, Ma, Wang and Simoncelli, "Image Quality Assessment: Unifying Structure and
Texture Similarity", IEEE TPAMI 2020. Reference code: github.com/dingkeyan93/DISTS,
released as the PyPI package ``dists-pytorch`` 0.1 (module ``DISTS_pytorch``);
this module reproduces ``DISTS_pytorch.DISTS()`` on inputs in [0, 1].

What is computed, for a reference ``x`` and a distorted ``y`` in [0, 1]:

1. VGG16 with L2 pooling instead of max pooling, on ImageNet-normalised input;
   six feature sets: the input image itself (not normalised) and relu1_2,
   relu2_2, relu3_3, relu4_3, relu5_3 (3 + 64 + 128 + 256 + 512 + 512 = 1475
   channels);
2. per channel, global spatial statistics: means ``mu``, variances
   ``var = mean((f - mu)^2)`` (centred, biased) and the covariance
   ``cov = mean(f_x f_y) - mu_x mu_y`` (biased, computed from raw moments);
3. structure ``S1 = (2 mu_x mu_y + c1) / (mu_x^2 + mu_y^2 + c1)`` and texture
   ``S2 = (2 cov + c2) / (var_x + var_y + c2)``, ``c1 = c2 = 1e-6``;
4. ``score = 1 - sum_c (alpha_c S1_c + beta_c S2_c)`` with the learned weights
   divided by their joint sum ``sum(alpha) + sum(beta)``. Lower is better;
   0 for identical images.

DISTS has no distortion map: its statistics are global over each feature map,
so ``returns_map`` is False. Per-layer terms are in ``MetricResult.extras``:
``"structure"`` / ``"texture"`` (layer -> ``(N,)``, the weighted sums
``sum_c alpha_c S1_c`` / ``sum_c beta_c S2_c``) and ``"s1"`` / ``"s2"`` (layer ->
``(N, C)``, unweighted). For local statistics (the SMIC variant's per-patch
terms) apply :func:`friqa.functional.dists.dists_structure_texture` to patches.
"""

from __future__ import annotations

import os

import torch
from torch import Tensor

from friqa.backbone.precision import check_precision
from friqa.backbone.provenance import weights_repr
from friqa.functional.dists import (
    DISTS_CHANNELS,
    DISTS_LAYERS,
    dists_alpha_beta,
    dists_distance,
    dists_features,
)
from friqa.metrics.base import EncodedRef, Family, Metric, MetricInfo, MetricResult
from friqa.metrics.registry import register_metric

__all__ = ["DISTS", "dists", "DISTS_INFO"]

DISTS_INFO = MetricInfo(
    name="dists",
    lower_better=True,
    # S1 lies in [0, 1] (non-negative features) and S2 in [-1, 1]; with the shipped
    # weights (all >= 0, normalised beta summing to 0.1240) the score is in [0, 1.124].
    score_range=(0.0, 1.125),
    needs_weights=True,
    returns_map=False,
    differentiable=True,
    aligned=True,
    family=Family.BASE,
    reference=(
        "Ding et al., TPAMI 2020; dingkeyan93/DISTS as PyPI dists-pytorch 0.1 (DISTS_pytorch)"
    ),
    description="DISTS: structure and texture similarity of L2-pooled VGG16 features (global)",
)


@register_metric(DISTS_INFO)
class DISTS(Metric):
    """DISTS (see the module docstring). Lower is better; no distortion map.

    Args:
        weights: VGG16 weights file (``None``: friqa's default resolution, see
            :func:`friqa.backbone.resolve_vgg16_weights`).
        data_range: the value of white in the inputs.
        precision: ``"fp32"`` (default) or ``"bf16"``: the backbone passes in bfloat16
            (CPU) / float16 (CUDA): faster, scores move slightly (see
            :mod:`friqa.backbone.precision`); never the default.

    Example:
        >>> metric = DISTS()  # doctest: +SKIP
        >>> metric(ref, dist)  # doctest: +SKIP
        tensor([0.1264])
    """

    info = DISTS_INFO
    alpha: Tensor
    beta: Tensor

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
        alpha, beta = dists_alpha_beta()
        self.register_buffer("alpha", torch.cat([alpha[k] for k in DISTS_LAYERS]), persistent=False)
        self.register_buffer("beta", torch.cat([beta[k] for k in DISTS_LAYERS]), persistent=False)

    def alpha_beta(self, like: Tensor) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """The normalised alpha/beta split per layer, on ``like``'s device and dtype."""
        a = self.alpha.to(device=like.device, dtype=like.dtype)
        b = self.beta.to(device=like.device, dtype=like.dtype)
        sizes = list(DISTS_CHANNELS)
        return (
            dict(zip(DISTS_LAYERS, torch.split(a, sizes), strict=True)),
            dict(zip(DISTS_LAYERS, torch.split(b, sizes), strict=True)),
        )

    def features(self, x: Tensor) -> dict[str, Tensor]:
        """DISTS features of ``x`` (in ``[0, data_range]``)."""
        return dists_features(x / self.data_range, self.weights)

    def _encode_ref(self, ref: Tensor) -> dict[str, Tensor]:
        return self.features(ref)

    def _compute(self, ref: EncodedRef, dist: Tensor, return_map: bool) -> MetricResult:
        feats_ref: dict[str, Tensor] = ref.data
        feats_dist = self.features(dist)
        alpha, beta = self.alpha_beta(dist)
        score, terms = dists_distance(feats_ref, feats_dist, alpha, beta)
        extras: dict[str, object] = {
            name: {k: getattr(t, name) for k, t in terms.items()}
            for name in ("structure", "texture", "s1", "s2")
        }
        return MetricResult(score=score, map=None, extras=extras)

    def extra_repr(self) -> str:
        return f"{weights_repr(self.weights)}, data_range={self.data_range:g}"


def dists(
    ref: Tensor,
    dist: Tensor,
    *,
    weights: str | os.PathLike[str] | None = None,
    return_map: bool = False,
    data_range: float = 1.0,
) -> Tensor:
    """DISTS of each pair, shape ``(N,)``; function form of :class:`DISTS`.

    DISTS has no distortion map (its statistics are global): ``return_map=True``
    raises :class:`~friqa.exceptions.InputError`; the argument exists so that all
    metric functions share one signature.

    Example:
        >>> x = torch.rand(1, 3, 64, 64)
        >>> dists(x, x)  # doctest: +SKIP
        tensor([0.])
    """
    return DISTS(weights, data_range).compute(ref, dist, return_map=return_map).score
