"""Pooling layers of the VGG16 backbone.

``L2Pool`` is the anti-aliased pooling of DISTS (Ding et al., TPAMI 2020), also
used by DeepWSD and by most SMIC variants: ``sqrt(h * x**2 + 1e-12)`` with the
normalised 3x3 kernel ``h = w wᵀ / sum``, ``w = (0.5, 1, 0.5)`` (a Hann window),
stride 2, zero padding 1, each channel on its own.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["L2Pool", "make_pool"]


class L2Pool(nn.Module):
    """L2 pooling with a 3x3 Hann kernel and stride 2 (output size ``ceil(H/2)``)."""

    kernel: Tensor

    def __init__(self, channels: int) -> None:
        super().__init__()
        w = torch.tensor([0.5, 1.0, 0.5], dtype=torch.float32)
        h = torch.outer(w, w)
        h = h / h.sum()
        self.channels = channels
        self.register_buffer("kernel", h.expand(channels, 1, 3, 3).contiguous(), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        out = F.conv2d(x**2, self.kernel, stride=2, padding=1, groups=x.shape[1])
        return (out + 1e-12).sqrt()

    def extra_repr(self) -> str:
        return f"channels={self.channels}"


def make_pool(kind: str, channels: int) -> nn.Module:
    """A VGG pooling layer: ``'max'`` (torchvision's 2x2 max-pool) or ``'l2'``."""
    if kind == "max":
        return nn.MaxPool2d(kernel_size=2, stride=2)
    if kind == "l2":
        return L2Pool(channels)
    raise ValueError(f"unknown pooling {kind!r}; use 'max' or 'l2'")
