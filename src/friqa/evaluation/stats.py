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

Comparing two metrics on the same images: :func:`williams_test` (Williams'
T2 for dependent correlations sharing one variable, as recommended by Steiger,
Psychol. Bull. 87(2), 1980, eq. 7) and :func:`paired_bootstrap` (the difference
of a correlation over the same resampled images).

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
from scipy import optimize, special, stats

from friqa.exceptions import InputError

__all__ = [
    "srcc",
    "krcc",
    "plcc",
    "rmse",
    "logistic5",
    "LogisticFit",
    "fit_logistic5",
    "Estimate",
    "bootstrap_ci",
    "CorrelationReport",
    "correlation_report",
    "GroupReport",
    "per_group",
    "WilliamsResult",
    "williams_test",
    "PairedBootstrapResult",
    "paired_bootstrap",
    "orientation",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Resampled values held at once in the vectorized bootstrap (memory bound).
_BOOT_CHUNK_ELEMENTS = 2_000_000
#: Up to this many images Kendall's tau is computed over all pairs at once (vectorized).
_KENDALL_PAIRWISE_MAX_N = 400


def _pair(x: ArrayLike, y: ArrayLike, min_n: int = 3) -> tuple[FloatArray, FloatArray]:
    a = np.asarray(x, dtype=np.float64).ravel()
    b = np.asarray(y, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise InputError(f"x and y must have the same length, got {a.size} and {b.size}")
    if a.size < min_n:
        raise InputError(f"need at least {min_n} values to correlate, got {a.size}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise InputError("x and y must be finite; drop NaN/inf scores first")
    return a, b


def _constant(a: FloatArray) -> bool:
    return bool(np.all(a == a[0]))


def srcc(x: ArrayLike, y: ArrayLike) -> float:
    """Spearman rank-order correlation (average ranks for ties); NaN for a constant input."""
    a, b = _pair(x, y)
    if _constant(a) or _constant(b):
        return math.nan
    return float(stats.spearmanr(a, b).statistic)


def krcc(x: ArrayLike, y: ArrayLike) -> float:
    """Kendall rank-order correlation (tau-b, which handles ties); NaN for a constant input."""
    a, b = _pair(x, y)
    if _constant(a) or _constant(b):
        return math.nan
    return float(stats.kendalltau(a, b).statistic)


def plcc(x: ArrayLike, y: ArrayLike) -> float:
    """Pearson linear correlation; NaN for a constant input."""
    a, b = _pair(x, y)
    if _constant(a) or _constant(b):
        return math.nan
    return float(stats.pearsonr(a, b).statistic)


def rmse(pred: ArrayLike, y: ArrayLike) -> float:
    """Root mean squared error between predictions and subjective scores."""
    a, b = _pair(pred, y, min_n=1)
    return float(np.sqrt(np.mean((a - b) ** 2)))


def orientation(*, lower_better: bool, higher_better_subjective: bool) -> float:
    """``+1`` or ``-1``: the factor that makes correlations positive for a good metric."""
    return (-1.0 if lower_better else 1.0) * (1.0 if higher_better_subjective else -1.0)


# --- logistic mapping --------------------------------------------------------------------


def logistic5(x: ArrayLike, b1: float, b2: float, b3: float, b4: float, b5: float) -> FloatArray:
    """The VQEG 5-parameter logistic ``b1*(0.5 - 1/(1+exp(b2*(x-b3)))) + b4*x + b5``.

    Written with ``expit`` (``0.5 - 1/(1+e^z) = expit(z) - 0.5``) so it never overflows.
    """
    xa = np.asarray(x, dtype=np.float64)
    out: FloatArray = b1 * (special.expit(b2 * (xa - b3)) - 0.5) + b4 * xa + b5
    return out


@dataclass(frozen=True)
class LogisticFit:
    """A fitted 5-parameter logistic mapping from metric scores to subjective scores.

    Attributes:
        params: ``(b1, b2, b3, b4, b5)`` in the units of the raw metric score.
        ok: False when no start converged and a straight line was fitted instead.
        message: how the fit went (which start won, or why it failed).
    """

    params: tuple[float, float, float, float, float]
    ok: bool
    message: str

    def predict(self, x: ArrayLike) -> FloatArray:
        """Map metric scores onto the subjective scale."""
        return logistic5(x, *self.params)

    def as_dict(self) -> dict[str, Any]:
        return {"params": list(self.params), "ok": self.ok, "message": self.message}


def _logistic5_jac(
    x: FloatArray, b1: float, b2: float, b3: float, b4: float, b5: float
) -> FloatArray:
    """Partial derivatives of :func:`logistic5` with respect to ``(b1, ..., b5)``."""
    e = special.expit(b2 * (x - b3))
    de = e * (1.0 - e)
    return np.stack([e - 0.5, b1 * de * (x - b3), -b1 * b2 * de, x, np.ones_like(x)], axis=1)


def _linear_fit(z: FloatArray, y: FloatArray, m: float, s: float, reason: str) -> LogisticFit:
    slope, intercept = np.polyfit(z, y, 1)
    params = (0.0, 0.0, m, float(slope) / s, float(intercept) - float(slope) * m / s)
    return LogisticFit(params, False, f"logistic fit failed ({reason}); linear fit used")


def fit_logistic5(x: ArrayLike, y: ArrayLike, *, max_nfev: int = 3000) -> LogisticFit:
    """Fit :func:`logistic5` to ``y`` (subjective) as a function of ``x`` (metric score).

    The scores are standardized first (so LPIPS distances near 0.01 and PIPAL Elo
    ratings near 1500 are fitted the same way). Least squares (Levenberg-Marquardt
    with the analytic Jacobian) is run from three starting points: ``b1`` = the
    subjective range or its largest magnitude (the classic ``max(mos)``), signed
    by the correlation; ``b2`` = 1/std or 3/std; ``b3`` = the mean or median
    score; ``b4`` = 0; ``b5`` = the mean subjective score. If none gives finite
    parameters, 21 more starts are tried. The smallest squared error wins.

    When the relation is close to a straight line the optimum is a flat ridge
    (``b1`` grows while ``b2`` shrinks, the linear term does the work), and with
    few images it can be a step (``b2`` grows); the search then stops at
    ``max_nfev`` evaluations per start, which barely moves the mapped values,
    and the message says so. When no start beats a
    straight line, or there are fewer than 6 images, a straight line is used
    (``ok=False``, reason in ``message``).

    Example:
        >>> import numpy as np
        >>> x = np.linspace(0, 1, 50); y = 5 * (0.5 - 1 / (1 + np.exp(8 * (x - 0.5)))) + 3
        >>> fit = fit_logistic5(x, y)
        >>> fit.ok, bool(np.abs(fit.predict(x) - y).max() < 1e-4)
        (True, True)
    """
    a, b = _pair(x, y, min_n=2)
    m, s = float(a.mean()), float(a.std())
    if not s > 0:
        return LogisticFit((0.0, 0.0, 0.0, 0.0, float(b.mean())), False, "constant scores")
    z = (a - m) / s
    if a.size < 6:
        return _linear_fit(z, b, m, s, f"too few images ({a.size}) for 5 parameters")
    r = np.corrcoef(z, b)[0, 1] if not _constant(b) else 0.0
    sign = 1.0 if not r < 0 else -1.0
    span = float(b.max() - b.min()) or 1.0
    peak = float(np.abs(b).max()) or 1.0
    z_med = float(np.median(z))
    primary = [(span, 1.0, 0.0), (span, 3.0, z_med), (peak, 1.0, 0.0)]
    others = [
        (b1, b2, b3)
        for b1 in (span, peak, 2.0 * span)
        for b2 in (1.0, 0.3, 3.0, 10.0)
        for b3 in (0.0, z_med)
    ]

    def residual(p: FloatArray) -> FloatArray:
        return logistic5(z, *p) - b

    def jacobian(p: FloatArray) -> FloatArray:
        return _logistic5_jac(z, *p)

    best: tuple[float, FloatArray, int, bool] | None = None
    errors: list[str] = []
    for rnd, starts in enumerate((primary, [p for p in dict.fromkeys(others) if p not in primary])):
        for k, (b1, b2, b3) in enumerate(starts):
            p0 = np.array([sign * b1, b2, b3, 0.0, float(b.mean())])
            try:
                with np.errstate(all="ignore"):
                    res = optimize.least_squares(
                        residual, p0, jac=jacobian, method="lm", max_nfev=max_nfev
                    )
            except (ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
                errors.append(str(exc).splitlines()[0])
                continue
            if not np.all(np.isfinite(res.x)):
                continue
            sse = float(np.sum(residual(res.x) ** 2))
            if not np.isfinite(sse):
                continue
            if best is None or sse < best[0] - 1e-12 * max(1.0, best[0]):
                best = (sse, res.x, k + 3 * rnd, res.status > 0)
        if best is not None:
            break
    if best is None:
        return _linear_fit(z, b, m, s, errors[0] if errors else "non-finite parameters")
    slope, intercept = np.polyfit(z, b, 1)
    sse_line = float(np.sum((slope * z + intercept - b) ** 2))
    if best[0] > sse_line * (1 + 1e-9) + 1e-12:
        return _linear_fit(z, b, m, s, "no start did better than a straight line")
    b1, b2, b3, b4, b5 = (float(v) for v in best[1])
    params = (b1, b2 / s, m + s * b3, b4 / s, b5 - b4 * m / s)
    how = (
        "converged"
        if best[3]
        else f"stopped at {max_nfev} evaluations (a flat or step-like optimum)"
    )
    return LogisticFit(params, True, f"{how} from start {best[2]}")


# --- bootstrap ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """A statistic with its bootstrap confidence interval ``[low, high]``."""

    value: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float | None]:
        def clean(v: float) -> float | None:
            return v if math.isfinite(v) else None

        return {"value": clean(self.value), "low": clean(self.low), "high": clean(self.high)}


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


def _indices(n: int, n_boot: int, seed: int) -> IntArray:
    rng = np.random.default_rng(seed)
    idx: IntArray = rng.integers(0, n, size=(n_boot, n))
    return idx


def _boot_values(stat: str, x: FloatArray, y: FloatArray, idx: IntArray) -> FloatArray:
    fn = _ROWWISE[stat]
    chunk = max(1, _BOOT_CHUNK_ELEMENTS // max(1, x.size))
    parts = [
        fn(x[idx[i : i + chunk]], y[idx[i : i + chunk]]) for i in range(0, idx.shape[0], chunk)
    ]
    return np.concatenate(parts)


def _interval(values: FloatArray, level: float) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return math.nan, math.nan
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(finite, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def _check_boot(n_boot: int, level: float) -> None:
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
    _check_boot(n_boot, level)
    a, b = _pair(x, y)
    value = {"srcc": srcc, "krcc": krcc, "plcc": plcc, "rmse": rmse}[stat](a, b)
    if n_boot == 0:
        return Estimate(value, math.nan, math.nan)
    idx = _indices(a.size, n_boot, seed)
    return Estimate(value, *_interval(_boot_values(stat, a, b, idx), level))


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
    _check_boot(n_boot, level)
    x, y = _pair(scores, subjective)
    sign = orientation(lower_better=lower_better, higher_better_subjective=higher_better_subjective)
    xo = sign * x
    fit = fit_logistic5(x, y)
    pred = fit.predict(x)
    idx = _indices(x.size, n_boot, seed) if n_boot else None

    def est(stat: str, a: FloatArray, b: FloatArray, value: float) -> Estimate:
        if idx is None:
            return Estimate(value, math.nan, math.nan)
        return Estimate(value, *_interval(_boot_values(stat, a, b, idx), level))

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
        def clean(v: float) -> float | None:
            return v if math.isfinite(v) else None

        return {
            "n": self.n,
            "srcc": clean(self.srcc),
            "krcc": clean(self.krcc),
            "plcc": clean(self.plcc),
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
    x, y = _pair(scores, subjective, min_n=1)
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


# --- comparing two metrics ---------------------------------------------------------------


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
            "t": self.t if math.isfinite(self.t) else None,
            "df": self.df,
            "p_value": self.p_value if math.isfinite(self.p_value) else None,
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
            "p_value": self.p_value if math.isfinite(self.p_value) else None,
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
    _check_boot(n_boot, level)
    xa, y = _pair(a, subjective)
    xb, _ = _pair(b, subjective)
    f = {"srcc": srcc, "plcc": plcc, "krcc": krcc}[stat]
    value = f(xa, y) - f(xb, y)
    if n_boot == 0:
        return PairedBootstrapResult(stat, Estimate(value, math.nan, math.nan), math.nan)
    idx = _indices(y.size, n_boot, seed)
    d = _boot_values(stat, xa, y, idx) - _boot_values(stat, xb, y, idx)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return PairedBootstrapResult(stat, Estimate(value, math.nan, math.nan), math.nan)
    p = min(1.0, 2.0 * min(float(np.mean(d <= 0)), float(np.mean(d >= 0))))
    return PairedBootstrapResult(stat, Estimate(value, *_interval(d, level)), p)
