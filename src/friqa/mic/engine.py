"""Exact, batched MIC: the engine behind SMIC attention (torch, or a compiled kernel on CPU).

The maximal information coefficient in its "approximate" form: Reshef et al.,
"Detecting novel associations in large data sets", Science 334 (2011),
supplementary Algorithms 2-3 (``EquipartitionYAxis``, ``GetClumpsPartition``,
``GetSuperclumpsPartition``, ``OptimizeXAxis``), with the conventions of the MINE
estimator of Albanese et al., "minerva and minepy", Bioinformatics 29 (2013).
The algorithm as implemented is stated in full in the project's MIC notes and
transcribed, scalar and slow, in :mod:`friqa.mic.reference`; this module
computes the same numbers for millions of pairs at once.

How the work is vectorised (every step runs on all pairs of a chunk and both
directions at once; Python loops run only over grids, row and superclump
boundaries and column widths, never over pairs or points):

1. One sort per variable gives the runs of tied values (any sort: the order
   among ties never matters), on integer keys with the floats' order and ties;
   running maxima give each sorted position the start and end of its run.
2. Equipartition. The sequential walk of ``EquipartitionYAxis`` closes a group
   before the run starting at sorted position ``i`` (size ``s``) exactly when
   ``2 (i - i0) + s >= 2 (n - i0) / (k - cur)`` (``i0`` the group's first position),
   an integer test on the run's ``start + end``, which grows along the runs. So a
   boundary is a count of positions below a threshold (the rows of a grid, a few
   boundaries), or one lookup in a per-row table (superclumps, up to ``k_hat - 1``
   boundaries): the loop runs over the groups, not the points. (The estimator
   compares floats; no rounding can flip this test, since a target that is not a
   half-integer is at least ``1 / (2k)`` away from the decision point.)
3. Clumps from comparisons of neighbouring rows along the column-sorted order;
   only variables with ties need the test for tie runs spanning several rows.
   Superclumps are step 2 again with clumps as the runs, on only the rows with
   more than ``k_hat`` clumps, for all grids in one walk.
4. Column scores: the score ``sum_r c_r ln c_r - N ln N`` (``= -N H(Q|column)``)
   of a column is one lookup in a table indexed by the mixed-radix code
   ``sum_r c_r (n+1)^r`` of its row counts, a difference of two prefix codes.
5. At most two columns (one cut): one vector maximum over the cut positions.
   Without superclumps the cuts are all run starts of the column variable: a cut
   inside a clump scores no better than one at the clump's ends (the score is
   convex along a clump, Reshef et al.), so clumps are not even formed. More
   columns: Reshef's Algorithm 2 (a prefix dynamic programme over superclump
   boundaries) as a loop over the width of the last column, vectorised over
   pairs and end positions.

On CPU, :func:`mic` hands the chunks by default to the compiled per-pair kernel
of :mod:`friqa.mic.native` (same estimator, same float64 tables; several times
faster per core than the torch path, whose few hundred whole-chunk operations
each stream the chunk through memory), and falls back to the torch path below
where no C compiler is available.

Intermediates are int32 where possible and live in a workspace reused from
chunk to chunk (:mod:`friqa.mic.workspace`: fresh multi-megabyte allocations
per chunk cost more in page faults than the arithmetic). With several torch
threads, chunks run on worker threads with one intra-op thread each
(:mod:`friqa.mic.workers`), never on a team of intra-op threads. Entropies are
float64 whatever the input dtype; the result is exact to float64 round-off
(about 1e-15) and does not depend on the chunking or the threads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from friqa.exceptions import InputError
from friqa.mic.native import NativeKernel, kernel
from friqa.mic.workers import run_chunks
from friqa.mic.workspace import Workspace, release_workspace, thread_workspace

__all__ = ["mic", "grid_plan", "DEFAULT_MEMORY_BUDGET"]

#: Bytes of scratch memory the chunks in flight may use together when ``chunk_size`` is not given.
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


def _not_finite(name: str) -> InputError:
    return InputError(f"{name} contains NaN or infinite values; MIC needs finite data")


def _validate(
    x: object, y: object, alpha: float, c: float, chunk_size: int | None, finite: bool = True
) -> tuple[Tensor, Tensor]:
    """Checked tensors; ``finite=False`` leaves the NaN/inf check to the compiled kernel."""
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
    for name, t in (("x", xt), ("y", yt)) if finite else ():
        if not _all_finite(t):
            raise _not_finite(name)
    if not (0.0 < alpha <= 1.0 or alpha >= 4.0) or math.isnan(alpha):
        raise InputError(
            f"alpha must be in (0, 1] (budget n**alpha) or >= 4 (absolute budget), got {alpha}"
        )
    if not c > 0.0 or math.isinf(c):
        raise InputError(f"c must be a finite number > 0, got {c}")
    if chunk_size is not None and (
        isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1
    ):
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
    merge_from: int = field(init=False)
    merge_need: Tensor = field(init=False)
    _codes: dict[int, Tensor | None] = field(init=False, default_factory=dict)
    native_grids: Tensor = field(init=False)
    log_q: Tensor = field(init=False)
    log_l: Tensor = field(init=False)
    _weights: Tensor = field(init=False)

    def __post_init__(self) -> None:
        n, dev = self.n, self.device
        k = torch.arange(n + 1, dtype=torch.float64, device=dev)
        self.xlogx = k * torch.log(k.clamp(min=1.0))
        # superclumps are possible only where k_hat < n; k_hat shrinks as r grows
        self.merge_from = next(
            (g for g, (_r, _m, kh) in enumerate(self.grids) if kh < n), len(self.grids)
        )
        merged = [kh for _r, _m, kh in self.grids[self.merge_from :]]
        self.merge_need = self._need_tables(merged)
        rows = max([r for r, _m, _k in self.grids] + [1])
        self._weights = ((n + 1) ** torch.arange(rows, device=dev)).to(torch.int32)
        for r, _m, _k in self.grids:  # built here, not lazily by concurrent worker threads
            self.code_table(r)
        if dev.type == "cpu":  # the compiled kernel's view of the same grids and tables
            self.native_grids = torch.tensor(self.grids, dtype=torch.int32).T.contiguous()
            widest = max([max(r, m) for r, m, _k in self.grids] + [2])
            self.log_q = torch.log(torch.arange(widest + 1, dtype=torch.float64))
            logs = [math.log(max(v, 1)) for v in range(widest + 1)]
            self.log_l = torch.tensor(logs, dtype=torch.float64)

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
            table[g, : k - 1] = 2 * i0 + torch.div(
                2 * (n - i0) + left - 1, left, rounding_mode="floor"
            )
        return table

    def weights(self, q: int) -> Tensor:
        """``(n+1)^r`` for the rows ``r < q``: a point's contribution to a column's code."""
        return self._weights[:q]

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


def _prepare_runs(ws: Workspace, tag: str, run: Tensor, size: Tensor) -> tuple[Tensor, Tensor]:
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


def _walk(
    ws: Workspace, tag: str, first: Tensor, end_at: Tensor, grid: Tensor, need: Tensor, n: int
) -> Tensor:
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

    ``first``, ``end_at``: tables of :func:`_prepare_runs`, one row per walk. ``need``
    (G, steps, n+1): one table per grid; walk ``j`` uses grid ``grid[j]``. Returns the
    boundaries (walks, steps), int64, nondecreasing, ``n`` meaning none.
    """
    steps = need.shape[1]
    walks = grid.shape[0]
    dev = grid.device
    it = first.dtype
    pos_off = ws.arange(walks, n + 1, it)
    first_off = ws.arange(walks, 2 * n + 2, it)
    base = grid.to(it) * (steps * (n + 1)) - pos_off
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

    def __init__(
        self, ws: Workspace, plan: _Plan, group: Tensor, rows: Tensor, n_groups: int, q: int
    ) -> None:
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
            band = seg(
                slice(0, p1 - d), slice(d, p1), out=band_buf[: (p1 - d) * nrow].view(p1 - d, nrow)
            )
            band += f[: p1 - d]
            view = nxt[d:]
            torch.maximum(view, band, out=view)
        f, spare = nxt, f
    return best


