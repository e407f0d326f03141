"""SSIM, the structural similarity index, in two documented flavours.

Both follow Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, "Image quality
assessment: from error visibility to structural similarity", IEEE Transactions
on Image Processing 13(4):600-612, 2004: local means, variances and covariance
under a Gaussian window, ``SSIM = (2 mu_x mu_y + C1)(2 s_xy + C2) /
((mu_x^2 + mu_y^2 + C1)(s_x^2 + s_y^2 + C2))`` with ``C1 = (K1 L)^2``,
``C2 = (K2 L)^2``, population (biased) moments, and the score is the mean of the
SSIM map over the positions where the window fits ('valid' filtering).

``"ssim"`` (:class:`SSIM`, :func:`ssim`) -- the classic reference: the authors'
MATLAB ``ssim_index.m`` (the 2003 release used in the paper; no automatic
down-sampling) applied to ``rgb2gray`` of the 8-bit image. 11x11 Gaussian window,
sigma 1.5, K1 = 0.01, K2 = 0.03, L = 255, one luminance channel.

``"ssim_rgb"`` (:class:`SSIMRGB`, :func:`ssim_rgb`, and the map alone:
:func:`friqa.functional.ssim.ssim_map`) -- SSIM on
each RGB channel of the float image, averaged over the channels, with a
configurable separable Gaussian window (default 11, sigma 1.5) and ``L =
data_range``. This is the SSIM of the SMIC reference (KANGX99/SMIC 6736abe,
``smic-pytorch/SSIM_SMIC.py``, itself from the ``pytorch-msssim`` package; SMIC
uses a 7-tap window) and, away from the image borders, scikit-image's
``structural_similarity(channel_axis=..., gaussian_weights=True,
use_sample_covariance=False)``. Fully differentiable.
"""

from __future__ import annotations

import torch
from torch import Tensor

from friqa.functional.ssim import check_image_size, check_ssim_params, ssim_cs_maps
from friqa.metrics.base import EncodedRef, Family, Metric, MetricInfo, MetricResult
from friqa.metrics.function_form import metric_function
from friqa.metrics.registry import register_metric
from friqa.ops.color import YChannel, check_sr_options, crop_border, rgb_to_y, round_half_away
from friqa.ops.filters import gaussian_kernel1d

__all__ = [
    "SSIM",
    "SSIMRGB",
    "GaussianSSIMMetric",
    "ssim",
    "ssim_rgb",
    "MATLAB_GRAY_WEIGHTS",
    "SSIM_INFO",
    "SSIM_RGB_INFO",
]

#: MATLAB ``rgb2gray`` weights of R, G, B (the first row of the inverse NTSC YIQ matrix).
MATLAB_GRAY_WEIGHTS = (0.298936021293775, 0.587043074451121, 0.114020904255103)

_WANG_REFERENCE = (
    "Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, 'Image quality assessment: "
    "from error visibility to structural similarity', IEEE TIP 13(4):600-612, 2004"
)

SSIM_INFO = MetricInfo(
    name="ssim",
    lower_better=False,
    score_range=(-1.0, 1.0),
    needs_weights=False,
    returns_map=True,
    differentiable=False,
    family=Family.BASE,
    reference=(
        f"{_WANG_REFERENCE}; the authors' MATLAB ssim_index.m (11x11 Gaussian, sigma 1.5, "
        "K=(0.01, 0.03), L=255, 'valid') on MATLAB rgb2gray of the 8-bit image"
    ),
    description=(
        "SSIM as the authors' MATLAB ssim_index.m on 8-bit rgb2gray luminance "
        "(quantize=False: differentiable float variant)"
    ),
    gradient_note=(
        "its 8-bit quantisation has no gradient; use quantize=False or 'ssim_rgb' for training"
    ),
)

SSIM_RGB_INFO = MetricInfo(
    name="ssim_rgb",
    lower_better=False,
    score_range=(-1.0, 1.0),
    needs_weights=False,
    returns_map=True,
    differentiable=True,
    family=Family.BASE,
    reference=(
        f"{_WANG_REFERENCE}; per RGB channel with a separable Gaussian window and 'valid' "
        "filtering as in the SMIC reference (KANGX99/SMIC 6736abe, SSIM_SMIC.py) and "
        "scikit-image structural_similarity(gaussian_weights=True, "
        "use_sample_covariance=False)"
    ),
    description="SSIM per RGB channel (Gaussian window, configurable), averaged over channels",
)


def _exact_dtype(device: torch.device) -> torch.dtype:
    # MATLAB computes in double; Apple's MPS backend has no float64.
    return torch.float32 if device.type == "mps" else torch.float64


_round_half_away = round_half_away


