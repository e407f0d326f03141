"""VGG16 feature extractor in plain torch, with torchvision's layer layout.

The 13 convolutions sit at torchvision's ``features.N`` indices (so torchvision
state dicts load as they are); the four pooling layers (indices 4, 9, 16, 23)
are max-pools as in torchvision or L2 pools as in DISTS (``pooling='l2'``). The
module is frozen and in eval mode, but gradients flow to the input when the
input requires them (perceptual losses need that).

The ReLUs run in place on the convolution output they follow (as torchvision's
VGG16 does: less memory traffic, about 8 % of a pass on CPU); a pass copies
that output first when it is a recorded tap (``conv1_1``) or the tensor a
resumed pass starts from, so no tensor handed out is ever overwritten.

``channels_last=True`` (off by default) runs float32/float64 inputs on CPU or
CUDA in the ``channels_last`` memory format and hands the features back
contiguous. On a 2-core CPU float32 gets 1.05-1.2x faster and its features stay
within 1e-6 relative (norm) of the contiguous pass, but a few elements move by
up to 4e-4 absolute (other conv kernels, other summation order), more than the
element-wise DISTS-package agreement test allows; float64 stays within 1e-12
but gets slower. Hence it is opt-in: ``get_vgg16(...).channels_last = True``
switches the shared backbone. Reduced precision (``precision="bf16"``, see
:mod:`friqa.backbone.precision`) always runs channels_last: there the scores move
by ~1e-3 anyway and it is the fast layout.

Simonyan and Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Iterable
from pathlib import Path

import torch
from torch import Tensor, nn

from friqa.backbone.feature_cache import active_feature_cache
from friqa.backbone.pooling import make_pool
from friqa.backbone.precision import active_precision, autocast_dtype
from friqa.backbone.weights import VGG16_CONV_SHAPES, load_vgg16_state_dict, resolve_vgg16_weights
from friqa.exceptions import InputError, WeightsError

__all__ = [
    "VGG16",
    "TAPS",
    "DEFAULT_TAPS",
    "FIRST_POOL_INDEX",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "get_vgg16",
    "clear_vgg16_cache",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: Tap name -> index in ``features`` after which it is taken. ``image`` is the input as
#: given (before ImageNet normalisation); ``conv1_1`` is the first conv before its ReLU.
TAPS: dict[str, int] = {
    "image": -1,
    "conv1_1": 0,
    "relu1_1": 1, "relu1_2": 3, "pool1": 4,
    "relu2_1": 6, "relu2_2": 8, "pool2": 9,
    "relu3_1": 11, "relu3_2": 13, "relu3_3": 15, "pool3": 16,
    "relu4_1": 18, "relu4_2": 20, "relu4_3": 22, "pool4": 23,
    "relu5_1": 25, "relu5_2": 27, "relu5_3": 29,
}  # fmt: skip

_POOL_INDICES = {4: 64, 9: 128, 16: 256, 23: 512}
#: The taps :meth:`VGG16.forward` gives by default (LPIPS' and DISTS' layers). A
#: shared pass (:mod:`friqa.backbone.feature_cache`) keeps them all, with the last
#: layer before the first pooling, so that other metrics can pick them up.
DEFAULT_TAPS: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")
#: Index of the first pooling layer: ``features[:FIRST_POOL_INDEX]`` is the same for
#: max and L2 pooling (given the same weights).
FIRST_POOL_INDEX = min(_POOL_INDICES)

#: Where ``channels_last=True`` applies (elsewhere the input's layout is kept).
_CHANNELS_LAST_DEVICES = ("cpu", "cuda")
_CHANNELS_LAST_DTYPES = (torch.float32, torch.float64)


class VGG16(nn.Module):
    """The convolutional part of VGG16 (``features[0:30]``), frozen.

    Args:
        state_dict: the ``features.N.{weight,bias}`` tensors (see
            :func:`~friqa.backbone.weights.load_vgg16_state_dict`).
        pooling: ``'max'`` (torchvision) or ``'l2'`` (DISTS' L2 pooling).
        channels_last: run float32/float64 inputs on CPU or CUDA in the
            ``channels_last`` memory format (float32 on CPU: faster, features equal
            to round-off but not bit-for-bit; see the module docstring). The
            attribute of the same name can be switched later.

    Use :func:`get_vgg16` rather than this constructor so that the weights are
    resolved and shared.

    Attributes:
        weights_key: identifies the convolution weights (file, device, dtype) of the
            backbones :func:`get_vgg16` builds, so that a max- and an L2-pooled
            backbone can share their layers before the first pooling
            (:mod:`friqa.backbone.feature_cache`); ``None`` for other instances.
    """

    mean: Tensor
    std: Tensor
    weights_key: tuple[object, ...] | None = None

    def __init__(
        self, state_dict: dict[str, Tensor], pooling: str = "max", *, channels_last: bool = False
    ) -> None:
        super().__init__()
        if pooling not in ("max", "l2"):
            raise InputError(f"pooling must be 'max' or 'l2', got {pooling!r}")
        self.pooling = pooling
        self.channels_last = channels_last
        self._twins: dict[torch.dtype, nn.Sequential] = {}
        layers: list[nn.Module] = []
        for i in range(30):
            if i in VGG16_CONV_SHAPES:
                out_c, in_c = VGG16_CONV_SHAPES[i]
                # on the meta device: no random initialisation of weights loaded next
                layers.append(nn.Conv2d(in_c, out_c, kernel_size=3, padding=1, device="meta"))
            elif i in _POOL_INDICES:
                layers.append(make_pool(pooling, _POOL_INDICES[i]))
            else:
                layers.append(nn.ReLU(inplace=True))  # on the pass's own conv output
        self.features = nn.Sequential(*layers)
        convs = {f"{i}.{kind}" for i in VGG16_CONV_SHAPES for kind in ("weight", "bias")}
        given = {k.removeprefix("features."): v for k, v in state_dict.items()}
        missing = sorted(convs - set(given))
        if missing:
            raise WeightsError(f"the VGG16 state dict lacks {missing[:4]}")
        convs_sd = {k: given[k].detach().to(torch.float32) for k in convs}
        self.features.load_state_dict(convs_sd, assign=True)  # shares the loaded tensors
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> VGG16:
        """The backbone always stays in eval mode."""
        return super().train(False)

    def forward(
        self,
        x: Tensor,
        taps: Iterable[str] = DEFAULT_TAPS,
        *,
        normalize: bool = True,
        conv1_1_mask: Tensor | None = None,
    ) -> dict[str, Tensor]:
        """Features of ``x`` at the named taps.

        Args:
            x: images ``(N, 3, H, W)``, RGB in [0, 1].
            taps: names from :data:`TAPS`; the network runs only as deep as needed.
            normalize: subtract ImageNet mean and divide by std first (torchvision's
                convention). The ``image`` tap is always the input as given.
            conv1_1_mask: optional ``(N, 1, H, W)`` multiplier applied to the conv1_1
                output before its ReLU (DeepSSIM's saliency calibration).

        Returns:
            a dict tap name -> feature tensor.
        """
        wanted = list(dict.fromkeys(taps))
        unknown = [t for t in wanted if t not in TAPS]
        if unknown:
            raise InputError(f"unknown VGG16 tap(s) {unknown}; choose from {list(TAPS)}")
        indices = sorted({TAPS[t] for t in wanted if TAPS[t] >= 0})
        low = autocast_dtype(x.device) if active_precision() != "fp32" else None
        if low is not None and x.is_floating_point() and self.pass_dtype(x) == x.dtype:
            with torch.autocast(x.device.type, dtype=low):  # float16 on CUDA
                by_index = self._layer_outputs(x, indices, normalize, conv1_1_mask)
        else:
            by_index = self._layer_outputs(x, indices, normalize, conv1_1_mask)
        by_index = {
            i: t if t.dtype == x.dtype else t.to(x.dtype, memory_format=torch.contiguous_format)
            for i, t in by_index.items()
        }
        out: dict[str, Tensor] = {}
        if "image" in wanted:
            out["image"] = x
        names = {TAPS[t]: t for t in wanted}
        for i in indices:
            out[names[i]] = by_index[i]
        return out

    def _layer_outputs(
        self, x: Tensor, indices: list[int], normalize: bool, conv1_1_mask: Tensor | None
    ) -> dict[int, Tensor]:
        """Layer index -> output, from the active feature cache when it applies."""
        cache = active_feature_cache()
        if cache is not None and conv1_1_mask is None and cache.accepts(x):
            keep = {TAPS[t] for t in DEFAULT_TAPS} | {self.pooling_free_depth}
            return cache.features(self, x, indices, normalize=normalize, keep=keep)
        h = self.prepare_input(x, normalize=normalize)
        return self.run_layers(h, 0, max(indices, default=-1), indices, conv1_1_mask)[1]

    def prepare_input(self, x: Tensor, *, normalize: bool = True) -> Tensor:
        """What enters ``features[0]``: ImageNet-normalised if asked, in the pass's layout."""
        h = (x - self.mean) / self.std if normalize else x
        dtype = self.pass_dtype(x)
        if dtype != h.dtype:  # bfloat16 on the CPU, always channels_last
            return h.to(dtype, memory_format=torch.channels_last)
        if self.uses_channels_last(h):
            h = h.contiguous(memory_format=torch.channels_last)
        return h

    def pass_dtype(self, x: Tensor) -> torch.dtype:
        """The dtype the layers run in for input ``x``: bfloat16 for a float32 CPU input
        in ``precision="bf16"`` (on a bfloat16 copy of the weights, made once), else
        ``x.dtype`` (CUDA's float16 runs under autocast instead)."""
        if x.dtype == torch.float32 and x.device.type == "cpu" and active_precision() != "fp32":
            return autocast_dtype(x.device) or x.dtype
        return x.dtype

    def layers_for(self, dtype: torch.dtype) -> nn.Sequential:
        """``features`` with weights in ``dtype`` (a copy for a reduced precision, made once
        per backbone, channels_last; never trained, so it never goes stale)."""
        if dtype == self.features[0].weight.dtype:
            return self.features
        twin = self._twins.get(dtype)
        if twin is None:
            with _LOCK:
                twin = self._twins.get(dtype)
                if twin is None:
                    twin = copy.deepcopy(self.features).to(dtype)
                    twin = twin.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
                    self._twins[dtype] = twin
        return twin

    def run_layers(
        self,
        h: Tensor,
        start: int,
        stop: int,
        record: Iterable[int],
        conv1_1_mask: Tensor | None = None,
    ) -> tuple[Tensor, dict[int, Tensor]]:
        """Run ``features[start..stop]`` on ``h``; the last output and the recorded ones.

        ``h`` is :meth:`prepare_input`'s output (``start == 0``) or the output of
        ``features[start - 1]``, so a pass can be resumed to deeper layers with the
        same operations on the same tensors (bit-identical to one longer pass).
        Recorded outputs are handed back contiguous (in a reduced-precision pass: as
        computed, for :meth:`forward` to convert).
        """
        keep = set(record)
        layers = self.layers_for(h.dtype)
        # Recorded outputs are made contiguous, except in a reduced-precision pass, whose
        # outputs :meth:`forward` converts (dtype and layout in one copy).
        channels_last = self.uses_channels_last(h) and layers is self.features
        out: dict[int, Tensor] = {}
        for i in range(start, stop + 1):
            layer = layers[i]
            if isinstance(layer, nn.ReLU) and (i == start or i - 1 in keep):
                h = h.clone()  # the in-place ReLU must not overwrite a tensor handed out
            h = layer(h)
            if i == 0 and conv1_1_mask is not None:
                h = h * conv1_1_mask.to(h.dtype)
            if i in keep:
                out[i] = h.contiguous() if channels_last else h
        return h, out

    @property
    def pooling_free_depth(self) -> int:
        """Index of the last layer before the first pooling (equal for max and L2 pooling)."""
        return FIRST_POOL_INDEX - 1

    def uses_channels_last(self, x: Tensor) -> bool:
        """Whether a pass on ``x`` runs in the ``channels_last`` memory format (always in
        reduced precision, where it is the fast layout)."""
        if x.device.type not in _CHANNELS_LAST_DEVICES or x.dtype not in _CHANNELS_LAST_DTYPES:
            return False
        return self.channels_last or active_precision() != "fp32"


_LOCK = threading.Lock()
_STATE_DICTS: dict[tuple[str, int, int], dict[str, Tensor]] = {}
_MODELS: dict[tuple[str, int, int, str, str, torch.dtype], VGG16] = {}


def get_vgg16(
    weights: str | os.PathLike[str] | None = None,
    pooling: str = "max",
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> VGG16:
    """The shared VGG16 for these weights, pooling, device and dtype.

    The weights are resolved with :func:`~friqa.backbone.weights.resolve_vgg16_weights`
    (explicit path, ``FRIQA_VGG16_WEIGHTS``, torch's cache, download) and read once
    per process; every metric asking for the same combination gets the same module,
    so several deep metrics do not each load 59 MB.
    """
    path = resolve_vgg16_weights(weights).resolve()
    stat = path.stat()
    file_key = (str(path), stat.st_size, stat.st_mtime_ns)
    dev = torch.device(device) if device is not None else torch.device("cpu")
    key = (*file_key, pooling, str(dev), dtype)
    with _LOCK:
        model = _MODELS.get(key)
        if model is None:
            sd = _STATE_DICTS.get(file_key)
            if sd is None:
                sd = load_vgg16_state_dict(Path(path))
                _STATE_DICTS[file_key] = sd
            model = VGG16(sd, pooling=pooling).to(device=dev, dtype=dtype)
            model.weights_key = (*file_key, str(dev), dtype)
            _MODELS[key] = model
    return model


def clear_vgg16_cache() -> None:
    """Forget every shared backbone (frees memory; mostly for tests)."""
    with _LOCK:
        _STATE_DICTS.clear()
        _MODELS.clear()
