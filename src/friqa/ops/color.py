"""The super-resolution evaluation conventions: BT.601 luma (Y of YCbCr) and border cropping.

Super-resolution papers report PSNR and SSIM on the luma channel of YCbCr
(ITU-R BT.601, "studio swing": Y in [16, 235] for 8-bit values), after
removing ``scale`` pixels (or ``scale + 6``, depending on the paper) from every
border of both images. Two ways of computing that Y are common:

- ``"float"`` (``y_channel=True``): ``Y = 16 + (65.481 R + 128.553 G + 24.966 B)``
  with ``R, G, B`` in [0, 1], kept in floating point, as BasicSR's
  ``rgb2ycbcr``/``bgr2ycbcr(y_only=True)`` computes it;
- ``"matlab"``: MATLAB's ``rgb2ycbcr`` on a ``uint8`` image, which rounds the
  8-bit channels on reading and rounds Y back to an integer (half away from zero).

Values here are returned in the scale of the input (``[0, data_range]``): a Y of
235 on the 8-bit scale is ``235 / 255 * data_range``.
"""

from __future__ import annotations

from typing import Literal

from torch import Tensor

from friqa.exceptions import InputError

__all__ = [
    "BT601_Y_WEIGHTS",
    "BT601_Y_OFFSET",
    "YChannel",
    "round_half_away",
    "rgb_to_y",
    "crop_border",
    "check_sr_options",
    "sr_prepare",
]

#: BT.601 luma weights of R, G, B for [0, 1] inputs and an 8-bit output scale.
BT601_Y_WEIGHTS = (65.481, 128.553, 24.966)
#: the luma offset on the 8-bit scale (black is Y = 16).
BT601_Y_OFFSET = 16.0

#: ``False`` (RGB as given), ``True``/``"float"`` (BasicSR) or ``"matlab"`` (rounded Y).
YChannel = bool | Literal["float", "matlab"]


def round_half_away(v: Tensor) -> Tensor:
    """MATLAB/C ``round`` of non-negative values (halves go up), exactly."""
    whole = v.floor()
    return whole + (v - whole >= 0.5).to(v.dtype)


def rgb_to_y(x: Tensor, data_range: float = 1.0, *, matlab: bool = False) -> Tensor:
    """BT.601 luma ``(N, 1, H, W)`` of RGB images ``(N, 3, H, W)`` in ``[0, data_range]``.

    ``matlab=False``: ``(16 + 65.481 r + 128.553 g + 24.966 b) / 255 * data_range`` with
    ``r = R / data_range`` etc., in ``x``'s dtype, differentiable. ``matlab=True``: the
    channels first rounded to 8 bits, Y rounded to an integer on the 8-bit scale (no
    gradient), as MATLAB's ``rgb2ycbcr`` of a ``uint8`` image.
    """
    if x.ndim != 4 or x.shape[1] != 3:
        raise InputError(f"rgb_to_y needs RGB images (N, 3, H, W), got {tuple(x.shape)}")
    wr, wg, wb = BT601_Y_WEIGHTS
    scale = 255.0 / data_range
    if matlab:
        q = round_half_away(x.detach() * scale).clamp(0, 255)
        y = BT601_Y_OFFSET + (wr * q[:, 0:1] + wg * q[:, 1:2] + wb * q[:, 2:3]) / 255.0
        return round_half_away(y) / scale
    r, g, b = x[:, 0:1], x[:, 1:2], x[:, 2:3]
    return (BT601_Y_OFFSET / 255.0) * data_range + (wr * r + wg * g + wb * b) / 255.0


def crop_border(x: Tensor, n: int) -> Tensor:
    """``x`` without ``n`` pixels on each of its four borders (``n = 0``: ``x`` itself)."""
    if n == 0:
        return x
    h, w = x.shape[-2:]
    if 2 * n >= min(h, w):
        raise InputError(
            f"crop_border={n} removes the whole {h}x{w} image; use a smaller crop_border"
        )
    return x[..., n : h - n, n : w - n]


def check_sr_options(y_channel: object, crop: object) -> tuple[YChannel, int]:
    """Validate ``y_channel`` and ``crop_border``; ``True`` becomes ``"float"``."""
    if y_channel is True:
        y_channel = "float"
    if y_channel not in (False, "float", "matlab"):
        raise InputError(f"y_channel must be False, True, 'float' or 'matlab', got {y_channel!r}")
    if isinstance(crop, bool) or not isinstance(crop, int) or crop < 0:
        raise InputError(f"crop_border must be a non-negative integer, got {crop!r}")
    return y_channel, crop


def sr_prepare(x: Tensor, data_range: float, y_channel: YChannel, crop: int) -> Tensor:
    """``x`` cropped by ``crop`` pixels and, when ``y_channel``, reduced to its BT.601 luma."""
    x = crop_border(x, crop)
    if y_channel:
        x = rgb_to_y(x, data_range, matlab=y_channel == "matlab")
    return x
