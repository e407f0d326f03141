"""Agreement statistics between metric scores and human opinion scores.

The usual IQA protocol (VQEG FR-TV Phase II report, 2003; Sheikh et al., IEEE
TIP 15(11), 2006): SRCC and KRCC measure prediction monotonicity, PLCC and RMSE
measure prediction accuracy after a 5-parameter logistic mapping of the
objective scores onto the subjective scale,

    q(x) = b1 * (0.5 - 1 / (1 + exp(b2 * (x - b3)))) + b4 * x + b5.

Sign convention (the one the papers' tables use): every correlation is
reported *oriented*, so that a positive value means the metric agrees with
people. Scores of metrics where lower means better (distances such as LPIPS)
and subjective scores where higher means worse (DMOS) are sign-flipped before
correlating; the two flips cancel for a distance against DMOS. The sign is kept
(no absolute value), so a metric that ranks images the wrong way shows a
negative SRCC. PLCC after the logistic fit and RMSE need no flip: the fit maps
the raw score onto the subjective scale as it is.

Confidence intervals are percentile bootstrap intervals over images, with a
seeded generator (deterministic). The logistic mapping is fitted once on all
images; the bootstrap resamples (prediction, subjective score) pairs without
refitting, which is the usual practice and keeps the intervals cheap.

The logistic fit itself is in :mod:`friqa.fitting`; the tests comparing two
metrics (Williams' T2, paired bootstrap) are in
:mod:`friqa.evaluation.significance` and use the bootstrap pieces here.

Example:
    >>> import numpy as np
    >>> x = np.arange(10.0); y = x ** 2
    >>> round(srcc(x, y), 6), round(srcc(-x, y), 6)
    (1.0, -1.0)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from friqa.exceptions import InputError
from friqa.fitting import FloatArray, LogisticFit, finite_pair, fit_logistic5
from friqa.formatting import finite_or_none

__all__ = [
    "srcc",
    "krcc",
    "plcc",
    "rmse",
    "orientation",
    "Estimate",
    "bootstrap_indices",
    "bootstrap_values",
    "percentile_interval",
    "check_bootstrap",
    "bootstrap_ci",
    "CorrelationReport",
    "correlation_report",
    "GroupReport",
    "per_group",
]

IntArray = NDArray[np.int64]

#: Resampled values held at once in the vectorized bootstrap (memory bound).
_BOOT_CHUNK_ELEMENTS = 2_000_000
#: Up to this many images Kendall's tau is computed over all pairs at once (vectorized).
_KENDALL_PAIRWISE_MAX_N = 400


def _constant(a: FloatArray) -> bool:
    return bool(np.all(a == a[0]))


def srcc(x: ArrayLike, y: ArrayLike) -> float:
    """Spearman rank-order correlation (average ranks for ties); NaN for a constant input."""
    a, b = finite_pair(x, y)
    if _constant(a) or _constant(b):
        return math.nan
    return float(stats.spearmanr(a, b).statistic)


def krcc(x: ArrayLike, y: ArrayLike) -> float:
    """Kendall rank-order correlation (tau-b, which handles ties); NaN for a constant input."""
    a, b = finite_pair(x, y)
    if _constant(a) or _constant(b):
        return math.nan
    return float(stats.kendalltau(a, b).statistic)


def plcc(x: ArrayLike, y: ArrayLike) -> float:
    """Pearson linear correlation; NaN for a constant input."""
    a, b = finite_pair(x, y)
    if _constant(a) or _constant(b):
        return math.nan
    return float(stats.pearsonr(a, b).statistic)


def rmse(pred: ArrayLike, y: ArrayLike) -> float:
    """Root mean squared error between predictions and subjective scores."""
    a, b = finite_pair(pred, y, min_n=1)
    return float(np.sqrt(np.mean((a - b) ** 2)))


def orientation(*, lower_better: bool, higher_better_subjective: bool) -> float:
    """``+1`` or ``-1``: the factor that makes correlations positive for a good metric."""
    return (-1.0 if lower_better else 1.0) * (1.0 if higher_better_subjective else -1.0)


# --- bootstrap ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """A statistic with its bootstrap confidence interval ``[low, high]``."""

    value: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float | None]:
        return {
            "value": finite_or_none(self.value),
            "low": finite_or_none(self.low),
            "high": finite_or_none(self.high),
        }


def _rowwise_pearson(a: FloatArray, b: FloatArray) -> FloatArray:
    """Pearson correlation of each row of ``a`` with the same row of ``b`` (NaN when constant)."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    num = np.einsum("ij,ij->i", a, b)
    den = np.sqrt(np.einsum("ij,ij->i", a, a) * np.einsum("ij,ij->i", b, b))
    with np.errstate(invalid="ignore", divide="ignore"):
        r: FloatArray = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return np.clip(r, -1.0, 1.0)


