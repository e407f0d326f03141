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

from friqa.backbone import get_vgg16
from friqa.exceptions import ImageLoadError, InputError
from friqa.metrics.base import EncodedRef, Metric, MetricInfo, MetricResult
from friqa.metrics.registry import register_metric
from friqa.validation import check_batch, check_data_range, check_pair

__all__ = [
    "DeepSSIM",
    "deepssim",
    "deepssim_gram",
    "gram_matrix",
    "block_structure",
    "load_saliency_map",
    "saliency_mask",
    "DEEPSSIM_LAYER",
    "DEEPSSIM_C",
    "DEEPSSIM_BLOCK",
    "MIN_SIZE",
]

#: The VGG16 tap DeepSSIM uses (``features[0:26]`` of torchvision's layout).
DEEPSSIM_LAYER = "relu5_1"
#: The stabilising constant of the structure term.
DEEPSSIM_C = 1e-6
#: Side of the square Gram-matrix blocks the statistics are taken over.
DEEPSSIM_BLOCK = 4
#: Smallest image side: four 2x2 max-pools must leave at least one position.
MIN_SIZE = 16

#: One saliency map: a file path, or an array/tensor ``(H, W)``, ``(1, H, W)`` or
#: ``(1, 1, H, W)`` (uint8 in 0..255, uint16 in 0..65535, bool, or float in [0, 1]).
SaliencyMap: TypeAlias = "str | os.PathLike[str] | np.ndarray | Tensor"
#: Maps for a batch: a batch array/tensor ``(N, H, W)`` or ``(N, 1, H, W)``, or one map per
#: image, or a single map when the batch has one image.
SaliencyMaps: TypeAlias = "SaliencyMap | Sequence[SaliencyMap]"
#: What ``saliency=`` accepts: ``None``, ``"gbvs"`` or ``(ref_maps, dist_maps)``.
SaliencySpec: TypeAlias = "str | tuple[SaliencyMaps, SaliencyMaps] | None"

INFO = MetricInfo(
    name="deepssim",
    lower_better=False,
    score_range=(-1.0, 1.0),
    needs_weights=True,
    returns_map=False,
    differentiable=True,
    aligned=False,
    family="deepssim",
    reference=(
        "Zhang, Chen, Zhao and Wang, 'Structural Similarity in Deep Features', IEEE TPAMI "
        "2025 (arXiv 2412.19553); github.com/kekezhang112/DeepSSIM 1f0e908 DeepSSIM_pytorch"
    ),
    description=(
        "SSIM-style structure term on 4x4 blocks of VGG16 relu5_1 Gram matrices; "
        "ref and dist may differ in size and alignment"
    ),
)


# ----------------------------------------------------------------------------- maths


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
) -> Tensor:
    """Raw Gram matrices ``(N, 512, 512)`` of VGG16 ``relu5_1`` features of ``x``.

    Args:
        x: images ``(N, 3, H, W)`` in [0, 1] (not checked here).
        mask: optional binary saliency mask ``(N, 1, H, W)`` multiplied into the
            ``conv1_1`` output before its ReLU.
        weights: VGG16 weights (see :func:`friqa.backbone.get_vgg16`).
    """
    vgg = get_vgg16(weights, "max", device=x.device, dtype=x.dtype)
    if mask is not None:
        mask = mask.to(dtype=x.dtype)
    feats = vgg(x, (DEEPSSIM_LAYER,), normalize=True, conv1_1_mask=mask)[DEEPSSIM_LAYER]
    return gram_matrix(feats)


# ----------------------------------------------------------------------------- saliency


