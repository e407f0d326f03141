"""LPIPS (VGG16, v0.1) kernels: input scaling, unit-normalised features, linear layers.

Zhang, Isola, Efros, Shechtman and Wang, "The Unreasonable Effectiveness of Deep
Features as a Perceptual Metric", CVPR 2018; reference code
github.com/richzhang/PerceptualSimilarity as the PyPI package ``lpips`` 0.1.4.
The metric :class:`friqa.metrics.lpips.LPIPS` documents what they compute
together; the SMIC variants reuse them layer by layer.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor

from friqa.backbone import get_vgg16
from friqa.exceptions import WeightsError
from friqa.weights import load_shipped

__all__ = [
    "LPIPS_LAYERS",
    "LPIPS_CHANNELS",
    "LPIPS_SHIFT",
    "LPIPS_SCALE",
    "LPIPS_EPS",
    "LPIPS_MIN_SIZE",
    "LPIPS_WEIGHTS_FILE",
    "lpips_linear_weights",
    "normalize_channels",
    "lpips_features",
    "apply_lpips_linear",
    "lpips_layer_maps",
    "lpips_spatial_map",
]

#: VGG16 taps of LPIPS, in the order of its linear layers ``lin0`` .. ``lin4``.
LPIPS_LAYERS: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")
#: Channels of those taps.
LPIPS_CHANNELS: tuple[int, ...] = (64, 128, 256, 512, 512)
#: LPIPS' scaling layer, applied to inputs in [-1, 1]: ``(v - shift) / scale``. On
#: ``v = 2 x - 1`` it is ImageNet normalisation of ``x``
#: (:data:`friqa.backbone.IMAGENET_MEAN` ``= (1 + shift) / 2``,
#: :data:`~friqa.backbone.IMAGENET_STD` ``= scale / 2``), which is how
#: :func:`lpips_features` computes it.
LPIPS_SHIFT: tuple[float, float, float] = (-0.030, -0.088, -0.188)
LPIPS_SCALE: tuple[float, float, float] = (0.458, 0.448, 0.450)
#: Added to the channel norm before dividing (as ``lpips.normalize_tensor``).
LPIPS_EPS = 1e-10
#: Smallest height and width: relu5_3 comes after four 2x2 max-pools.
LPIPS_MIN_SIZE = 16
#: The shipped v0.1 VGG linear weights (``friqa.weights``).
LPIPS_WEIGHTS_FILE = "lpips_vgg_v0.1.pth"


def lpips_linear_weights(
    device: torch.device | str | None = None, dtype: torch.dtype = torch.float32
) -> dict[str, Tensor]:
    """The learned v0.1 channel weights, layer name -> tensor ``(1, C, 1, 1)``.

    They are the weights of LPIPS' bias-free 1x1 convolutions ``lin0`` .. ``lin4``,
    read from the shipped, hash-checked file. Fresh tensors on every call.

    Example:
        >>> w = lpips_linear_weights()
        >>> [tuple(w[k].shape) for k in ("relu1_2", "relu5_3")]
        [(1, 64, 1, 1), (1, 512, 1, 1)]
    """
    raw = load_shipped(LPIPS_WEIGHTS_FILE)
    out: dict[str, Tensor] = {}
    for i, (layer, channels) in enumerate(zip(LPIPS_LAYERS, LPIPS_CHANNELS, strict=True)):
        w = raw.get(f"lin{i}.model.1.weight")
        if w is None or tuple(w.shape) != (1, channels, 1, 1):
            raise WeightsError(
                f"{LPIPS_WEIGHTS_FILE}: expected lin{i}.model.1.weight of shape "
                f"(1, {channels}, 1, 1); the shipped file is not LPIPS v0.1 VGG"
            )
        out[layer] = w.to(device=device, dtype=dtype)
    return out


def normalize_channels(f: Tensor, eps: float = LPIPS_EPS) -> Tensor:
    """``f / (||f||_2 over channels + eps)`` at every position (LPIPS' normalisation).

    The norm is computed so that its gradient stays finite where a feature vector
    is exactly zero (there the value is 0, as in the reference, and so is the
    gradient of the norm); elsewhere it is the plain square root.
    """
    squares = f * f
    sq = squares.sum(dim=1, keepdim=True)
    positive = sq > 0
    safe = torch.where(positive, sq, torch.ones_like(sq))
    norm = torch.where(positive, safe.sqrt(), torch.zeros_like(sq))
    if torch.is_grad_enabled() and f.requires_grad:
        return f / (norm + eps)
    return torch.div(f, norm + eps, out=squares)  # the same division, into the spare buffer


def lpips_features(
    x: Tensor,
    weights: str | os.PathLike[str] | None = None,
    *,
    layers: Iterable[str] = LPIPS_LAYERS,
    scale_input: bool = True,
    unit_normalize: bool = True,
) -> dict[str, Tensor]:
    """LPIPS-space features of images ``x`` (``(N, 3, H, W)`` in [0, 1]).

    Args:
        x: images in [0, 1].
        weights: VGG16 weights (see :func:`friqa.backbone.get_vgg16`).
        layers: VGG16 taps (max pooling); LPIPS uses :data:`LPIPS_LAYERS`.
        scale_input: apply LPIPS' scaling layer first, computed as the equal ImageNet
            normalisation (LPIPS does; the SMIC reference's LPIPS variant feeds
            [0, 1] images directly).
        unit_normalize: apply :func:`normalize_channels` (LPIPS does; the SMIC
            reference's variant does not).

    Returns:
        a dict tap name -> ``(N, C, h, w)`` tensor.
    """
    net = get_vgg16(weights, "max", device=x.device, dtype=x.dtype)
    feats = net(x, tuple(layers), normalize=scale_input)
    if unit_normalize:
        feats = {k: normalize_channels(v) for k, v in feats.items()}
    return feats


def apply_lpips_linear(x: Tensor, weight: Tensor) -> Tensor:
    """LPIPS' linear layer: ``(N, C, ...)`` -> ``(N, 1, ...)``, the weighted channel sum.

    ``weight`` is one entry of :func:`lpips_linear_weights` (``(1, C, 1, 1)``);
    ``x`` is typically the squared feature difference of that layer. A 4-D ``x``
    goes through a 1x1 convolution as in the reference; other ranks (patches) use
    the equivalent weighted sum over dimension 1.
    """
    w = weight.to(device=x.device, dtype=x.dtype)
    if x.ndim == 4:
        return F.conv2d(x, w)
    shape = (1, w.shape[1]) + (1,) * (x.ndim - 2)
    return (x * w.reshape(shape)).sum(dim=1, keepdim=True)


def lpips_layer_maps(
    feats_ref: Mapping[str, Tensor],
    feats_dist: Mapping[str, Tensor],
    linear_weights: Mapping[str, Tensor],
    layers: Iterable[str] = LPIPS_LAYERS,
) -> dict[str, Tensor]:
    """Per-layer LPIPS maps ``lin((f_ref - f_dist)^2)``, each ``(N, 1, h, w)``.

    Their spatial means, summed over layers, are the LPIPS score.
    """
    return {
        k: apply_lpips_linear(_squared_difference(feats_ref[k], feats_dist[k]), linear_weights[k])
        for k in layers
    }


def _squared_difference(a: Tensor, b: Tensor) -> Tensor:
    """``(a - b) ** 2``; squared in place when no gradient is tracked (the same values)."""
    diff = a - b
    if torch.is_grad_enabled() and diff.requires_grad:
        return diff**2
    return diff.pow_(2)


def lpips_spatial_map(layer_maps: Mapping[str, Tensor], size: tuple[int, int]) -> Tensor:
    """LPIPS' ``spatial=True`` map: every layer map resized to ``size`` and summed.

    Bilinear interpolation with ``align_corners=False`` as the reference, summed in
    the order of ``layer_maps``; ``(N, 1, h_k, w_k)`` maps give ``(N, 1, *size)``.
    """
    ups = [
        F.interpolate(m, size=size, mode="bilinear", align_corners=False)
        for m in layer_maps.values()
    ]
    total = ups[0]
    for up in ups[1:]:
        total = total + up
    return total
