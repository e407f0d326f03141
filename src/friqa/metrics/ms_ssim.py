"""MS-SSIM: multi-scale structural similarity.

Z. Wang, E. P. Simoncelli, A. C. Bovik, "Multiscale structural similarity for image
quality assessment", 37th Asilomar Conference on Signals, Systems and Computers,
2003. At scale ``j = 1..M`` (``M = 5``) the images are low-pass filtered and
down-sampled ``j - 1`` times by 2; the contrast-structure term ``cs_j`` (mean of
``(2 s_xy + C2) / (s_x^2 + s_y^2 + C2)``) is taken at every scale and the full SSIM
(luminance included) at the coarsest one:
``MS-SSIM = SSIM_M ** w_M * prod_{j < M} cs_j ** w_j`` with the paper's weights
``(0.0448, 0.2856, 0.3001, 0.2363, 0.1333)``.

Definition followed: TensorFlow's ``tf.image.ssim_multiscale`` (which follows the
authors' MATLAB ``msssim.m`` in its filtering and down-sampling):

* 11-tap Gaussian window, sigma 1.5, K = (0.01, 0.03), ``L = data_range``,
  population moments, 'valid' filtering at every scale;
* down-sampling: a 2x2 mean with stride 2; an odd height or width is first extended
  by repeating its last row or column (MATLAB's ``imfilter(..., 'symmetric')`` with
  ``ones(2)/4`` followed by ``(1:2:end)``), so the new size is ``ceil(size / 2)``;
* each ``cs_j`` and ``SSIM_M`` is clipped at 0 (ReLU) before the fractional power,
  as TensorFlow, pytorch-msssim and piq do (the MATLAB code would return complex
  numbers for negative values);
* computed on each RGB channel and averaged over the channels (TensorFlow,
  pytorch-msssim, piq), not on a luminance channel (the MATLAB code takes gray
  images).

pytorch-msssim and piq differ from this only in how they extend odd sizes before
down-sampling (zero padding on both sides, resp. replicating the first row/column),
so their scores differ slightly on images whose sides are not multiples of 16.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import Tensor

from friqa.exceptions import InputError
from friqa.functional.ssim import (
    ScaleMaps,
    check_image_size,
    ms_ssim_combine,
    ms_ssim_scale_maps,
    ms_ssim_terms,
)
from friqa.metrics.base import EncodedRef, Family, MetricInfo, MetricResult
from friqa.metrics.function_form import metric_function
from friqa.metrics.registry import register_metric
from friqa.metrics.ssim import GaussianSSIMMetric

__all__ = ["MSSSIM", "ms_ssim", "MS_SSIM_WEIGHTS", "MS_SSIM_INFO"]

#: The scale weights of Wang, Simoncelli and Bovik (2003), finest scale first.
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)

MS_SSIM_INFO = MetricInfo(
    name="ms_ssim",
    lower_better=False,
    score_range=(0.0, 1.0),
    needs_weights=False,
    returns_map=True,
    differentiable=True,
    family=Family.BASE,
    reference=(
        "Z. Wang, E. P. Simoncelli, A. C. Bovik, 'Multiscale structural similarity for image "
        "quality assessment', Asilomar 2003; per RGB channel as TensorFlow's "
        "tf.image.ssim_multiscale (down-sampling as the authors' MATLAB msssim.m)"
    ),
    description="Multi-scale SSIM (5 scales, Gaussian 11/1.5) per RGB channel, averaged",
)


def _check_weights(weights: Sequence[float]) -> tuple[float, ...]:
    try:
        values = tuple(float(w) for w in weights)
    except (TypeError, ValueError) as exc:
        raise InputError(f"weights must be a sequence of numbers, got {weights!r}") from exc
    if not values or any(not (math.isfinite(w) and w >= 0) for w in values):
        raise InputError(
            f"weights must be a non-empty sequence of non-negative numbers, got {weights!r}"
        )
    return values


@register_metric(MS_SSIM_INFO)
class MSSSIM(GaussianSSIMMetric):
    """Multi-scale SSIM (see the module docstring for the exact definition); higher is better.

    Score: MS-SSIM per RGB channel, averaged over channels, in ``[0, 1]``.
    Distortion map: ``1 - SSIM map`` at the finest scale (the map of ``"ssim_rgb"``
    with the same window), averaged over channels, ``(N, 1, H - w + 1, W - w + 1)``.
    ``extras["scale_values"]`` holds the clipped ``cs_1 .. cs_{M-1}, SSIM_M`` per image
    and channel, shape ``(M, N, C)``.

    Images must be at least ``(window_size - 1) * 2 ** (M - 1) + 1`` pixels on each side
    (161 with the defaults) so that the window fits at the coarsest scale.

    Args:
        data_range: the value of white in the inputs (1.0 for images in [0, 1]).
        window_size: taps of the Gaussian window (odd).
        sigma: its standard deviation.
        k1, k2: the SSIM constants.
        weights: the scale exponents, finest scale first; their number is ``M``.

    Example:
        >>> import torch
        >>> ref = torch.rand(1, 3, 161, 161)
        >>> MSSSIM()(ref, ref)
        tensor([1.])
    """

    info = MS_SSIM_INFO

    def __init__(
        self,
        data_range: float = 1.0,
        *,
        window_size: int = 11,
        sigma: float = 1.5,
        k1: float = 0.01,
        k2: float = 0.03,
        weights: Sequence[float] = MS_SSIM_WEIGHTS,
    ) -> None:
        super().__init__(data_range, window_size=window_size, sigma=sigma, k1=k1, k2=k2)
        self.weights = _check_weights(weights)

    @property
    def min_size(self) -> int:
        """Smallest side the images may have."""
        return (self.window_size - 1) * 2 ** (len(self.weights) - 1) + 1

    def scale_maps(self, ref: Tensor, dist: Tensor) -> list[ScaleMaps]:
        """SSIM and cs maps of every scale, finest first (see :func:`ms_ssim_scale_maps`).

        ``ref`` and ``dist`` are ``(N, C, H, W)`` in ``[0, data_range]``, at least
        :attr:`min_size` on each side (not checked here).
        """
        return ms_ssim_scale_maps(ref, dist, *self.window(dist), len(self.weights))

    def _compute(self, ref: EncodedRef, dist: Tensor, return_map: bool) -> MetricResult:
        check_image_size(dist, self.min_size, self.info.name)
        scales = self.scale_maps(ref.data, dist)
        values = [t.mean(dim=(2, 3)) for t in ms_ssim_terms(scales)]
        score, clipped = ms_ssim_combine(values, self.weights)
        fine_map = 1.0 - scales[0].ssim.mean(dim=1, keepdim=True) if return_map else None
        return MetricResult(score=score, map=fine_map, extras={"scale_values": clipped})

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, weights={self.weights}"


ms_ssim = metric_function(
    MSSSIM,
    "ms_ssim",
    """MS-SSIM of each pair (see :class:`MSSSIM`), ``(N,)``; with ``return_map`` also the map.

    Example:
        >>> import torch
        >>> ref = torch.rand(2, 3, 170, 180)
        >>> ms_ssim(ref, ref.flip(-1)).shape
        torch.Size([2])
    """,
)