def load_saliency_map(path: str | os.PathLike[str]) -> Tensor:
    """Read a saliency map file as a float32 ``(H, W)`` tensor in [0, 1].

    As the reference (``prepare_salimg``): the image is converted to RGB and its
    first channel divided by 255 (for a grayscale PNG, its gray value / 255).
    16-bit grayscale files are divided by 65535.

    Raises:
        ImageLoadError: the file is missing or not an image.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            if img.mode in ("I;16", "I;16B", "I;16L"):
                arr = np.asarray(img, dtype=np.float32) / 65535.0
            elif img.mode in ("I", "F"):
                raise ImageLoadError(
                    f"{path}: saliency maps must be 8- or 16-bit images, got PIL mode {img.mode}"
                )
            else:
                arr = np.asarray(img.convert("RGB"))[..., 0].astype(np.float32) / 255.0
    except (FileNotFoundError, IsADirectoryError, UnidentifiedImageError, OSError) as exc:
        if isinstance(exc, ImageLoadError):
            raise
        raise ImageLoadError(f"cannot read saliency map {path}: {exc}") from exc
    return torch.from_numpy(np.ascontiguousarray(arr))


def _map_to_tensor(obj: Any, name: str) -> Tensor:
    """One map or a batch of maps as a float tensor in [0, 1], leading dims kept."""
    if isinstance(obj, (str, os.PathLike)):
        return load_saliency_map(obj)
    if isinstance(obj, np.ndarray):
        obj = torch.tensor(obj)  # a copy: arrays from PIL are read-only
    if not isinstance(obj, Tensor):
        raise InputError(
            f"{name}: a saliency map must be a file path, numpy array or tensor, got "
            f"{type(obj).__name__}"
        )
    if obj.dtype == torch.bool:
        return obj.float()
    if obj.dtype == torch.uint8:
        return obj.float() / 255.0
    if obj.dtype == torch.uint16:
        return obj.double() / 65535.0
    if not obj.is_floating_point():
        raise InputError(
            f"{name}: unsupported saliency map dtype {obj.dtype}; use uint8 (0..255), uint16 "
            "(0..65535), bool, or floats in [0, 1]"
        )
    if obj.numel() and not bool(torch.isfinite(obj).all()):
        raise InputError(f"{name}: saliency map contains NaN or infinite values")
    if obj.numel() and (float(obj.min()) < 0.0 or float(obj.max()) > 1.0):
        raise InputError(
            f"{name}: float saliency maps must lie in [0, 1], got "
            f"[{float(obj.min()):.4g}, {float(obj.max()):.4g}]; pass uint8 arrays for 0..255 maps"
        )
    return obj


def saliency_mask(
    maps: SaliencyMaps, n: int, size: tuple[int, int], *, threshold: float = 0.0, name: str = "map"
) -> Tensor:
    """Binary masks ``(n, 1, H, W)`` (float32, 1 where ``map > threshold``) for ``n`` images.

    Args:
        maps: a batch ``(n, H, W)`` / ``(n, 1, H, W)``, a sequence of ``n`` single maps
            (paths, arrays, tensors), or one map when ``n == 1``.
        n: number of images.
        size: their ``(H, W)``; maps are not resized (the reference does not resize).
        threshold: values strictly above it count as salient (0 in the reference).
        name: how to call the maps in error messages.
    """
    if isinstance(maps, (list, tuple)):
        if len(maps) != n:
            raise InputError(f"{name}: got {len(maps)} saliency maps for {n} image(s)")
        singles = [_map_to_tensor(m, f"{name}[{i}]") for i, m in enumerate(maps)]
        parts = []
        for i, t in enumerate(singles):
            if t.ndim < 2 or any(s != 1 for s in t.shape[:-2]):
                raise InputError(
                    f"{name}[{i}]: expected one (H, W) map, got shape {tuple(t.shape)}"
                )
            parts.append(t.reshape(1, 1, *t.shape[-2:]))
        shapes = {tuple(p.shape) for p in parts}
        if len(shapes) != 1:
            raise InputError(f"{name}: the saliency maps have different sizes {sorted(shapes)}")
        batch = torch.cat([p.to(torch.float64) for p in parts])
    else:
        t = _map_to_tensor(maps, name)
        if t.ndim == 2:
            t = t.reshape(1, 1, *t.shape)
        elif t.ndim == 3:
            t = t.unsqueeze(1)
        if t.ndim != 4 or t.shape[1] != 1:
            raise InputError(
                f"{name}: expected saliency maps (N, H, W) or (N, 1, H, W), got shape "
                f"{tuple(t.shape)}"
            )
        if t.shape[0] != n:
            raise InputError(f"{name}: got {t.shape[0]} saliency map(s) for {n} image(s)")
        batch = t
    if tuple(batch.shape[-2:]) != tuple(size):
        raise InputError(
            f"{name}: saliency maps are {batch.shape[-2]}x{batch.shape[-1]} but the images are "
            f"{size[0]}x{size[1]}; maps must have the image size (compute them on the image "
            "as given, e.g. with friqa.saliency.gbvs)"
        )
    return (batch > threshold).to(torch.float32)


def _gbvs_mask(x: Tensor, threshold: float) -> Tensor:
    """Mask from friqa's GBVS, quantised to 8 bits as the reference's PNG maps are."""
    try:
        from friqa.saliency import gbvs
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise InputError(
            f"saliency='gbvs' needs friqa.saliency.gbvs, which cannot be imported ({exc}); "
            "pass your own maps as saliency=(ref_maps, dist_maps)"
        ) from exc
    with torch.no_grad():
        maps = gbvs(x.detach())
    # The reference reads GBVS maps written as 8-bit PNGs (round(255 * map)).
    quantised = torch.round(maps.to(torch.float64) * 255.0) / 255.0
    return (quantised > threshold).to(x.dtype).reshape(x.shape[0], 1, *x.shape[-2:])


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


def _encode_batch(
    x: Tensor,
    saliency: str | SaliencyMaps | None,
    threshold: float,
    weights: str | os.PathLike[str] | None,
    name: str,
) -> Tensor:
    """Gram matrices of one batch of equal-size images in [0, 1]."""
    mask: Tensor | None = None
    if _is_gbvs(saliency):
        mask = _gbvs_mask(x, threshold)
    elif saliency is not None:
        mask = saliency_mask(
            saliency, x.shape[0], (x.shape[-2], x.shape[-1]), threshold=threshold, name=name
        ).to(device=x.device)
    return deepssim_gram(x, mask=mask, weights=weights)


def _as_image_list(images: Sequence[Any], name: str, data_range: float) -> list[Tensor]:
    out: list[Tensor] = []
    for i, img in enumerate(images):
        if isinstance(img, Tensor) and img.ndim == 3:
            img = img.unsqueeze(0)
        check_batch(img, f"{name}[{i}]", data_range=data_range, min_size=MIN_SIZE)
        if img.shape[0] != 1:
            raise InputError(
                f"{name}[{i}]: list items must be single images (3, H, W) or (1, 3, H, W), got "
                f"shape {tuple(img.shape)}"
            )
        out.append(img)
    return out


def _encode_list(
    images: list[Tensor],
    saliency: str | SaliencyMaps | None,
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
        grams.append(_encode_batch(x, group_sal, threshold, weights, name))
        order.extend(idx)
    stacked = torch.cat(grams)
    inverse = torch.empty(len(order), dtype=torch.long)
    inverse[torch.tensor(order)] = torch.arange(len(order))
    return stacked.index_select(0, inverse.to(stacked.device))


# ----------------------------------------------------------------------------- API


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
    rng = check_data_range(data_range)
    t = _check_saliency(saliency, threshold)
    ref_sal: str | SaliencyMaps | None
    dist_sal: str | SaliencyMaps | None
    if isinstance(saliency, (tuple, list)):
        ref_sal, dist_sal = saliency[0], saliency[1]
    else:
        ref_sal = dist_sal = saliency
    if isinstance(ref, Tensor) and isinstance(dist, Tensor):
        r, d = check_pair(ref, dist, data_range=rng, aligned=False, min_size=MIN_SIZE)
        gram_r = _encode_batch(r / rng, ref_sal, t, weights, "ref saliency")
        gram_d = _encode_batch(d / rng, dist_sal, t, weights, "dist saliency")
    elif isinstance(ref, (list, tuple)) and isinstance(dist, (list, tuple)):
        if len(ref) != len(dist):
            raise InputError(f"got {len(ref)} reference and {len(dist)} distorted images")
        if len(ref) == 0:
            raise InputError("the lists of images are empty")
        refs = _as_image_list(ref, "ref", rng)
        dists = _as_image_list(dist, "dist", rng)
        devices = {x.device for x in refs + dists}
        if len(devices) != 1:
            raise InputError(f"images are on several devices {sorted(map(str, devices))}")
        dtypes = {x.dtype for x in refs + dists}
        if len(dtypes) != 1:
            raise InputError(f"images have several dtypes {sorted(map(str, dtypes))}; use one")
        gram_r = _encode_list([x / rng for x in refs], ref_sal, t, weights, "ref saliency")
        gram_d = _encode_list([x / rng for x in dists], dist_sal, t, weights, "dist saliency")
    else:
        raise InputError(
            "ref and dist must both be tensors (N, 3, H, W) or both be lists of images, got "
            f"{type(ref).__name__} and {type(dist).__name__}"
        )
    return block_structure(gram_r, gram_d).mean(dim=(1, 2))


@register_metric(INFO)
class DeepSSIM(Metric):
    """DeepSSIM as a module; ``ref`` and ``dist`` may have different sizes.

    Args:
        saliency: ``None`` (default, as the authors recommend outside retargeting) or
            ``"gbvs"`` (saliency calibration with friqa's GBVS). For your own maps use
            :func:`deepssim` with ``saliency=(ref_maps, dist_maps)``.
        threshold: saliency threshold (see :func:`deepssim`).
        weights: VGG16 weights file.
        data_range: the value of white in the inputs.

    ``compute(...).extras["block_similarity"]`` holds the ``(N, 128, 128)`` grid of
    per-block structure terms whose mean is the score. There is no spatial map.

    Example:
        >>> metric = DeepSSIM()  # doctest: +SKIP
        >>> metric(ref, dist_of_another_size)  # doctest: +SKIP
    """

    info = INFO

    def __init__(
        self,
        saliency: str | None = None,
        threshold: float = 0.0,
        weights: str | os.PathLike[str] | None = None,
        data_range: float = 1.0,
    ) -> None:
        super().__init__(data_range=data_range)
        if saliency is not None and not isinstance(saliency, str):
            raise InputError(
                "DeepSSIM(saliency=...) takes None or 'gbvs'; for your own saliency maps call "
                "friqa.metrics.deepssim.deepssim(ref, dist, saliency=(ref_maps, dist_maps))"
            )
        self.threshold = _check_saliency(saliency, threshold)
        self.saliency = saliency.lower() if saliency is not None else None
        self.weights = weights

    def _encode_ref(self, ref: Tensor) -> Any:
        if min(ref.shape[-2:]) < MIN_SIZE:
            raise InputError(f"ref: images must be at least {MIN_SIZE}x{MIN_SIZE} for DeepSSIM")
        return _encode_batch(
            ref / self.data_range, self.saliency, self.threshold, self.weights, "ref"
        )

    def _compute(self, ref: EncodedRef, dist: Tensor, return_map: bool) -> MetricResult:
        if min(dist.shape[-2:]) < MIN_SIZE:
            raise InputError(f"dist: images must be at least {MIN_SIZE}x{MIN_SIZE} for DeepSSIM")
        gram_d = _encode_batch(
            dist / self.data_range, self.saliency, self.threshold, self.weights, "dist"
        )
        blocks = block_structure(ref.data.to(gram_d.dtype), gram_d)
        return MetricResult(score=blocks.mean(dim=(1, 2)), extras={"block_similarity": blocks})

    def extra_repr(self) -> str:
        return f"saliency={self.saliency!r}, threshold={self.threshold:g}, " + super().extra_repr()
