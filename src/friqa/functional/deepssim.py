"""DeepSSIM kernels: VGG16 ``relu5_1`` Gram matrices and their block-wise structure term.

Paper: K. Zhang, W. Chen, T. Zhao and Z. Wang, "Structural Similarity in Deep
Features: Unified Image Quality Assessment Robust to Geometrically Disparate
Reference", IEEE TPAMI 2025 (arXiv 2412.19553). Reference code:
github.com/kekezhang112/DeepSSIM, commit 1f0e908 (``DeepSSIM_pytorch/`` and
``DeepSSIM-Lite/``). The metric :class:`friqa.metrics.deepssim.DeepSSIM` (4 x 4
blocks of raw Gram matrices) and the loss
:class:`friqa.losses.deepssim_lite.DeepSSIMLiteLoss` (one block over the whole
normalised Gram matrix) are built on them.
"""

from __future__ import annotations

import os

import torch
from torch import Tensor

from friqa.backbone import get_vgg16
from friqa.exceptions import InputError

__all__ = [
    "DEEPSSIM_LAYER",
    "DEEPSSIM_C",
    "DEEPSSIM_BLOCK",
    "DEEPSSIM_MIN_SIZE",
    "gram_matrix",
    "block_structure",
    "deepssim_gram",
]

#: The VGG16 tap DeepSSIM uses (``features[0:26]`` of torchvision's layout).
DEEPSSIM_LAYER = "relu5_1"
#: The stabilising constant of the structure term.
DEEPSSIM_C = 1e-6
#: Side of the square Gram-matrix blocks the statistics are taken over.
DEEPSSIM_BLOCK = 4
#: Smallest image side: four 2x2 max-pools must leave at least one position.
DEEPSSIM_MIN_SIZE = 16


def gram_matrix(features: Tensor, *, normalize: bool = False) -> Tensor:
    """Gram matrices ``F Fᵀ`` of a feature batch ``(N, C, h, w)`` -> ``(N, C, C)``.

    Args:
        features: the feature maps.
        normalize: divide by ``C h w`` (DeepSSIM-Lite) instead of leaving the sums raw
            (DeepSSIM).

    Example:
        >>> gram_matrix(torch.ones(1, 2, 3, 3))
        tensor([[[9., 9.],
                 [9., 9.]]])
    """
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    gram = torch.bmm(flat, flat.transpose(1, 2))
    return gram / (c * h * w) if normalize else gram


def block_structure(
    gram_ref: Tensor, gram_dist: Tensor, *, block: int = DEEPSSIM_BLOCK, c: float = DEEPSSIM_C
) -> Tensor:
    """The structure term of every ``block x block`` block of two matrix batches.

    Args:
        gram_ref, gram_dist: ``(N, C, C)`` matrices (``C`` divisible by ``block``).
        block: block side (4 in DeepSSIM).
        c: stabilising constant.

    Returns:
        ``(N, C // block, C // block)``: ``(2 cov + c) / (var_ref + var_dist + c)`` per block,
        population statistics over the ``block**2`` entries; the variance is computed
        two-pass and the covariance as ``E[xy] - E[x]E[y]``, as in the reference.

    Example:
        >>> g = torch.arange(64.0).reshape(1, 8, 8)
        >>> block_structure(g, g).shape
        torch.Size([1, 2, 2])
    """
    if gram_ref.shape != gram_dist.shape or gram_ref.ndim != 3:
        raise InputError(
            f"block_structure needs two (N, C, C) batches of one shape, got "
            f"{tuple(gram_ref.shape)} and {tuple(gram_dist.shape)}"
        )
    n, rows, cols = gram_ref.shape
    if rows % block or cols % block:
        raise InputError(f"matrix size {rows}x{cols} is not divisible by the block size {block}")
    shape = (n, rows // block, block, cols // block, block)
    x = gram_ref.reshape(shape)
    y = gram_dist.reshape(shape)
    dims = (2, 4)
    mx = x.mean(dim=dims, keepdim=True)
    my = y.mean(dim=dims, keepdim=True)
    var_x = ((x - mx) ** 2).mean(dim=dims)
    var_y = ((y - my) ** 2).mean(dim=dims)
    cov = (x * y).mean(dim=dims) - (mx * my).squeeze(4).squeeze(2)
    return (2 * cov + c) / (var_x + var_y + c)


def deepssim_gram(
    x: Tensor,
    *,
    mask: Tensor | None = None,
    weights: str | os.PathLike[str] | None = None,
    normalize: bool = False,
) -> Tensor:
    """Gram matrices ``(N, 512, 512)`` of VGG16 ``relu5_1`` features of ``x``.

    Args:
        x: images ``(N, 3, H, W)`` in [0, 1] (not checked here).
        mask: optional binary saliency mask ``(N, 1, H, W)`` multiplied into the
            ``conv1_1`` output before its ReLU.
        weights: VGG16 weights (see :func:`friqa.backbone.get_vgg16`).
        normalize: divide by ``C h w`` (DeepSSIM-Lite) instead of the raw sums (DeepSSIM).
    """
    vgg = get_vgg16(weights, "max", device=x.device, dtype=x.dtype)
    if mask is not None:
        mask = mask.to(dtype=x.dtype)
    feats = vgg(x, (DEEPSSIM_LAYER,), normalize=True, conv1_1_mask=mask)[DEEPSSIM_LAYER]
    return gram_matrix(feats, normalize=normalize)
