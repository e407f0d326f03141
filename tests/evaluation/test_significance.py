"""Tests of dependent correlations: Williams' test against the Meng-Rosenthal-Rubin test
and simulations, and the paired bootstrap."""

from __future__ import annotations

import math

import numpy as np
import pytest

from friqa.evaluation import significance as S
from friqa.exceptions import InputError


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
