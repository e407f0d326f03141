"""DeepWSD kernels: POT's 1-D Wasserstein distance, DeepWSD's pooling, padding and layer term.

Liao, Chen, Zhu, Wang, Zhang, Kwong, "DeepWSD: Projecting Degradations in
Perceptual Space to Wasserstein Distance in Deep Feature Space", ACM MM 2022;
reference code github.com/Buka-Xing/DeepWSD, commit 532c728 (MIT). The metric
:class:`friqa.metrics.deepwsd.DeepWSD` documents what they compute together
(and why the layer term's "columns" are chunks of memory, not image regions);
the SMIC variant reuses them per layer and per patch.
"""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch import Tensor

from friqa.backbone import get_vgg16
from friqa.exceptions import InputError
from friqa.ops.resize import deepwsd_prepare

__all__ = [
    "DEEPWSD_TAPS",
    "wasserstein_1d",
    "deepwsd_pool_factor",
    "deepwsd_window",
    "deepwsd_downsample",
    "deepwsd_model_input",
    "deepwsd_features",
    "deepwsd_pad",
    "deepwsd_layer_term",
    "deepwsd_output",
]

#: The six layers DeepWSD compares, in order.
DEEPWSD_TAPS = ("image", "relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")


# --- the 1-D Wasserstein distance ------------------------------------------------------
def wasserstein_1d(
    u_values: Tensor,
    v_values: Tensor,
    u_weights: Tensor | None = None,
    v_weights: Tensor | None = None,
    p: float = 1,
    *,
    require_sort: bool = True,
) -> Tensor:
    """Batched 1-D optimal-transport cost with POT's ``ot.lp.wasserstein_1d`` semantics.

    For each distribution (along the **last** dimension here; POT uses the first)
    it integrates ``|Q_u(q) - Q_v(q)| ** p`` over ``q`` from 0 to the larger total
    weight, where ``Q`` is the quantile function built from the *raw* cumulative
    weights: ``Q(q)`` is the first atom whose cumulative weight reaches ``q``,
    clamped to the last atom. The weights are **not normalised** (as in POT):
    when the totals differ, the lighter distribution's last atom is matched
    with the rest of the heavier one. With normalised weights this is the
    p-Wasserstein distance to the power p.

    Like POT, it sorts the breakpoints (both cumulative weight vectors) and sums
    ``delta_q * |Q_u - Q_v| ** p`` over the intervals between them; the quantile
    indices are read off the sort order (how many of u's breakpoints precede
    each one) instead of with ``searchsorted``, which gives the same value on
    every interval of positive length. Fully batched, no loops. Differentiable
    with respect to values and weights almost everywhere (through ``sort`` and
    ``cumsum``; the quantile indices are piecewise constant).

    Args:
        u_values, v_values: atom positions ``(..., n)`` and ``(..., m)``; leading
            dimensions broadcast against the weights.
        u_weights, v_weights: **non-negative** weights of the same last size, or
            ``None`` for uniform weights ``1/n``.
        p: the exponent (>= 1).
        require_sort: sort the positions first; pass False when they are sorted.

    Returns:
        the costs, shape = the broadcast leading dimensions.

    >>> x = torch.arange(4.0)
    >>> float(wasserstein_1d(x, x, torch.tensor([1.0, 0, 0, 0]), torch.tensor([0, 0, 0, 1.0]), 2))
    9.0
    """
    if p < 1:
        raise InputError(f"p must be >= 1, got {p}")
    n, m = u_values.shape[-1], v_values.shape[-1]
    if n == 0 or m == 0:
        raise InputError("wasserstein_1d needs at least one atom per distribution")
    if u_weights is None:
        u_weights = torch.full_like(u_values, 1.0 / n)
    if v_weights is None:
        v_weights = torch.full_like(v_values, 1.0 / m)
    if u_weights.shape[-1] != n or v_weights.shape[-1] != m:
        raise InputError(
            f"weights must match the values along the last dimension, got values "
            f"{tuple(u_values.shape)}/{tuple(v_values.shape)} and weights "
            f"{tuple(u_weights.shape)}/{tuple(v_weights.shape)}"
        )
    batch = torch.broadcast_shapes(
        u_values.shape[:-1], v_values.shape[:-1], u_weights.shape[:-1], v_weights.shape[:-1]
    )
    u_values, v_values = u_values.expand(*batch, n), v_values.expand(*batch, m)
    u_weights, v_weights = u_weights.expand(*batch, n), v_weights.expand(*batch, m)
    if require_sort:
        u_values, u_order = torch.sort(u_values, dim=-1)
        v_values, v_order = torch.sort(v_values, dim=-1)
        u_weights = torch.take_along_dim(u_weights, u_order, dim=-1)
        v_weights = torch.take_along_dim(v_weights, v_order, dim=-1)
    delta, u_idx, v_idx = _quantile_steps(u_weights, v_weights)
    u_q = torch.take_along_dim(u_values, u_idx.long(), dim=-1)
    gap = (u_q - torch.take_along_dim(v_values, v_idx.long(), dim=-1)).abs()
    return (delta * (gap if p == 1 else gap.pow(p))).sum(dim=-1)


