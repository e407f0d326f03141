"""Statistics: checked against scipy, against simulations with a known truth, and the
Meng-Rosenthal-Rubin test as a second formula for dependent correlations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

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


def test_logistic_fit_recovers_a_known_curve_at_any_score_scale() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, 400)
    true = (4.0, 9.0, 0.45, 0.8, 5.0)
    y = S.logistic5(x, *true) + rng.normal(0, 0.05, x.size)
    fit = S.fit_logistic5(x, y)
    assert fit.ok
    assert np.abs(fit.predict(x) - S.logistic5(x, *true)).max() < 0.05
    # the oracle: least squares started at the true parameters
    oracle = optimize.least_squares(lambda p: S.logistic5(x, *p) - y, true).x
    sse = float(np.sum((fit.predict(x) - y) ** 2))
    sse_oracle = float(np.sum((S.logistic5(x, *oracle) - y) ** 2))
    assert sse <= sse_oracle * (1 + 1e-6)
    # LPIPS-like tiny scores and Elo-like large ones give the same mapped values
    for scale, shift in ((1e-3, 0.0), (300.0, 1500.0), (-1.0, 0.0)):
        fit2 = S.fit_logistic5(x * scale + shift, y)
        assert fit2.ok
        assert np.abs(fit2.predict(x * scale + shift) - fit.predict(x)).max() < 1e-3


def test_logistic_fit_falls_back_to_a_line_and_says_so() -> None:
    few = S.fit_logistic5([1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 4.0, 6.0, 8.0, 10.0])
    assert not few.ok and "too few" in few.message
    assert few.predict([6.0])[0] == pytest.approx(12.0)
    flat = S.fit_logistic5([1.0] * 10, list(range(10)))
    assert not flat.ok and "constant" in flat.message


def test_logistic_function_does_not_overflow() -> None:
    v = S.logistic5(np.array([-1e6, 1e6]), 2.0, 5.0, 0.0, 0.0, 1.0)
    assert np.allclose(v, [0.0, 2.0])


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


def _mrr_z(r1: float, r2: float, r12: float, n: int) -> float:
    """Meng, Rosenthal & Rubin (1992) z for dependent correlations: an independent formula."""
    rbar2 = (r1**2 + r2**2) / 2
    f = min(1.0, (1 - r12) / (2 * (1 - rbar2)))
    h = (1 - f * rbar2) / (1 - rbar2)
    return float((np.arctanh(r1) - np.arctanh(r2)) * math.sqrt((n - 3) / (2 * (1 - r12) * h)))


def test_williams_agrees_with_meng_rosenthal_rubin_for_large_n() -> None:
    for r1, r2, r12 in ((0.8, 0.75, 0.6), (0.5, 0.45, 0.3), (0.9, 0.88, 0.85)):
        res = S.williams_test(r1, r2, r12, 5000)
        z = _mrr_z(r1, r2, r12, 5000)
        assert res.t == pytest.approx(z, rel=0.05)
        assert res.df == 4997
        swapped = S.williams_test(r2, r1, r12, 5000)
        assert swapped.t == pytest.approx(-res.t) and swapped.p_value == pytest.approx(res.p_value)


def test_williams_has_its_nominal_size_and_power() -> None:
    rng = np.random.default_rng(8)
    n, sims = 40, 3000
    # y, a, b with corr(a, y) = corr(b, y) = 0.5 and corr(a, b) = 0.4: H0 holds
    cov = np.array([[1.0, 0.5, 0.5], [0.5, 1.0, 0.4], [0.5, 0.4, 1.0]])
    data = rng.multivariate_normal(np.zeros(3), cov, size=(sims, n))
    c = np.stack([np.corrcoef(d, rowvar=False) for d in data])
    p = np.array([S.williams_test(ci[0, 1], ci[0, 2], ci[1, 2], n).p_value for ci in c])
    assert 0.035 <= float(np.mean(p < 0.05)) <= 0.065
    # H1: corr(a, y) = 0.7, corr(b, y) = 0.4
    cov = np.array([[1.0, 0.7, 0.4], [0.7, 1.0, 0.4], [0.4, 0.4, 1.0]])
    data = rng.multivariate_normal(np.zeros(3), cov, size=(300, 150))
    c = np.stack([np.corrcoef(d, rowvar=False) for d in data])
    p = np.array([S.williams_test(ci[0, 1], ci[0, 2], ci[1, 2], 150).p_value for ci in c])
    assert float(np.mean(p < 0.05)) > 0.9


def test_williams_rejects_bad_arguments() -> None:
    with pytest.raises(InputError, match="at least 4"):
        S.williams_test(0.5, 0.4, 0.3, 3)
    with pytest.raises(InputError, match="r_ab"):
        S.williams_test(0.5, 0.4, 1.3, 30)


def test_paired_bootstrap() -> None:
    rng = np.random.default_rng(9)
    y = rng.normal(size=200)
    good = y + 0.3 * rng.normal(size=200)
    poor = y + 1.5 * rng.normal(size=200)
    res = S.paired_bootstrap(good, poor, y, n_boot=1000, seed=3)
    assert res.difference.value == pytest.approx(S.srcc(good, y) - S.srcc(poor, y))
    assert res.difference.low > 0 and res.p_value < 0.01
    assert res == S.paired_bootstrap(good, poor, y, n_boot=1000, seed=3)
    same = S.paired_bootstrap(good, good, y, n_boot=200)
    assert same.difference.value == 0.0 and same.p_value == 1.0
    with pytest.raises(InputError, match="stat"):
        S.paired_bootstrap(good, poor, y, stat="rmse")