def _sort_keys(values: Tensor, ws: Workspace | None = None) -> Tensor:
    """Integer keys with the order and the equality (``-0.0 == 0.0``) of finite floats.

    The IEEE bit pattern read as a signed integer orders non-negative floats; flipping
    all but the sign bit of negative ones reverses their order below zero. Adding
    ``+0.0`` first turns ``-0.0`` into ``+0.0``. Sorting integer rows is about a third
    faster on CPU than sorting floats (no NaN-aware comparisons). float16/bfloat16
    values are widened to float32 (exactly).
    """
    if values.dtype == torch.float64:
        kd, shift, low = torch.int64, 63, 0x7FFF_FFFF_FFFF_FFFF
    else:
        values, kd, shift, low = values.float(), torch.int32, 31, 0x7FFF_FFFF
    if ws is None:
        ws = Workspace(values.device)
    bits = torch.add(values, 0.0, out=ws("key_bits", values.shape, values.dtype)).view(kd)
    flip = torch.bitwise_right_shift(bits, shift, out=ws("key_flip", values.shape, kd))
    flip.bitwise_and_(low)
    return flip.bitwise_xor_(bits)


@dataclass
class _Runs:
    """The sorted variables of a chunk (one per row) and their runs of tied values.

    ``order[v, i]``: the point at sorted position ``i`` (int64); ``is_start[v, i]``: a run
    starts at ``i``; ``start``, ``end[:, :n]``: first and one-past-last position of the
    run at ``i`` (``end[:, n] = n``); ``mid = start + end``, nondecreasing along a row.
    """

    order: Tensor
    is_start: Tensor
    start: Tensor
    end: Tensor
    mid: Tensor


