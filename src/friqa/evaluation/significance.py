"""Is metric A better than metric B on the same images? Two tests of dependent correlations.

* :func:`williams_test`: Williams' T2 for two dependent correlations sharing one
  variable, as recommended by Steiger, Psychol. Bull. 87(2), 1980, eq. 7.
* :func:`paired_bootstrap`: the difference of a correlation over the same
  resampled images (the bootstrap of :mod:`friqa.evaluation.stats`).

Example:
    >>> r = williams_test(0.8, 0.6, 0.5, 100)
    >>> r.df, r.t > 0, r.p_value < 0.01
    (97, True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from friqa.evaluation.stats import (
    Estimate,
    bootstrap_indices,
    bootstrap_values,
    check_bootstrap,
    krcc,
    percentile_interval,
    plcc,
    srcc,
)
from friqa.exceptions import InputError
from friqa.fitting import finite_pair
from friqa.formatting import finite_or_none

__all__ = ["WilliamsResult", "williams_test", "PairedBootstrapResult", "paired_bootstrap"]


@dataclass(frozen=True)
class WilliamsResult:
    """Williams' T2 test of H0: corr(a, y) == corr(b, y), with a and b measured on the same images.

    Attributes:
        t: the statistic (positive when ``a`` correlates more with ``y``).
        df: degrees of freedom, ``n - 3``.
        p_value: two-sided p-value from Student's t.
    """

    t: float
    df: int
    p_value: float

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "t": finite_or_none(self.t),
            "df": self.df,
            "p_value": finite_or_none(self.p_value),
        }


def williams_test(r_ay: float, r_by: float, r_ab: float, n: int) -> WilliamsResult:
    """Williams' T2 for two dependent correlations that share the variable ``y``.

    Steiger (1980), eq. 7: with ``|R| = 1 - r_ay^2 - r_by^2 - r_ab^2 + 2 r_ay r_by r_ab``
    and ``rbar = (r_ay + r_by) / 2``,

        t = (r_ay - r_by) * sqrt((n-1)(1+r_ab) / (2 (n-1)/(n-3) |R| + rbar^2 (1-r_ab)^3)),

    Student's t with ``n - 3`` degrees of freedom under H0.
    """
    if n < 4:
        raise InputError(f"Williams' test needs at least 4 images, got {n}")
    for name, r in (("r_ay", r_ay), ("r_by", r_by), ("r_ab", r_ab)):
        if not -1.0 <= r <= 1.0:
            raise InputError(f"{name} must be a correlation in [-1, 1], got {r}")
    det = 1.0 - r_ay**2 - r_by**2 - r_ab**2 + 2.0 * r_ay * r_by * r_ab
    rbar = 0.5 * (r_ay + r_by)
    den = 2.0 * (n - 1) / (n - 3) * det + rbar**2 * (1.0 - r_ab) ** 3
    diff = r_ay - r_by
    if den <= 0:
        t = 0.0 if diff == 0 else math.copysign(math.inf, diff)
    else:
        t = diff * math.sqrt((n - 1) * (1.0 + r_ab) / den)
    p = float(2.0 * stats.t.sf(abs(t), n - 3))
    return WilliamsResult(float(t), n - 3, p)


@dataclass(frozen=True)
class PairedBootstrapResult:
    """The difference ``stat(a) - stat(b)`` over the same resampled images.

    Attributes:
        stat: the statistic compared (``"srcc"`` or ``"plcc"``; oriented).
        difference: the difference on all images, with its bootstrap CI.
        p_value: two-sided bootstrap p-value for H0: no difference
            (twice the smaller tail fraction of resampled differences beyond 0).
    """

    stat: str
    difference: Estimate
    p_value: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "stat": self.stat,
            "difference": self.difference.as_dict(),
            "p_value": finite_or_none(self.p_value),
        }


def paired_bootstrap(
    a: ArrayLike,
    b: ArrayLike,
    subjective: ArrayLike,
    *,
    stat: str = "srcc",
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> PairedBootstrapResult:
    """Paired bootstrap of the difference of a correlation between two metrics.

    ``a`` and ``b`` must already be oriented (multiply by :func:`orientation`)
    so that larger correlations mean better agreement for both.
    """
    if stat not in ("srcc", "plcc", "krcc"):
        raise InputError(f"stat must be 'srcc', 'plcc' or 'krcc', got '{stat}'")
    check_bootstrap(n_boot, level)
    xa, y = finite_pair(a, subjective)
    xb, _ = finite_pair(b, subjective)
    f = {"srcc": srcc, "plcc": plcc, "krcc": krcc}[stat]
    value = f(xa, y) - f(xb, y)
    if n_boot == 0:
        return PairedBootstrapResult(stat, Estimate(value, math.nan, math.nan), math.nan)
    idx = bootstrap_indices(y.size, n_boot, seed)
    d = bootstrap_values(stat, xa, y, idx) - bootstrap_values(stat, xb, y, idx)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return PairedBootstrapResult(stat, Estimate(value, math.nan, math.nan), math.nan)
    p = min(1.0, 2.0 * min(float(np.mean(d <= 0)), float(np.mean(d >= 0))))
    return PairedBootstrapResult(stat, Estimate(value, *percentile_interval(d, level)), p)
