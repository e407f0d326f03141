"""Slow, obviously-correct MIC: the reference the fast engine is tested against.

A direct, scalar (one pair at a time) transcription of the "approximate" MIC of
Reshef et al. (Science 2011, supplementary Algorithms 2-3: ``EquipartitionYAxis``,
``GetClumpsPartition``, ``GetSuperclumpsPartition``, ``OptimizeXAxis``) as the
MINE estimator of Albanese et al. (Bioinformatics 2013, minepy) computes it.
It is written for reading, not speed (about a millisecond per pair): plain
Python and numpy, no vectorisation tricks. Use :func:`friqa.mic.mic` for real work.

Example:
    >>> import numpy as np
    >>> x = np.arange(20.0)
    >>> round(mic_reference(x, x ** 3), 12)
    1.0
    >>> mic_reference(x, np.zeros(20))
    0.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    "grid_budget",
    "row_counts",
    "equipartition",
    "clumps",
    "superclumps",
    "segment_scores",
    "best_mutual_information",
    "mic_reference",
]


def grid_budget(n: int, alpha: float) -> float:
    """Grid budget ``B``: ``max(n**alpha, 4)`` for ``0 < alpha <= 1``, else ``min(alpha, n)``."""
    if alpha <= 1.0:
        return max(float(n) ** alpha, 4.0)
    return min(alpha, float(n))


def row_counts(n: int, alpha: float) -> list[tuple[int, int]]:
    """The ``(r, m(r))`` scored: ``r = 2 .. max(floor(B/2), 2)`` with ``m(r) = floor(B/r) >= 2``."""
    budget = grid_budget(n, alpha)
    pairs = []
    for r in range(2, max(math.floor(budget / 2.0), 2) + 1):
        m = math.floor(budget / r)
        if m >= 2:
            pairs.append((r, m))
    return pairs


def equipartition(sorted_values: Sequence[float], k: int) -> tuple[list[int], int]:
    """Reshef's ``EquipartitionYAxis``: split sorted values into at most ``k`` near-equal groups.

    Runs of equal values are never split. Returns the group of every position and
    the number ``q`` of groups actually made (``q < k`` is possible with ties).
    """
    n = len(sorted_values)
    group = [0] * n
    cur = 0
    filled = 0
    target = n / k
    i = 0
    while i < n:
        s = 1
        while i + s < n and sorted_values[i + s] == sorted_values[i]:
            s += 1
        if filled != 0 and abs(filled + s - target) >= abs(filled - target):
            cur += 1
            filled = 0
            target = (n - i) / (k - cur)
        for j in range(i, i + s):
            group[j] = cur
        filled += s
        i += s
    return group, cur + 1


def clumps(sorted_a: Sequence[float], rows: Sequence[int]) -> tuple[list[int], int]:
    """Reshef's ``GetClumpsPartition`` along the column axis.

    ``sorted_a`` are the column-axis values in ascending order, ``rows`` the row of
    each of those points. A clump is a maximal run of consecutive points in one row;
    a run of equal ``a`` values spanning several rows is a clump of its own.
    Returns the clump index of every position and the number of clumps.
    """
    n = len(sorted_a)
    label: list[tuple[str, int]] = [("row", r) for r in rows]
    tie_run = 0
    i = 0
    while i < n:
        s = 1
        while i + s < n and sorted_a[i + s] == sorted_a[i]:
            s += 1
        if len({rows[j] for j in range(i, i + s)}) > 1:
            for j in range(i, i + s):
                label[j] = ("tie", tie_run)
            tie_run += 1
        i += s
    clump = [0] * n
    for j in range(1, n):
        clump[j] = clump[j - 1] + (1 if label[j] != label[j - 1] else 0)
    return clump, clump[-1] + 1


def superclumps(clump: Sequence[int], p: int, k_hat: int) -> tuple[list[int], int]:
    """Reshef's ``GetSuperclumpsPartition``: if ``p > k_hat``, equipartition the clumps."""
    if p <= k_hat:
        return list(clump), p
    return equipartition([float(v) for v in clump], k_hat)