def _luminance(x: Tensor, data_range: float, quantize: bool) -> Tensor:
    """MATLAB ``rgb2gray`` luminance ``(N, 1, H, W)``.

    ``quantize=True``: the 8-bit image MATLAB would read (``round(x * 255 /
    data_range)``), then ``rgb2gray`` of that uint8 image (weighted sum rounded back to
    an integer), as float64 values in ``[0, 255]``. ``quantize=False``: the weighted
    sum of the float channels, in ``x``'s dtype and scale.
    """
    wr, wg, wb = MATLAB_GRAY_WEIGHTS
    if quantize:
        q = _round_half_away(x.to(_exact_dtype(x.device)) * (255.0 / data_range)).clamp(0, 255)
        r, g, b = q[:, 0:1], q[:, 1:2], q[:, 2:3]
        return _round_half_away(r * wr + g * wg + b * wb)
    r, g, b = x[:, 0:1], x[:, 1:2], x[:, 2:3]
    return r * wr + g * wg + b * wb


# --- "ssim": the classic MATLAB reference ----------------------------------------------------
@register_metric(SSIM_INFO)
class SSIM(Metric):
    """SSIM as the authors' MATLAB ``ssim_index.m`` on ``rgb2gray`` luminance; higher is better.

    Faithful path (``quantize=True``, the default): the input ``[0, data_range]`` floats
    are rounded to the 8-bit values MATLAB would read from the image file
    (``round(x * 255 / data_range)``), converted with ``rgb2gray``'s uint8 arithmetic
    (``round(0.298936021293775 R + 0.587043074451121 G + 0.114020904255103 B)``), and
    SSIM is computed in float64 (MATLAB's double) with the 11x11 Gaussian window
    (sigma 1.5), K1 = 0.01, K2 = 0.03, L = 255 and 'valid' filtering. For images read
    from 8-bit files this reproduces ``ssim_index(rgb2gray(A), rgb2gray(B))``. The
    roundings have no useful gradient (it is zero), hence ``differentiable=False`` in
    the registry.

    Float path (``quantize=False``): no rounding; the luminance is the weighted sum of
    the float channels and ``L = data_range``. Differentiable, and equal to the faithful
    path up to the rounding of the luminance (a score difference of about 1e-3 on
    natural 8-bit images). Use it (or ``"ssim_rgb"``) as a training loss.

    The default is the faithful path because ``"ssim"`` names the published reference
    whose numbers benchmarks quote.

    Score: the mean SSIM map, in ``[-1, 1]`` (1 for identical images).
    Distortion map: ``1 - SSIM map`` of the luminance, ``(N, 1, H - 10, W - 10)``.

    Super-resolution conventions (see :mod:`friqa.ops.color` and docs/super-resolution.md):
    ``y_channel=True`` replaces ``rgb2gray`` by the BT.601 luma (Y in [16, 235], in
    floating point; with ``quantize=True`` on the 8-bit values, as BasicSR's
    ``calculate_ssim(test_y_channel=True)``), ``"matlab"`` by MATLAB's rounded
    ``rgb2ycbcr`` of the 8-bit image (always quantised); ``crop_border=N`` drops ``N``
    pixels on every border first.

    Args:
        data_range: the value of white in the inputs (1.0 for images in [0, 1]).
        quantize: round to 8 bits as MATLAB reading the file (default) or not.
        y_channel: ``False`` (``rgb2gray``), ``True``/``"float"`` or ``"matlab"``.
        crop_border: pixels removed from each border before comparing.

    Example:
        >>> ref = torch.rand(1, 3, 16, 16)
        >>> SSIM()(ref, ref)
        tensor([1.])
    """

    info = SSIM_INFO
    window_size = 11
    sigma = 1.5
    k1 = 0.01
    k2 = 0.03

    def __init__(
        self,
        data_range: float = 1.0,
        *,
        quantize: bool = True,
        y_channel: YChannel = False,
        crop_border: int = 0,
    ) -> None:
        super().__init__(data_range)
        self.y_channel, self.crop_border = check_sr_options(y_channel, crop_border)
        self.quantize = bool(quantize) or self.y_channel == "matlab"

    @property
    def differentiable(self) -> bool:
        """True for the float path (``quantize=False``) only."""
        return not self.quantize

    def _gray(self, x: Tensor) -> Tensor:
        """The one channel SSIM compares: luminance or luma, on the 8-bit scale if quantised."""
        x = crop_border(x, self.crop_border)
        if not self.y_channel:
            return _luminance(x, self.data_range, self.quantize)
        if not self.quantize:
            return rgb_to_y(x, self.data_range)
        x8 = x.to(_exact_dtype(x.device)) * (255.0 / self.data_range)
        if self.y_channel == "matlab":
            return rgb_to_y(x8, 255.0, matlab=True)
        return rgb_to_y(_round_half_away(x8).clamp(0, 255), 255.0)

    def _encode_ref(self, ref: Tensor) -> Tensor:
        return self._gray(ref)

    def _compute(self, ref: EncodedRef, dist: Tensor, return_map: bool) -> MetricResult:
        x = ref.data
        y = self._gray(dist)
        check_image_size(y, self.window_size, self.info.name)
        big_l = 255.0 if self.quantize else self.data_range
        kernel = gaussian_kernel1d(self.window_size, self.sigma, device=y.device, dtype=y.dtype)
        s, _ = ssim_cs_maps(x, y, kernel, (self.k1 * big_l) ** 2, (self.k2 * big_l) ** 2)
        score = s.mean(dim=(1, 2, 3)).to(dist.dtype)
        return MetricResult(score=score, map=(1.0 - s).to(dist.dtype) if return_map else None)

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, quantize={self.quantize}, y_channel={self.y_channel!r}, "
            f"crop_border={self.crop_border}"
        )


