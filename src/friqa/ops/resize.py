"""Resizing with the exact semantics the reference implementations use.

Two families live here:

* **Reference preprocessing** of whole images, as the authors' scripts do it on
  8-bit PIL images before converting them to tensors:
  :func:`pil_resize_like_torchvision` (torchvision's ``transforms.Resize`` on a
  PIL image), :func:`smic_prepare` (the SMIC reference's ``prepare_image``) and
  :func:`deepwsd_prepare` (DeepWSD's ``prepare_image``). They go through PIL,
  so they are exact but **not differentiable** and run on the CPU; they are
  meant for reproducing published numbers, not for training.
* **Map resizing** with ``scipy.ndimage.zoom(..., order=1)`` semantics:
  :func:`zoom_bilinear`, batched, differentiable, on any device (SMIC resizes
  its attention grids this way).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from friqa.exceptions import InputError

__all__ = [
    "torchvision_resize_shape",
    "pil_resize_like_torchvision",
    "smic_prepare_shape",
    "smic_prepare",
    "deepwsd_prepare_shape",
    "deepwsd_prepare",
    "zoom_output_shape",
    "zoom_bilinear",
]


def _check_size(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def torchvision_resize_shape(height: int, width: int, size: int | Sequence[int]) -> tuple[int, int]:
    """The ``(height, width)`` that torchvision's ``Resize(size)`` produces.

    An int ``size`` sets the shorter side; the longer one becomes
    ``int(size * long / short)`` (truncated, as torchvision does). A pair is
    ``(height, width)``.

    >>> torchvision_resize_shape(384, 512, 256)
    (256, 341)
    """
    if isinstance(size, bool):
        raise InputError(f"size must be an int or (height, width), got {size!r}")
    if isinstance(size, (int, np.integer)):
        short, long = (width, height) if width <= height else (height, width)
        new_short = _check_size(size, "size")
        new_long = int(new_short * long / short)
        return (new_long, new_short) if width <= height else (new_short, new_long)
    pair = tuple(size)
    if len(pair) == 1:
        return torchvision_resize_shape(height, width, int(pair[0]))
    if len(pair) != 2:
        raise InputError(f"size must be an int or (height, width), got {size!r}")
    return _check_size(pair[0], "height"), _check_size(pair[1], "width")


def _as_batch(image: Tensor, name: str) -> tuple[Tensor, bool]:
    if not isinstance(image, Tensor) or not image.is_floating_point():
        raise InputError(f"{name}: expected a floating-point torch.Tensor in [0, 1]")
    if image.ndim == 3:
        return image.unsqueeze(0), True
    if image.ndim != 4:
        raise InputError(f"{name}: expected (N, C, H, W) or (C, H, W), got {tuple(image.shape)}")
    return image, False


def pil_resize_like_torchvision(image: Tensor, size: int | Sequence[int]) -> Tensor:
    """Resize as torchvision's ``Resize(size)`` does on an 8-bit PIL image.

    Each image is quantised to 8 bits (``round(255 x)``, clipped), resized with
    PIL's antialiased ``BILINEAR`` filter to :func:`torchvision_resize_shape`,
    and converted back as ``ToTensor`` does (``uint8 / 255``). For images that
    came from 8-bit files this reproduces the reference scripts bit for bit.
    Not differentiable (goes through PIL on the CPU; images are processed one
    by one). When the size does not change, the input is returned unchanged
    (torchvision returns the image as it is).

    Args:
        image: ``(N, C, H, W)`` or ``(C, H, W)`` in [0, 1], C = 1 or 3.
        size: shorter side (int) or ``(height, width)``.

    Returns:
        the resized images, same layout, dtype and device as ``image``.

    >>> pil_resize_like_torchvision(torch.rand(1, 3, 384, 512), 256).shape
    torch.Size([1, 3, 256, 341])
    """
    batch, squeezed = _as_batch(image, "image")
    if batch.shape[1] not in (1, 3):
        raise InputError(f"image: expected 1 or 3 channels, got shape {tuple(image.shape)}")
    h, w = batch.shape[-2:]
    new_h, new_w = torchvision_resize_shape(h, w, size)
    if (new_h, new_w) == (h, w):
        return image
    with torch.no_grad():
        u8 = (batch.detach().to(torch.float64) * 255).round().clamp(0, 255).to(torch.uint8)
        arrays = u8.permute(0, 2, 3, 1).cpu().numpy()
    out = []
    for arr in arrays:
        pil = Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr)
        res = np.asarray(pil.resize((new_w, new_h), Image.Resampling.BILINEAR))
        out.append(torch.from_numpy(res.reshape(new_h, new_w, -1).copy()))
    result = torch.stack(out).permute(0, 3, 1, 2).to(device=image.device, dtype=image.dtype) / 255
    return result[0] if squeezed else result


def smic_prepare_shape(height: int, width: int) -> tuple[int, int]:
    """Image size after the SMIC reference's ``prepare_image`` (KANGX99/SMIC 6736abe).

    If the shorter side ``s > 128``, it becomes ``t = max(int(s / 48) * 32, 128)``
    and the longer side ``int(t * long / short)``; otherwise nothing changes.

    >>> smic_prepare_shape(384, 512)
    (256, 341)
    """
    s = min(height, width)
    if s > 128:
        return torchvision_resize_shape(height, width, max(int(s / 48.0) * 32, 128))
    return height, width


def smic_prepare(image: Tensor) -> Tensor:
    """The SMIC reference's preprocessing (see :func:`smic_prepare_shape`), via PIL.

    Not differentiable when it resizes. ``(N, C, H, W)`` or ``(C, H, W)`` in [0, 1].
    """
    batch, _ = _as_batch(image, "image")
    h, w = batch.shape[-2:]
    if min(h, w) <= 128:
        return image
    return pil_resize_like_torchvision(image, max(int(min(h, w) / 48.0) * 32, 128))


def deepwsd_prepare_shape(height: int, width: int) -> tuple[int, int]:
    """Image size after DeepWSD's ``prepare_image`` (Buka-Xing/DeepWSD 532c728).

    When ``512 < max(H, W) < 1000`` the image is resized to 256x256 (the aspect
    ratio is not kept); smaller (max side <= 512) and larger (>= 1000) images are
    left as they are (DeepWSD's model then average-pools them by its factor f).

    >>> deepwsd_prepare_shape(384, 512), deepwsd_prepare_shape(600, 800)
    ((384, 512), (256, 256))
    """
    if 512 < max(height, width) < 1000:
        return 256, 256
    return height, width


def deepwsd_prepare(image: Tensor) -> Tensor:
    """DeepWSD's preprocessing (see :func:`deepwsd_prepare_shape`), via PIL bilinear.

    Returns the input itself (still differentiable) when no resizing applies.
    """
    batch, _ = _as_batch(image, "image")
    h, w = batch.shape[-2:]
    if deepwsd_prepare_shape(h, w) == (h, w):
        return image
    return pil_resize_like_torchvision(image, (256, 256))


def zoom_output_shape(height: int, width: int, factors: float | Sequence[float]) -> tuple[int, int]:
    """Output size of ``scipy.ndimage.zoom`` on an ``(height, width)`` map: ``round(in * factor)``.

    >>> zoom_output_shape(26, 37, (58 / 26, 80 / 37))
    (58, 80)
    """
    if isinstance(factors, (int, float)):
        fh = fw = float(factors)
    else:
        pair = tuple(float(f) for f in factors)
        if len(pair) != 2:
            raise InputError(f"factors must be a number or a pair, got {factors!r}")
        fh, fw = pair
    if not (fh > 0 and fw > 0 and np.isfinite(fh) and np.isfinite(fw)):
        raise InputError(f"zoom factors must be positive and finite, got {factors!r}")
    return int(round(height * fh)), int(round(width * fw))


def _zoom_axis(n_in: int, n_out: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Source indices and weights of scipy's order-1 zoom along one axis (float64)."""
    zoom = (n_in - 1) / (n_out - 1) if n_out > 1 else 1.0
    coord = torch.arange(n_out, dtype=torch.float64) * zoom
    start = coord.floor()
    w0 = 1.0 - (coord - start)
    w1 = 1.0 - w0
    # scipy's mode="constant": a coordinate above n_in - 1 (by round-off) reads cval = 0
    outside = coord > n_in - 1
    w0 = w0.masked_fill(outside, 0.0)
    w1 = w1.masked_fill(outside, 0.0)
    i0 = start.long().clamp(0, n_in - 1)
    i1 = (i0 + 1).clamp(max=n_in - 1)
    return i0, i1, w0, w1


def zoom_bilinear(
    x: Tensor,
    size: Sequence[int] | None = None,
    *,
    factors: float | Sequence[float] | None = None,
) -> Tensor:
    """Resize maps exactly as ``scipy.ndimage.zoom(m, factors, order=1)`` does, batched.

    The output size is ``round(in * factor)`` per axis. With scipy's defaults
    (``grid_mode=False``, ``mode="constant"``, ``cval=0``) output sample ``k``
    reads the input at ``k * (in - 1) / (out - 1)`` (corner samples map onto each
    other) with linear interpolation, which is ``F.interpolate(mode="bilinear",
    align_corners=True)`` — with one scipy quirk that we reproduce: when that
    coordinate, computed in float64, exceeds ``in - 1`` by round-off, the sample
    is outside the image and gets ``cval = 0`` (this zeroes the last row or
    column for some sizes, for example 15 -> 26). Separable, gather-based,
    differentiable, on the device and in the dtype of ``x``.

    Args:
        x: maps ``(..., h, w)`` (for example ``(N, C, h, w)`` or ``(h, w)``), floating.
        size: the output ``(height, width)``; give either ``size`` or ``factors``.
        factors: zoom factor(s), one number or ``(f_h, f_w)``; the output size is
            :func:`zoom_output_shape`.

    Returns:
        the resized maps ``(..., H, W)``.

    >>> zoom_bilinear(torch.tensor([[0.0, 1.0]]), factors=(1, 2))
    tensor([[0.0000, 0.3333, 0.6667, 1.0000]])
    """
    if not isinstance(x, Tensor) or x.ndim < 2 or not x.is_floating_point():
        raise InputError("x: expected a floating-point tensor of shape (..., h, w)")
    h, w = x.shape[-2:]
    if h == 0 or w == 0:
        raise InputError(f"cannot zoom an empty {h}x{w} map")
    if size is not None and factors is None:
        pair = tuple(size)
        if len(pair) != 2:
            raise InputError(f"size must be (height, width), got {size!r}")
        out_h, out_w = _check_size(pair[0], "height"), _check_size(pair[1], "width")
    elif factors is not None and size is None:
        out_h, out_w = zoom_output_shape(h, w, factors)
        if out_h < 1 or out_w < 1:
            raise InputError(f"zooming a {h}x{w} map by {factors} leaves no pixels")
    else:
        raise InputError("give exactly one of size and factors")
    if (out_h, out_w) == (h, w):
        return x
    out = x
    for dim, n_in, n_out in ((-2, h, out_h), (-1, w, out_w)):
        if n_in == n_out:
            continue
        i0, i1, w0, w1 = (t.to(x.device) for t in _zoom_axis(n_in, n_out))
        shape = (n_out, 1) if dim == -2 else (n_out,)
        w0 = w0.to(x.dtype).reshape(shape)
        w1 = w1.to(x.dtype).reshape(shape)
        out = out.index_select(dim, i0) * w0 + out.index_select(dim, i1) * w1
    return out
