"""SSIM-SMIC: the SSIM distortion map re-weighted by SMIC attention.

Reproduces ``SSIM_SMIC`` of the SMIC reference (KANGX99/SMIC 6736abe,
``smic-pytorch/SSIM_SMIC.py``) with the settings of its demo and of the
published numbers (``SSIM_SMIC(data_range=1, win_size=7)``), one score per image:

1. preprocessing (``preprocess=True``): :func:`friqa.ops.resize.smic_prepare`;
2. SSIM map: per RGB channel, separable Gaussian window (7 taps, sigma 1.5,
   built in float32 as the reference does: :func:`reference_gaussian`), valid
   filtering, ``K = (0.01, 0.03)``, ``L = 1``, averaged over channels (as
   :func:`friqa.functional.ssim.ssim_map`); distortion map ``1 - SSIM``,
   ``(N, 1, H - 6, W - 6)``;
3. attention as in PSNR-SMIC (L2-pooled VGG16 on the un-normalised image,
   relu3_3 + relu4_3, 7x7 patches, stride 7, the two grids averaged on the
   relu3_3 grid), zoomed to the SSIM map size (``scipy.ndimage.zoom`` order 1);
4. ``score = mean((1 - SSIM) * attention)``. Lower is better (a distortion, not a
   similarity: 0 for identical images).

Quirks kept: the score is the weighted *dissimilarity* (the reference returns it
as is), and the class default of the reference (window 11, data range 255) is
not what its demo uses; we default to the demo's window 7 (option ``window_size``).
"""

from __future__ import annotations

import os

import torch
from torch import Tensor

from friqa.functional.ssim import check_ssim_params, ssim_cs_maps
from friqa.metrics.function_form import metric_function
from friqa.metrics.registry import register_metric
from friqa.smic._faithful import faithful_info
from friqa.smic._faithful_map import FaithfulMapSMICMetric

__all__ = ["SSIMSMIC", "ssim_smic", "SSIM_SMIC_INFO", "reference_gaussian"]

SSIM_SMIC_INFO = faithful_info(
    "ssim_smic",
    "SSIM_SMIC.py (data_range=1, win_size=7)",
    "SSIM-SMIC as the reference: mean((1 - SSIM map) x SMIC attention), per-channel "
    "Gaussian SSIM (window 7), reference resizing",
    lower_better=True,
    score_range=(0.0, 2.0),
    returns_map=True,
)


def reference_gaussian(size: int, sigma: float) -> Tensor:
    """The reference's float32 Gaussian window (``pytorch-msssim``'s ``_fspecial_gauss_1d``).

    ``g = exp(-(i - size // 2) ** 2 / (2 sigma ** 2))`` evaluated in float32 and divided
    by its float32 sum. It differs from the float64-then-rounded kernel of
    :func:`friqa.ops.filters.gaussian_kernel1d` in the last bit of some taps, which
    is enough to move ``1 - SSIM`` by ~1e-4 relative on smooth images (the variance
    ``E[x^2] - mu^2`` cancels), so the faithful metric uses this one.

    Example:
        >>> float(reference_gaussian(7, 1.5).sum())
        1.0
    """
    coords = torch.arange(size, dtype=torch.float32) - size // 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    return g / g.sum()


@register_metric(SSIM_SMIC_INFO)
class SSIMSMIC(FaithfulMapSMICMetric):
    """SSIM-SMIC (see the module docstring); lower is better.

    ``compute(..., return_map=True)`` gives the rectified map
    ``(1 - SSIM map) * attention`` ``(N, 1, H' - w + 1, W' - w + 1)``; its mean is the
    score. ``extras`` (always): ``"grids"``, ``"attention"`` (at the map size) and
    ``"distortion_map"`` (``1 - SSIM map``).

    Options and gradients: as :class:`~friqa.smic._faithful.FaithfulSMICMetric`, and
        window_size: Gaussian window of SSIM (the reference's demo: 7).
        sigma, k1, k2: the other SSIM parameters (1.5, 0.01, 0.03).
    """

    info = SSIM_SMIC_INFO

    def __init__(
        self,
        weights: str | os.PathLike[str] | None = None,
        *,
        preprocess: bool = True,
        data_range: float = 1.0,
        window_size: int = 7,
        sigma: float = 1.5,
        k1: float = 0.01,
        k2: float = 0.03,
        patch_size: int | None = None,
        stride: int | None = None,
        precision: str = "fp32",
    ) -> None:
        super().__init__(
            weights,
            preprocess=preprocess,
            data_range=data_range,
            patch_size=patch_size,
            stride=stride,
            precision=precision,
        )
        self.window_size, self.sigma, self.k1, self.k2 = check_ssim_params(
            window_size, sigma, k1, k2
        )

    def distortion_map(self, ref: Tensor, dist: Tensor) -> Tensor:
        kernel = reference_gaussian(self.window_size, self.sigma).to(dist)
        s, _ = ssim_cs_maps(ref, dist, kernel, self.k1**2, self.k2**2)
        return 1.0 - s.mean(dim=1, keepdim=True)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, window_size={self.window_size}, sigma={self.sigma:g}"


ssim_smic = metric_function(
    SSIMSMIC,
    "ssim_smic",
    """SSIM-SMIC of each pair ``(N,)``; with ``return_map=True`` also the rectified map.

    Function form of :class:`SSIMSMIC`.
    """,
)
