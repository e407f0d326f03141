"""SSIM and MS-SSIM kernels: the local SSIM / contrast-structure maps and the scale pyramid.

Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, "Image quality assessment:
from error visibility to structural similarity", IEEE TIP 13(4):600-612, 2004
(SSIM), and Z. Wang, E. P. Simoncelli, A. C. Bovik, "Multiscale structural
similarity for image quality assessment", Asilomar 2003 (MS-SSIM). The metrics
built on these kernels (:mod:`friqa.metrics.ssim`, :mod:`friqa.metrics.ms_ssim`,
the SMIC variants) document the exact definitions they follow.

Every function works on ``(N, C, H, W)`` floating tensors, per channel, on the
inputs' device and dtype, and is differentiable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from friqa.exceptions import InputError
from friqa.ops.filters import gaussian_kernel1d, pad2d, separable_filter
from friqa.validation import check_batch, check_data_range

__all__ = [
    "ssim_cs_maps",
    "check_ssim_params",
    "check_image_size",
    "ssim_map",
    "downsample2x",
    "ScaleMaps",
    "ms_ssim_scale_maps",
    "ms_ssim_terms",
    "ms_ssim_combine",
]


def ssim_cs_maps(
    x: Tensor, y: Tensor, kernel: Tensor, c1: float, c2: float
) -> tuple[Tensor, Tensor]:
    """SSIM and contrast-structure maps of ``x`` and ``y`` per channel ('valid' filtering).

    Local means, population variances and covariance under the separable window
    ``kernel`` (1-D, applied along both axes).

    Returns:
        ``(ssim, cs)``, both ``(N, C, H - k + 1, W - k + 1)`` with ``k = len(kernel)``;
        ``cs = (2 s_xy + C2) / (s_x^2 + s_y^2 + C2)`` and ``ssim = l * cs`` with the
        luminance term ``l = (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1)``.

    Example:
        >>> x = torch.rand(1, 3, 9, 9)
        >>> s, cs = ssim_cs_maps(x, x, torch.full((3,), 1 / 3), 1e-4, 9e-4)
        >>> s.shape, bool(torch.allclose(s, torch.ones_like(s)))
        (torch.Size([1, 3, 7, 7]), True)
    """
    c = x.shape[1]
    moments = separable_filter(torch.cat([x, y, x * x, y * y, x * y], dim=1), kernel)
    mu_x, mu_y, e_xx, e_yy, e_xy = moments.split(c, dim=1)
    mu_xx, mu_yy, mu_xy = mu_x * mu_x, mu_y * mu_y, mu_x * mu_y
    var_x, var_y, cov = e_xx - mu_xx, e_yy - mu_yy, e_xy - mu_xy
    cs = (2.0 * cov + c2) / (var_x + var_y + c2)
    luminance = (2.0 * mu_xy + c1) / (mu_xx + mu_yy + c1)
    return luminance * cs, cs


def check_ssim_params(
    window_size: int, sigma: float, k1: float, k2: float
) -> tuple[int, float, float, float]:
    """The SSIM parameters ``(window_size, sigma, k1, k2)``, checked, the last three as floats.

    ``window_size`` must be an odd positive integer, ``sigma``, ``k1`` and ``k2``
    positive finite numbers; otherwise :class:`~friqa.exceptions.InputError`.
    """
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
    return window_size, float(sigma), float(k1), float(k2)


def check_image_size(x: Tensor, min_size: int, metric: str) -> None:
    """Raise :class:`~friqa.exceptions.InputError` when ``x`` is smaller than its window.

    ``metric`` names the metric in the message.
    """
    h, w = x.shape[-2:]
    if h < min_size or w < min_size:
        raise InputError(
            f"'{metric}' needs images of at least {min_size}x{min_size} pixels (its window), "
            f"got {h}x{w}"
        )


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
    check_ssim_params(window_size, sigma, k1, k2)
    ref = check_batch(ref, "ref", data_range=data_range, channels=None)
    dist = check_batch(dist, "dist", data_range=data_range, channels=None)
    if ref.shape != dist.shape:
        raise InputError(
            f"ref and dist must have the same shape, got {tuple(ref.shape)} and {tuple(dist.shape)}"
        )
    check_image_size(ref, window_size, "ssim_map")
    kernel = gaussian_kernel1d(window_size, sigma, device=ref.device, dtype=ref.dtype)
    s, _ = ssim_cs_maps(ref, dist, kernel, (k1 * data_range) ** 2, (k2 * data_range) ** 2)
    return s.mean(dim=1, keepdim=True) if channel_average else s


# --- MS-SSIM ---------------------------------------------------------------------------------
def downsample2x(x: Tensor) -> Tensor:
    """Halve ``(N, C, H, W)`` by 2x2 means, to ``(ceil(H / 2), ceil(W / 2))``.

    An odd side is first extended by repeating its last row/column, as MATLAB's
    ``imfilter(x, ones(2) / 4, 'symmetric')`` followed by ``x(1:2:end, 1:2:end)``.

    Example:
        >>> downsample2x(torch.arange(9.0).view(1, 1, 3, 3))
        tensor([[[[2.0000, 3.5000],
                  [6.5000, 8.0000]]]])
    """
    h, w = x.shape[-2:]
    if h % 2 or w % 2:
        x = pad2d(x, (0, w % 2, 0, h % 2), "edge")
    return F.avg_pool2d(x, kernel_size=2, stride=2)


class ScaleMaps(NamedTuple):
    """The SSIM and contrast-structure maps of one MS-SSIM scale, ``(N, C, h, w)`` each."""

    ssim: Tensor
    cs: Tensor


def ms_ssim_scale_maps(
    x: Tensor, y: Tensor, kernel: Tensor, c1: float, c2: float, levels: int
) -> list[ScaleMaps]:
    """The maps of every MS-SSIM scale, finest first.

    Scale ``j`` (``0 .. levels - 1``) compares ``x`` and ``y`` down-sampled ``j``
    times with :func:`downsample2x`, with :func:`ssim_cs_maps` ('valid' filtering).
    The maps are returned, not averaged, so that a caller can weight them (the SMIC
    variant multiplies each by its attention) before :func:`ms_ssim_combine`.

    Example:
        >>> x = torch.rand(1, 3, 40, 40)
        >>> scales = ms_ssim_scale_maps(x, x, torch.full((5,), 0.2), 1e-4, 9e-4, 3)
        >>> [tuple(s.cs.shape[-2:]) for s in scales]
        [(36, 36), (16, 16), (6, 6)]
    """
    maps: list[ScaleMaps] = []
    for level in range(levels):
        if level > 0:
            x, y = downsample2x(x), downsample2x(y)
        maps.append(ScaleMaps(*ssim_cs_maps(x, y, kernel, c1, c2)))
    return maps


def ms_ssim_terms(scales: Sequence[ScaleMaps]) -> list[Tensor]:
    """The map MS-SSIM averages at each scale: ``cs`` at the finer ones, SSIM at the coarsest."""
    return [s.cs for s in scales[:-1]] + [scales[-1].ssim]


def ms_ssim_combine(values: Sequence[Tensor], weights: Sequence[float]) -> tuple[Tensor, Tensor]:
    """MS-SSIM from the per-scale values ``cs_1 .. cs_{M-1}, SSIM_M``, each ``(N, C)``.

    Each value is clipped at 0 (ReLU, as TensorFlow, pytorch-msssim and piq do before
    the fractional power), raised to its scale's weight, multiplied over the scales
    and averaged over the channels.

    Returns:
        ``(score, clipped)``: the scores ``(N,)`` and the clipped values ``(M, N, C)``.

    Example:
        >>> ms_ssim_combine([torch.ones(2, 3), torch.full((2, 3), 0.25)], (0.5, 0.5))[0]
        tensor([0.5000, 0.5000])
    """
    clipped = torch.relu(torch.stack(list(values)))  # (levels, N, C)
    w = torch.tensor(tuple(weights), device=clipped.device, dtype=clipped.dtype).view(-1, 1, 1)
    return (clipped**w).prod(dim=0).mean(dim=1), clipped