def _sorted_runs(ws: Workspace, x: Tensor, y: Tensor, it: torch.dtype) -> _Runs:
    """Sort every variable (the rows of ``cat(x, y)``) and find its tie runs."""
    npairs, n = x.shape
    rn = (2 * npairs, n)
    kd = torch.int64 if x.dtype == torch.float64 else torch.int32
    fd = torch.float64 if x.dtype == torch.float64 else torch.float32
    values = ws("values", rn, fd)
    torch.cat([x, y], out=values)
    keys = _sort_keys(values, ws)
    sorted_k = ws("sorted", rn, kd)
    order = ws("order", rn)
    # The order among tied values is irrelevant below, so an unstable sort is fine.
    torch.sort(keys, dim=1, out=(sorted_k, order))
    is_start = ws("is_start", rn, torch.bool)
    is_start[:, 0] = True
    torch.ne(sorted_k[:, 1:], sorted_k[:, :-1], out=is_start[:, 1:])
    pos = ws.arange(n, 1, it)
    # run start: the last run start at or before i; run end: n minus the same in the
    # reversed row, whose run starts are this row's run ends
    marked = ws("marked", rn, it)
    torch.mul(is_start, pos, out=marked)
    start = ws("start", rn, it)
    torch.cummax(marked, 1, out=(start, ws("cummax_at", rn)))
    backwards = ws.arange(n, -1, torch.long).add(n - 1)  # n-1, ..., 0
    rev_start = ws("rev_start", rn, torch.bool)
    rev_start[:, 0] = True
    torch.index_select(is_start[:, 1:], 1, backwards[1:], out=rev_start[:, 1:])
    torch.mul(rev_start, pos, out=marked)
    rev = ws("rev", rn, it)
    torch.cummax(marked, 1, out=(rev, ws("cummax_at", rn)))
    end = ws("end", (rn[0], n + 1), it)
    end[:, n] = n
    torch.index_select(rev, 1, backwards, out=end[:, :n])
    torch.sub(n, end[:, :n], out=end[:, :n])
    mid = ws("mid", rn, it)
    torch.add(start, end[:, :n], out=mid)
    return _Runs(order, is_start, start, end, mid)


