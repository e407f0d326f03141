"""Statistics over a scored run: :func:`summarize` and the summaries it returns.

:func:`summarize` turns the per-image records of one dataset into a
:class:`DatasetSummary` (per metric: SRCC, KRCC, PLCC raw and after the
logistic fit, RMSE, each with a bootstrap CI; the per-distortion breakdown;
failures; and, for every pair of metrics, a paired bootstrap of the SRCC
difference and Williams' test on the rank correlations). The reports
(:mod:`~friqa.evaluation.markdown`, :mod:`~friqa.evaluation.report`) are
drawn from it.

Only results with ``status=ok`` and a finite score enter the statistics;
failed and non-finite results are counted and reported. Two metrics are
compared on the images both scored.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from friqa.evaluation.manifest import Manifest
from friqa.evaluation.runner import RunResult
from friqa.evaluation.scores_file import ScoreRecord
from friqa.evaluation.significance import (
    PairedBootstrapResult,
    WilliamsResult,
    paired_bootstrap,
    williams_test,
)
from friqa.evaluation.stats import (
    CorrelationReport,
    GroupReport,
    correlation_report,
    orientation,
    per_group,
    srcc,
)
from friqa.exceptions import InputError
from friqa.metrics.registry import metric_info

__all__ = ["MetricSummary", "Comparison", "DatasetSummary", "summarize"]


@dataclass
class MetricSummary:
    """One metric on one dataset.

    Attributes:
        metric: registry name.
        lower_better: the metric's direction.
        n_ok: images with a finite score (used in the statistics).
        n_failed: results with ``status=failed``.
        n_nonfinite: results with ``status=ok`` but an infinite or NaN score
            (PSNR of an image identical to its reference), left out.
        n_missing: rows of the manifest with no result yet (an unfinished run).
        failure_reasons: the most common failure reasons with their counts.
        stats: the correlations, or None with fewer than 3 usable images.
        per_distortion: the correlations within each distortion type.
        scores, subjective, distortions: the data used (for plots).
        rows: the manifest rows of ``scores`` (for galleries of individual pairs).
    """

    metric: str
    lower_better: bool
    n_ok: int
    n_failed: int
    n_nonfinite: int
    n_missing: int
    failure_reasons: list[tuple[str, int]]
    stats: CorrelationReport | None
    per_distortion: dict[str, GroupReport]
    scores: np.ndarray = field(repr=False)
    subjective: np.ndarray = field(repr=False)
    distortions: list[str] = field(repr=False)
    rows: list[int] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "lower_better": self.lower_better,
            "n_ok": self.n_ok,
            "n_failed": self.n_failed,
            "n_nonfinite": self.n_nonfinite,
            "n_missing": self.n_missing,
            "failure_reasons": [{"reason": r, "count": c} for r, c in self.failure_reasons],
            "stats": None if self.stats is None else self.stats.as_dict(),
            "per_distortion": {k: v.as_dict() for k, v in self.per_distortion.items()},
        }


@dataclass
class Comparison:
    """Is metric ``a`` significantly better than ``b`` on the images both scored?

    ``bootstrap`` is the paired bootstrap of ``SRCC(a) - SRCC(b)``; ``williams``
    is Williams' T2 on the same rank correlations (Pearson on ranks), positive
    when ``a`` agrees more with the subjective scores.
    """

    a: str
    b: str
    n: int
    srcc_a: float
    srcc_b: float
    bootstrap: PairedBootstrapResult
    williams: WilliamsResult

    def as_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "n": self.n,
            "srcc_a": self.srcc_a,
            "srcc_b": self.srcc_b,
            "bootstrap": self.bootstrap.as_dict(),
            "williams": self.williams.as_dict(),
        }


@dataclass
class DatasetSummary:
    """All metrics on one dataset."""

    name: str
    n_pairs: int
    higher_better: bool
    metrics: dict[str, MetricSummary]
    comparisons: list[Comparison]
    run: RunResult | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "n_pairs": self.n_pairs,
            "subjective": "mos" if self.higher_better else "dmos",
            "subjective_higher_better": self.higher_better,
            "settings": self.settings,
            "metrics": {k: v.as_dict() for k, v in self.metrics.items()},
            "comparisons": [c.as_dict() for c in self.comparisons],
            "run": None if self.run is None else _run_dict(self.run),
        }


def _run_dict(run: RunResult) -> dict[str, Any]:
    d = run.as_dict()
    for k in ("out_dir", "scores_path", "config_path"):
        d.pop(k, None)
    return d


def _lower_better(name: str) -> bool:
    try:
        return metric_info(name).lower_better
    except Exception:  # a metric no longer registered: assume a similarity
        return False


def summarize(
    manifest: Manifest,
    records: Sequence[ScoreRecord],
    *,
    metrics: Sequence[str] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    compare: bool = True,
    lower_better: Mapping[str, bool] | None = None,
) -> DatasetSummary:
    """Statistics of one scored dataset (see the module docstring).

    Args:
        manifest: the dataset (its score direction and distortion labels).
        records: the per-image results (:func:`~friqa.evaluation.scores_file.read_scores`).
        metrics: which metrics, in order (default: those in ``records``, first seen first).
        n_boot, seed, level: bootstrap settings.
        compare: also compare every pair of metrics.
        lower_better: metric directions (default: from the registry).
    """
    names = list(metrics) if metrics is not None else list(dict.fromkeys(r.metric for r in records))
    if not names:
        raise InputError("no metric results to summarize")
    direction = {
        n: lower_better[n] if lower_better and n in lower_better else _lower_better(n)
        for n in names
    }
    by_metric: dict[str, dict[int, ScoreRecord]] = {n: {} for n in names}
    for r in records:
        if r.metric in by_metric and 0 <= r.row < len(manifest):
            by_metric[r.metric].setdefault(r.row, r)
    subjective_all = np.array([row.score for row in manifest.rows], dtype=np.float64)
    labels_all = manifest.distortions()
    summaries: dict[str, MetricSummary] = {}
    valid: dict[str, dict[int, float]] = {}
    for n in names:
        recs = by_metric[n]
        ok = {i: r.score for i, r in recs.items() if r.ok and math.isfinite(r.score)}
        valid[n] = ok
        failed = [r for r in recs.values() if not r.ok]
        nonfinite = sum(1 for r in recs.values() if r.ok and not math.isfinite(r.score))
        rows = sorted(ok)
        x = np.array([ok[i] for i in rows], dtype=np.float64)
        y = subjective_all[rows] if rows else np.zeros(0)
        groups = [labels_all[i] for i in rows]
        stats = None
        breakdown: dict[str, GroupReport] = {}
        if x.size >= 3:
            stats = correlation_report(
                x,
                y,
                lower_better=direction[n],
                higher_better_subjective=manifest.higher_better,
                n_boot=n_boot,
                seed=seed,
                level=level,
            )
            if any(groups):
                breakdown = per_group(
                    x,
                    y,
                    [g or "(none)" for g in groups],
                    lower_better=direction[n],
                    higher_better_subjective=manifest.higher_better,
                )
        summaries[n] = MetricSummary(
            metric=n,
            lower_better=direction[n],
            n_ok=int(x.size),
            n_failed=len(failed),
            n_nonfinite=nonfinite,
            n_missing=len(manifest) - len(recs),
            failure_reasons=Counter(r.reason for r in failed).most_common(5),
            stats=stats,
            per_distortion=breakdown,
            scores=x,
            subjective=y,
            distortions=groups,
            rows=rows,
        )
    comparisons: list[Comparison] = []
    if compare:
        for k, a in enumerate(names):
            for b in names[k + 1 :]:
                c = _compare(
                    a,
                    b,
                    valid,
                    direction,
                    subjective_all,
                    manifest.higher_better,
                    n_boot=n_boot,
                    seed=seed,
                    level=level,
                )
                if c is not None:
                    comparisons.append(c)
    return DatasetSummary(
        name=manifest.name,
        n_pairs=len(manifest),
        higher_better=manifest.higher_better,
        metrics=summaries,
        comparisons=comparisons,
        settings={"n_boot": n_boot, "seed": seed, "level": level},
    )


def _compare(
    a: str,
    b: str,
    valid: Mapping[str, Mapping[int, float]],
    direction: Mapping[str, bool],
    subjective: np.ndarray,
    higher_better: bool,
    *,
    n_boot: int,
    seed: int,
    level: float,
) -> Comparison | None:
    rows = sorted(set(valid[a]) & set(valid[b]))
    if len(rows) < 4:
        return None
    y = subjective[rows]
    sa = orientation(lower_better=direction[a], higher_better_subjective=higher_better)
    sb = orientation(lower_better=direction[b], higher_better_subjective=higher_better)
    xa = sa * np.array([valid[a][i] for i in rows])
    xb = sb * np.array([valid[b][i] for i in rows])
    ra, rb, rab = srcc(xa, y), srcc(xb, y), srcc(xa, xb)
    if not all(math.isfinite(v) for v in (ra, rb, rab)):
        return None
    boot = paired_bootstrap(xa, xb, y, stat="srcc", n_boot=n_boot, seed=seed, level=level)
    return Comparison(a, b, len(rows), ra, rb, boot, williams_test(ra, rb, rab, len(rows)))
