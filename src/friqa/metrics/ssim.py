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

``"ssim_rgb"`` (:class:`SSIMRGB`, :func:`ssim_rgb`, :func:`ssim_map`) -- SSIM on
each RGB channel of the float image, averaged over the channels, with a
configurable separable Gaussian window (default 11, sigma 1.5) and ``L =
data_range``. This is the SSIM of the SMIC reference (KANGX99/SMIC 6736abe,
``smic-pytorch/SSIM_SMIC.py``, itself from the ``pytorch-msssim`` package; SMIC
uses a 7-tap window) and, away from the image borders, scikit-image's
``structural_similarity(channel_axis=..., gaussian_weights=True,
use_sample_covariance=False)``. Fully differentiable.
"""

from __future__ import annotations

from typing import Literal, cast, overload

import torch
from torch import Tensor

from friqa.exceptions import InputError
from friqa.metrics.base import EncodedRef, Metric, MetricInfo, MetricResult
from friqa.metrics.registry import register_metric
from friqa.ops.filters import gaussian_kernel1d, separable_filter
from friqa.validation import check_batch, check_data_range

__all__ = [
    "SSIM",
    "SSIMRGB",
    "ssim",
    "ssim_rgb",
    "ssim_map",
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
    family="base",
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
    family="base",
    reference=(
        f"{_WANG_REFERENCE}; per RGB channel with a separable Gaussian window and 'valid' "
        "filtering as in the SMIC reference (KANGX99/SMIC 6736abe, SSIM_SMIC.py) and "
        "scikit-image structural_similarity(gaussian_weights=True, "
        "use_sample_covariance=False)"
    ),
    description="SSIM per RGB channel (Gaussian window, configurable), averaged over channels",
)


# --- shared core ---------------------------------------------------------------------------
def _ssim_cs_maps(
    x: Tensor, y: Tensor, kernel: Tensor, c1: float, c2: float
) -> tuple[Tensor, Tensor]:
    """SSIM and contrast-structure maps of ``x`` and ``y`` per channel ('valid' filtering).

    Returns ``(ssim, cs)``, both ``(N, C, H - k + 1, W - k + 1)`` with ``k = len(kernel)``;
    ``cs = (2 s_xy + C2) / (s_x^2 + s_y^2 + C2)`` and ``ssim = l * cs``.
    """
    c = x.shape[1]
    moments = separable_filter(torch.cat([x, y, x * x, y * y, x * y], dim=1), kernel)
    mu_x, mu_y, e_xx, e_yy, e_xy = moments.split(c, dim=1)
    mu_xx, mu_yy, mu_xy = mu_x * mu_x, mu_y * mu_y, mu_x * mu_y
    var_x, var_y, cov = e_xx - mu_xx, e_yy - mu_yy, e_xy - mu_xy
    cs = (2.0 * cov + c2) / (var_x + var_y + c2)
    luminance = (2.0 * mu_xy + c1) / (mu_xx + mu_yy + c1)
    return luminance * cs, cs


def _check_window(window_size: int, sigma: float, k1: float, k2: float) -> None:
    if isinstance(window_size, bool) or not isinstance(window_size, int):
        raise InputError(f"window_size must be an odd positive integer, got {window_size!r}")
    if window_size < 1 or window_size % 2 == 0:
        raise InputError(f"window_size must be an odd positive integer, got {window_size}")
    if not (float(sigma) > 0 and float(sigma) < float("inf")):
        raise InputError(f"sigma must be a positive finite number, got {sigma!r}")
    for name, k in (("k1", k1), ("k2", k2)):
        if not (float(k) > 0 and float(k) < float("inf")):
            raise InputError(
                f"{name} must be a positive finite number (it keeps SSIM finite on flat "
                f"regions), got {k!r}"
            )


def _check_size(x: Tensor, min_size: int, metric: str) -> None:
    h, w = x.shape[-2:]
    if h < min_size or w < min_size:
        raise InputError(
            f"'{metric}' needs images of at least {min_size}x{min_size} pixels (its window), "
            f"got {h}x{w}"
        )


def _exact_dtype(device: torch.device) -> torch.dtype:
    # MATLAB computes in double; Apple's MPS backend has no float64.
    return torch.float32 if device.type == "mps" else torch.float64


def _round_half_away(v: Tensor) -> Tensor:
    """MATLAB/C ``round`` of non-negative values (halves go up), exactly."""
    whole = torch.floor(v)
    return whole + (v - whole >= 0.5).to(v.dtype)


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


def ssim_map(
    ref: Tensor,
    dist: Tensor,
    *,
    window_size: int = 11,
    sigma: float = 1.5,
    data_range: float = 1.0,
    k1: float = 0.01,
    k2: float = 0.03,
    channel_average: bool = True,
) -> Tensor:
    """The SSIM map of each channel under a separable Gaussian window, 'valid' filtering.

    The map of the ``"ssim_rgb"`` metric (and of SSIM-SMIC with ``window_size=7``).
    Differentiable; computed in the inputs' dtype on their device.

    Args:
        ref: reference ``(N, C, H, W)`` in ``[0, data_range]`` (any number of channels).
        dist: distorted batch of the same shape.
        window_size: taps of the Gaussian window (odd).
        sigma: its standard deviation in pixels.
        data_range: the value of white, ``L`` in ``C1 = (k1 L)^2``, ``C2 = (k2 L)^2``.
        k1, k2: the SSIM constants (positive).
        channel_average: average the channels' maps (``(N, 1, h, w)``) or keep them
            (``(N, C, h, w)``).

    Returns:
        The SSIM map (1 = identical), ``h = H - window_size + 1``, ``w = W - window_size + 1``.

    Raises:
        InputError: bad shapes, values outside ``[0, data_range]``, images smaller than
            the window, or bad parameters.

    Example:
        >>> x = torch.rand(2, 3, 16, 16)
        >>> m = ssim_map(x, x, window_size=7)
        >>> m.shape, bool(torch.allclose(m, torch.ones_like(m)))
        (torch.Size([2, 1, 10, 10]), True)
    """
    data_range = check_data_range(data_range)
    _check_window(window_size, sigma, k1, k2)
    ref = check_batch(ref, "ref", data_range=data_range, channels=None)
    dist = check_batch(dist, "dist", data_range=data_range, channels=None)
    if ref.shape != dist.shape:
        raise InputError(
            f"ref and dist must have the same shape, got {tuple(ref.shape)} and {tuple(dist.shape)}"
        )
    _check_size(ref, window_size, "ssim_map")
    kernel = gaussian_kernel1d(window_size, sigma, device=ref.device, dtype=ref.dtype)
    s, _ = _ssim_cs_maps(ref, dist, kernel, (k1 * data_range) ** 2, (k2 * data_range) ** 2)
    return s.mean(dim=1, keepdim=True) if channel_average else s


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

    Args:
        data_range: the value of white in the inputs (1.0 for images in [0, 1]).
        quantize: round to 8 bits as MATLAB reading the file (default) or not.

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

    def __init__(self, data_range: float = 1.0, *, quantize: bool = True) -> None:
        super().__init__(data_range)
        self.quantize = bool(quantize)

    @property
    def differentiable(self) -> bool:
        """True for the float path (``quantize=False``) only."""
        return not self.quantize

    def _encode_ref(self, ref: Tensor) -> Tensor:
        return _luminance(ref, self.data_range, self.quantize)

    def _compute(self, ref: EncodedRef, dist: Tensor, return_map: bool) -> MetricResult:
        _check_size(dist, self.window_size, self.info.name)
        x = ref.data
        y = _luminance(dist, self.data_range, self.quantize)
        big_l = 255.0 if self.quantize else self.data_range
        kernel = gaussian_kernel1d(self.window_size, self.sigma, device=y.device, dtype=y.dtype)
        s, _ = _ssim_cs_maps(x, y, kernel, (self.k1 * big_l) ** 2, (self.k2 * big_l) ** 2)
        score = s.mean(dim=(1, 2, 3)).to(dist.dtype)
        return MetricResult(score=score, map=(1.0 - s).to(dist.dtype) if return_map else None)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, quantize={self.quantize}"


@overload
def ssim(
    ref: Tensor,
    dist: Tensor,
    *,
    data_range: float = ...,
    quantize: bool = ...,
    return_map: Literal[False] = ...,
) -> Tensor: ...
@overload
def ssim(
    ref: Tensor,
    dist: Tensor,
    *,
    data_range: float = ...,
    quantize: bool = ...,
    return_map: Literal[True],
) -> tuple[Tensor, Tensor]: ...
def ssim(
    ref: Tensor,
    dist: Tensor,
    *,
    data_range: float = 1.0,
    quantize: bool = True,
    return_map: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Classic SSIM (see :class:`SSIM`) of each pair, ``(N,)``; with ``return_map`` also the map.

    Example:
        >>> ref = torch.rand(2, 3, 24, 24)
        >>> score, dmap = ssim(ref, (ref * 0.9).round(decimals=2), return_map=True)
        >>> score.shape, dmap.shape
        (torch.Size([2]), torch.Size([2, 1, 14, 14]))
    """
    result = SSIM(data_range, quantize=quantize).compute(ref, dist, return_map=return_map)
    if return_map:
        return result.score, cast(Tensor, result.map)
    return result.score