def _row_bounds(ws: Workspace, runs: _Runs, k: int) -> Tensor:
    """``EquipartitionYAxis`` of every sorted variable into ``k`` rows: (rows, k - 1) bounds.

    The estimator's walk over runs (size ``s``, first position ``i``) closes the current
    row (first position ``i0``, ``cur`` rows closed) when
    ``|filled + s - target| >= |filled - target|`` with ``filled = i - i0 > 0`` and
    ``target = (n - i0) / (k - cur)``, i.e. when ``2 i + s >= 2 i0 + 2 (n - i0) / (k - cur)``:
    at the first run after the one at ``i0`` whose integer ``start + end`` reaches
    ``need = 2 i0 + ceil(2 (n - i0) / (k - cur))``. (Float rounding cannot flip this
    test: a target that is not a half-integer is at least ``1 / (2k)`` away from the
    decision point.) ``start + end`` grows along the runs, so that run starts at the
    number of positions below ``need``; the loop runs over the rows, not the points.
    A bound is the first sorted position of a row; ``n`` means no further row.
    """
    nrow, n = runs.mid.shape
    it = runs.mid.dtype
    row_off = ws.arange(nrow, n + 1, it)
    below = ws("below", (nrow, n), torch.bool)
    bounds = ws("row_bounds", (nrow, k - 1), it)
    i0 = torch.zeros(nrow, dtype=it, device=row_off.device)
    end = runs.end.view(-1)
    for cur in range(k - 1):
        left = k - cur
        need = (n - i0) * 2 + (left - 1)
        need = torch.div(need, left, rounding_mode="floor").add_(i0, alpha=2)
        torch.lt(runs.mid, need[:, None], out=below)
        count = below.sum(dim=1, dtype=it)
        i0 = torch.maximum(count, end.index_select(0, i0 + row_off), out=bounds[:, cur])
    return bounds


@dataclass
class _TiedRuns:
    """The rows whose column variable has ties (``rows``; ``None``: all rows), their run
    starts ``is_start`` and the flat positions, within these rows, of the first and last
    point of each position's run. Only there can a tie run span several rows."""

    rows: Tensor | None
    is_start: Tensor
    first_at: Tensor
    last_at: Tensor

    @staticmethod
    def of(ws: Workspace, runs: _Runs) -> _TiedRuns | None:
        nrow, n = runs.mid.shape
        it = runs.mid.dtype
        tied = torch.nonzero(~runs.is_start.all(dim=1)).squeeze(1)
        if tied.numel() == 0:
            return None
        rows: Tensor | None = tied
        start, end, is_start = runs.start, runs.end[:, :n], runs.is_start
        if 2 * tied.numel() > nrow:  # mostly tied: all rows, no copies
            rows = None
        else:
            start, end = start.index_select(0, tied), end.index_select(0, tied)
            is_start = is_start.index_select(0, tied)
        off = ws.arange(is_start.shape[0], n, it)[:, None]
        first_at = torch.add(start, off, out=ws("first_at", is_start.shape, it))
        last_at = torch.add(end, off, out=ws("last_at", is_start.shape, it)).sub_(1)
        return _TiedRuns(rows, is_start, first_at.view(-1), last_at.view(-1))


def _clump_starts(
    ws: Workspace, rows: Tensor, tied: _TiedRuns | None, name: str
) -> tuple[Tensor, Tensor]:
    """``GetClumpsPartition`` along the sorted column variable: starts (bool) and count.

    ``rows[i, j]``: the row of the point at column-sorted position ``j``. A clump starts
    where the row changes, except inside a tie run of the column variable: such a run
    is one clump if it spans several rows ("mixed"), else all its points share a row;
    a clump also starts next to a mixed run.
    """
    nrow, n = rows.shape
    starts = ws(name, (nrow, n), torch.bool)
    starts[:, 0] = True
    changed = starts[:, 1:]
    torch.ne(rows[:, 1:], rows[:, :-1], out=changed)
    if tied is not None:
        ch = changed if tied.rows is None else changed.index_select(0, tied.rows)
        inside = ws("inside", tied.is_start.shape, torch.bool)
        inside[:, 0] = False
        torch.gt(ch, tied.is_start[:, 1:], out=inside[:, 1:])  # changed and not a run start
        seen = torch.cumsum(
            inside, 1, dtype=tied.first_at.dtype, out=ws("seen", inside.shape, tied.first_at.dtype)
        ).view(-1)
        seen_last = torch.index_select(
            seen, 0, tied.last_at, out=ws("seen_last", seen.shape, seen.dtype)
        )
        seen_first = torch.index_select(
            seen, 0, tied.first_at, out=ws("seen_first", seen.shape, seen.dtype)
        )
        mixed = ws("mixed", inside.shape, torch.bool)
        torch.gt(seen_last, seen_first, out=mixed.view(-1))
        new = ch if tied.rows is None else ws("new_clump", ch.shape, torch.bool).copy_(ch)
        new |= mixed[:, 1:]
        new |= mixed[:, :-1]
        new &= tied.is_start[:, 1:]
        if tied.rows is not None:
            changed.index_copy_(0, tied.rows, new)
    count = changed.sum(dim=1, dtype=torch.int32).add_(1)
    return starts, count


