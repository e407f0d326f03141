"""Exact, batched MIC in pure torch: the engine behind SMIC attention.

The maximal information coefficient in its "approximate" form: Reshef et al.,
"Detecting novel associations in large data sets", Science 334 (2011),
supplementary Algorithms 2-3 (``EquipartitionYAxis``, ``GetClumpsPartition``,
``GetSuperclumpsPartition``, ``OptimizeXAxis``), with the conventions of the MINE
estimator of Albanese et al., "minerva and minepy", Bioinformatics 29 (2013).
The algorithm as implemented is stated in full in the project's MIC notes and
transcribed, scalar and slow, in :mod:`friqa.mic.reference`; this module
computes the same numbers for millions of pairs at once.

How the work is vectorised (every step runs on all pairs of a chunk, both
directions and all grids at once; Python loops run only over group boundaries,
grids and column widths, never over pairs or points):

1. One sort per variable gives the runs of tied values (any sort: the order
   among ties never matters), on integer keys with the floats' order and ties.
2. Equipartition. The sequential walk of ``EquipartitionYAxis`` closes a group
   before the run starting at sorted position ``i`` (size ``s``) exactly when
   ``2 (i - i0) + s >= 2 (n - i0) / (k - cur)`` (``i0`` the group's first position),
   an integer test on the run's ``start + end``, which grows along the runs. With
   a per-row table of "first position whose run has ``start + end >= v``", each
   boundary is one lookup: the loop runs over the ``k`` groups, not the ``n``
   points. (The estimator compares floats; no rounding can flip this test, since
   a target that is not a half-integer is at least ``1 / (2k)`` away from the
   decision point.)
3. Clumps from cumulative sums over the column-sorted rows; superclumps are
   step 2 again with clumps as the runs, on only the rows with more than
   ``k_hat`` clumps.
4. The superclump x row counts by ``scatter_add`` and prefix sums; the score
   ``sum_r c_r ln c_r - N ln N`` (``= -N H(Q|column)``) of any run of superclumps is
   one lookup in a table indexed by the mixed-radix code ``sum_r c_r (n+1)^r`` of
   its row counts, a difference of two prefix codes.
5. Reshef's Algorithm 2 (a prefix dynamic programme over cut positions) as a
   loop over the width of the last column, vectorised over pairs and end
   positions; ``l = 2`` columns is a single vector maximum.

Intermediates are int32 where possible and live in a workspace reused from
chunk to chunk (fresh multi-megabyte allocations per chunk cost more in page
faults than the arithmetic). Entropies are float64 whatever the input dtype; the
result is exact to float64 round-off (about 1e-15).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from friqa.exceptions import InputError

__all__ = ["mic", "grid_plan", "DEFAULT_MEMORY_BUDGET"]

#: Bytes of scratch memory one chunk may use when ``chunk_size`` is not given.
DEFAULT_MEMORY_BUDGET = 256 * 2**20
#: Largest table of conditional-entropy scores indexed by a mixed-radix code.
_MAX_CODE_TABLE = 1 << 17


def _budget(n: int, alpha: float) -> float:
    if alpha <= 1.0:
        return max(float(n) ** alpha, 4.0)
    return min(alpha, float(n))


def grid_plan(n: int, alpha: float = 0.6, c: float = 15.0) -> list[tuple[int, int, int]]:
    """The grids MIC scores for ``n`` points: ``(rows r, most columns m(r), k_hat)`` triples.

    ``B = max(n**alpha, 4)`` (or ``min(alpha, n)`` for ``alpha >= 4``),
    ``r = 2 .. max(floor(B/2), 2)``, ``m(r) = floor(B/r) >= 2`` and the clump budget
    ``k_hat = max(floor(c m(r)), 1)``.

    Example:
        >>> grid_plan(49, alpha=0.5, c=10.0)
        [(2, 3, 30), (3, 2, 20)]
        >>> grid_plan(16, alpha=0.5, c=10.0)
        [(2, 2, 20)]
    """
    budget = _budget(n, alpha)
    plan = []
    for r in range(2, max(math.floor(budget / 2.0), 2) + 1):
        m = math.floor(budget / r)
        if m >= 2:
            plan.append((r, m, max(math.floor(c * m), 1)))
    return plan


# --------------------------------------------------------------------------- validation


def _as_tensor(v: object, name: str, device: torch.device | None) -> Tensor:
    if isinstance(v, Tensor):
        return v
    if isinstance(v, np.ndarray):
        if not (np.issubdtype(v.dtype, np.floating)):
            raise InputError(f"{name} must hold floating-point values, got numpy dtype {v.dtype}")
        t = torch.from_numpy(np.ascontiguousarray(v))
        return t if device is None else t.to(device)
    raise InputError(f"{name} must be a torch.Tensor or a numpy array, got {type(v).__name__}")


def _all_finite(t: Tensor, block: int = 1 << 22) -> bool:
    """``isfinite(t).all()`` in blocks (no full-size temporary), one host sync."""
    flat = t.reshape(-1)
    ok = torch.ones((), dtype=torch.bool, device=t.device)
    for lo in range(0, flat.numel(), block):
        ok &= torch.isfinite(flat[lo : lo + block]).all()
    return bool(ok)


def _validate(x: object, y: object, alpha: float, c: float,
              chunk_size: int | None) -> tuple[Tensor, Tensor]:
    dev = x.device if isinstance(x, Tensor) else (y.device if isinstance(y, Tensor) else None)
    xt = _as_tensor(x, "x", dev)
    yt = _as_tensor(y, "y", dev)
    for name, t in (("x", xt), ("y", yt)):
        if not t.is_floating_point():
            raise InputError(
                f"{name} must be a floating-point tensor (float32 or float64), got {t.dtype}; "
                "convert it with .double()"
            )
        if t.dim() < 1:
            raise InputError(f"{name} must have shape (..., n), got a 0-d tensor")
    if xt.shape != yt.shape:
        raise InputError(
            "x and y must have the same shape (..., n), got "
            f"{tuple(xt.shape)} and {tuple(yt.shape)}"
        )
    if xt.device != yt.device:
        raise InputError(f"x and y must be on the same device, got {xt.device} and {yt.device}")
    n = xt.shape[-1]
    if n < 4:
        raise InputError(f"MIC needs at least 4 points per pair (last dimension), got n={n}")
    for name, t in (("x", xt), ("y", yt)):
        if not _all_finite(t):
            raise InputError(f"{name} contains NaN or infinite values; MIC needs finite data")
    if not (0.0 < alpha <= 1.0 or alpha >= 4.0) or math.isnan(alpha):
        raise InputError(
            f"alpha must be in (0, 1] (budget n**alpha) or >= 4 (absolute budget), got {alpha}"
        )
    if not c > 0.0 or math.isinf(c):
        raise InputError(f"c must be a finite number > 0, got {c}")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int)
                                   or chunk_size < 1):
        raise InputError(f"chunk_size must be a positive int or None, got {chunk_size!r}")
    return xt, yt


# --------------------------------------------------------------------------- building blocks


@dataclass
class _Plan:
    """Per-(n, alpha, c, device) constants: the grids and lookup tables."""

    n: int
    grids: list[tuple[int, int, int]]
    device: torch.device
    xlogx: Tensor = field(init=False)
    row_need: Tensor = field(init=False)
    merge_from: int = field(init=False)
    merge_need: Tensor = field(init=False)
    _codes: dict[int, Tensor | None] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        n, dev = self.n, self.device
        k = torch.arange(n + 1, dtype=torch.float64, device=dev)
        self.xlogx = k * torch.log(k.clamp(min=1.0))
        self.row_need = self._need_tables([r for r, _m, _k in self.grids])
        # superclumps are possible only where k_hat < n; k_hat shrinks as r grows
        self.merge_from = next((g for g, (_r, _m, kh) in enumerate(self.grids) if kh < n),
                               len(self.grids))
        merged = [kh for _r, _m, kh in self.grids[self.merge_from:]]
        self.merge_need = self._need_tables(merged)

    def _need_tables(self, ks: list[int]) -> Tensor:
        """``need[g, cur, i0] = 2 i0 + ceil(2 (n - i0) / (k_g - cur))``, padded with ``2n + 1``.

        Shape (len(ks), max(k) - 1, n + 1); a padded step makes the walk stop at ``n``.
        """
        n, dev = self.n, self.device
        steps = max([k - 1 for k in ks] + [0])
        table = torch.full((len(ks), steps, n + 1), 2 * n + 1, dtype=torch.long, device=dev)
        i0 = torch.arange(n + 1, device=dev)
        for g, k in enumerate(ks):
            left = torch.arange(k, 1, -1, device=dev)[:, None]
            table[g, : k - 1] = 2 * i0 + torch.div(2 * (n - i0) + left - 1, left,
                                                   rounding_mode="floor")
        return table

    def code_table(self, q: int) -> Tensor | None:
        """``T[code] = sum_r g(c_r) - g(sum_r c_r)``, ``code = sum_r c_r (n+1)^r``, ``g = x ln x``.

        ``T[code]`` is ``-N H(Q | column)`` for a column holding ``c_r`` points of row
        ``r``. ``None`` when the table would be too large (per-row lookups are used then).
        """
        if q not in self._codes:
            size = (self.n + 1) ** q
            if size > _MAX_CODE_TABLE:
                self._codes[q] = None
            else:
                code = torch.arange(size, device=self.device)
                total = torch.zeros(size, dtype=torch.long, device=self.device)
                score = torch.zeros(size, dtype=torch.float64, device=self.device)
                for _ in range(q):
                    digit = code % (self.n + 1)
                    code = code // (self.n + 1)
                    total = total + digit
                    score = score + self.xlogx[digit]
                # codes whose total exceeds n are never looked up; the clamp keeps them valid
                self._codes[q] = score - self.xlogx[total.clamp(max=self.n)]
        return self._codes[q]


class _Workspace:
    """Named scratch tensors, reused from chunk to chunk.

    Allocating fresh megabyte-sized tensors for every chunk makes the C allocator
    hand memory back to the OS and fault it in again, which on CPU costs more than
    the arithmetic. Every large intermediate of :func:`_mic_chunk` therefore lives
    in a buffer keyed by (name, dtype), written with ``out=``; a smaller request
    (the last chunk) gets a view of the same memory. A name is never used for two
    live tensors at once.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self._buffers: dict[tuple[str, torch.dtype], Tensor] = {}

    def _flat(self, key: tuple[str, torch.dtype], numel: int, fill: int | None = None,
              step: int = 0) -> Tensor:
        buf = self._buffers.get(key)
        if buf is None or buf.numel() < numel:
            if fill is not None:
                buf = torch.full((numel,), fill, dtype=key[1], device=self.device)
            elif step:
                buf = torch.arange(numel, dtype=key[1], device=self.device) * step
            else:
                buf = torch.empty(numel, dtype=key[1], device=self.device)
            self._buffers[key] = buf
        return buf[:numel]

    def __call__(self, name: str, shape: tuple[int, ...],
                 dtype: torch.dtype = torch.long) -> Tensor:
        return self._flat((name, dtype), math.prod(shape)).view(shape)

    def zeros(self, name: str, shape: tuple[int, ...], dtype: torch.dtype = torch.long) -> Tensor:
        return self(name, shape, dtype).zero_()

    def ones(self, shape: tuple[int, ...], dtype: torch.dtype = torch.long) -> Tensor:
        """A tensor of ones (callers must not write to it)."""
        return self._flat(("ones", dtype), math.prod(shape), fill=1).view(shape)

    def arange(self, rows: int, step: int, dtype: torch.dtype = torch.long) -> Tensor:
        """``arange(rows) * step`` (callers must not write to it)."""
        return self._flat((f"arange*{step}", dtype), rows, step=step)

    def nbytes(self) -> int:
        return sum(b.numel() * b.element_size() for b in self._buffers.values())


