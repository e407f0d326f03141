"""The VQEG 5-parameter logistic mapping of metric scores onto subjective scores.

VQEG FR-TV Phase II report (2003), used by the IQA literature since Sheikh et
al., IEEE TIP 15(11), 2006:

    q(x) = b1 * (0.5 - 1 / (1 + exp(b2 * (x - b3)))) + b4 * x + b5.

Pure numpy/scipy, so that both the statistics (:mod:`friqa.evaluation.stats`)
and the figures (:mod:`friqa.plotting.scatter`) can use it.
:func:`finite_pair` is the input check of paired score arrays they share.

Example:
    >>> import numpy as np
    >>> float(logistic5(np.array([0.0]), 2.0, 1.0, 0.0, 0.0, 1.0)[0])
    1.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

from friqa.exceptions import InputError

__all__ = ["FloatArray", "finite_pair", "logistic5", "LogisticFit", "fit_logistic5"]

FloatArray = NDArray[np.float64]


def finite_pair(x: ArrayLike, y: ArrayLike, min_n: int = 3) -> tuple[FloatArray, FloatArray]:
    """``x`` and ``y`` as flat float64 arrays of one length >= ``min_n``, all finite.

    Raises:
        InputError: different lengths, too few values, or a NaN/inf.
    """
    a = np.asarray(x, dtype=np.float64).ravel()
    b = np.asarray(y, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise InputError(f"x and y must have the same length, got {a.size} and {b.size}")
    if a.size < min_n:
        raise InputError(f"need at least {min_n} values to correlate, got {a.size}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise InputError("x and y must be finite; drop NaN/inf scores first")
    return a, b


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
    a, b = finite_pair(x, y, min_n=2)
    m, s = float(a.mean()), float(a.std())
    if not s > 0:
        return LogisticFit((0.0, 0.0, 0.0, 0.0, float(b.mean())), False, "constant scores")
    z = (a - m) / s
    if a.size < 6:
        return _linear_fit(z, b, m, s, f"too few images ({a.size}) for 5 parameters")
    r = np.corrcoef(z, b)[0, 1] if not np.all(b == b[0]) else 0.0
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
