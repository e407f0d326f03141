"""DeepSSIM-Lite: a training loss from the structure of normalised VGG16 Gram matrices.

Paper: K. Zhang, W. Chen, T. Zhao and Z. Wang, "Structural Similarity in Deep
Features: Unified Image Quality Assessment Robust to Geometrically Disparate
Reference", IEEE TPAMI 2025 (arXiv 2412.19553). Reference code:
github.com/kekezhang112/DeepSSIM, commit 1f0e908, ``DeepSSIM-Lite/``.

For each image (at its own size): ImageNet normalisation, VGG16 with max pooling
up to ``relu5_1`` (512 channels), Gram matrix divided by ``C h w``; then one
SSIM-style structure term over all ``512 x 512`` entries of the two matrices,

    S = (2 cov + c) / (var_ref + var_dist + c),  c = 1e-6,

(population variance computed two-pass, covariance as ``E[xy] - E[x]E[y]``) and
the loss ``1 - S`` in ``[0, 2]``, 0 for identical images. ``S`` is symmetric, so
the loss does not depend on which image is which; friqa still names them.

Unlike DeepSSIM the metric (4 x 4 blocks of raw Gram matrices), the Lite loss
uses a single block, which is cheaper and smoother to optimise.
"""

from __future__ import annotations

import os
from typing import Any

from torch import Tensor

from friqa.exceptions import InputError
from friqa.functional.deepssim import (
    DEEPSSIM_C,
    DEEPSSIM_MIN_SIZE,
    block_structure,
    deepssim_gram,
)
from friqa.losses.base import Loss, check_reduction, reduce
from friqa.validation import check_batch

__all__ = ["DeepSSIMLite", "DeepSSIMLiteLoss", "deepssim_lite_loss", "deepssim_lite_similarity"]


def _check_one(x: Tensor, name: str) -> Tensor:
    # No range check: an image being optimised may step slightly outside [0, 1].
    return check_batch(x, name, data_range=None, min_size=DEEPSSIM_MIN_SIZE)


def _check_inputs(ref: Tensor, dist: Tensor) -> None:
    _check_one(ref, "ref")
    _check_one(dist, "dist")
    if ref.shape[0] != dist.shape[0]:
        raise InputError(
            f"ref and dist must have the same batch size, got {ref.shape[0]} and {dist.shape[0]}"
        )
    if ref.device != dist.device:
        raise InputError(f"ref is on {ref.device} but dist is on {dist.device}; move them together")
    if ref.dtype != dist.dtype:
        raise InputError(f"ref is {ref.dtype} but dist is {dist.dtype}; use one dtype")


def deepssim_lite_similarity(
    ref: Tensor, dist: Tensor, *, weights: str | os.PathLike[str] | None = None
) -> Tensor:
    """The DeepSSIM-Lite structure term ``S`` of each pair, shape ``(N,)``, in ``[-1, 1]``.

    ``ref`` is ``(N, 3, H, W)`` and ``dist`` ``(N, 3, H', W')``; sizes may differ.
    """
    _check_inputs(ref, dist)
    gx = deepssim_gram(ref, weights=weights, normalize=True)
    gy = deepssim_gram(dist, weights=weights, normalize=True)
    return _lite_structure(gx, gy)


def _lite_structure(gram_ref: Tensor, gram_dist: Tensor) -> Tensor:
    # one block: the structure term over all entries of the two matrices
    return block_structure(gram_ref, gram_dist, block=gram_ref.shape[-1], c=DEEPSSIM_C).reshape(-1)


