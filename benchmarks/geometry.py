"""Geometric transforms of image batches that keep the canvas: shift, scale, rotation,
perspective and elastic warps.

These are the misalignments that DeepSSIM (Zhang, Chen, Zhao and Wang, IEEE TPAMI
2025, arXiv 2412.19553) claims robustness to; ``geometric_robustness.py`` beside this
file uses them to measure that claim for every friqa metric. They belong to that
benchmark, not to the library (which never moves images).

Conventions, shared by every function:

* Pixel ``(i, j)`` (row, column) has its centre at ``x = j``, ``y = i``; the image
  centre is ``((W - 1) / 2, (H - 1) / 2)``; ``y`` points down.
* Parameters describe how the *content* moves: ``translate(x, dx=3)`` moves it
  3 pixels to the right, ``scale(x, 1.1)`` enlarges it about the centre,
  ``rotate(x, 5)`` turns it 5 degrees counter-clockwise as displayed (as
  :meth:`PIL.Image.Image.rotate` and :func:`scipy.ndimage.rotate`).
* The output has the input's size. Each output pixel samples the input at a source
  position with bilinear interpolation; positions outside the image are
  reflected about the border with the edge pixel repeated (``d c b a | a b c d |
  d c b a``: :func:`numpy.pad` ``"symmetric"``, ``scipy.ndimage`` ``"reflect"``),
  so no black corners appear. This is :func:`torch.nn.functional.grid_sample`
  with ``mode="bilinear"``, ``padding_mode="reflection"``, ``align_corners=False``,
  and equals :func:`scipy.ndimage.map_coordinates` with ``order=1,
  mode="reflect"`` up to round-off.
* Inputs are ``(N, C, H, W)`` floating tensors (any ``C``); everything runs on the
  input's device and dtype and is differentiable with respect to the image.

Example:
    >>> x = torch.rand(2, 3, 32, 48)
    >>> translate(x, dx=2, dy=-1).shape
    torch.Size([2, 3, 32, 48])
    >>> bool(torch.equal(translate(x, dx=2)[..., 2:], x[..., :-2]))
    True
    >>> rotate(x, 2.5).shape == scale(x, 0.95).shape == elastic(x, 2.0, 4.0).shape
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from friqa.exceptions import InputError

__all__ = [
    "identity_coords",
    "warp",
    "translate",
    "affine",
    "scale",
    "rotate",
    "homography_from_points",
    "perspective",
    "elastic_displacement",
    "elastic",
]


def _check_images(x: object, name: str = "x") -> Tensor:
    if not isinstance(x, Tensor) or x.ndim != 4 or not x.is_floating_point():
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise InputError(f"{name}: expected a floating (N, C, H, W) tensor, got {shape}")
    if x.shape[0] == 0 or x.shape[-1] < 1 or x.shape[-2] < 1:
        raise InputError(f"{name}: empty batch or image, shape {tuple(x.shape)}")
    return x


def _finite(value: float, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a number, got {value!r}") from exc
    if not math.isfinite(v):
        raise InputError(f"{name} must be finite, got {value!r}")
    return v


def identity_coords(
    height: int,
    width: int,
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Pixel-centre coordinates ``(1, H, W, 2)``, last axis ``(x, y)`` = (column, row).

    ``warp(x, identity_coords(H, W))`` returns ``x`` (up to round-off).
    """
    ys = torch.arange(height, device=device, dtype=dtype)
    xs = torch.arange(width, device=device, dtype=dtype)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx, gy], dim=-1).unsqueeze(0)