# --- "ssim_rgb": per-channel Gaussian SSIM -------------------------------------------------
@register_metric(SSIM_RGB_INFO)
class SSIMRGB(Metric):
    """SSIM per RGB channel with a Gaussian window, averaged over channels; higher is better.

    Each channel of the ``[0, data_range]`` float images is compared with SSIM under a
    separable ``window_size``-tap Gaussian window of standard deviation ``sigma``
    (normalised to sum 1), 'valid' filtering, ``L = data_range``; the channels' maps are
    averaged. See :func:`ssim_map`. The SMIC reference uses ``window_size=7``.

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
        _check_window(window_size, sigma, k1, k2)
        self.window_size = window_size
        self.sigma = float(sigma)
        self.k1 = float(k1)
        self.k2 = float(k2)

    def _compute(self, ref: EncodedRef, dist: Tensor, return_map: bool) -> MetricResult:
        _check_size(dist, self.window_size, self.info.name)
        kernel = gaussian_kernel1d(
            self.window_size, self.sigma, device=dist.device, dtype=dist.dtype
        )
        c1, c2 = (self.k1 * self.data_range) ** 2, (self.k2 * self.data_range) ** 2
        s, _ = _ssim_cs_maps(ref.data, dist, kernel, c1, c2)
        s = s.mean(dim=1, keepdim=True)
        return MetricResult(score=s.mean(dim=(1, 2, 3)), map=1.0 - s if return_map else None)

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, window_size={self.window_size}, sigma={self.sigma:g}, "
            f"k1={self.k1:g}, k2={self.k2:g}"
        )


@overload
def ssim_rgb(
    ref: Tensor,
    dist: Tensor,
    *,
    data_range: float = ...,
    window_size: int = ...,
    sigma: float = ...,
    k1: float = ...,
    k2: float = ...,
    return_map: Literal[False] = ...,
) -> Tensor: ...
@overload
def ssim_rgb(
    ref: Tensor,
    dist: Tensor,
    *,
    data_range: float = ...,
    window_size: int = ...,
    sigma: float = ...,
    k1: float = ...,
    k2: float = ...,
    return_map: Literal[True],
) -> tuple[Tensor, Tensor]: ...
def ssim_rgb(
    ref: Tensor,
    dist: Tensor,
    *,
    data_range: float = 1.0,
    window_size: int = 11,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
    return_map: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Per-channel Gaussian SSIM (see :class:`SSIMRGB`), ``(N,)``; with ``return_map`` also the map.

    Example:
        >>> ref = torch.rand(2, 3, 16, 16)
        >>> ssim_rgb(ref, ref.flip(-1), window_size=7).shape
        torch.Size([2])
    """
    metric = SSIMRGB(data_range, window_size=window_size, sigma=sigma, k1=k1, k2=k2)
    result = metric.compute(ref, dist, return_map=return_map)
    if return_map:
        return result.score, cast(Tensor, result.map)
    return result.score
