"""DeepWSD: Wasserstein distances between deep features.

Liao, Chen, Zhu, Wang, Zhang, Kwong, "DeepWSD: Projecting Degradations in
Perceptual Space to Wasserstein Distance in Deep Feature Space", ACM MM 2022.
Reference code: github.com/Buka-Xing/DeepWSD, commit 532c728 (MIT). This module
reproduces what that code computes (``DeepWSD()(ref, dist, as_loss=False)``),
one score per image:

1. Optional preprocessing (``resize="deepwsd"``, the reference's
   ``prepare_image``): images whose longer side is in (512, 1000) are resized to
   256x256 with PIL bilinear (:func:`friqa.ops.resize.deepwsd_prepare`). Off by
   default (``resize=None``), as for every friqa base metric.
2. Average pooling by ``f = max(1, round(max(H, W) / 256))`` (f x f, stride f;
   part of the model, always applied); the window is 16 when ``f >= 5``, else 4.
3. VGG16 with L2 pooling, **no** ImageNet normalisation (the [0, 1] image goes in
   as it is); layers image, relu1_2, relu2_2, relu3_3, relu4_3, relu5_3.
4. Per layer: :func:`deepwsd_pad` (Python ``round``, zeros on the left columns
   and bottom rows, a negative amount crops), then :func:`deepwsd_layer_term`.
5. ``score = sum of the six terms / 6``; reported as ``log(score + 1)`` when
   ``f == 1`` and ``log(score + 1) ** 2`` otherwise (``as_loss=True`` gives the
   raw ``score``, the reference's loss mode).

The per-layer term does not compare spatial windows: the reference *reinterprets
the memory* of the ``(C, H, W)`` feature tensor as ``(window**2, C*H*W/window**2)``
(row ``i`` is the ``i``-th contiguous chunk of the flattened tensor). Each of the
``C*H*W/window**2`` columns is one "distribution" of ``window**2`` atoms at the
positions ``0 .. window**2 - 1``, weighted by ``x**2 / (sum(x) + 1e-6)`` where the
sum runs over the whole padded layer. The columns of ref and dist are compared
with :func:`wasserstein_1d` (p = 2, weights *not* normalised, POT's semantics),
plus a weighted squared difference; see :func:`deepwsd_layer_term`. Because the
columns are not spatial regions, DeepWSD gives no distortion map
(``returns_map=False``); the six per-layer terms are in
``compute(...).extras["layer_terms"]``.
"""

from __future__ import annotations

import math
import os
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from friqa.backbone import get_vgg16
from friqa.exceptions import InputError
from friqa.metrics.base import EncodedRef, Metric, MetricInfo, MetricResult
from friqa.metrics.registry import register_metric
from friqa.ops.resize import deepwsd_prepare

__all__ = [
    "DEEPWSD_TAPS",
    "INFO",
    "DeepWSD",
    "deepwsd",
    "wasserstein_1d",
    "deepwsd_pool_factor",
    "deepwsd_window",
    "deepwsd_downsample",
    "deepwsd_pad",
    "deepwsd_layer_term",
    "deepwsd_output",
]

#: The six layers DeepWSD compares, in order.
DEEPWSD_TAPS = ("image", "relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")

INFO = MetricInfo(
    name="deepwsd",
    lower_better=True,
    score_range=(0.0, math.inf),
    needs_weights=True,
    returns_map=False,
    differentiable=True,
    aligned=True,
    family="base",
    reference=(
        "Liao et al., DeepWSD: Projecting Degradations in Perceptual Space to Wasserstein "
        "Distance in Deep Feature Space, ACM MM 2022; github.com/Buka-Xing/DeepWSD @532c728"
    ),
    description="Wasserstein distances between VGG16 (L2-pooled) feature distributions",
)


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


# --- the metric ---------------------------------------------------------------------------
@register_metric(INFO)
class DeepWSD(Metric):
    """DeepWSD (Liao et al., ACM MM 2022), as the reference computes it (see the module docs).

    Args:
        resize: ``None`` (default, no resizing) or ``"deepwsd"`` (the reference's
            ``prepare_image``: longer side in (512, 1000) -> 256x256 via PIL; not
            differentiable when it applies). The model's own f x f average pooling
            is always applied.
        as_loss: return the raw mean of the six layer terms (the reference's
            ``as_loss=True``) instead of the ``log``/``log**2`` output.
        weights: VGG16 weights (see :func:`friqa.backbone.get_vgg16`).
        data_range: the value of white in the inputs.

    Scores: lower is better, 0 for identical images, one per image; a batch gives
    the same scores as its images one by one.
    """

    info = INFO

    def __init__(
        self,
        resize: str | None = None,
        as_loss: bool = False,
        weights: str | os.PathLike[str] | None = None,
        data_range: float = 1.0,
    ) -> None:
        super().__init__(data_range=data_range)
        if resize not in (None, "deepwsd"):
            raise InputError(f"resize must be None or 'deepwsd', got {resize!r}")
        self.resize = resize
        self.as_loss = bool(as_loss)
        self.weights = weights

    def _prepare(self, x: Tensor) -> tuple[Tensor, int]:
        x = x / self.data_range if self.data_range != 1.0 else x
        if self.resize == "deepwsd":
            x = deepwsd_prepare(x)
        factor = deepwsd_pool_factor(*x.shape[-2:])
        return deepwsd_downsample(x, factor), factor

    def _features(self, x: Tensor) -> list[Tensor]:
        net = get_vgg16(self.weights, "l2", device=x.device, dtype=x.dtype)
        feats = net(x, DEEPWSD_TAPS, normalize=False)
        return [feats[t] for t in DEEPWSD_TAPS]

    def _encode_ref(self, ref: Tensor) -> Any:
        x, factor = self._prepare(ref)
        window = deepwsd_window(factor)
        return {
            "feats": [deepwsd_pad(f, window) for f in self._features(x)],
            "factor": factor,
        }

    def _compute(self, ref: EncodedRef, dist: Tensor, return_map: bool) -> MetricResult:
        y, factor = self._prepare(dist)
        if factor != ref.data["factor"]:
            raise InputError("ref and dist were prepared with different pooling factors")
        window = deepwsd_window(factor)
        terms = [
            deepwsd_layer_term(r, deepwsd_pad(d, window), window)
            for r, d in zip(ref.data["feats"], self._features(y), strict=True)
        ]
        layer_terms = torch.stack(terms, dim=1)
        score = layer_terms.sum(dim=1) / len(terms)
        out = score if self.as_loss else deepwsd_output(score, factor)
        return MetricResult(
            score=out,
            extras={"layer_terms": layer_terms, "pool_factor": factor, "window": window},
        )

    def extra_repr(self) -> str:
        return f"resize={self.resize!r}, as_loss={self.as_loss}, " + super().extra_repr()


def deepwsd(
    ref: Tensor,
    dist: Tensor,
    *,
    resize: str | None = None,
    as_loss: bool = False,
    weights: str | os.PathLike[str] | None = None,
    data_range: float = 1.0,
) -> Tensor:
    """DeepWSD scores ``(N,)`` of ``dist`` against ``ref`` (``(N, 3, H, W)`` in [0, data_range]).

    Function form of :class:`DeepWSD`; see it for the options.
    """
    metric = DeepWSD(resize=resize, as_loss=as_loss, weights=weights, data_range=data_range)
    return metric(ref, dist)
