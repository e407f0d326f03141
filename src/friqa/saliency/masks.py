"""Saliency maps as inputs: reading map files, turning maps into binary masks.

DeepSSIM's saliency calibration (:mod:`friqa.metrics.deepssim`) multiplies each
image's features by a binary mask, 1 where the image's saliency map is above a
threshold. The maps come from files, arrays or tensors given by the user (read
as DeepSSIM's reference, github.com/kekezhang112/DeepSSIM 1f0e908, reads them:
``prepare_salimg``), or from friqa's :func:`~friqa.saliency.gbvs.gbvs`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import torch
from torch import Tensor

from friqa.exceptions import ImageLoadError, InputError
from friqa.saliency.gbvs import gbvs

__all__ = ["SaliencyMap", "SaliencyMaps", "load_saliency_map", "saliency_mask", "gbvs_mask"]

#: One saliency map: a file path, or an array/tensor ``(H, W)``, ``(1, H, W)`` or
#: ``(1, 1, H, W)`` (uint8 in 0..255, uint16 in 0..65535, bool, or float in [0, 1]).
SaliencyMap: TypeAlias = "str | os.PathLike[str] | np.ndarray | Tensor"
#: Maps for a batch: a batch array/tensor ``(N, H, W)`` or ``(N, 1, H, W)``, or one map per
#: image, or a single map when the batch has one image.
SaliencyMaps: TypeAlias = "SaliencyMap | Sequence[SaliencyMap]"


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


def gbvs_mask(x: Tensor, threshold: float = 0.0) -> Tensor:
    """Binary masks ``(N, 1, H, W)`` (``x``'s dtype) from :func:`gbvs` maps of images ``x``.

    The maps are quantised to 8 bits before thresholding (``map > threshold``), as
    DeepSSIM's reference reads GBVS maps written as PNGs. No gradient flows through.
    """
    with torch.no_grad():
        maps = gbvs(x.detach())
    # The reference reads GBVS maps written as 8-bit PNGs (round(255 * map)).
    quantised = torch.round(maps.to(torch.float64) * 255.0) / 255.0
    return (quantised > threshold).to(x.dtype).reshape(x.shape[0], 1, *x.shape[-2:])
