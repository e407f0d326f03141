"""Pixel losses (L1, MSE) in the :class:`~friqa.losses.base.Loss` API, to compose with deep ones.

``l1``: mean absolute difference over channels and pixels of each image;
``mse``: mean squared difference. Both 0 for identical images; neither checks
the range (an output may step outside [0, 1]) nor needs a backbone.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from friqa.exceptions import InputError
from friqa.losses.base import Loss
from friqa.validation import check_batch

__all__ = ["PixelLoss", "PIXEL_LOSSES"]

#: The pixel losses by name.
PIXEL_LOSSES = ("l1", "mse")


class PixelLoss(Loss):
    """``(N, C, H, W)`` batches of equal shape, ``ref`` first: per-image L1 or MSE.

    Args:
        kind: ``"l1"`` or ``"mse"``.
        reduction: ``"mean"`` (default), ``"sum"`` or ``"none"``.
        weight: factor applied to every per-image value.

    Example:
        >>> import torch
        >>> l1 = PixelLoss("l1", reduction="none")
        >>> l1(torch.zeros(2, 3, 4, 4), torch.full((2, 3, 4, 4), 0.5))
        tensor([0.5000, 0.5000])
    """

    def __init__(self, kind: str = "l1", reduction: str = "mean", weight: float = 1.0) -> None:
        if kind not in PIXEL_LOSSES:
            raise InputError(f"pixel loss must be one of {PIXEL_LOSSES}, got {kind!r}")
        super().__init__(reduction=reduction, weight=weight)
        self.kind = kind
        self.label = kind

    def _encode_ref(self, ref: Tensor) -> Tensor:
        return check_batch(ref, "ref", data_range=None, channels=None)

    def _loss(self, ref: Any, dist: Tensor) -> Tensor:
        check_batch(dist, "dist", data_range=None, channels=None)
        if dist.shape != ref.shape:
            raise InputError(
                f"ref and dist must have the same shape for a pixel loss, got ref "
                f"{tuple(ref.shape)} and dist {tuple(dist.shape)}"
            )
        diff = dist - ref
        values = diff.abs() if self.kind == "l1" else diff.square()
        return values.mean(dim=(1, 2, 3))

    def extra_repr(self) -> str:
        return f"{self.kind!r}, reduction={self.reduction!r}, weight={self.weight:g}"