def warp(x: Tensor, coords: Tensor) -> Tensor:
    """Sample ``x`` at pixel positions ``coords``: ``out[n, :, i, j] = x[n, :, y, x]`` with
    ``(x, y) = coords[n, i, j]``.

    Bilinear interpolation, positions outside the image reflected as described in
    the module docstring.

    Args:
        x: ``(N, C, H, W)`` floating images.
        coords: ``(N, H', W', 2)`` or ``(1, H', W', 2)`` source positions ``(x, y)`` in
            pixels of ``x`` (see :func:`identity_coords`).

    Returns:
        ``(N, C, H', W')`` in ``x``'s dtype and device.
    """
    _check_images(x)
    if not isinstance(coords, Tensor) or coords.ndim != 4 or coords.shape[-1] != 2:
        shape = tuple(coords.shape) if isinstance(coords, Tensor) else type(coords).__name__
        raise InputError(f"coords: expected a (N, H, W, 2) tensor of (x, y) positions, got {shape}")
    n, _, h, w = x.shape
    if coords.shape[0] not in (1, n):
        raise InputError(f"coords has batch size {coords.shape[0]}, the images {n}; use 1 or {n}")
    coords = coords.to(device=x.device, dtype=x.dtype)
    # align_corners=False: pixel centre j sits at (2 j + 1) / W - 1 in normalised units
    scale_xy = torch.tensor([2.0 / w, 2.0 / h], device=x.device, dtype=x.dtype)
    grid = (coords + 0.5) * scale_xy - 1.0
    grid = grid.expand(n, *grid.shape[1:])
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def _symmetric_index(index: Tensor, size: int) -> Tensor:
    """Map integer positions onto ``[0, size)`` by symmetric reflection (period ``2 size``)."""
    r = torch.remainder(index, 2 * size)
    return torch.where(r >= size, 2 * size - 1 - r, r)


def translate(x: Tensor, dx: float = 0.0, dy: float = 0.0) -> Tensor:
    """Move the content by ``dx`` pixels to the right and ``dy`` pixels down.

    Whole-pixel shifts copy pixels exactly (the uncovered band is the mirror image
    of the border, as :func:`numpy.pad` ``"symmetric"``); fractional shifts
    interpolate bilinearly (:func:`scipy.ndimage.shift` with ``order=1,
    mode="reflect"``).

    Example:
        >>> x = torch.arange(4.0).view(1, 1, 1, 4)
        >>> translate(x, dx=1)
        tensor([[[[0., 0., 1., 2.]]]])
    """
    _check_images(x)
    fx, fy = _finite(dx, "dx"), _finite(dy, "dy")
    h, w = x.shape[-2:]
    if fx.is_integer() and fy.is_integer():
        rows = _symmetric_index(torch.arange(h, device=x.device) - int(fy), h)
        cols = _symmetric_index(torch.arange(w, device=x.device) - int(fx), w)
        return x.index_select(-2, rows).index_select(-1, cols)
    coords = identity_coords(h, w, device=x.device, dtype=x.dtype)
    shift = torch.tensor([fx, fy], device=x.device, dtype=x.dtype)
    return warp(x, coords - shift)


def _as_matrices(matrix: Tensor | Sequence[Sequence[float]], n: int) -> Tensor:
    m = torch.as_tensor(matrix, dtype=torch.float64)
    if m.shape == (2, 2):
        m = m.unsqueeze(0)
    if m.ndim != 3 or m.shape[1:] != (2, 2) or m.shape[0] not in (1, n):
        raise InputError(
            f"matrix must have shape (2, 2), (1, 2, 2) or ({n}, 2, 2), got {tuple(m.shape)}"
        )
    if not bool(torch.isfinite(m).all()):
        raise InputError("matrix must be finite")
    det = torch.linalg.det(m)
    if bool((det.abs() < 1e-12).any()):
        raise InputError("matrix must be invertible")
    return m


def affine(
    x: Tensor,
    matrix: Tensor | Sequence[Sequence[float]],
    *,
    offset: tuple[float, float] = (0.0, 0.0),
) -> Tensor:
    """Apply the linear map ``matrix`` about the image centre, then move by ``offset``.

    Content at position ``p`` moves to ``c + matrix @ (p - c) + offset`` (``c`` the
    centre, ``p`` and ``offset`` as ``(x, y)``); each output pixel samples the
    inverse map.

    Args:
        x: ``(N, C, H, W)`` floating images.
        matrix: ``(2, 2)`` (same for every image) or ``(N, 2, 2)``, acting on ``(x, y)``.
        offset: ``(dx, dy)`` in pixels.
    """
    _check_images(x)
    n, _, h, w = x.shape
    m = _as_matrices(matrix, n)
    ox, oy = _finite(offset[0], "offset[0]"), _finite(offset[1], "offset[1]")
    inv = torch.linalg.inv(m)  # float64, (N or 1, 2, 2)
    centre = torch.tensor([(w - 1) / 2.0, (h - 1) / 2.0], dtype=torch.float64)
    shift = centre + torch.tensor([ox, oy], dtype=torch.float64)
    # source = c + inv @ (p - c - offset) = inv @ p + (c - inv @ (c + offset))
    lin = inv.to(device=x.device, dtype=x.dtype)
    const = (centre - torch.einsum("nij,j->ni", inv, shift)).to(device=x.device, dtype=x.dtype)
    p = identity_coords(h, w, device=x.device, dtype=x.dtype)[0]
    src = torch.einsum("nij,hwj->nhwi", lin, p) + const[:, None, None, :]
    return warp(x, src)


