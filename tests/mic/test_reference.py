"""The slow MIC reference: its building blocks by hand, its DP by brute force, the fixture."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from friqa.mic.reference import (
    best_mutual_information,
    clumps,
    equipartition,
    grid_budget,
    mic_reference,
    row_counts,
    superclumps,
)


def test_grid_budget_and_row_counts_follow_the_spec() -> None:
    # MIC.md: n = 49, alpha = 0.5 -> B = 7: (r=2, m=3) and (r=3, m=2)
    assert grid_budget(49, 0.5) == 7.0
    assert row_counts(49, 0.5) == [(2, 3), (3, 2)]
    # n = 16, alpha = 0.5 -> B = 4: only (r=2, m=2)
    assert row_counts(16, 0.5) == [(2, 2)]
    # B is at least 4; alpha >= 4 is an absolute budget capped at n
    assert grid_budget(5, 0.5) == 4.0
    assert grid_budget(30, 9.0) == 9.0
    assert grid_budget(6, 9.0) == 6.0


def test_equipartition_by_hand() -> None:
    # no ties: equal halves / thirds
    assert equipartition([1, 2, 3, 4, 5, 6], 2) == ([0, 0, 0, 1, 1, 1], 2)
    assert equipartition([1, 2, 3, 4, 5, 6], 3) == ([0, 0, 1, 1, 2, 2], 3)
    # a run of 4 equal values is never split; target 3 is exceeded, then the
    # row closes: |4 + 1 - 3| >= |4 - 3|; the new target is (6 - 4) / 1
    assert equipartition([1, 1, 1, 1, 2, 3], 2) == ([0, 0, 0, 0, 1, 1], 2)
    # ties can leave fewer rows than asked
    assert equipartition([5, 5, 5, 5, 5, 7], 3) == ([0, 0, 0, 0, 0, 1], 2)
    assert equipartition([2.0] * 6, 3) == ([0] * 6, 1)
    # an exact tie of the two distances closes the row (>=): target 2.5, filled 2, run of 1
    assert equipartition([1, 2, 3, 4, 5], 2) == ([0, 0, 1, 1, 1], 2)


def test_clumps_by_hand() -> None:
    # consecutive points of one row form one clump
    assert clumps([1, 2, 3, 4, 5], [0, 0, 1, 1, 0]) == ([0, 0, 1, 1, 2], 3)
    # a tie run (values 2, 2) spanning rows 0 and 1 is a clump of its own
    assert clumps([1, 2, 2, 3], [0, 0, 1, 1]) == ([0, 1, 1, 2], 3)
    # a tie run inside one row behaves like ordinary points
    assert clumps([1, 2, 2, 3], [0, 0, 0, 1]) == ([0, 0, 0, 1], 2)
    # two adjacent mixed tie runs stay distinct clumps
    assert clumps([1, 1, 2, 2], [0, 1, 0, 1]) == ([0, 0, 1, 1], 2)


def test_superclumps_merge_only_above_k_hat() -> None:
    clump = [0, 1, 2, 3, 4, 5]
    assert superclumps(clump, 6, 6) == (clump, 6)
    assert superclumps(clump, 6, 3) == ([0, 0, 1, 1, 2, 2], 3)


def _brute_force_mi(table: np.ndarray, l: int) -> float:
    """Largest I(P;Q) over every placement of at most l - 1 cuts (independent of the DP)."""
    p, _ = table.shape
    n = table.sum()

    def entropy(counts: np.ndarray) -> float:
        tot = counts.sum()
        probs = counts[counts > 0] / tot
        return float(-(probs * np.log(probs)).sum())

    h_q = entropy(table.sum(axis=0))
    best = -math.inf
    for k in range(0, l):
        for cuts in itertools.combinations(range(1, p), k):
            edges = (0, *cuts, p)
            cond = sum(
                table[a:b].sum() / n * entropy(table[a:b].sum(axis=0))
                for a, b in itertools.pairwise(edges)
            )
            best = max(best, h_q - cond)
    return best


def test_dynamic_programme_matches_brute_force() -> None:
    rng = np.random.default_rng(3)
    for _ in range(60):
        p = int(rng.integers(1, 9))
        q = int(rng.integers(2, 4))
        table = rng.integers(0, 4, size=(p, q))
        table[table.sum(axis=1) == 0, 0] = 1  # superclumps are never empty
        for l in (2, 3, 4):
            assert best_mutual_information(table, l) == pytest.approx(
                _brute_force_mi(table, l), abs=1e-12
            )


def test_reference_properties_small_cases() -> None:
    x = np.arange(30.0)
    assert mic_reference(x, x) == 1.0
    assert mic_reference(x, -(x**3)) == 1.0
    assert mic_reference(x, np.full(30, 2.5)) == 0.0
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=40), rng.normal(size=40)
    assert mic_reference(a, b) == pytest.approx(mic_reference(b, a), abs=1e-15)


def test_reference_reproduces_fixture_sample(fixture_pairs: dict[str, np.ndarray]) -> None:
    """A sample of every kind of pair (the whole file takes ~2 s per 1,000 pairs)."""
    fx = fixture_pairs
    offsets = np.concatenate([[0], np.cumsum(fx["length"])])
    kinds = fx["kind"]
    chosen: list[int] = []
    for kind in np.unique(kinds):
        idx = np.flatnonzero(kinds == kind)
        chosen.extend(idx[:: max(1, len(idx) // 25)].tolist())
    assert len(chosen) > 200
    for i in chosen:
        x = fx["x"][offsets[i] : offsets[i + 1]]
        y = fx["y"][offsets[i] : offsets[i + 1]]
        got = mic_reference(x, y, float(fx["alpha"][i]), float(fx["c"][i]))
        assert abs(got - fx["mic"][i]) <= 1e-9, (i, kinds[i], got, fx["mic"][i])