def _superclump_starts(ws: Workspace, plan: _Plan, starts: Tensor, grid: Tensor) -> Tensor:
    """``GetSuperclumpsPartition``: the clumps of each row (``starts``, bool) merged by the
    equipartition walk with the clumps as runs into ``k_hat`` superclumps of the row's
    grid (``grid``: index into ``plan.merge_need``); returns the superclump starts."""
    nrow, n = starts.shape
    group = ws("sc_group", (nrow, n)).copy_(starts)
    group.cumsum_(1)
    group.sub_(1)
    it = torch.int32 if nrow * (2 * n + 2) < 2**31 else torch.long
    c_size = ws.zeros("c_size", (nrow, n), it)
    c_size.scatter_add_(1, group, ws.ones((nrow, n), it))
    c_first, c_end_at = _prepare_runs(ws, "c_", group, c_size)
    bounds = _walk(ws, "c_", c_first, c_end_at, grid, plan.merge_need, n)
    merged = ws.zeros("sc_starts", (nrow, n + 1), torch.bool)
    merged.scatter_(1, bounds, True)
    merged[:, 0] = True
    return merged[:, :n]


def _single_cut_scores(
    ws: Workspace,
    plan: _Plan,
    rows: Tensor,
    cuts: Tensor,
    q: Tensor,
    weights: Tensor,
    table: Tensor,
) -> Tensor:
    """Best normalised score of at most 2 columns, one cut before a position where ``cuts``.

    ``rows[i, j]``: the row of the point at column-sorted position ``j``; ``q[i]``: the
    rows actually made. The prefix sums of ``weights[row] = (n+1)^row`` code the row
    counts left of a cut, and ``table`` scores a column by its code
    (``-n_j H(Q | column j)``, see :meth:`_Plan.code_table`). A position that is no
    cut scores as the empty left column (code 0), i.e. as no cut at all; a single
    row scores 0.
    """
    nrow, n = rows.shape
    code = ws("cut_code", (nrow, n), torch.int32)
    torch.index_select(weights, 0, rows.view(-1), out=code.view(-1))
    prefix = ws("cut_prefix", (nrow, n), torch.int32)
    torch.cumsum(code, 1, dtype=torch.int32, out=prefix)
    left = ws("cut_left", (nrow, n - 1), torch.int32)
    torch.mul(prefix[:, :-1], cuts[:, 1:], out=left)
    right = ws("cut_right", (nrow, n - 1), torch.int32)
    torch.sub(prefix[:, -1:], left, out=right)
    score = ws("cut_score", (nrow, n - 1), torch.float64)
    torch.index_select(table, 0, left.view(-1), out=score.view(-1))
    right_score = ws("cut_right_score", (nrow, n - 1), torch.float64)
    torch.index_select(table, 0, right.view(-1), out=right_score.view(-1))
    score += right_score
    best = score.amax(dim=1)
    total = table.index_select(0, prefix[:, -1])
    log_q = torch.log(q.to(torch.float64))
    scores = (best - total) / (plan.n * torch.clamp(log_q, max=math.log(2)))
    return torch.where(q > 1, scores, 0.0)


