"""DISTS kernels: the learned weights, the L2-pooled VGG16 features, structure and texture terms.

Ding, Ma, Wang and Simoncelli, "Image Quality Assessment: Unifying Structure and
Texture Similarity", IEEE TPAMI 2020; reference code github.com/dingkeyan93/DISTS
as the PyPI package ``dists-pytorch`` 0.1 (module ``DISTS_pytorch``). The metric
:class:`friqa.metrics.dists.DISTS` documents what they compute together; the
SMIC variant reuses them on some layers and on patches.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import torch
from torch import Tensor

from friqa.backbone import get_vgg16
from friqa.exceptions import WeightsError
from friqa.weights import load_shipped

__all__ = [
    "DISTS_LAYERS",
    "DISTS_CHANNELS",
    "DISTS_C1",
    "DISTS_C2",
    "DISTS_WEIGHTS_FILE",
    "dists_alpha_beta",
    "dists_features",
    "dists_structure_texture",
    "DISTSLayerTerms",
    "dists_layer_terms",
    "dists_distance",
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
    tracked = torch.is_grad_enabled() and (fx.requires_grad or fy.requires_grad)
    if tracked or fx.shape != fy.shape or fx.dtype != fy.dtype:
        vx = ((fx - mx) ** 2).mean(dims, keepdim=True)
        vy = ((fy - my) ** 2).mean(dims, keepdim=True)
        cxy = (fx * fy).mean(dims, keepdim=True) - mx * my
    else:  # the same operations, in one scratch tensor instead of five new ones
        scratch = fx - mx
        vx = scratch.pow_(2).mean(dims, keepdim=True)
        vy = torch.sub(fy, my, out=scratch).pow_(2).mean(dims, keepdim=True)
        cxy = torch.mul(fx, fy, out=scratch).mean(dims, keepdim=True) - mx * my
    s2 = (2 * cxy + c2) / (vx + vy + c2)
    if not keepdim:
        s1, s2 = s1.squeeze(dims), s2.squeeze(dims)
    return s1, s2


class DISTSLayerTerms(NamedTuple):
    """DISTS' terms of one feature set.

    Attributes:
        structure: ``sum_c alpha_c S1_c``, ``(N,)``.
        texture: ``sum_c beta_c S2_c``, ``(N,)``.
        s1, s2: the unweighted terms, ``(N, C)``.
    """

    structure: Tensor
    texture: Tensor
    s1: Tensor
    s2: Tensor


def dists_layer_terms(fx: Tensor, fy: Tensor, alpha: Tensor, beta: Tensor) -> DISTSLayerTerms:
    """The weighted structure and texture terms of one feature set ``(N, C, h, w)``.

    Global statistics over the spatial dimensions (:func:`dists_structure_texture`),
    weighted by that set's ``alpha`` and ``beta`` (``(C,)``, normalised as
    :func:`dists_alpha_beta` gives them) and summed over the channels.
    """
    s1, s2 = dists_structure_texture(fx, fy, (2, 3))
    return DISTSLayerTerms((alpha.to(s1) * s1).sum(dim=1), (beta.to(s2) * s2).sum(dim=1), s1, s2)


def dists_distance(
    feats_x: Mapping[str, Tensor],
    feats_y: Mapping[str, Tensor],
    alpha: Mapping[str, Tensor],
    beta: Mapping[str, Tensor],
    layers: Sequence[str] = DISTS_LAYERS,
) -> tuple[Tensor, dict[str, DISTSLayerTerms]]:
    """``1 - sum over layers (structure + texture)``: DISTS' score over ``layers``, ``(N,)``.

    The structure terms and the texture terms are each summed over the layers in
    their order (as the reference sums them), then added. Returns the score and the
    per-layer terms.
    """
    terms = {k: dists_layer_terms(feats_x[k], feats_y[k], alpha[k], beta[k]) for k in layers}
    d1, d2 = terms[layers[0]].structure, terms[layers[0]].texture
    for k in layers[1:]:
        d1 = d1 + terms[k].structure
        d2 = d2 + terms[k].texture
    return 1 - (d1 + d2), terms