def deepssim_lite_loss(
    ref: Tensor,
    dist: Tensor,
    *,
    weights: str | os.PathLike[str] | None = None,
    reduction: str = "mean",
) -> Tensor:
    """DeepSSIM-Lite loss ``1 - S`` between references and images being optimised.

    Args:
        ref: target images ``(N, 3, H, W)``, RGB in about [0, 1] (not range-checked).
        dist: images being optimised / network outputs ``(N, 3, H', W')``; sizes may
            differ from ``ref``.
        weights: VGG16 weights (see :func:`friqa.backbone.get_vgg16`).
        reduction: ``"mean"`` (as the reference), ``"sum"`` or ``"none"`` (shape ``(N,)``).

    Returns:
        The loss, differentiable with respect to both inputs.

    Example:
        >>> x = torch.rand(2, 3, 64, 64, requires_grad=True)  # doctest: +SKIP
        >>> deepssim_lite_loss(torch.rand(2, 3, 64, 64), x).backward()  # doctest: +SKIP
    """
    check_reduction(reduction)
    return reduce(1 - deepssim_lite_similarity(ref, dist, weights=weights), reduction)


class DeepSSIMLite(Loss):
    """``(N, 3, H, W)`` RGB in about [0, 1] (not range-checked), ``ref`` first: DeepSSIM-Lite
    ``1 - S`` in the :class:`~friqa.losses.base.Loss` API (``create_loss("deepssim_lite")``).

    ``dist`` may have another size than ``ref``. The reference's Gram matrices are
    computed once per reference tensor, without gradient (see :mod:`friqa.losses.base`);
    gradients reach ``dist`` only. Values equal :func:`deepssim_lite_loss`.

    Args:
        weights: VGG16 weights file (see :func:`friqa.backbone.get_vgg16`).
        reduction: ``"mean"`` (default), ``"sum"`` or ``"none"``.
        weight: factor applied to every per-image value.
    """

    label = "deepssim_lite"

    def __init__(
        self,
        weights: str | os.PathLike[str] | None = None,
        reduction: str = "mean",
        weight: float = 1.0,
    ) -> None:
        super().__init__(reduction=reduction, weight=weight)
        self.weights = weights

    def _encode_ref(self, ref: Tensor) -> tuple[Tensor, Tensor]:
        return ref, deepssim_gram(_check_one(ref, "ref"), weights=self.weights, normalize=True)

    def _loss(self, ref: Any, dist: Tensor) -> Tensor:
        image, gram = ref
        _check_inputs(image, dist)
        return 1 - _lite_structure(gram, deepssim_gram(dist, weights=self.weights, normalize=True))

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, weight={self.weight:g}"


class DeepSSIMLiteLoss(DeepSSIMLite):
    """DeepSSIM-Lite as a loss module, called like the torch losses: ``loss(output, target)``.

    ``output`` is the image being optimised (friqa's ``dist``) and ``target`` the
    reference (friqa's ``ref``); the function form :func:`deepssim_lite_loss` keeps
    friqa's ``(ref, dist)`` order. The value is symmetric, so swapping them changes
    nothing but the wording of error messages.

    Args:
        weights: VGG16 weights file (see :func:`friqa.backbone.get_vgg16`).
        reduction: ``"mean"`` (default), ``"sum"`` or ``"none"``.
        weight: factor applied to every per-image value.

    The backbone is the shared frozen VGG16 for the input's device and dtype; the
    module stores no copy of it and has no trainable parameters. Calling it runs
    :func:`deepssim_lite_loss` (gradients to both inputs, as before the loss API);
    in a sum of losses (``PixelLoss("l1") + DeepSSIMLiteLoss()``) it is a
    :class:`DeepSSIMLite` term, called ``(ref, dist)`` with the reference cached.

    Example:
        >>> criterion = DeepSSIMLiteLoss()  # doctest: +SKIP
        >>> criterion(net(lr_image), hr_image).backward()  # doctest: +SKIP
    """

    def forward(self, output: Tensor, target: Tensor) -> Tensor:
        """The loss of ``output`` (image being optimised) against ``target`` (reference)."""
        loss = deepssim_lite_loss(target, output, weights=self.weights, reduction=self.reduction)
        return loss if self.weight == 1.0 else self.weight * loss