def _mic_chunk(x: Tensor, y: Tensor, plan: _Plan, ws: Workspace) -> Tensor:
    """MIC of the pairs ``x[i], y[i]`` of a (N, n) chunk; float64 (N,)."""
    npairs, n = x.shape
    dev = x.device
    nrow = 2 * npairs  # row i: the direction "columns = values[i]", rows = its partner
    rn = (nrow, n)
    # positions, counts and flat table indices; int32 halves the memory traffic
    it = torch.int32 if nrow * (2 * n + 2) < 2**31 else torch.long
    runs = _sorted_runs(ws, x, y, it)
    clumps = any(m > 2 or k_hat < n or plan.code_table(r) is None for r, m, k_hat in plan.grids)
    tied = _TiedRuns.of(ws, runs) if clumps else None

    # to_row[i, j]: position, in the sorted partner, of the point at position j of row i
    inverse = ws("inverse", rn, it)
    inverse.scatter_(1, runs.order, ws.arange(n, 1, it).expand(rn))
    partner_inverse = ws("partner_inverse", rn, it)
    torch.cat([inverse[npairs:], inverse[:npairs]], out=partner_inverse)
    to_row = ws("to_row", rn, it)
    torch.gather(partner_inverse, 1, runs.order, out=to_row)

    result = torch.zeros(nrow, dtype=torch.float64, device=dev)
    cmp = ws("cmp", rn, torch.bool)
    later: list[tuple[int, Tensor, Tensor, Tensor, Tensor]] = []  # grids scored after merging
    merging: list[tuple[int, Tensor]] = []  # (grid, rows with more than k_hat clumps)
    for g, (r, m, k_hat) in enumerate(plan.grids):
        # rows: equipartition every variable into r rows; row i uses its partner's
        bounds = _row_bounds(ws, runs, r).roll(npairs, 0)
        q = (bounds < n).sum(dim=1).add_(1)
        rows = ws(f"rows{g}", rn, it).zero_()
        for j in range(r - 1):
            torch.ge(to_row, bounds[:, j, None], out=cmp)
            rows += cmp
        table = plan.code_table(r)
        if m == 2 and k_hat >= n and table is not None:
            # no superclumps: a cut at any run start is a cut at a clump boundary or
            # scores no better than the nearest one (the score is convex along a clump)
            scores = _single_cut_scores(ws, plan, rows, runs.is_start, q, plan.weights(r), table)
            torch.maximum(result, scores, out=result)
            continue
        starts, p = _clump_starts(ws, rows, tied, f"clump_starts{g}")
        if k_hat < n:
            idx = torch.nonzero(p > k_hat).squeeze(1)
            if idx.numel() > 0:
                merging.append((g, idx))
        later.append((g, rows, q, starts, p))
    if merging:  # superclumps, one walk for the rows of every grid
        starts_of = {g: starts for g, _rows, _q, starts, _p in later}
        sub = torch.cat([starts_of[g].index_select(0, idx) for g, idx in merging])
        grid = torch.cat(
            [torch.full((idx.numel(),), g - plan.merge_from, device=dev) for g, idx in merging]
        )
        merged = _superclump_starts(ws, plan, sub, grid)
        lo = 0
        for g, idx in merging:
            part = merged[lo : lo + idx.numel()]
            lo += idx.numel()
            p = next(count for h, _rows, _q, _starts, count in later if h == g)
            starts_of[g].index_copy_(0, idx, part)
            p.index_copy_(0, idx, part.sum(dim=1, dtype=p.dtype))
    for g, rows, q, starts, p in later:
        r, m, k_hat = plan.grids[g]
        table = plan.code_table(r)
        if m == 2 and table is not None:
            scores = _single_cut_scores(ws, plan, rows, starts, q, plan.weights(r), table)
        else:
            group = ws("group", rn).copy_(starts)
            group.cumsum_(1)
            group.sub_(1)
            scores = _grid_scores(ws, plan, group, rows, p, q, min(n, k_hat), r, m)
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


def _grid_scores(
    ws: Workspace,
    plan: _Plan,
    group: Tensor,
    rows: Tensor,
    p: Tensor,
    q: Tensor,
    n_groups: int,
    r: int,
    m: int,
) -> Tensor:
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
            shape = (idx.numel(), group.shape[1])
            best = _column_search(
                ws,
                plan,
                torch.index_select(group, 0, idx, out=ws("bucket_group", shape)),
                torch.index_select(rows, 0, idx, out=ws("bucket_rows", shape, rows.dtype)),
                log_q.index_select(0, idx),
                cap,
                r,
                m,
            )
            out.index_copy_(0, idx, best)
    return out


def _column_search(
    ws: Workspace,
    plan: _Plan,
    group: Tensor,
    rows: Tensor,
    log_q: Tensor,
    width: int,
    r: int,
    m: int,
) -> Tensor:
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


def _get_plan(n: int, alpha: float, c: float, device: torch.device) -> _Plan:
    key = (n, float(alpha), float(c), str(device))
    if key not in _PLANS:
        if len(_PLANS) > 64:
            _PLANS.clear()
        _PLANS[key] = _Plan(n, grid_plan(n, alpha, c), device)
    return _PLANS[key]