def _per_image(value: float | Sequence[float] | Tensor, n: int, name: str) -> Tensor:
    v = torch.as_tensor(value, dtype=torch.float64).reshape(-1)
    if v.numel() not in (1, n):
        raise InputError(
            f"{name} must be one number or {n} numbers (one per image), got {v.numel()}"
        )
    if not bool(torch.isfinite(v).all()):
        raise InputError(f"{name} must be finite, got {value!r}")
    return v


def scale(x: Tensor, factor: float | Sequence[float] | Tensor) -> Tensor:
    """Rescale the content about the image centre (``factor > 1`` enlarges), same canvas.

    ``factor`` is one number or one per image.
    """
    _check_images(x)
    f = _per_image(factor, x.shape[0], "factor")
    if bool((f <= 0).any()):
        raise InputError(f"factor must be positive, got {factor!r}")
    eye = torch.eye(2, dtype=torch.float64)
    return affine(x, f[:, None, None] * eye)


def rotate(x: Tensor, degrees: float | Sequence[float] | Tensor) -> Tensor:
    """Rotate the content counter-clockwise (as displayed) by ``degrees`` about the centre.

    ``degrees`` is one number or one per image. With ``y`` pointing down, the map
    on ``(x, y)`` is ``[[cos t, sin t], [-sin t, cos t]]``.
    """
    _check_images(x)
    t = torch.deg2rad(_per_image(degrees, x.shape[0], "degrees"))
    c, s = torch.cos(t), torch.sin(t)
    m = torch.stack([torch.stack([c, s], -1), torch.stack([-s, c], -1)], -2)
    return affine(x, m)


def homography_from_points(
    src: Tensor | Sequence[Sequence[float]], dst: Tensor | Sequence[Sequence[float]]
) -> Tensor:
    """The 3x3 homography ``H`` (``H[2, 2] = 1``) with ``dst ~ H @ [src, 1]``.

    Args:
        src, dst: four ``(x, y)`` points each, shape ``(4, 2)``, no three collinear.

    Returns:
        ``(3, 3)`` float64 tensor.

    Example:
        >>> sq = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
        >>> h = homography_from_points(sq, [[2.0, 1.0], [3.0, 1.0], [3.0, 2.0], [2.0, 2.0]])
        >>> [round(float(v), 6) for v in h[:, 2]]  # a pure translation by (2, 1)
        [2.0, 1.0, 1.0]
    """
    s = torch.as_tensor(src, dtype=torch.float64)
    d = torch.as_tensor(dst, dtype=torch.float64)
    if s.shape != (4, 2) or d.shape != (4, 2):
        raise InputError(
            f"src and dst must be (4, 2) point lists, got {tuple(s.shape)}, {tuple(d.shape)}"
        )
    if not bool(torch.isfinite(s).all() and torch.isfinite(d).all()):
        raise InputError("src and dst must be finite")
    rows = []
    rhs = []
    for (x, y), (u, v) in zip(s.tolist(), d.tolist(), strict=True):
        rows.append([x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y])
        rows.append([0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y])
        rhs += [u, v]
    a = torch.tensor(rows, dtype=torch.float64)
    if torch.linalg.matrix_rank(a) < 8:
        raise InputError("the four points are degenerate (three of them collinear)")
    h = torch.linalg.solve(a, torch.tensor(rhs, dtype=torch.float64))
    return torch.cat([h, h.new_ones(1)]).view(3, 3)


