"""LPIPS (VGG16, v0.1): learned perceptual image patch similarity.

Zhang, Isola, Efros, Shechtman and Wang, "The Unreasonable Effectiveness of Deep
Features as a Perceptual Metric", CVPR 2018. Reference code:
github.com/richzhang/PerceptualSimilarity, released as the PyPI package
``lpips`` 0.1.4; this module reproduces ``lpips.LPIPS(net='vgg', version='0.1')``
called with ``normalize=True`` (inputs in [0, 1]).

What is computed, for a reference ``x`` and a distorted ``y`` in [0, 1]:

1. map to [-1, 1] (``2 x - 1``), then LPIPS' scaling layer
   ``(v - shift) / scale`` with ``shift = (-0.030, -0.088, -0.188)`` and
   ``scale = (0.458, 0.448, 0.450)`` (no ImageNet mean/std);
2. VGG16 with max pooling, features at relu1_2, relu2_2, relu3_3, relu4_3, relu5_3;
3. each feature vector divided by its channel norm plus ``eps = 1e-10``;
4. squared difference, weighted over channels by the learned non-negative v0.1
   weights (a bias-free 1x1 convolution per layer), averaged over space;
5. summed over the five layers. Lower is better; 0 for identical images.

The distortion map is LPIPS' ``spatial=True`` output: every per-layer map of
step 4 (before averaging) resized to the input size with bilinear interpolation
(``align_corners=False``) and summed; shape ``(N, 1, H, W)``. Its mean is close
to, but not exactly, the score (resizing does not preserve means).

The building blocks (:func:`lpips_features`, :func:`lpips_linear_weights`,
:func:`apply_lpips_linear`, :func:`lpips_layer_maps`, :func:`normalize_channels`,
:func:`lpips_scale_input`) are public for the SMIC variants.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from typing import Literal, overload

import torch
import torch.nn.functional as F
from torch import Tensor

from friqa.backbone import get_vgg16
from friqa.exceptions import InputError, WeightsError
from friqa.metrics.base import EncodedRef, Metric, MetricInfo, MetricResult
from friqa.metrics.registry import register_metric
from friqa.weights import load_shipped

__all__ = [
    "LPIPS",
    "lpips",
    "LPIPS_LAYERS",
    "LPIPS_CHANNELS",
    "LPIPS_SHIFT",
    "LPIPS_SCALE",
    "LPIPS_EPS",
    "LPIPS_MIN_SIZE",
    "LPIPS_WEIGHTS_FILE",
    "lpips_linear_weights",
    "lpips_scale_input",
    "normalize_channels",
    "lpips_features",
    "apply_lpips_linear",
    "lpips_layer_maps",
]

#: VGG16 taps of LPIPS, in the order of its linear layers ``lin0`` .. ``lin4``.
LPIPS_LAYERS: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")
#: Channels of those taps.
LPIPS_CHANNELS: tuple[int, ...] = (64, 128, 256, 512, 512)
#: LPIPS' scaling layer, applied to inputs in [-1, 1]: ``(v - shift) / scale``.
LPIPS_SHIFT: tuple[float, float, float] = (-0.030, -0.088, -0.188)
LPIPS_SCALE: tuple[float, float, float] = (0.458, 0.448, 0.450)
#: Added to the channel norm before dividing (as ``lpips.normalize_tensor``).
LPIPS_EPS = 1e-10
#: Smallest height and width: relu5_3 comes after four 2x2 max-pools.
LPIPS_MIN_SIZE = 16
#: The shipped v0.1 VGG linear weights (``friqa.weights``).
LPIPS_WEIGHTS_FILE = "lpips_vgg_v0.1.pth"

INFO = MetricInfo(
    name="lpips",
    lower_better=True,
    score_range=(0.0, math.inf),
    needs_weights=True,
    returns_map=True,
    differentiable=True,
    aligned=True,
    family="base",
    reference=(
        "Zhang et al., CVPR 2018; richzhang/PerceptualSimilarity as PyPI lpips 0.1.4, "
        "LPIPS(net='vgg', version='0.1'), normalize=True"
    ),
    description="LPIPS v0.1 (VGG16): learned weighted distance of unit-normalised deep features",
)


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


def lpips_scale_input(x: Tensor) -> Tensor:
    """Images in [0, 1] -> [-1, 1] -> LPIPS' scaling layer ``(v - shift) / scale``."""
    shift = torch.tensor(LPIPS_SHIFT, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    scale = torch.tensor(LPIPS_SCALE, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (2 * x - 1 - shift) / scale


def normalize_channels(f: Tensor, eps: float = LPIPS_EPS) -> Tensor:
    """``f / (||f||_2 over channels + eps)`` at every position (LPIPS' normalisation).

    The norm is computed so that its gradient stays finite where a feature vector
    is exactly zero (there the value is 0, as in the reference, and so is the
    gradient of the norm); elsewhere it is the plain square root.
    """
    sq = (f * f).sum(dim=1, keepdim=True)
    positive = sq > 0
    safe = torch.where(positive, sq, torch.ones_like(sq))
    norm = torch.where(positive, safe.sqrt(), torch.zeros_like(sq))
    return f / (norm + eps)


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
        scale_input: apply :func:`lpips_scale_input` first (LPIPS does; the SMIC
            reference's LPIPS variant feeds [0, 1] images directly).
        unit_normalize: apply :func:`normalize_channels` (LPIPS does; the SMIC
            reference's variant does not).

    Returns:
        a dict tap name -> ``(N, C, h, w)`` tensor.
    """
    net = get_vgg16(weights, "max", device=x.device, dtype=x.dtype)
    h = lpips_scale_input(x) if scale_input else x
    feats = net(h, tuple(layers), normalize=False)
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
        k: apply_lpips_linear((feats_ref[k] - feats_dist[k]) ** 2, linear_weights[k])
        for k in layers
    }


@register_metric(INFO)
class LPIPS(Metric):
    """LPIPS v0.1 on VGG16 (see the module docstring). Lower is better.

    Args:
        weights: VGG16 weights file (``None``: friqa's default resolution, see
            :func:`friqa.backbone.resolve_vgg16_weights`).
        data_range: the value of white in the inputs.

    ``compute(..., return_map=True)`` gives the ``(N, 1, H, W)`` map of LPIPS'
    ``spatial=True`` mode. ``extras["layers"]`` holds the per-layer scores
    ``(N,)`` and, with a map, ``extras["layer_maps"]`` the per-layer maps at
    feature resolution.

    Example:
        >>> metric = LPIPS()  # doctest: +SKIP
        >>> metric(ref, dist)  # doctest: +SKIP
        tensor([0.1745])
    """

    info = INFO
    lin_relu1_2: Tensor
    lin_relu2_2: Tensor
    lin_relu3_3: Tensor
    lin_relu4_3: Tensor
    lin_relu5_3: Tensor

    def __init__(
        self, weights: str | os.PathLike[str] | None = None, data_range: float = 1.0
    ) -> None:
        super().__init__(data_range)
        self.weights = weights
        for layer, w in lpips_linear_weights().items():
            self.register_buffer(f"lin_{layer}", w, persistent=False)

    def linear_weights(self) -> dict[str, Tensor]:
        """This module's linear weights, layer -> ``(1, C, 1, 1)`` buffer."""
        return {k: getattr(self, f"lin_{k}") for k in LPIPS_LAYERS}

    def features(self, x: Tensor) -> dict[str, Tensor]:
        """Unit-normalised LPIPS features of ``x`` (in ``[0, data_range]``)."""
        if min(x.shape[-2:]) < LPIPS_MIN_SIZE:
            raise InputError(
                f"LPIPS needs images of at least {LPIPS_MIN_SIZE}x{LPIPS_MIN_SIZE} pixels (VGG16's "
                f"four 2x2 max-pools before relu5_3), got {x.shape[-2]}x{x.shape[-1]}; upsample "
                "the images first"
            )
        return lpips_features(x / self.data_range, self.weights)

    def _encode_ref(self, ref: Tensor) -> dict[str, Tensor]:
        return self.features(ref)

    def _compute(self, ref: EncodedRef, dist: Tensor, return_map: bool) -> MetricResult:
        feats_ref: dict[str, Tensor] = ref.data
        feats_dist = self.features(dist)
        maps = lpips_layer_maps(feats_ref, feats_dist, self.linear_weights())
        n = dist.shape[0]
        means = {k: maps[k].mean(dim=(2, 3), keepdim=True) for k in LPIPS_LAYERS}
        total = means[LPIPS_LAYERS[0]]
        for k in LPIPS_LAYERS[1:]:  # the reference's order of summation
            total = total + means[k]
        extras: dict[str, object] = {"layers": {k: v.reshape(n) for k, v in means.items()}}
        dmap: Tensor | None = None
        if return_map:
            size = (dist.shape[2], dist.shape[3])
            ups = [
                F.interpolate(maps[k], size=size, mode="bilinear", align_corners=False)
                for k in LPIPS_LAYERS
            ]
            dmap = ups[0]
            for up in ups[1:]:
                dmap = dmap + up
            extras["layer_maps"] = maps
        return MetricResult(score=total.reshape(n), map=dmap, extras=extras)

    def extra_repr(self) -> str:
        return f"weights={self.weights!r}, data_range={self.data_range:g}"


@overload
def lpips(
    ref: Tensor,
    dist: Tensor,
    *,
    weights: str | os.PathLike[str] | None = ...,
    return_map: Literal[False] = ...,
    data_range: float = ...,
) -> Tensor: ...


@overload
def lpips(
    ref: Tensor,
    dist: Tensor,
    *,
    weights: str | os.PathLike[str] | None = ...,
    return_map: Literal[True],
    data_range: float = ...,
) -> tuple[Tensor, Tensor]: ...


def lpips(
    ref: Tensor,
    dist: Tensor,
    *,
    weights: str | os.PathLike[str] | None = None,
    return_map: bool = False,
    data_range: float = 1.0,
) -> Tensor | tuple[Tensor, Tensor]:
    """LPIPS v0.1 (VGG16) of each pair: scores ``(N,)``, or ``(scores, map)`` with a map.

    Function form of :class:`LPIPS`; see the module docstring for the definition.

    Example:
        >>> x = torch.rand(1, 3, 64, 64)
        >>> lpips(x, x)  # doctest: +SKIP
        tensor([0.])
    """
    result = LPIPS(weights, data_range).compute(ref, dist, return_map=return_map)
    if return_map and result.map is not None:
        return result.score, result.map
    return result.score
