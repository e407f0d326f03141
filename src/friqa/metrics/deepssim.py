"""DeepSSIM: structural similarity of VGG16 Gram matrices.

Paper: K. Zhang, W. Chen, T. Zhao and Z. Wang, "Structural Similarity in Deep
Features: Unified Image Quality Assessment Robust to Geometrically Disparate
Reference", IEEE TPAMI 2025 (arXiv 2412.19553). Reference code:
github.com/kekezhang112/DeepSSIM, commit 1f0e908, ``DeepSSIM_pytorch/``.

What is computed, for each image of a pair and at its own size:

1. ImageNet normalisation, VGG16 (max pooling) up to ``relu5_1`` (512 channels,
   1/16 of the image size). With saliency calibration, the ``conv1_1`` output is
   first multiplied by a binary mask (1 where the image's saliency map is above
   ``threshold``).
2. The Gram matrix ``G = F Fᵀ`` (512 x 512, not normalised), ``F`` the
   ``512 x (h w)`` feature matrix. Its size does not depend on the image size,
   so the two images may have different sizes and need not be aligned.
3. Both Gram matrices are cut into non-overlapping 4 x 4 blocks (a 128 x 128
   grid of blocks, 16 entries each, as ``Tensor.unfold(1, 4, 4).unfold(2, 4, 4)``
   does in the reference). Per block: mean, population variance (two-pass) and
   covariance (``E[xy] - E[x] E[y]``) over the 16 entries, and
   ``S = (2 cov + c) / (var_ref + var_dist + c)`` with ``c = 1e-6``.
4. The score is the mean of ``S`` over the 16384 blocks: in ``[-1, 1]``, higher is
   better, 1 for identical images.

Arithmetic follows the reference (the dtype of the input, float32 for float32
images); this reproduces the reference's scores exactly on the shared fixtures.

DeepSSIM is a global measure (it compares channel co-activation statistics,
not places), so it has no spatial distortion map; the 128 x 128 grid of block
similarities ``S`` (a map over channel pairs, not pixels) is returned in
``MetricResult.extras["block_similarity"]``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import torch
from torch import Tensor

from friqa.backbone.precision import check_precision
from friqa.backbone.provenance import weights_repr
from friqa.exceptions import InputError
from friqa.functional.deepssim import DEEPSSIM_MIN_SIZE, block_structure, deepssim_gram
from friqa.metrics.base import EncodedRef, Family, Metric, MetricInfo, MetricResult
from friqa.metrics.registry import register_metric
from friqa.saliency.masks import SaliencyMaps, gbvs_mask, saliency_mask
from friqa.validation import check_batch

__all__ = ["DeepSSIM", "deepssim", "DEEPSSIM_INFO", "SaliencySpec"]

#: What ``saliency=`` accepts: ``None``, ``"gbvs"`` or ``(ref_maps, dist_maps)``.
SaliencySpec: TypeAlias = "str | tuple[SaliencyMaps, SaliencyMaps] | None"
#: One side's saliency: ``None``, ``"gbvs"`` or its maps.
_Saliency: TypeAlias = "str | SaliencyMaps | None"

DEEPSSIM_INFO = MetricInfo(
    name="deepssim",
    lower_better=False,
    score_range=(-1.0, 1.0),
    needs_weights=True,
    returns_map=False,
    differentiable=True,
    aligned=False,
    family=Family.DEEPSSIM,
    reference=(
        "Zhang, Chen, Zhao and Wang, 'Structural Similarity in Deep Features', IEEE TPAMI "
        "2025 (arXiv 2412.19553); github.com/kekezhang112/DeepSSIM 1f0e908 DeepSSIM_pytorch"
    ),
    description=(
        "SSIM-style structure term on 4x4 blocks of VGG16 relu5_1 Gram matrices; "
        "ref and dist may differ in size and alignment"
    ),
)


def _is_gbvs(saliency: Any) -> bool:
    return isinstance(saliency, str) and saliency.lower() == "gbvs"


def _check_saliency(saliency: SaliencySpec, threshold: float) -> float:
    if saliency is not None and not isinstance(saliency, (str, tuple, list)):
        raise InputError(
            "saliency must be None, 'gbvs' or a pair (ref_maps, dist_maps), got "
            f"{type(saliency).__name__}"
        )
    if isinstance(saliency, str) and saliency.lower() != "gbvs":
        raise InputError(
            f"saliency must be None, 'gbvs' or (ref_maps, dist_maps), got {saliency!r}"
        )
    if isinstance(saliency, (tuple, list)) and len(saliency) != 2:
        raise InputError(
            "saliency maps must be given as a pair (ref_maps, dist_maps), got "
            f"{len(saliency)} items"
        )
    try:
        t = float(threshold)
    except (TypeError, ValueError) as exc:
        raise InputError(f"threshold must be a number in [0, 1), got {threshold!r}") from exc
    if not 0.0 <= t < 1.0:
        raise InputError(f"threshold must lie in [0, 1), got {threshold!r}")
    return t


# ----------------------------------------------------------------------------- encoding


def _as_image_list(
    images: Sequence[Any], name: str, data_range: float, clamp: bool = False
) -> list[Tensor]:
    out: list[Tensor] = []
    for i, img in enumerate(images):
        if isinstance(img, Tensor) and img.ndim == 3:
            img = img.unsqueeze(0)
        img = check_batch(
            img, f"{name}[{i}]", data_range=data_range, min_size=DEEPSSIM_MIN_SIZE, clamp=clamp
        )
        if img.shape[0] != 1:
            raise InputError(
                f"{name}[{i}]: list items must be single images (3, H, W) or (1, 3, H, W), got "
                f"shape {tuple(img.shape)}"
            )
        out.append(img)
    return out


def _grams(
    x: Tensor,
    saliency: _Saliency,
    threshold: float,
    weights: str | os.PathLike[str] | None,
    name: str,
) -> Tensor:
    """Gram matrices of one batch of equal-size images in [0, 1]."""
    mask: Tensor | None = None
    if _is_gbvs(saliency):
        mask = gbvs_mask(x, threshold)
    elif saliency is not None:
        mask = saliency_mask(
            saliency, x.shape[0], (x.shape[-2], x.shape[-1]), threshold=threshold, name=name
        ).to(device=x.device)
    return deepssim_gram(x, mask=mask, weights=weights)


def _list_grams(
    images: list[Tensor],
    saliency: _Saliency,
    threshold: float,
    weights: str | os.PathLike[str] | None,
    name: str,
) -> Tensor:
    """Gram matrices of single images of any sizes; images of one size share a forward pass."""
    per_image: Any = None
    if saliency is not None and not _is_gbvs(saliency):
        single = isinstance(saliency, (str, os.PathLike)) or (
            isinstance(saliency, (Tensor, np.ndarray)) and saliency.ndim == 2
        )
        per_image = [saliency] if single else saliency
        if len(per_image) != len(images):
            raise InputError(f"{name}: got {len(per_image)} saliency maps for {len(images)} images")
    groups: dict[tuple[int, int], list[int]] = {}
    for i, img in enumerate(images):
        groups.setdefault((img.shape[-2], img.shape[-1]), []).append(i)
    grams: list[Tensor] = []
    order: list[int] = []
    for idx in groups.values():
        x = torch.cat([images[i] for i in idx])
        group_sal = saliency if per_image is None else [per_image[i] for i in idx]
        grams.append(_grams(x, group_sal, threshold, weights, name))
        order.extend(idx)
    stacked = torch.cat(grams)
    inverse = torch.empty(len(order), dtype=torch.long)
    inverse[torch.tensor(order)] = torch.arange(len(order))
    return stacked.index_select(0, inverse.to(stacked.device))


# ----------------------------------------------------------------------------- API


@register_metric(DEEPSSIM_INFO)
class DeepSSIM(Metric):
    """DeepSSIM as a module; ``ref`` and ``dist`` may have different sizes.

    Calling it (or :meth:`compute`) takes tensors ``(N, 3, H, W)`` and ``(N, 3, H', W')``,
    or lists of single images of any sizes (see :func:`deepssim`, its function form,
    for the inputs and options).

    Args:
        saliency: ``None`` (default, as the authors recommend outside retargeting),
            ``"gbvs"`` (saliency calibration with friqa's GBVS) or your own maps
            ``(ref_maps, dist_maps)`` for the images this module will score.
        threshold: saliency threshold (see :func:`deepssim`).
        weights: VGG16 weights file.
        data_range: the value of white in the inputs.
        precision: ``"fp32"`` (default) or ``"bf16"``: the backbone passes in bfloat16
            (CPU) / float16 (CUDA): faster, scores move slightly (see
            :mod:`friqa.backbone.precision`); never the default.

    ``compute(...).extras["block_similarity"]`` holds the ``(N, 128, 128)`` grid of
    per-block structure terms whose mean is the score. There is no spatial map.

    Example:
        >>> metric = DeepSSIM()  # doctest: +SKIP
        >>> metric(ref, dist_of_another_size)  # doctest: +SKIP
    """

    info = DEEPSSIM_INFO

    def __init__(
        self,
        saliency: SaliencySpec = None,
        threshold: float = 0.0,
        weights: str | os.PathLike[str] | None = None,
        data_range: float = 1.0,
        *,
        precision: str = "fp32",
    ) -> None:
        super().__init__(data_range=data_range)
        self.precision = check_precision(precision)
        self.threshold = _check_saliency(saliency, threshold)
        self.saliency = saliency.lower() if isinstance(saliency, str) else saliency
        self.weights = weights

    def saliency_of(self, which: str) -> _Saliency:
        """The saliency setting of ``"ref"`` or ``"dist"``: None, ``"gbvs"`` or its maps."""
        if isinstance(self.saliency, (tuple, list)):
            return self.saliency[0 if which == "ref" else 1]
        return self.saliency

    def compute(
        self,
        ref: Tensor | Sequence[Tensor],
        dist: Tensor | Sequence[Tensor],
        *,
        return_map: bool = False,
        clamp: bool = False,
    ) -> MetricResult:
        """Score pairs given as two tensors or as two lists of single images of any sizes
        (``clamp``: see :meth:`friqa.metrics.base.Metric.forward`)."""
        if isinstance(ref, Tensor) and isinstance(dist, Tensor):
            return super().compute(ref, dist, return_map=return_map, clamp=clamp)
        if not (isinstance(ref, (list, tuple)) and isinstance(dist, (list, tuple))):
            raise InputError(
                "ref and dist must both be tensors (N, 3, H, W) or both be lists of images, got "
                f"{type(ref).__name__} and {type(dist).__name__}"
            )
        if return_map:
            raise InputError(f"metric '{self.info.name}' does not produce a distortion map")
        if len(ref) != len(dist):
            raise InputError(f"got {len(ref)} reference and {len(dist)} distorted images")
        if len(ref) == 0:
            raise InputError("the lists of images are empty")
        refs = _as_image_list(ref, "ref", self.data_range, clamp)
        dists = _as_image_list(dist, "dist", self.data_range, clamp)
        devices = {x.device for x in refs + dists}
        if len(devices) != 1:
            raise InputError(f"images are on several devices {sorted(map(str, devices))}")
        dtypes = {x.dtype for x in refs + dists}
        if len(dtypes) != 1:
            raise InputError(f"images have several dtypes {sorted(map(str, dtypes))}; use one")
        t, w = self.threshold, self.weights
        gram_r = _list_grams(
            [x / self.data_range for x in refs], self.saliency_of("ref"), t, w, "ref saliency"
        )
        gram_d = _list_grams(
            [x / self.data_range for x in dists], self.saliency_of("dist"), t, w, "dist saliency"
        )
        return _result(gram_r, gram_d)

    def _encode_ref(self, ref: Tensor) -> Any:
        return self._batch_grams(ref, "ref")

    def _compute(self, ref: EncodedRef, dist: Tensor, return_map: bool) -> MetricResult:
        gram_d = self._batch_grams(dist, "dist")
        return _result(ref.data.to(gram_d.dtype), gram_d)

    def _batch_grams(self, x: Tensor, which: str) -> Tensor:
        if min(x.shape[-2:]) < DEEPSSIM_MIN_SIZE:
            raise InputError(
                f"{which}: images must be at least {DEEPSSIM_MIN_SIZE}x{DEEPSSIM_MIN_SIZE} for "
                "DeepSSIM"
            )
        return _grams(
            x / self.data_range,
            self.saliency_of(which),
            self.threshold,
            self.weights,
            f"{which} saliency",
        )

    def extra_repr(self) -> str:
        shown = "(ref_maps, dist_maps)" if isinstance(self.saliency, (tuple, list)) else None
        saliency = shown or repr(self.saliency)
        return (
            f"{weights_repr(self.weights)}, saliency={saliency}, threshold={self.threshold:g}, "
            + super().extra_repr()
        )


def _result(gram_ref: Tensor, gram_dist: Tensor) -> MetricResult:
    blocks = block_structure(gram_ref, gram_dist)
    return MetricResult(score=blocks.mean(dim=(1, 2)), extras={"block_similarity": blocks})


def deepssim(
    ref: Tensor | Sequence[Tensor],
    dist: Tensor | Sequence[Tensor],
    *,
    saliency: SaliencySpec = None,
    threshold: float = 0.0,
    weights: str | os.PathLike[str] | None = None,
    data_range: float = 1.0,
) -> Tensor:
    """DeepSSIM score of each pair, shape ``(N,)``; higher is better, 1 for identical images.

    Args:
        ref: reference images, ``(N, 3, H, W)``, or a list of single images
            ``(3, H, W)`` / ``(1, 3, H, W)`` of any sizes.
        dist: distorted images, ``(N, 3, H', W')`` (any size, need not match ``ref``), or a
            list of single images as long as ``ref``.
        saliency: ``None`` (the authors' default), ``"gbvs"`` (masks from
            :func:`friqa.saliency.gbvs`, quantised to 8 bits like the reference's PNG maps),
            or ``(ref_maps, dist_maps)``: per image a file path (read as the reference does:
            first RGB channel / 255), an array or tensor (uint8 0..255, bool, or float in
            [0, 1]) at the image's size; for tensor inputs also a batch ``(N, H, W)`` or
            ``(N, 1, H, W)``.
        threshold: saliency values strictly above it count as salient (0 in the reference;
            the paper names 0.01 and 0.05 as alternatives).
        weights: VGG16 weights file (see :func:`friqa.backbone.get_vgg16`).
        data_range: the value of white in the inputs.

    Returns:
        Scores ``(N,)`` in the input's dtype and device.

    Example:
        >>> ref = torch.rand(1, 3, 64, 64)
        >>> deepssim(ref, ref[..., :48])  # doctest: +SKIP
    """
    metric = DeepSSIM(saliency, threshold=threshold, weights=weights, data_range=data_range)
    return metric.compute(ref, dist).score
