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
terms) apply :func:`dists_structure_texture` to patches.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch
from torch import Tensor

from friqa.backbone import get_vgg16
from friqa.exceptions import WeightsError
from friqa.metrics.base import EncodedRef, Metric, MetricInfo, MetricResult
from friqa.metrics.registry import register_metric
from friqa.weights import load_shipped

__all__ = [
    "DISTS",
    "dists",
    "DISTS_LAYERS",
    "DISTS_CHANNELS",
    "DISTS_C1",
    "DISTS_C2",
    "DISTS_WEIGHTS_FILE",
    "dists_alpha_beta",
    "dists_features",
    "dists_structure_texture",
]

#: The six feature sets of DISTS, in the order of its alpha/beta channels.
DISTS_LAYERS: tuple[str, ...] = ("image", "relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")
#: Their channels (1475 in total).
DISTS_CHANNELS: tuple[int, ...] = (3, 64, 128, 256, 512, 512)
#: Stabilising constants of the structure and texture terms.
DISTS_C1 = 1e-6
DISTS_C2 = 1e-6
#: The shipped alpha/beta file (``friqa.weights``).
DISTS_WEIGHTS_FILE = "dists_alpha_beta.pt"

INFO = MetricInfo(
    name="dists",
    lower_better=True,
    # S1 lies in [0, 1] (non-negative features) and S2 in [-1, 1]; with the shipped
    # weights (all >= 0, normalised beta summing to 0.1240) the score is in [0, 1.124].
    score_range=(0.0, 1.125),
    needs_weights=True,
    returns_map=False,
    differentiable=True,
    aligned=True,
    family="base",
    reference=(
        "Ding et al., TPAMI 2020; dingkeyan93/DISTS as PyPI dists-pytorch 0.1 (DISTS_pytorch)"
    ),
    description="DISTS: structure and texture similarity of L2-pooled VGG16 features (global)",
)


def dists_alpha_beta(
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
    *,
    normalized: bool = True,
) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """DISTS' learned weights split per layer: ``(alpha, beta)``, layer -> ``(C,)``.

    With ``normalized=True`` (as DISTS uses them) both are divided by
    ``sum(alpha) + sum(beta)`` over all 1475 channels, computed in float32 as
    the reference does, before conversion to ``dtype``.

    Example:
        >>> alpha, beta = dists_alpha_beta()
        >>> [tuple(alpha[k].shape) for k in ("image", "relu5_3")]
        [(3,), (512,)]
    """
    raw = load_shipped(DISTS_WEIGHTS_FILE)
    total = sum(DISTS_CHANNELS)
    for key in ("alpha", "beta"):
        if key not in raw or tuple(raw[key].shape) != (1, total, 1, 1):
            raise WeightsError(
                f"{DISTS_WEIGHTS_FILE}: expected '{key}' of shape (1, {total}, 1, 1); the "
                "shipped file is not DISTS' alpha/beta"
            )
    alpha, beta = raw["alpha"].float(), raw["beta"].float()
    if normalized:
        w_sum = alpha.sum() + beta.sum()
        alpha, beta = alpha / w_sum, beta / w_sum
    a_parts = torch.split(alpha.reshape(total), list(DISTS_CHANNELS))
    b_parts = torch.split(beta.reshape(total), list(DISTS_CHANNELS))
    return (
        {k: v.to(device=device, dtype=dtype) for k, v in zip(DISTS_LAYERS, a_parts, strict=True)},
        {k: v.to(device=device, dtype=dtype) for k, v in zip(DISTS_LAYERS, b_parts, strict=True)},
    )


def dists_features(
    x: Tensor,
    weights: str | os.PathLike[str] | None = None,
    *,
    layers: Sequence[str] = DISTS_LAYERS,
) -> dict[str, Tensor]:
    """DISTS' features of images ``x`` in [0, 1]: layer -> ``(N, C, h, w)``.

    VGG16 with L2 pooling on ImageNet-normalised input; the ``image`` entry is
    ``x`` itself.
    """
    net = get_vgg16(weights, "l2", device=x.device, dtype=x.dtype)
    return net(x, tuple(layers), normalize=True)


def dists_structure_texture(
    fx: Tensor,
    fy: Tensor,
    dim: int | Sequence[int] = (-2, -1),
    *,
    c1: float = DISTS_C1,
    c2: float = DISTS_C2,
    keepdim: bool = False,
) -> tuple[Tensor, Tensor]:
    """DISTS' structure and texture terms ``(S1, S2)`` with statistics over ``dim``.

    ``dim`` holds the dimensions the statistics are taken over (the spatial ones
    for DISTS; the positions of each patch for a local variant); every other
    dimension (batch, channel, patch index) is kept. Means and the variances
    ``mean((f - mu)^2)`` are biased; the covariance is ``mean(f_x f_y) - mu_x mu_y``,
    exactly as in the reference code.

    Example:
        >>> f = torch.rand(2, 5, 8, 8)
        >>> s1, s2 = dists_structure_texture(f, f)
        >>> s1.shape, bool(torch.allclose(s2, torch.ones(2, 5)))
        (torch.Size([2, 5]), True)
    """
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    mx = fx.mean(dims, keepdim=True)
    my = fy.mean(dims, keepdim=True)
    s1 = (2 * mx * my + c1) / (mx**2 + my**2 + c1)
    vx = ((fx - mx) ** 2).mean(dims, keepdim=True)
    vy = ((fy - my) ** 2).mean(dims, keepdim=True)
    cxy = (fx * fy).mean(dims, keepdim=True) - mx * my
    s2 = (2 * cxy + c2) / (vx + vy + c2)
    if not keepdim:
        s1, s2 = s1.squeeze(dims), s2.squeeze(dims)
    return s1, s2


@register_metric(INFO)
class DISTS(Metric):
    """DISTS (see the module docstring). Lower is better; no distortion map.

    Args:
        weights: VGG16 weights file (``None``: friqa's default resolution, see
            :func:`friqa.backbone.resolve_vgg16_weights`).
        data_range: the value of white in the inputs.

    Example:
        >>> metric = DISTS()  # doctest: +SKIP
        >>> metric(ref, dist)  # doctest: +SKIP
        tensor([0.1264])
    """

    info = INFO
    alpha: Tensor
    beta: Tensor

    def __init__(
        self, weights: str | os.PathLike[str] | None = None, data_range: float = 1.0
    ) -> None:
        super().__init__(data_range)
        self.weights = weights
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
        s1s: dict[str, Tensor] = {}
        s2s: dict[str, Tensor] = {}
        structure: dict[str, Tensor] = {}
        texture: dict[str, Tensor] = {}
        for k in DISTS_LAYERS:
            s1, s2 = dists_structure_texture(feats_ref[k], feats_dist[k], (2, 3))
            s1s[k], s2s[k] = s1, s2
            structure[k] = (alpha[k] * s1).sum(dim=1)
            texture[k] = (beta[k] * s2).sum(dim=1)
        d1 = structure[DISTS_LAYERS[0]]
        d2 = texture[DISTS_LAYERS[0]]
        for k in DISTS_LAYERS[1:]:  # the reference's order of summation
            d1 = d1 + structure[k]
            d2 = d2 + texture[k]
        score = 1 - (d1 + d2)
        extras: dict[str, object] = {
            "structure": structure,
            "texture": texture,
            "s1": s1s,
            "s2": s2s,
        }
        return MetricResult(score=score, map=None, extras=extras)

    def extra_repr(self) -> str:
        return f"weights={self.weights!r}, data_range={self.data_range:g}"


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