def _prepare_runs(ws: _Workspace, tag: str, run: Tensor, size: Tensor) -> tuple[Tensor, Tensor]:
    """Flat lookup tables of sorted runs (tie runs of values, or clumps) for :func:`_walk`.

    ``run[:, i]`` (int64) is the run of sorted position ``i``, ``size[:, j]`` the size of
    run ``j`` (0 past the last run). Position ``i`` of row ``b`` is stored "flat" as
    ``b (n+1) + i``. Returns ``first`` with ``first[b (2n+2) + v]`` the first position
    whose run has ``start + end >= v`` (``start + end`` grows along the runs) and
    ``end_at`` with ``end_at[b (n+1) + i]`` the end of the run at ``i`` (``n`` at ``i = n``),
    both of ``size``'s dtype.
    """
    rows, n = run.shape
    it = size.dtype
    pos_off = ws.arange(rows, n + 1, it)[:, None]
    run_end = ws(tag + "run_end", (rows, n), it)
    torch.cumsum(size, 1, dtype=it, out=run_end)
    mid32 = ws(tag + "mid32", (rows, n), it)
    torch.mul(run_end, 2, out=mid32)
    mid32.sub_(size).add_(1)
    mid = ws(tag + "mid", (rows, n))
    mid.copy_(mid32)  # scatter indices must be int64
    hist = ws.zeros(tag + "hist", (rows, 2 * n + 2), it)
    hist.scatter_add_(1, mid, size)
    first = ws(tag + "first", (rows, 2 * n + 2), it)
    torch.cumsum(hist, 1, dtype=it, out=first)
    first.add_(pos_off)
    end_at = ws(tag + "end_at", (rows, n + 1), it)
    end_at[:, n] = n
    torch.gather(run_end, 1, run, out=end_at[:, :n])
    end_at.add_(pos_off)
    return first.view(-1), end_at.view(-1)