def _rowwise_spearman(a: FloatArray, b: FloatArray) -> FloatArray:
    return _rowwise_pearson(stats.rankdata(a, axis=1), stats.rankdata(b, axis=1))


def _rowwise_kendall(a: FloatArray, b: FloatArray) -> FloatArray:
    """Kendall's tau-b of each row pair: all pairs at once for small n, scipy beyond."""
    n = a.shape[1]
    out = np.full(a.shape[0], np.nan)
    if n <= _KENDALL_PAIRWISE_MAX_N:
        iu, ju = np.triu_indices(n, k=1)
        n0 = iu.size
        step = max(1, _BOOT_CHUNK_ELEMENTS // max(1, n0))
        for s in range(0, a.shape[0], step):
            sa = np.sign(a[s : s + step, iu] - a[s : s + step, ju])
            sb = np.sign(b[s : s + step, iu] - b[s : s + step, ju])
            concord = np.einsum("ij,ij->i", sa, sb)
            den = np.sqrt(np.count_nonzero(sa, axis=1) * np.count_nonzero(sb, axis=1) * 1.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[s : s + step] = np.where(den > 0, concord / np.where(den > 0, den, 1.0), np.nan)
        return out
    for i in range(a.shape[0]):
        if not (_constant(a[i]) or _constant(b[i])):
            out[i] = stats.kendalltau(a[i], b[i]).statistic
    return out


def _rowwise_rmse(a: FloatArray, b: FloatArray) -> FloatArray:
    out: FloatArray = np.sqrt(np.mean((a - b) ** 2, axis=1))
    return out


_ROWWISE: dict[str, Callable[[FloatArray, FloatArray], FloatArray]] = {
    "srcc": _rowwise_spearman,
    "krcc": _rowwise_kendall,
    "plcc": _rowwise_pearson,
    "rmse": _rowwise_rmse,
}


def bootstrap_indices(n: int, n_boot: int, seed: int) -> IntArray:
    """``(n_boot, n)`` image indices drawn with replacement by ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    idx: IntArray = rng.integers(0, n, size=(n_boot, n))
    return idx


def bootstrap_values(stat: str, x: FloatArray, y: FloatArray, idx: IntArray) -> FloatArray:
    """``stat`` of ``(x[idx[i]], y[idx[i]])`` for every resample ``i``, vectorized in chunks."""
    fn = _ROWWISE[stat]
    chunk = max(1, _BOOT_CHUNK_ELEMENTS // max(1, x.size))
    parts = [
        fn(x[idx[i : i + chunk]], y[idx[i : i + chunk]]) for i in range(0, idx.shape[0], chunk)
    ]
    return np.concatenate(parts)


def percentile_interval(values: FloatArray, level: float) -> tuple[float, float]:
    """The central ``level`` fraction of the finite ``values`` (NaN bounds when none)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return math.nan, math.nan
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(finite, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def check_bootstrap(n_boot: int, level: float) -> None:
    """Raise :class:`~friqa.exceptions.InputError` for a negative ``n_boot`` or a bad ``level``."""
    if n_boot < 0:
        raise InputError(f"n_boot must be >= 0, got {n_boot}")
    if not 0.0 < level < 1.0:
        raise InputError(f"level must be in (0, 1), got {level}")


def bootstrap_ci(
    stat: str,
    x: ArrayLike,
    y: ArrayLike,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> Estimate:
    """A statistic (``"srcc"``, ``"krcc"``, ``"plcc"`` or ``"rmse"``) with its bootstrap CI.

    Images are resampled with replacement ``n_boot`` times with
    ``numpy.random.default_rng(seed)``; the interval holds the central ``level``
    fraction of the resampled statistics (percentile method). ``n_boot=0`` gives
    NaN bounds.
    """
    if stat not in _ROWWISE:
        raise InputError(f"unknown statistic '{stat}'; choose from {', '.join(_ROWWISE)}")
    check_bootstrap(n_boot, level)
    a, b = finite_pair(x, y)
    value = {"srcc": srcc, "krcc": krcc, "plcc": plcc, "rmse": rmse}[stat](a, b)
    if n_boot == 0:
        return Estimate(value, math.nan, math.nan)
    idx = bootstrap_indices(a.size, n_boot, seed)
    return Estimate(value, *percentile_interval(bootstrap_values(stat, a, b, idx), level))


# --- full report -------------------------------------------------------------------------


@dataclass(frozen=True)
class CorrelationReport:
    """Agreement of one metric with subjective scores on one dataset.

    Attributes:
        n: number of images used.
        srcc, krcc, plcc: oriented correlations of the raw scores (positive = agreement).
        plcc_fitted: PLCC between the logistic-mapped scores and the subjective scores.
        rmse: RMSE of the logistic-mapped scores, in subjective-score units.
        fit: the fitted logistic mapping (raw score -> subjective score).
        orientation: the factor (+1 or -1) applied to the raw scores for the correlations.
    """

    n: int
    srcc: Estimate
    krcc: Estimate
    plcc: Estimate
    plcc_fitted: Estimate
    rmse: Estimate
    fit: LogisticFit
    orientation: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "srcc": self.srcc.as_dict(),
            "krcc": self.krcc.as_dict(),
            "plcc": self.plcc.as_dict(),
            "plcc_fitted": self.plcc_fitted.as_dict(),
            "rmse": self.rmse.as_dict(),
            "fit": self.fit.as_dict(),
            "orientation": self.orientation,
        }


def correlation_report(
    scores: ArrayLike,
    subjective: ArrayLike,
    *,
    lower_better: bool = False,
    higher_better_subjective: bool = True,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> CorrelationReport:
    """SRCC, KRCC, PLCC (raw and after the logistic fit) and RMSE, each with a bootstrap CI.

    Args:
        scores: metric scores, one per image.
        subjective: MOS (``higher_better_subjective=True``) or DMOS (False).
        lower_better: the metric's direction (``MetricInfo.lower_better``).
        n_boot, seed, level: bootstrap settings (all statistics share the same resamples).
    """
    check_bootstrap(n_boot, level)
    x, y = finite_pair(scores, subjective)
    sign = orientation(lower_better=lower_better, higher_better_subjective=higher_better_subjective)
    xo = sign * x
    fit = fit_logistic5(x, y)
    pred = fit.predict(x)
    idx = bootstrap_indices(x.size, n_boot, seed) if n_boot else None

    def est(stat: str, a: FloatArray, b: FloatArray, value: float) -> Estimate:
        if idx is None:
            return Estimate(value, math.nan, math.nan)
        return Estimate(value, *percentile_interval(bootstrap_values(stat, a, b, idx), level))

    return CorrelationReport(
        n=int(x.size),
        srcc=est("srcc", xo, y, srcc(xo, y)),
        krcc=est("krcc", xo, y, krcc(xo, y)),
        plcc=est("plcc", xo, y, plcc(xo, y)),
        plcc_fitted=est("plcc", pred, y, plcc(pred, y)),
        rmse=est("rmse", pred, y, rmse(pred, y)),
        fit=fit,
        orientation=sign,
    )


@dataclass(frozen=True)
class GroupReport:
    """Oriented SRCC, KRCC and PLCC (raw scores) on one group of images (a distortion type)."""

    n: int
    srcc: float
    krcc: float
    plcc: float

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "n": self.n,
            "srcc": finite_or_none(self.srcc),
            "krcc": finite_or_none(self.krcc),
            "plcc": finite_or_none(self.plcc),
        }


def per_group(
    scores: ArrayLike,
    subjective: ArrayLike,
    groups: Sequence[str],
    *,
    lower_better: bool = False,
    higher_better_subjective: bool = True,
) -> dict[str, GroupReport]:
    """Oriented correlations within each group (for example each distortion type).

    Groups with fewer than 3 images get NaN correlations. Groups are returned sorted.
    """
    x, y = finite_pair(scores, subjective, min_n=1)
    if len(groups) != x.size:
        raise InputError(f"groups must have one label per score, got {len(groups)} for {x.size}")
    sign = orientation(lower_better=lower_better, higher_better_subjective=higher_better_subjective)
    labels = np.asarray(groups, dtype=object)
    out: dict[str, GroupReport] = {}
    for g in sorted(set(groups)):
        mask = labels == g
        gx, gy = sign * x[mask], y[mask]
        if gx.size < 3:
            out[g] = GroupReport(int(gx.size), math.nan, math.nan, math.nan)
        else:
            out[g] = GroupReport(int(gx.size), srcc(gx, gy), krcc(gx, gy), plcc(gx, gy))
    return out
