"""PSNR-SMIC: PSNR whose squared-error map is re-weighted by SMIC attention.

Reproduces ``PSNR_SMIC`` of the SMIC reference (KANGX99/SMIC 6736abe,
``smic-pytorch/PSNR_SMIC.py``), one score per image:

1. preprocessing (``preprocess=True``): the reference's ``prepare_image``
   resizing (:func:`friqa.ops.resize.smic_prepare`, PIL on the 8-bit image);
2. distortion map: the squared error averaged over the 3 channels and a 7x7
   window (valid, stride 1), ``(N, 1, H - 6, W - 6)`` (the reference unfolds the
   image with stride 1 and averages each 3x49 block);
3. attention: VGG16 with L2 pooling on the un-normalised image, relu3_3 and
   relu4_3 projected to 32 channels, 7x7 patches with stride 7, ``1 - mean MIC``
   per patch; the relu4_3 grid is zoomed (``scipy.ndimage.zoom``, order 1) to
   the relu3_3 grid, the two are averaged, and the result is zoomed to the map
   size. The attention is *not* normalised;
4. ``score = 10 log10(1 / (mean(map * attention) + 1e-10))`` (the reference's
   ``1e-10`` guards identical images; the score assumes a data range of 1 after
   division by ``data_range``). Higher is better.

Quirks kept from the reference: the 1e-10 offset (a pair of identical images
scores 100 dB, not +inf); the attention map multiplies in float64, the
reference's numpy precision.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from friqa.metrics.base import Family, MetricInfo
from friqa.metrics.function_form import metric_function
from friqa.metrics.registry import register_metric
from friqa.smic._faithful import SMIC_GRADIENT_NOTE, SMIC_REFERENCE
from friqa.smic._faithful_map import FaithfulMapSMICMetric

__all__ = ["PSNRSMIC", "psnr_smic", "PSNR_SMIC_INFO", "local_mse_map"]

PSNR_SMIC_INFO = MetricInfo(
    name="psnr_smic",
    lower_better=False,
    score_range=(0.0, 100.0),
    needs_weights=True,
    returns_map=True,
    differentiable=False,
    family=Family.SMIC,
    gradient_note=SMIC_GRADIENT_NOTE,
    reference=f"{SMIC_REFERENCE}, PSNR_SMIC.py",
    description=(
        "PSNR-SMIC as the reference: 7x7 local MSE map x SMIC attention (k7 s7), "
        "reference resizing (preprocess=False: differentiable, attention constant)"
    ),
)


def local_mse_map(ref: Tensor, dist: Tensor, window: int = 7) -> Tensor:
    """Squared error averaged over channels and a ``window x window`` block (valid, stride 1).

    ``(N, C, H, W)`` -> ``(N, 1, H - window + 1, W - window + 1)``.

    Example:
        >>> local_mse_map(torch.zeros(1, 3, 9, 9), torch.full((1, 3, 9, 9), 0.5)).shape
        torch.Size([1, 1, 3, 3])
    """
    sq = ((ref - dist) ** 2).mean(dim=1, keepdim=True)
    return F.avg_pool2d(sq, kernel_size=window, stride=1)


@register_metric(PSNR_SMIC_INFO)
class PSNRSMIC(FaithfulMapSMICMetric):
    """PSNR-SMIC (see the module docstring); higher is better.

    ``compute(..., return_map=True)`` gives the rectified map ``mse_map * attention``
    ``(N, 1, H' - 6, W' - 6)`` (``H', W'`` after preprocessing), whose mean is what
    the score converts to dB. ``extras`` (always): ``"grids"`` (stage ->
    ``(N, gh, gw)`` attention), ``"attention"`` (the combined attention at the map
    size) and ``"distortion_map"`` (the plain local MSE map).

    Gradients: with ``preprocess=False`` the score is differentiable with respect to
    ``dist`` with the attention treated as a constant weight (MIC is rank-based and
    has no gradient); the default PIL preprocessing has none.

    Args:
        weights: VGG16 weights file.
        preprocess: the reference's resizing (default True).
        data_range: the value of white in the inputs.
        patch_size, stride: attention patches (default 7 and the reference's stride).

    Example:
        >>> PSNRSMIC(weights=path)(ref, dist)  # doctest: +SKIP
        tensor([41.9615])
    """

    info = PSNR_SMIC_INFO
    window = 7

    def distortion_map(self, ref: Tensor, dist: Tensor) -> Tensor:
        return local_mse_map(ref, dist, self.window)

    def reduce(self, mean: Tensor) -> Tensor:
        return 10.0 * torch.log10(1.0 / (mean + 1e-10))


psnr_smic = metric_function(
    PSNRSMIC,
    "psnr_smic",
    """PSNR-SMIC of each pair ``(N,)``; with ``return_map=True`` also the rectified map.

    Function form of :class:`PSNRSMIC`.
    """,
)