def _walk(ws: _Workspace, tag: str, first: Tensor, end_at: Tensor, source: Tensor, need: Tensor,
          n: int) -> Tensor:
    """``EquipartitionYAxis`` of sorted runs into groups, for many rows and grids at once.

    The estimator's walk over runs (size ``s``, first position ``i``) closes the current
    group (first position ``i0``, ``cur`` groups closed, ``k`` wanted) when
    ``|filled + s - target| >= |filled - target|`` with ``filled = i - i0 > 0`` and
    ``target = (n - i0) / (k - cur)``, i.e. when ``2 i + s >= 2 i0 + 2 (n - i0) / (k - cur)``:
    at the first later run whose integer ``start + end`` reaches
    ``need[cur, i0] = 2 i0 + ceil(2 (n - i0) / (k - cur))``. (Float rounding cannot flip
    this test: a target that is not a half-integer is at least ``1 / (2k)`` away from
    the decision point.) So each group boundary is one table lookup; the loop runs
    over the groups, not over the points.

    ``first``, ``end_at``: tables of :func:`_prepare_runs`. ``source[j]``: the row of
    those tables that walk ``j`` reads. ``need`` (G, steps, n+1): one table per grid;
    walk ``j`` uses grid ``j // (walks / G)``. Returns the boundaries (walks, steps),
    int64, nondecreasing, ``n`` meaning none.
    """
    n_grids, steps, _ = need.shape
    walks = source.shape[0]
    dev = source.device
    it = first.dtype
    source = source.to(it)
    pos_off = source * (n + 1)
    first_off = source * (2 * n + 2)
    grid = torch.arange(n_grids, device=dev, dtype=it).repeat_interleave(walks // n_grids)
    base = grid * (steps * (n + 1)) - pos_off
    shifts = ws(tag + "shifts", (steps, walks), it)
    torch.add(base, torch.arange(steps, device=dev, dtype=it)[:, None] * (n + 1), out=shifts)
    flat_need = need.to(it).reshape(-1)
    bounds = ws(tag + "bounds", (steps, walks), it)
    i0 = pos_off
    for cur in range(steps):
        cand = first.index_select(0, flat_need.index_select(0, i0 + shifts[cur]) + first_off)
        i0 = torch.maximum(cand, end_at.index_select(0, i0), out=bounds[cur])
    local32 = ws(tag + "local32", (walks, steps), it)
    torch.sub(bounds.T, pos_off[:, None], out=local32)
    return ws(tag + "local", (walks, steps)).copy_(local32)


class _Segments:
    """``seg(s, t) = sum_r g(C_r(t) - C_r(s)) - g(N(t) - N(s))`` for prefix counts ``C``.

    ``g = x ln x``; ``seg(s, t)`` is ``-n_j H(Q | column j)`` for the column made of
    superclumps ``s .. t-1``. Layout (P+1, rows). With a code table the prefix
    counts are one mixed-radix code per prefix (a difference of codes is the code
    of a column) and a segment costs one lookup; else one lookup per row.
    """

    def __init__(self, ws: _Workspace, plan: _Plan, group: Tensor, rows: Tensor,
                 n_groups: int, q: int) -> None:
        self.table = plan.code_table(q)
        self.xlogx = plan.xlogx
        self.ws = ws
        n_rows, n = group.shape
        p1 = n_groups + 1
        gi = ws("seg_gi", (n_rows, n))
        torch.add(group, 1, out=gi)
        if self.table is not None:  # codes < (n+1)^q <= _MAX_CODE_TABLE fit in int32
            weight = ((plan.n + 1) ** torch.arange(q, device=group.device)).to(torch.int32)
            w = ws("seg_w", (n_rows, n), torch.int32)
            torch.index_select(weight, 0, rows.reshape(-1), out=w.view(-1))
            acc = ws.zeros(f"seg_acc{p1}", (n_rows, p1), torch.int32)
            acc.scatter_add_(1, gi, w)
            acc.cumsum_(1)
            self.prefix = ws(f"seg_prefix{p1}", (p1, n_rows), torch.int32)
            self.prefix.copy_(acc.T)
        else:
            gi.mul_(q).add_(rows)
            acc = ws.zeros(f"seg_acc{p1}x{q}", (n_rows, p1 * q))
            acc.scatter_add_(1, gi, ws.ones((n_rows, n)))
            self.prefix = acc.view(n_rows, p1, q).cumsum(dim=1).transpose(0, 1)

    def __call__(self, lo: slice, hi: slice, out: Tensor | None = None) -> Tensor:
        if self.table is None:
            diff = self.prefix[hi] - self.prefix[lo]
            score = self.xlogx[diff].sum(dim=2) - self.xlogx[diff.sum(dim=2)]
            return score if out is None else out.copy_(score)
        a, b = self.prefix[hi], self.prefix[lo]
        shape = (max(a.shape[0], b.shape[0]), a.shape[1])
        numel = shape[0] * shape[1]
        diff = self.ws("seg_diff", (self.prefix.numel(),), torch.int32)[:numel].view(shape)
        torch.sub(a, b, out=diff)
        if out is None:
            out = torch.empty(shape, dtype=torch.float64, device=diff.device)
        torch.index_select(self.table, 0, diff.view(-1), out=out.view(-1))
        return out


def _best_scores(seg: _Segments, p1: int, m: int) -> list[Tensor]:
    """Best ``sum_j -n_j H(Q|col j)`` over at most ``l`` columns, for ``l = 2 .. m``.

    Reshef's Algorithm 2: ``F_l[t] = max_{s <= t} F_{l-1}[s] + seg(s, t)``, with
    ``F_1[t] = seg(0, t)``; ``s = t`` is an empty column, so "at most ``l``". The
    maximum over ``s`` runs as a loop over the last column's width ``t - s``.
    """
    ws = seg.ws
    nrow = seg.prefix.shape[1]
    whole = slice(0, p1)
    buf = ws(f"dp{p1}", (4, p1, nrow), torch.float64)
    band_buf = buf[3].view(-1)
    f = seg(slice(0, 1), whole, out=buf[0])  # F_1[t] = seg(0, t)
    suffix = seg(whole, slice(p1 - 1, p1), out=buf[1])  # seg(t, P)
    spare = buf[2]
    best: list[Tensor] = []
    for l in range(2, m + 1):
        best.append(torch.add(f, suffix, out=spare).amax(dim=0))
        if l == m:
            break
        nxt = spare.copy_(f)  # F_l, from F_{l-1} = f
        for d in range(1, p1):
            band = seg(slice(0, p1 - d), slice(d, p1),
                       out=band_buf[: (p1 - d) * nrow].view(p1 - d, nrow))
            band += f[: p1 - d]
            view = nxt[d:]
            torch.maximum(view, band, out=view)
        f, spare = nxt, f
    return best


def _sort_keys(values: Tensor) -> Tensor:
    """Integer keys with the order and the equality (``-0.0 == 0.0``) of finite floats.

    The IEEE bit pattern read as a signed integer orders non-negative floats; flipping
    all but the sign bit of negative ones reverses their order below zero. Adding
    ``+0.0`` first turns ``-0.0`` into ``+0.0``. Sorting integer rows is about a third
    faster on CPU than sorting floats (no NaN-aware comparisons). float16/bfloat16
    values are widened to float32 (exactly).
    """
    if values.dtype == torch.float64:
        bits = values.add(0.0).view(torch.int64)
        return bits ^ ((bits >> 63) & 0x7FFF_FFFF_FFFF_FFFF)
    bits = values.float().add(0.0).view(torch.int32)
    return bits ^ ((bits >> 31) & 0x7FFF_FFFF)


def _mic_chunk(x: Tensor, y: Tensor, plan: _Plan, ws: _Workspace) -> Tensor:
    """MIC of the pairs ``x[i], y[i]`` of a (N, n) chunk; float64 (N,)."""
    npairs, n = x.shape
    dev = x.device
    n_grids = len(plan.grids)
    nrow = 2 * npairs  # row i: the direction "columns = values[i]", rows = its partner
    rn = (nrow, n)
    shape3 = (n_grids, nrow, n)
    # positions, counts and flat table indices; int32 halves the memory traffic
    it = torch.int32 if n_grids * nrow * (2 * n + 2) < 2**31 else torch.long
    partner = torch.arange(nrow, device=dev).roll(npairs)

    values = ws("values", rn, x.dtype)
    torch.cat([x, y], dim=0, out=values)
    keys = _sort_keys(values)
    sorted_v = ws("sorted", rn, keys.dtype)
    order = ws("order", rn)
    # The order among tied values is irrelevant below, so an unstable sort is fine.
    torch.sort(keys, dim=1, out=(sorted_v, order))
    is_start = ws("is_start", rn, torch.bool)
    is_start[:, 0] = True
    torch.ne(sorted_v[:, 1:], sorted_v[:, :-1], out=is_start[:, 1:])
    tie_prev = ws("tie_prev", (nrow, n - 1), torch.bool)
    torch.logical_not(is_start[:, 1:], out=tie_prev)
    run = ws("run", rn).copy_(is_start)
    run.cumsum_(1)
    run.sub_(1)
    size = ws.zeros("size", rn, it)
    size.scatter_add_(1, run, ws.ones(rn, it))
    row_first, row_end_at = _prepare_runs(ws, "row_", run, size)
    # first and last position of each point's tie run (gather indices)
    scratch = ws("scratch", rn, it)
    torch.sub(row_end_at.view(nrow, n + 1)[:, :n], ws.arange(nrow, n + 1, it)[:, None],
              out=scratch)
    scratch.sub_(1)
    last_in_run = ws("last_in_run", rn)
    last_in_run.copy_(scratch)
    size_at = ws("size_at", rn, it)
    torch.gather(size, 1, run, out=size_at)
    scratch.sub_(size_at).add_(1)
    first_in_run = ws("first_in_run", rn)
    first_in_run.copy_(scratch)

    # to_row[i, j]: position, in the sorted partner, of the point at position j of row i
    inverse = ws("inverse", rn, it)
    inverse.scatter_(1, order, ws.arange(n, 1, it).expand(rn))
    inverse_p = ws("inverse_p", rn, it)
    torch.index_select(inverse, 0, partner, out=inverse_p)
    to_row = ws("to_row", rn, it)
    torch.gather(inverse_p, 1, order, out=to_row)

    # Rows: equipartition the partner (row axis) for every grid at once.
    bounds = _walk(ws, "row_", row_first, row_end_at, partner.repeat(n_grids), plan.row_need, n)
    q = 1 + (bounds < n).sum(dim=1)
    bounds3 = bounds.to(it).view(n_grids, nrow, -1)
    # rows are counted in uint8 (bool viewed as uint8 adds without conversion)
    max_rows = max(r for r, _m, _k in plan.grids)
    rows8 = ws.zeros("rows8", shape3, torch.uint8 if max_rows < 256 else torch.int32)
    cmp = ws("cmp", shape3, torch.bool)
    for j in range(bounds3.shape[2]):
        torch.ge(to_row, bounds3[:, :, j, None], out=cmp)
        rows8 += cmp.view(torch.uint8)
    rows = ws("rows", shape3, torch.int32)
    rows.copy_(rows8)

    # Clumps along the column axis. Inside a tie run no clump starts: the run is one
    # clump if it spans several rows ("mixed"), else all its points share a row. A
    # clump starts at a run start where the row changes, or next to a mixed run.
    changed = ws("changed", (n_grids, nrow, n - 1), torch.bool)
    torch.ne(rows8[..., 1:], rows8[..., :-1], out=changed)
    split = ws("split", (n_grids, nrow, n - 1), torch.bool)
    torch.logical_and(changed, tie_prev, out=split)
    seen = ws("seen", shape3, it)
    seen[..., 0] = 0
    seen[..., 1:] = split
    seen.cumsum_(2)
    seen_last = ws("seen_last", shape3, it)
    torch.gather(seen, 2, last_in_run.expand(shape3), out=seen_last)
    seen_first = ws("seen_first", shape3, it)
    torch.gather(seen, 2, first_in_run.expand(shape3), out=seen_first)
    mixed = ws("mixed", shape3, torch.bool)
    torch.gt(seen_last, seen_first, out=mixed)
    new_clump = ws("new_clump", shape3, torch.bool)
    new_clump[..., 0] = True
    torch.logical_or(changed, mixed[..., 1:], out=new_clump[..., 1:])
    new_clump[..., 1:] |= mixed[..., :-1]
    new_clump &= is_start
    group = ws("group", shape3).copy_(new_clump)
    group.cumsum_(2)
    group.sub_(1)
    group = group.view(n_grids * nrow, n)
    rows = rows.view(n_grids * nrow, n)
    p = group[:, -1] + 1

    # Superclumps: where p > k_hat, equipartition the clumps into k_hat groups. Only the
    # rows that need it are walked (few at r = 2 for n = 49), one grid at a time so
    # each walk takes only its own k_hat - 1 steps.
    for g in range(plan.merge_from, n_grids):
        k_hat = plan.grids[g][2]
        g_group = group[g * nrow : (g + 1) * nrow]
        p_part = p[g * nrow : (g + 1) * nrow]
        idx = torch.nonzero(p_part > k_hat).squeeze(1)
        if idx.numel() == 0:
            continue
        sub = g_group.index_select(0, idx)
        subn = (sub.shape[0], n)
        c_size = ws.zeros("c_size", subn, it)
        c_size.scatter_add_(1, sub, ws.ones(subn, it))
        c_first, c_end_at = _prepare_runs(ws, "c_", sub, c_size)
        need = plan.merge_need[g - plan.merge_from : g - plan.merge_from + 1, : k_hat - 1]
        merged = _walk(ws, "c_", c_first, c_end_at, torch.arange(subn[0], device=dev), need, n)
        marks = ws.zeros("marks", (subn[0], n + 1), it)
        marks.scatter_add_(1, merged, ws.ones(merged.shape, it))
        merged_group = ws("merged_group", subn).copy_(marks[:, :n])
        merged_group.cumsum_(1)
        g_group.index_copy_(0, idx, merged_group)
        p_part.index_copy_(0, idx, merged_group[:, -1] + 1)

    result = torch.zeros(nrow, dtype=torch.float64, device=dev)
    for g, (r, m, k_hat) in enumerate(plan.grids):
        part = slice(g * nrow, (g + 1) * nrow)
        scores = _grid_scores(ws, plan, group[part], rows[part], p[part], q[part], min(n, k_hat),
                              r, m)
        torch.maximum(result, scores, out=result)
    return torch.maximum(result[:npairs], result[npairs:])


def _bucket_caps(n_groups: int, m: int) -> list[int]:
    """Upper bounds of the superclump counts of the row buckets of :func:`_grid_scores`.

    The column search costs ``O(P^2)`` per row for ``m >= 3`` columns with ``P`` the
    table width; most rows of real data have far fewer superclumps than the budget
    allows (SMIC's relu features at ``r = 2``: 11 on average of 30), so rows are
    searched in buckets of similar counts, each with its own width. With ``m = 2`` the
    search is linear and one bucket is cheapest.
    """
    if m < 3 or n_groups < 12:
        return [n_groups]
    return sorted({n_groups // 3, (2 * n_groups) // 3, n_groups})


def _grid_scores(ws: _Workspace, plan: _Plan, group: Tensor, rows: Tensor, p: Tensor, q: Tensor,
                 n_groups: int, r: int, m: int) -> Tensor:
    """Best normalised mutual information over the grids of ``r`` rows and 2..m columns.

    ``group[i, j]``: superclump (< ``p[i]`` <= ``n_groups``) of sorted position ``j`` of
    row ``i``; ``rows[i, j]``: its row of the equipartition (``q[i]`` rows). Rows with
    a single superclump score 0. Returns float64 ``(len(group),)``.
    """
    log_q = torch.log(q.to(torch.float64))
    caps = _bucket_caps(n_groups, m)
    if len(caps) == 1:  # every row in one search, no copies
        return torch.where(p > 1, _column_search(ws, plan, group, rows, log_q, caps[0], r, m), 0.0)
    out = torch.zeros(group.shape[0], dtype=torch.float64, device=group.device)
    for lo, cap in zip([1, *caps[:-1]], caps, strict=True):
        idx = torch.nonzero((p > lo) & (p <= cap)).squeeze(1)
        if idx.numel() > 0:
            best = _column_search(ws, plan, group.index_select(0, idx), rows.index_select(0, idx),
                                  log_q.index_select(0, idx), cap, r, m)
            out.index_copy_(0, idx, best)
    return out


def _column_search(ws: _Workspace, plan: _Plan, group: Tensor, rows: Tensor, log_q: Tensor,
                   width: int, r: int, m: int) -> Tensor:
    """:func:`_grid_scores` for rows with at most ``width`` superclumps each."""
    seg = _Segments(ws, plan, group, rows, width, r)
    total = seg(slice(0, 1), slice(width, width + 1))[0]
    best_l = torch.zeros_like(total)
    for l, best in enumerate(_best_scores(seg, width + 1, m), start=2):
        score = (best - total) / (plan.n * torch.clamp(log_q, max=math.log(l)))
        torch.maximum(best_l, score, out=best_l)
    return best_l


def _bytes_per_pair(n: int, grids: list[tuple[int, int, int]]) -> int:
    """Scratch bytes one pair needs (both directions) in :func:`_mic_chunk`, roughly."""
    n_grids = len(grids)
    widest = max(min(n, k_hat) + 1 for _r, _m, k_hat in grids)
    rows = max(r for r, _m, _k in grids)
    per_row = 8 * n * (14 + 12 * n_grids) + 8 * widest * (4 + 2 * rows) * n_grids
    return 2 * per_row


_PLANS: dict[tuple[int, float, float, str], _Plan] = {}

#: Workspaces kept between calls, per thread and device (see :func:`_workspace`).
_LOCAL = threading.local()
#: A workspace larger than this is dropped after the call instead of kept.
_KEEP_WORKSPACE_BYTES = DEFAULT_MEMORY_BUDGET


def _workspace(device: torch.device) -> _Workspace:
    """This thread's workspace for ``device``, kept from call to call.

    SMIC calls the engine once per image pair with a few thousand pairs; fresh
    scratch buffers would be faulted in anew by every call, which costs about as
    much as the arithmetic of such a call. At most ``DEFAULT_MEMORY_BUDGET`` bytes
    are kept (about 190 MB at ``n = 49``); :func:`clear_workspace` frees them.
    """
    cache: dict[str, _Workspace] | None = getattr(_LOCAL, "workspaces", None)
    if cache is None:
        cache = _LOCAL.workspaces = {}
    ws = cache.get(str(device))
    if ws is None:
        ws = cache[str(device)] = _Workspace(device)
    return ws


def clear_workspace() -> None:
    """Free the scratch memory the engine keeps between calls (in this thread)."""
    cache: dict[str, _Workspace] | None = getattr(_LOCAL, "workspaces", None)
    if cache is not None:
        cache.clear()


def _get_plan(n: int, alpha: float, c: float, device: torch.device) -> _Plan:
    key = (n, float(alpha), float(c), str(device))
    if key not in _PLANS:
        if len(_PLANS) > 64:
            _PLANS.clear()
        _PLANS[key] = _Plan(n, grid_plan(n, alpha, c), device)
    return _PLANS[key]


def mic(x: Tensor | np.ndarray, y: Tensor | np.ndarray, *, alpha: float = 0.6, c: float = 15.0,
        chunk_size: int | None = None) -> Tensor:
    """Maximal information coefficient of every pair ``(x[..., :], y[..., :])``, exactly.

    The "approximate" MIC of Reshef et al., Science 334 (2011), supplementary
    Algorithms 2-3, as computed by the MINE estimator of Albanese et al.,
    Bioinformatics 29 (2013) (minepy): the same value for every input, ties and
    constants included, to float64 round-off (~1e-15; checked on 3,688 minepy
    values). Batched over any leading shape, on the inputs' device (CPU or CUDA),
    with Python loops only over grid rows, column cuts and walk steps.

    Args:
        x: first variable, shape ``(..., n)`` with ``n >= 4``, a floating dtype
            (float32 or float64; values are only compared, never rounded), finite.
            A numpy array is converted.
        y: second variable, same shape and device as ``x``.
        alpha: grid budget ``B = max(n**alpha, 4)`` for ``0 < alpha <= 1``; a value
            ``>= 4`` is an absolute budget ``B = min(alpha, n)``. 0.6 is the MINE
            default; SMIC uses 0.5. Grids have ``r = 2 .. max(floor(B/2), 2)`` rows and
            up to ``m(r) = floor(B/r)`` columns (see :func:`grid_plan`).
        c: clump factor: at most ``max(floor(c m(r)), 1)`` superclumps (MINE default 15;
            SMIC uses 10).
        chunk_size: pairs processed at once, a memory knob that never changes the
            result. ``None`` picks about ``DEFAULT_MEMORY_BUDGET`` bytes of scratch
            (a few thousand pairs at ``n = 49``).

    Returns:
        float64 tensor of shape ``x.shape[:-1]``, values in [0, 1] (the estimator can
        round a perfect score to ``1 + 2e-16``; it is clamped to 1).

    Tie semantics (as MINE): only the order and equality (``==``, so ``-0.0 == 0.0``)
    of values matter, so MIC is invariant to strictly increasing transforms. Equal
    values always share a row of an equipartition, so fewer rows than asked can
    result; a run of equal column values spanning several rows is a clump of its
    own that no column boundary splits; the order among tied values (hence the
    sort algorithm) never matters. A constant variable gives 0. A strictly
    monotone relation gives 1 when ``n`` is even; for odd ``n`` no two-row grid is
    balanced and the value is slightly lower (0.99970 for ``n = 49``), as in MINE.

    Raises:
        friqa.exceptions.InputError: shapes or devices differ, ``n < 4``, a
            non-floating dtype, NaN or inf, or a bad ``alpha``, ``c`` or ``chunk_size``.

    Example:
        >>> import torch
        >>> x = torch.linspace(0, 1, 50).expand(3, 50)
        >>> y = torch.stack([x[0] ** 2, torch.zeros(50), torch.cos(12 * x[0])])
        >>> mic(x, y, alpha=0.5, c=10.0).round(decimals=4).tolist()
        [1.0, 0.0, 0.4174]
    """
    xt, yt = _validate(x, y, alpha, c, chunk_size)
    common = torch.promote_types(xt.dtype, yt.dtype)  # converting keeps order and ties
    batch_shape = xt.shape[:-1]
    n = xt.shape[-1]
    xf = xt.reshape(-1, n)
    yf = yt.reshape(-1, n)
    total = xf.shape[0]
    out = torch.zeros(total, dtype=torch.float64, device=xt.device)
    plan = _get_plan(n, alpha, c, xt.device)
    if not plan.grids or total == 0:
        return out.reshape(batch_shape)
    step = chunk_size or max(1, DEFAULT_MEMORY_BUDGET // _bytes_per_pair(n, plan.grids))
    if chunk_size is None:  # equal chunks: a small last chunk costs a whole chunk's overhead
        step = -(-total // -(-total // step))
    ws = _workspace(xt.device)
    with torch.no_grad():
        for lo in range(0, total, step):
            hi = min(lo + step, total)
            out[lo:hi] = _mic_chunk(xf[lo:hi].to(common), yf[lo:hi].to(common), plan, ws)
    if ws.nbytes() > _KEEP_WORKSPACE_BYTES:  # an explicit large chunk_size: do not hoard
        clear_workspace()
    # the estimator can round a perfect score to 1 + 2e-16; keep the documented range
    out.clamp_(max=1.0)
    return out.reshape(batch_shape)