ssim = metric_function(
    SSIM,
    "ssim",
    """Classic SSIM (see :class:`SSIM`) of each pair, ``(N,)``; with ``return_map`` also the map.

    Example:
        >>> ref = torch.rand(2, 3, 24, 24)
        >>> score, dmap = ssim(ref, (ref * 0.9).round(decimals=2), return_map=True)
        >>> score.shape, dmap.shape
        (torch.Size([2]), torch.Size([2, 1, 14, 14]))
    """,
)


class GaussianSSIMMetric(Metric):
    """Base of the metrics that compare each channel with SSIM under a Gaussian window.

    Holds the window options shared by ``"ssim_rgb"`` (:class:`SSIMRGB`) and
    ``"ms_ssim"`` (:class:`~friqa.metrics.ms_ssim.MSSSIM`); subclasses set ``info``
    and implement ``_compute``.

    Args:
        data_range: the value of white in the inputs (1.0 for images in [0, 1]);
            ``L`` in the SSIM constants.
        window_size: taps of the Gaussian window (odd).
        sigma: its standard deviation in pixels.
        k1, k2: the SSIM constants.
    """

    def __init__(
        self,
        data_range: float = 1.0,
        *,
        window_size: int = 11,
        sigma: float = 1.5,
        k1: float = 0.01,
        k2: float = 0.03,
    ) -> None:
        super().__init__(data_range)
        self.window_size, self.sigma, self.k1, self.k2 = check_ssim_params(
            window_size, sigma, k1, k2
        )

    def window(self, like: Tensor) -> tuple[Tensor, float, float]:
        """The Gaussian kernel (on ``like``'s device and dtype) and the constants ``C1, C2``."""
        kernel = gaussian_kernel1d(
            self.window_size, self.sigma, device=like.device, dtype=like.dtype
        )
        return kernel, (self.k1 * self.data_range) ** 2, (self.k2 * self.data_range) ** 2

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, window_size={self.window_size}, sigma={self.sigma:g}, "
            f"k1={self.k1:g}, k2={self.k2:g}"
        )


@register_metric(SSIM_RGB_INFO)
class SSIMRGB(GaussianSSIMMetric):
    """SSIM per RGB channel with a Gaussian window, averaged over channels; higher is better.

    Each channel of the ``[0, data_range]`` float images is compared with SSIM under a
    separable ``window_size``-tap Gaussian window of standard deviation ``sigma``
    (normalised to sum 1), 'valid' filtering, ``L = data_range``; the channels' maps are
    averaged. See :func:`friqa.functional.ssim.ssim_map`. The SMIC reference uses
    ``window_size=7``.

    Score: the mean of the channel-averaged SSIM map, in ``[-1, 1]``.
    Distortion map: ``1 - `` that map, ``(N, 1, H - window_size + 1, W - window_size + 1)``.
    Differentiable; gradients are finite also for identical images.

    Args:
        data_range: the value of white in the inputs (1.0 for images in [0, 1]).
        window_size: taps of the Gaussian window (odd).
        sigma: its standard deviation in pixels.
        k1, k2: the SSIM constants.

    Example:
        >>> ref = torch.rand(1, 3, 16, 16)
        >>> SSIMRGB(window_size=7)(ref, ref)
        tensor([1.])
    """

    info = SSIM_RGB_INFO

    def _compute(self, ref: EncodedRef, dist: Tensor, return_map: bool) -> MetricResult:
        check_image_size(dist, self.window_size, self.info.name)
        s, _ = ssim_cs_maps(ref.data, dist, *self.window(dist))
        s = s.mean(dim=1, keepdim=True)
        return MetricResult(score=s.mean(dim=(1, 2, 3)), map=1.0 - s if return_map else None)


ssim_rgb = metric_function(
    SSIMRGB,
    "ssim_rgb",
    """Per-channel Gaussian SSIM (see :class:`SSIMRGB`), ``(N,)``; with ``return_map`` also the map.

    Example:
        >>> ref = torch.rand(2, 3, 16, 16)
        >>> ssim_rgb(ref, ref.flip(-1), window_size=7).shape
        torch.Size([2])
    """,
)