def perspective(x: Tensor, corner_offsets: Tensor | Sequence[Sequence[float]]) -> Tensor:
    """Perspective warp that moves the four corner pixels by ``corner_offsets``.

    Args:
        x: ``(N, C, H, W)`` floating images.
        corner_offsets: ``(4, 2)`` displacements ``(dx, dy)`` in pixels of the corner
            pixel centres top-left ``(0, 0)``, top-right ``(W-1, 0)``, bottom-right
            ``(W-1, H-1)`` and bottom-left ``(0, H-1)``. The content follows the
            homography fixed by these four correspondences.

    Example:
        >>> x = torch.rand(1, 3, 40, 60)
        >>> keystone = [[4.0, 0.0], [-4.0, 0.0], [0.0, 0.0], [0.0, 0.0]]  # narrower top
        >>> perspective(x, keystone).shape
        torch.Size([1, 3, 40, 60])
    """
    _check_images(x)
    h, w = x.shape[-2:]
    off = torch.as_tensor(corner_offsets, dtype=torch.float64)
    if off.shape != (4, 2):
        raise InputError(f"corner_offsets must be (4, 2), got {tuple(off.shape)}")
    corners = torch.tensor([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=torch.float64)
    back = homography_from_points(corners + off, corners)  # output position -> source position
    # the denominator is affine in (x, y): its extreme values over the canvas are at the corners
    denom_corners = corners @ back[2, :2] + back[2, 2]
    if bool((denom_corners <= 1e-6).any()):
        raise InputError("the perspective warp folds the image over itself; use smaller offsets")
    b = back.to(device=x.device, dtype=x.dtype)
    p = identity_coords(h, w, device=x.device, dtype=x.dtype)[0]  # (H, W, 2)
    q = p @ b[:, :2].T + b[:, 2]
    return warp(x, (q[..., :2] / q[..., 2:]).unsqueeze(0))


def elastic_displacement(
    height: int,
    width: int,
    max_displacement: float,
    sigma: float,
    *,
    seed: int = 0,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """A smooth random displacement field ``(1, H, W, 2)`` (``(dx, dy)`` in pixels).

    Independent uniform noise in ``[-1, 1]`` per pixel and component, smoothed by a
    Gaussian of standard deviation ``sigma`` pixels (Simard, Steinkraus and Platt,
    ICDAR 2003), then scaled so that the largest displacement length is exactly
    ``max_displacement``. The noise is drawn on the CPU from a generator seeded with
    ``seed`` (the same field on every device), over a canvas enlarged by the kernel
    radius so that the field has no border artefacts.
    """
    if height < 1 or width < 1:
        raise InputError(f"height and width must be positive, got {height}x{width}")
    amp = _finite(max_displacement, "max_displacement")
    sig = _finite(sigma, "sigma")
    if amp < 0 or sig <= 0:
        raise InputError(
            f"need max_displacement >= 0 and sigma > 0, got {max_displacement}, {sigma}"
        )
    radius = max(1, math.ceil(3.0 * sig))
    gen = torch.Generator().manual_seed(int(seed))
    noise = torch.rand(
        1, 2, height + 2 * radius, width + 2 * radius, generator=gen, dtype=torch.float64
    )
    noise = 2.0 * noise - 1.0
    t = torch.arange(-radius, radius + 1, dtype=torch.float64)
    k = torch.exp(-(t**2) / (2.0 * sig**2))
    k = k / k.sum()
    field = F.conv2d(noise, k.view(1, 1, -1, 1).expand(2, 1, -1, 1), groups=2)
    field = F.conv2d(field, k.view(1, 1, 1, -1).expand(2, 1, 1, -1), groups=2)
    peak = field.square().sum(1).sqrt().max()
    field = field * (amp / peak) if float(peak) > 0 else field * 0.0
    return field.permute(0, 2, 3, 1).to(device=device, dtype=dtype)


def elastic(x: Tensor, max_displacement: float, sigma: float, *, seed: int = 0) -> Tensor:
    """Elastic warp: ``out(p) = x(p + d(p))`` with ``d`` from :func:`elastic_displacement`.

    The same field is used for every image of the batch.
    """
    _check_images(x)
    h, w = x.shape[-2:]
    d = elastic_displacement(
        h, w, max_displacement, sigma, seed=seed, device=x.device, dtype=x.dtype
    )
    return warp(x, identity_coords(h, w, device=x.device, dtype=x.dtype) + d)