def _xlogx(v: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """``v ln v`` elementwise, with ``0 ln 0 = 0``."""
    vf = v.astype(np.float64)
    return np.where(vf > 0, vf * np.log(np.maximum(vf, 1.0)), 0.0)


def segment_scores(table: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """``seg[s, t] = sum_r c_r ln c_r - N ln N`` for the column of table rows ``s .. t-1``.

    ``c_r`` are that column's counts per row and ``N`` their sum, so ``seg[s, t]`` is
    ``-N H(Q | column)``. Defined for ``s <= t`` (``seg[t, t] = 0``).
    """
    prefix = np.vstack([np.zeros((1, table.shape[1]), dtype=np.int64), np.cumsum(table, axis=0)])
    counts = prefix[None, :, :] - prefix[:, None, :]  # counts[s, t, r] for s <= t
    counts = np.maximum(counts, 0)
    return _xlogx(counts).sum(axis=2) - _xlogx(counts.sum(axis=2))


def best_mutual_information(table: npt.NDArray[np.int64], l: int) -> float:
    """Largest ``I(P;Q)`` over cuts of the ``p`` table rows into at most ``l`` contiguous columns.

    ``table[i, r]`` counts the points of superclump ``i`` in row ``r``. Reshef's
    Algorithm 2 (a prefix dynamic programme): the score ``-sum_j n_j H(Q|col j)`` of a
    partition is additive over its columns, so ``F[k][t]``, the best score of the
    first ``t`` superclumps cut into at most ``k`` columns, satisfies
    ``F[k][t] = max_{s <= t} F[k-1][s] + seg(s, t)`` (``s = t`` is an empty column).
    ``I = (F[l][p] + N H(Q)) / N`` and ``N H(Q) = -seg(0, p)``.
    """
    p = table.shape[0]
    n = float(table.sum())
    seg = segment_scores(table)
    best = [float(seg[0, t]) for t in range(p + 1)]
    for _ in range(2, l + 1):
        best = [max(best[s] + float(seg[s, t]) for s in range(t + 1)) for t in range(p + 1)]
    return (best[p] - float(seg[0, p])) / n


def _one_direction(
    a: npt.NDArray[np.float64], b: npt.NDArray[np.float64], alpha: float, c: float
) -> float:
    """Best normalised score with ``a`` optimised (columns) and ``b`` equipartitioned (rows)."""
    n = a.size
    b_order = np.argsort(b, kind="stable")
    a_order = np.argsort(a, kind="stable")
    best = 0.0
    for r, m in row_counts(n, alpha):
        row_sorted, q = equipartition(b[b_order].tolist(), r)
        row_of_point = np.empty(n, dtype=np.int64)
        row_of_point[b_order] = row_sorted
        rows_by_a = row_of_point[a_order].tolist()
        clump, p = clumps(a[a_order].tolist(), rows_by_a)
        k_hat = max(math.floor(c * m), 1)
        group, p = superclumps(clump, p, k_hat)
        if p == 1:
            continue
        table = np.zeros((p, q), dtype=np.int64)
        for g, row in zip(group, rows_by_a, strict=True):
            table[g, row] += 1
        for l in range(2, m + 1):
            score = best_mutual_information(table, l) / min(math.log(l), math.log(q))
            best = max(best, score)
    return best


def mic_reference(x: npt.ArrayLike, y: npt.ArrayLike, alpha: float = 0.6, c: float = 15.0) -> float:
    """MIC of one pair of equal-length 1-D vectors, straight from ``docs/MIC.md``.

    Parameters as :func:`friqa.mic.mic`. Ties, constants and every tie order give
    the MINE estimator's value. No input validation beyond what numpy does: this
    is a test oracle.
    """
    xa = np.asarray(x, dtype=np.float64).ravel()
    ya = np.asarray(y, dtype=np.float64).ravel()
    return max(_one_direction(xa, ya, alpha, c), _one_direction(ya, xa, alpha, c))
