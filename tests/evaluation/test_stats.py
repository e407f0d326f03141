"""Statistics: checked against scipy, against simulations with a known truth, and the
Meng-Rosenthal-Rubin test as a second formula for dependent correlations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from friqa.evaluation import stats as S
from friqa.exceptions import InputError


def _bivariate(rng: np.random.Generator, n: int, rho: float) -> tuple[np.ndarray, np.ndarray]:
    cov = [[1.0, rho], [rho, 1.0]]
    xy = rng.multivariate_normal([0.0, 0.0], cov, size=n)
    return xy[:, 0], xy[:, 1]


def test_correlations_match_scipy_with_ties() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 6, 80).astype(float)
    y = x + rng.integers(0, 4, 80)
    assert S.srcc(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert S.krcc(x, y) == pytest.approx(stats.kendalltau(x, y).statistic, abs=1e-12)
    assert S.plcc(x, y) == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)
    assert math.isnan(S.srcc(np.ones(5), np.arange(5.0)))
    assert S.rmse([1, 2, 3], [1, 2, 5]) == pytest.approx(math.sqrt(4 / 3))


def test_rowwise_statistics_match_scipy_per_row() -> None:
    rng = np.random.default_rng(1)
    for n in (30, 450):  # 450 takes the scipy path of Kendall's tau
        a = rng.integers(0, 7, size=(6, n)).astype(float)
        b = a + rng.normal(size=(6, n)).round(1)
        for i in range(6):
            assert S._rowwise_spearman(a, b)[i] == pytest.approx(
                stats.spearmanr(a[i], b[i]).statistic, abs=1e-12
            )
            assert S._rowwise_kendall(a, b)[i] == pytest.approx(
                stats.kendalltau(a[i], b[i]).statistic, abs=1e-12
            )
            assert S._rowwise_pearson(a, b)[i] == pytest.approx(
                stats.pearsonr(a[i], b[i]).statistic, abs=1e-12
            )


def test_bad_inputs_raise() -> None:
    with pytest.raises(InputError, match="same length"):
        S.srcc([1, 2, 3], [1, 2])
    with pytest.raises(InputError, match="at least 3"):
        S.plcc([1, 2], [1, 2])
    with pytest.raises(InputError, match="finite"):
        S.krcc([1, 2, np.nan], [1, 2, 3])
    with pytest.raises(InputError, match="unknown statistic"):
        S.bootstrap_ci("foo", [1, 2, 3], [1, 2, 3])
    with pytest.raises(InputError, match="level"):
        S.bootstrap_ci("srcc", [1, 2, 3], [1, 2, 3], level=1.5)


def test_orientation_makes_agreement_positive() -> None:
    rng = np.random.default_rng(2)
    quality = rng.normal(size=100)
    mos, dmos = quality, -quality
    similarity = quality + 0.3 * rng.normal(size=100)  # higher = better
    distance = -similarity  # lower = better
    values = []
    for score, lower in ((similarity, False), (distance, True)):
        for subj, higher in ((mos, True), (dmos, False)):
            r = S.correlation_report(
                score, subj, lower_better=lower, higher_better_subjective=higher, n_boot=0
            )
            values.append((r.srcc.value, r.krcc.value, r.plcc.value))
    assert all(v[0] > 0.9 for v in values)
    for v in values[1:]:
        assert v == pytest.approx(values[0], abs=1e-12)
    # a metric ranking the wrong way keeps its negative sign (no absolute value)
    bad = S.correlation_report(distance, mos, lower_better=False, n_boot=0)
    assert bad.srcc.value < -0.9


def test_bootstrap_is_deterministic_and_covers_the_truth() -> None:
    rng = np.random.default_rng(4)
    x, y = _bivariate(rng, 60, 0.5)
    a = S.bootstrap_ci("srcc", x, y, n_boot=300, seed=7)
    b = S.bootstrap_ci("srcc", x, y, n_boot=300, seed=7)
    assert a == b and a.low < a.value < a.high
    # coverage of the 95 % interval of PLCC over simulated datasets with rho = 0.6
    hits = 0
    trials = 120
    for _ in range(trials):
        x, y = _bivariate(rng, 150, 0.6)
        e = S.bootstrap_ci("plcc", x, y, n_boot=300, seed=int(rng.integers(1 << 30)))
        hits += e.low <= 0.6 <= e.high
    assert 0.86 <= hits / trials <= 0.995


def test_correlation_report_intervals_share_resamples() -> None:
    rng = np.random.default_rng(5)
    x, y = _bivariate(rng, 80, 0.7)
    r = S.correlation_report(x, y, n_boot=200, seed=1)
    for e in (r.srcc, r.krcc, r.plcc, r.plcc_fitted, r.rmse):
        assert e.low <= e.value <= e.high
    assert r.srcc == S.bootstrap_ci("srcc", x, y, n_boot=200, seed=1)
    assert r.n == 80 and r.fit.ok and r.orientation == 1.0


def test_per_group_matches_manual_computation() -> None:
    rng = np.random.default_rng(6)
    x = rng.normal(size=40)
    y = x + rng.normal(size=40)
    groups = ["a"] * 15 + ["b"] * 23 + ["c"] * 2
    out = S.per_group(x, y, groups, lower_better=True)
    assert list(out) == ["a", "b", "c"]
    assert out["a"].srcc == pytest.approx(-stats.spearmanr(x[:15], y[:15]).statistic)
    assert out["b"].n == 23 and out["b"].krcc == pytest.approx(
        -stats.kendalltau(x[15:38], y[15:38]).statistic
    )
    assert out["c"].n == 2 and math.isnan(out["c"].srcc)
