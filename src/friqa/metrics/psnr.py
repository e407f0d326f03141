"""PSNR: peak signal-to-noise ratio, per image over all channels.

``PSNR = 10 log10(data_range ** 2 / MSE)`` where MSE is the mean squared error over
all channels and pixels of one image, as scikit-image's
``skimage.metrics.peak_signal_noise_ratio`` computes it on an RGB image.

Identical images have ``MSE = 0`` and a PSNR of ``+inf`` (as in scikit-image). Their
gradient is defined as zero (the score is at its maximum) instead of NaN, so one
identical pair does not poison a batch; to *train* towards identity, use the MSE
(or ``-log`` of it) as the loss rather than PSNR.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from friqa.metrics.base import EncodedRef, Family, Metric, MetricInfo, MetricResult
from friqa.metrics.function_form import metric_function
from friqa.metrics.registry import register_metric
from friqa.ops.color import YChannel, check_sr_options, sr_prepare
from friqa.ops.sse import checked_sse
from friqa.validation import check_pair

__all__ = ["PSNR", "psnr", "psnr_from_mse", "PSNR_INFO"]

PSNR_INFO = MetricInfo(
    name="psnr",
    lower_better=False,
    score_range=(0.0, math.inf),
    needs_weights=False,
    returns_map=True,
    differentiable=True,
    family=Family.BASE,
    reference=(
        "Peak signal-to-noise ratio over all channels, as scikit-image's "
        "peak_signal_noise_ratio (10 log10(data_range^2 / MSE))"
    ),
    description="Peak signal-to-noise ratio in dB over all channels (+inf for identical images)",
)


def psnr_from_mse(mse: Tensor, data_range: float = 1.0) -> Tensor:
    """``10 log10(data_range ** 2 / mse)``: ``+inf`` where ``mse == 0``, with zero gradient there.

    Example:
        >>> psnr_from_mse(torch.tensor([0.01, 0.0]))
        tensor([20., inf])
    """
    if not (torch.is_grad_enabled() and mse.requires_grad):
        return 10.0 * torch.log10(data_range**2 / mse)  # the same values; 1 / 0 gives inf
    positive = mse > 0
    safe = torch.where(positive, mse, torch.ones_like(mse))
    value = 10.0 * torch.log10(data_range**2 / safe)
    return torch.where(positive, value, torch.full_like(value, math.inf))


@register_metric(PSNR_INFO)
class PSNR(Metric):
    """Peak signal-to-noise ratio (dB), one score per image; higher is better.

    Score: ``10 log10(data_range ** 2 / MSE)`` with MSE over all channels and pixels
    of each image; in ``[0, +inf]`` for inputs in ``[0, data_range]``, ``+inf`` for
    identical images (see the module docstring for the gradient there).

    Distortion map: the squared error averaged over the channels, ``(N, 1, H, W)``,
    in units of the input squared (its spatial mean is the MSE).

    Super-resolution conventions (see :mod:`friqa.ops.color` and docs/super-resolution.md):
    ``y_channel=True`` compares the BT.601 luma (Y in [16, 235] / 255, float, as
    BasicSR's ``calculate_psnr(test_y_channel=True)``), ``"matlab"`` MATLAB's rounded
    ``rgb2ycbcr`` of the 8-bit image (no gradient); ``crop_border=N`` drops ``N`` pixels
    on every border first. The map is then that of the cropped luma.

    Args:
        data_range: the value of white in the inputs (1.0 for images in [0, 1]).
        y_channel: ``False`` (all RGB channels), ``True``/``"float"`` or ``"matlab"``.
        crop_border: pixels removed from each border before comparing.

    Example:
        >>> ref = torch.zeros(1, 3, 8, 8)
        >>> PSNR()(ref, ref + 0.1).round(decimals=3)
        tensor([20.])
    """

    info = PSNR_INFO

    def __init__(
        self, data_range: float = 1.0, *, y_channel: YChannel = False, crop_border: int = 0
    ) -> None:
        super().__init__(data_range)
        self.y_channel, self.crop_border = check_sr_options(y_channel, crop_border)

    @property
    def differentiable(self) -> bool:
        """False with ``y_channel="matlab"`` (its roundings have no gradient)."""
        return self.y_channel != "matlab"

    def compute(
        self, ref: Tensor, dist: Tensor, *, return_map: bool = False, clamp: bool = False
    ) -> MetricResult:
        """As :meth:`Metric.compute`; on float32 CPU batches without a gradient or a map,
        the check and the squared error take one read of each image
        (:func:`friqa.ops.sse.checked_sse`)."""
        if not return_map and not self.y_channel and not self.crop_border:
            r, d = check_pair(ref, dist, data_range=self.data_range, values=False)
            sse = checked_sse(r, d, self.data_range, clamp=clamp)
            if sse is not None:
                mse = (sse / r[0].numel()).to(r.dtype)
                return MetricResult(score=psnr_from_mse(mse, self.data_range), map=None)
        return super().compute(ref, dist, return_map=return_map, clamp=clamp)

    def _encode_ref(self, ref: Tensor) -> Tensor:
        return sr_prepare(ref, self.data_range, self.y_channel, self.crop_border)

    def _compute(self, ref: EncodedRef, dist: Tensor, return_map: bool) -> MetricResult:
        dist = sr_prepare(dist, self.data_range, self.y_channel, self.crop_border)
        sq = F.mse_loss(dist, ref.data, reduction="none")  # (ref - dist)^2 in one pass
        score = psnr_from_mse(sq.mean(dim=(1, 2, 3)), self.data_range)
        return MetricResult(score=score, map=sq.mean(dim=1, keepdim=True) if return_map else None)

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, y_channel={self.y_channel!r}, crop_border={self.crop_border}"
        )


psnr = metric_function(
    PSNR,
    "psnr",
    """PSNR of each pair, shape ``(N,)``; with ``return_map=True`` also the map (see :class:`PSNR`).

    Example:
        >>> ref = torch.full((2, 3, 4, 4), 0.5)
        >>> psnr(ref, ref * 0.8).round(decimals=3)
        tensor([20., 20.])
    """,
)
