"""The 5-parameter logistic fit: a known curve at any score scale, the fallbacks, no overflow."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from friqa import fitting as S


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