def mic(
    x: Tensor | np.ndarray,
    y: Tensor | np.ndarray,
    *,
    alpha: float = 0.6,
    c: float = 15.0,
    chunk_size: int | None = None,
    backend: str = "auto",
) -> Tensor:
    """Maximal information coefficient of every pair ``(x[..., :], y[..., :])``, exactly.

    The "approximate" MIC of Reshef et al., Science 334 (2011), supplementary
    Algorithms 2-3, as computed by the MINE estimator of Albanese et al.,
    Bioinformatics 29 (2013) (minepy): the same value for every input, ties and
    constants included, to float64 round-off (~1e-15; checked on 3,688 minepy
    values). Batched over any leading shape, on the inputs' device (CPU or CUDA),
    with Python loops only over grids, column cuts and walk steps.

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
        chunk_size: pairs processed at once, a memory and speed knob that never
            changes a bit of the result. ``None`` picks cache-sized chunks on CPU
            (about 4,000 pairs at ``n = 49``) and chunks as large as the scratch
            budget allows on a GPU, within ``DEFAULT_MEMORY_BUDGET`` bytes in all.
        backend: ``"auto"`` (default): on CPU the compiled kernel of
            :mod:`friqa.mic.native` when a C compiler could build it, else the torch
            path; ``"torch"``: always the torch path; ``"native"``: the kernel
            (CPU tensors only), an error where it cannot be built. Both give the
            estimator's value to round-off.

    Threads: with ``torch.get_num_threads() > 1`` on CPU, a batch of more than a
    few hundred pairs is cut into chunks that the engine's worker threads run
    side by side, each with a single intra-op thread (see
    :mod:`friqa.mic.workers`); the caller's thread setting is left as it was.

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
    device = next((v.device for v in (x, y) if isinstance(v, Tensor)), torch.device("cpu"))
    native = _native_kernel(backend, device)  # it checks for NaN and inf as it goes
    xt, yt = _validate(x, y, alpha, c, chunk_size, finite=native is None)
    common = torch.promote_types(xt.dtype, yt.dtype)  # converting keeps order and ties
    batch_shape = xt.shape[:-1]
    n = xt.shape[-1]
    xf = xt.detach().reshape(-1, n)
    yf = yt.detach().reshape(-1, n)
    total = xf.shape[0]
    plan = _get_plan(n, alpha, c, xt.device)
    # the kernel writes every value (clamped to 1): no zero fill, no clamp afterwards
    alloc = torch.empty if native is not None and plan.grids else torch.zeros
    out = alloc(total, dtype=torch.float64, device=xt.device)
    if not plan.grids or total == 0:
        return out.reshape(batch_shape)
    cpu = xt.device.type == "cpu"
    threads = torch.get_num_threads() if cpu else 1
    if native is not None:
        step = chunk_size or _native_chunk(total, threads)
    else:
        step = chunk_size or _auto_chunk(total, n, plan, threads, cpu)
    count = -(-total // step)
    workers = min(threads, count)
    keep = DEFAULT_MEMORY_BUDGET // workers
    flags = [0] * count  # the kernel's NaN/inf findings, per chunk

    def chunk(index: int) -> None:
        lo, hi = index * step, min((index + 1) * step, total)
        ws = thread_workspace(xt.device)
        with torch.no_grad():
            if native is not None:
                flags[index] = _native_chunk_into(
                    native, xf[lo:hi], yf[lo:hi], common, plan, ws, out[lo:hi]
                )
            else:
                out[lo:hi] = _mic_chunk(xf[lo:hi].to(common), yf[lo:hi].to(common), plan, ws)
        release_workspace(ws, keep)

    if workers > 1:
        run_chunks(chunk, count, workers)
    else:
        for index in range(count):
            chunk(index)
    found = 0
    for f in flags:
        found |= f
    if found:
        raise _not_finite("x" if found & 1 else "y")
    if native is None:  # the estimator can round a perfect score to 1 + 2e-16
        out.clamp_(max=1.0)
    return out.reshape(batch_shape)


def _native_kernel(backend: str, device: torch.device) -> NativeKernel | None:
    """The compiled kernel when ``backend`` asks for it (or allows it) on a CPU tensor."""
    if backend not in ("auto", "native", "torch"):
        raise InputError(f"backend must be 'auto', 'native' or 'torch', got {backend!r}")
    if backend == "torch" or device.type != "cpu":
        if backend == "native":
            raise InputError(f"backend='native' runs on CPU tensors only, got {device}")
        return None
    found = kernel()
    if found is None and backend == "native":
        raise InputError(
            "backend='native' needs a C compiler (cc, gcc or clang on the PATH, or $CC) and "
            "FRIQA_MIC_NATIVE not 0; use backend='auto' to fall back to the torch path"
        )
    return found


def _native_chunk_into(
    native: NativeKernel,
    x: Tensor,
    y: Tensor,
    common: torch.dtype,
    plan: _Plan,
    ws: Workspace,
    out: Tensor,
) -> int:
    """MIC of the pairs of a chunk by the compiled kernel, written into ``out`` (float64).

    Returns the kernel's NaN/inf flags: 1 for ``x``, 2 for ``y``.
    """
    dtype = torch.float64 if common == torch.float64 else torch.float32
    xc, yc = x.to(dtype).contiguous(), y.to(dtype).contiguous()
    grids = plan.native_grids
    n = x.shape[1]
    size = native.scratch_bytes(n, int(grids[0].max()))
    scratch = ws("native_scratch", (size,), torch.uint8)
    found: int = native.batch(
        xc.data_ptr(),
        yc.data_ptr(),
        int(dtype == torch.float64),
        xc.shape[0],
        n,
        grids.shape[1],
        grids[0].data_ptr(),
        grids[1].data_ptr(),
        grids[2].data_ptr(),
        plan.xlogx.data_ptr(),
        plan.log_q.data_ptr(),
        plan.log_l.data_ptr(),
        out.data_ptr(),
        scratch.data_ptr(),
    )
    return found


#: Pairs per chunk of the compiled kernel: large enough that the call overhead
#: vanishes, small enough that the workers share a call's pairs evenly.
_NATIVE_CHUNK = 4096
#: Fewest pairs in a chunk handed to a worker thread by the compiled kernel.
_NATIVE_MIN_CHUNK = 128


def _native_chunk(total: int, threads: int) -> int:
    """Pairs per chunk for the compiled kernel: about four chunks per worker thread."""
    step = min(_NATIVE_CHUNK, max(total, 1))
    if threads > 1 and total >= 2 * _NATIVE_MIN_CHUNK:
        step = min(step, max(_NATIVE_MIN_CHUNK, -(-total // (4 * threads))))
    return -(-total // -(-total // step))


#: Points (pairs x n) in a chunk, plus as many again for every grid with a loop (column
#: search over more than one cut, or superclumps): about the fastest size on CPU, busy
#: or idle. Smaller chunks pay the fixed cost of their operations more often; larger
#: ones fall out of the caches, which costs most when other programs share the cores.
_CHUNK_POINTS = 1 << 16
#: Fewest points in a chunk handed to a worker thread.
_MIN_CHUNK_POINTS = 1 << 14


def _auto_chunk(total: int, n: int, plan: _Plan, threads: int, cpu: bool) -> int:
    """Pairs per chunk: on CPU cache-sized, within the memory budget shared by the workers.

    With several threads, a batch is cut into at least one chunk per thread when
    each gets ``_MIN_CHUNK_POINTS`` points; a smaller batch runs as one chunk in the
    calling thread. Large batches give every worker many chunks, so a worker on a
    busier core takes fewer of them. On a GPU a chunk fills the memory budget (each
    operation costs a kernel launch, whatever its size). Chunks are equal (a small
    last chunk costs a whole chunk's fixed overhead).
    """
    step = max(1, DEFAULT_MEMORY_BUDGET // (_bytes_per_pair(n, plan.grids) * threads))
    if cpu:
        loops = sum(1 for _r, m, k_hat in plan.grids if m > 2 or k_hat < n)
        step = min(step, max(1, _CHUNK_POINTS * (1 + loops) // n))
    smallest = -(-_MIN_CHUNK_POINTS // n)
    if threads > 1 and total >= 2 * smallest:
        step = min(step, max(smallest, -(-total // threads)))
    return -(-total // -(-total // step))