def _quantile_steps(u_weights: Tensor, v_weights: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Interval lengths and quantile indices of two weight vectors ``(..., n)``, ``(..., m)``.

    Returns ``delta`` (``(..., n + m)``, the lengths between the sorted cumulative
    weights, starting from 0) and the indices of u's and v's atoms on each
    interval (clamped to the last atom), as integers stored in ``delta``'s dtype.
    On an interval of positive length that ends at a breakpoint ``q``, u's index
    is the number of u's cumulative weights strictly below ``q`` = the number of
    u's breakpoints sorted before it (ties only occur on empty intervals).
    """
    n, m = u_weights.shape[-1], v_weights.shape[-1]
    cum = torch.cat([torch.cumsum(u_weights, dim=-1), torch.cumsum(v_weights, dim=-1)], dim=-1)
    qs, order = torch.sort(cum, dim=-1)
    is_u = (order < n).to(qs.dtype)
    u_before = torch.cumsum(is_u, dim=-1) - is_u
    v_before = torch.arange(n + m, device=qs.device, dtype=qs.dtype) - u_before
    delta = torch.diff(qs, dim=-1, prepend=torch.zeros_like(qs[..., :1]))
    return delta, u_before.clamp_(max=n - 1), v_before.clamp_(max=m - 1)


def _wasserstein_1d_on_indices(u_weights: Tensor, v_weights: Tensor, p: float) -> Tensor:
    """:func:`wasserstein_1d` with both distributions on the atoms ``0, 1, ..., n - 1``."""
    delta, u_idx, v_idx = _quantile_steps(u_weights, v_weights)
    gap = (u_idx - v_idx).abs_()
    return (delta * (gap if p == 1 else gap.pow_(p))).sum(dim=-1)


# --- DeepWSD building blocks -------------------------------------------------------------
def deepwsd_pool_factor(height: int, width: int) -> int:
    """DeepWSD's average-pooling factor ``f = max(1, round(max(H, W) / 256))`` (half to even).

    >>> deepwsd_pool_factor(384, 512), deepwsd_pool_factor(256, 384), deepwsd_pool_factor(700, 1024)
    (2, 2, 4)
    """
    return max(1, round(max(height, width) / 256))


def deepwsd_window(factor: int) -> int:
    """DeepWSD's window (the side of its ``window x window`` atoms): 16 if ``f >= 5``, else 4."""
    return 16 if factor >= 5 else 4


def deepwsd_downsample(x: Tensor, factor: int) -> Tensor:
    """Average-pool ``(N, C, H, W)`` by ``factor`` (kernel = stride = factor, no padding).

    The output is ``(H // f, W // f)``; ``f = 1`` returns ``x`` itself.
    """
    if factor == 1:
        return x
    return F.avg_pool2d(x, kernel_size=factor, stride=factor)


def deepwsd_model_input(x: Tensor, *, resize: bool = False) -> tuple[Tensor, int]:
    """What DeepWSD feeds its backbone, and its pooling factor ``f``.

    ``x`` are images in [0, 1]. With ``resize=True`` the reference's
    ``prepare_image`` runs first (:func:`friqa.ops.resize.deepwsd_prepare`); then
    the ``f x f`` average pooling of :func:`deepwsd_pool_factor` (part of the model,
    always applied).
    """
    if resize:
        x = deepwsd_prepare(x)
    factor = deepwsd_pool_factor(*x.shape[-2:])
    return deepwsd_downsample(x, factor), factor


def deepwsd_features(x: Tensor, weights: str | os.PathLike[str] | None = None) -> dict[str, Tensor]:
    """DeepWSD's six feature sets of its model input ``x``: tap -> ``(N, C, h, w)``.

    VGG16 with L2 pooling and **no** ImageNet normalisation (the reference feeds the
    [0, 1] image as it is); the ``image`` entry is ``x`` itself.
    """
    net = get_vgg16(weights, "l2", device=x.device, dtype=x.dtype)
    return net(x, DEEPWSD_TAPS, normalize=False)


def deepwsd_pad(feat: Tensor, window: int) -> Tensor:
    """Pad or crop ``(N, C, H, W)`` to multiples of ``window`` as DeepWSD does.

    The amounts are ``round(H / window) * window - H`` rows and the same for
    columns (Python ``round``: halves go to even, so 10 -> 8 and 14 -> 16 for
    window 4). Zero rows are added at the **bottom** and zero columns on the
    **left**; a negative amount removes rows from the bottom / columns from the left.

    Raises:
        InputError: when a side rounds to zero windows (the image is too small).
    """
    h, w = feat.shape[-2:]
    rows = round(h / window) * window - h
    cols = round(w / window) * window - w
    if h + rows == 0 or w + cols == 0:
        raise InputError(
            f"a {h}x{w} DeepWSD layer rounds to zero {window}x{window} windows; the image is "
            f"too small for DeepWSD (after its average pooling each side must be at least "
            f"{8 * window + 1} pixels for window {window}, so that relu5_3 is large enough)"
        )
    if rows == 0 and cols == 0:
        return feat
    return F.pad(feat, (cols, 0, 0, rows))


def _columns(feat: Tensor, window: int) -> Tensor:
    """``(B, C, H, W)`` -> ``(B, C*H*W / window**2, window**2)`` (memory reinterpretation)."""
    b = feat.shape[0]
    return feat.reshape(b, window * window, -1).transpose(1, 2).contiguous()


def deepwsd_layer_term(
    ref_feat: Tensor,
    dist_feat: Tensor,
    window: int,
    *,
    ref_sum: Tensor | None = None,
    dist_sum: Tensor | None = None,
    reduction: str = "sum",
) -> Tensor:
    """DeepWSD's distance between two feature tensors (the reference's ``ws_distance``).

    For each item of the batch, the ``(C, H, W)`` tensor is reinterpreted as
    ``window**2`` rows of ``C*H*W / window**2`` columns (its flattened memory cut
    into ``window**2`` equal chunks; *not* spatial windows). In every column the
    ``window**2`` values ``x`` become weights ``x * (x / (S + 1e-6))`` on the atoms
    ``0 .. window**2 - 1``, with ``S`` the sum of the item's whole tensor (or
    ``ref_sum``/``dist_sum``). Per column, with ``d = wasserstein_1d(p=2)`` of the
    two unnormalised weight vectors and ``l2 = sum((x_ref - x_dist) ** 2)``::

        term = d + l2 / (sqrt(exp(-1 / (d + 10))) * (d + 10) ** 2)

    Args:
        ref_feat, dist_feat: ``(B, C, H, W)``, H and W multiples of ``window``
            (pad with :func:`deepwsd_pad` first).
        window: 4 or 16 in DeepWSD.
        ref_sum, dist_sum: the normalising sums, broadcastable to ``(B,)``; default
            the sum of each item's tensor. SMIC-DeepWSD passes the sums of the whole
            padded layer while scoring 4x4 patches.
        reduction: ``"sum"`` gives one term per item ``(B,)``; ``"none"`` gives the
            per-column terms ``(B, C*H*W / window**2)``.
    """
    if ref_feat.shape != dist_feat.shape or ref_feat.ndim != 4:
        raise InputError(
            f"ref_feat and dist_feat must be (B, C, H, W) of one shape, got "
            f"{tuple(ref_feat.shape)} and {tuple(dist_feat.shape)}"
        )
    h, w = ref_feat.shape[-2:]
    if h % window or w % window or h == 0 or w == 0:
        raise InputError(f"H and W ({h}x{w}) must be positive multiples of window {window}")
    if reduction not in ("sum", "none"):
        raise InputError(f"reduction must be 'sum' or 'none', got {reduction!r}")
    b = ref_feat.shape[0]

    def sums(feat: Tensor, given: Tensor | None) -> Tensor:
        s = feat.sum(dim=(1, 2, 3)) if given is None else torch.as_tensor(given).to(feat)
        return s.expand(b).reshape(b, 1, 1)

    x = _columns(ref_feat, window)
    y = _columns(dist_feat, window)
    x_w = x * (x / (sums(ref_feat, ref_sum) + 1e-6))
    y_w = y * (y / (sums(dist_feat, dist_sum) + 1e-6))
    d = _wasserstein_1d_on_indices(x_w, y_w, 2)
    l2 = ((x - y) ** 2).sum(dim=-1)
    weight = 1 / (torch.sqrt(torch.exp(-1 / (d + 10))) * (d + 10) ** 2)
    per_column = d + l2 * weight
    return per_column.sum(dim=-1) if reduction == "sum" else per_column


def deepwsd_output(score: Tensor, factor: int) -> Tensor:
    """DeepWSD's reported value: ``log(score + 1)`` if ``f == 1``, else ``log(score + 1) ** 2``."""
    out = torch.log(score + 1)
    return out if factor == 1 else out**2
