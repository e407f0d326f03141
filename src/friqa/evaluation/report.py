"""Statistics over a scored run, and the reports: Markdown table, JSON summary, scatter plots.

:func:`summarize` turns the per-image records of one dataset into a
:class:`DatasetSummary` (per metric: SRCC, KRCC, PLCC raw and after the
logistic fit, RMSE, each with a bootstrap CI; the per-distortion breakdown;
failures; and, for every pair of metrics, a paired bootstrap of the SRCC
difference and Williams' test on the rank correlations). :func:`write_report`
writes ``report.md`` (the papers' metrics x datasets table first, then the
details), ``summary.json`` and one scatter plot per (dataset, metric).

Only results with ``status=ok`` and a finite score enter the statistics;
failed and non-finite results are counted and reported. Two metrics are
compared on the images both scored.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from friqa.evaluation.manifest import Manifest
from friqa.evaluation.runner import RunResult, ScoreRecord
from friqa.evaluation.stats import (
    CorrelationReport,
    GroupReport,
    PairedBootstrapResult,
    WilliamsResult,
    correlation_report,
    orientation,
    paired_bootstrap,
    per_group,
    srcc,
    williams_test,
)
from friqa.exceptions import InputError
from friqa.metrics.registry import metric_info

__all__ = [
    "MetricSummary",
    "Comparison",
    "DatasetSummary",
    "summarize",
    "write_report",
    "markdown_report",
    "main_table",
]


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
        records: the per-image results (:func:`~friqa.evaluation.runner.read_scores`).
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


# --- Markdown ----------------------------------------------------------------------------


def _f(v: float | None, digits: int = 4) -> str:
    if v is None or not math.isfinite(v):
        return "-"
    return f"{v:.{digits}f}"


def _ci(e: Any, digits: int = 4) -> str:
    if not math.isfinite(e.low):
        return _f(e.value, digits)
    return f"{_f(e.value, digits)} [{_f(e.low, digits)}, {_f(e.high, digits)}]"


def _p(p: float) -> str:
    if not math.isfinite(p):
        return "-"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> list[str]:
    seps = [
        ("---:" if (align[k] if k < len(align) else "r") == "r" else ":---")
        for k in range(len(header))
    ]
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join(seps) + " |"]
    out.extend("| " + " | ".join(r) + " |" for r in rows)
    return out


def main_table(summaries: Sequence[DatasetSummary]) -> list[str]:
    """The papers' table as Markdown lines: one row per metric, SRCC and PLCC per dataset."""
    names = list(dict.fromkeys(m for s in summaries for m in s.metrics))
    header = ["metric"]
    for s in summaries:
        header += [f"{s.name} SRCC", f"{s.name} PLCC"]
    best: dict[tuple[str, str], float] = {}
    for s in summaries:
        for key in ("srcc", "plcc_fitted"):
            vals = [
                getattr(m.stats, key).value
                for m in s.metrics.values()
                if m.stats is not None and math.isfinite(getattr(m.stats, key).value)
            ]
            if vals:
                best[(s.name, key)] = max(vals)
    rows = []
    for n in names:
        row = [n]
        for s in summaries:
            m = s.metrics.get(n)
            for key in ("srcc", "plcc_fitted"):
                if m is None or m.stats is None:
                    row.append("-")
                    continue
                v = getattr(m.stats, key).value
                text = _f(v)
                if len(s.metrics) > 1 and math.isfinite(v) and v == best.get((s.name, key)):
                    text = f"**{text}**"
                row.append(text)
        rows.append(row)
    return _table(header, rows, "l")


def markdown_report(
    summaries: Sequence[DatasetSummary], *, plots: Mapping[tuple[str, str], str] | None = None
) -> str:
    """The Markdown report (main table, then per-dataset details)."""
    lines = [
        "# friqa evaluation",
        "",
        "SRCC = Spearman rank correlation; PLCC = Pearson correlation after the 5-parameter "
        "logistic mapping (VQEG). Correlations are oriented so that a positive value means "
        "agreement with the human scores (DMOS datasets and lower-is-better metrics are "
        "sign-flipped). Best value per column in bold.",
        "",
        *main_table(summaries),
        "",
    ]
    for s in summaries:
        kind = "MOS, higher = better" if s.higher_better else "DMOS, higher = worse"
        boot = s.settings.get("n_boot", 0)
        level = s.settings.get("level", 0.95)
        lines += [f"## {s.name}", "", f"{s.n_pairs} pairs; subjective scores: {kind}."]
        if boot:
            lines.append(
                f"Intervals: {int(round(level * 100))} % percentile bootstrap over images "
                f"({boot} resamples, seed {s.settings.get('seed', 0)})."
            )
        lines.append("")
        header = ["metric", "n", "failed", "SRCC", "KRCC", "PLCC (raw)", "PLCC (fitted)", "RMSE"]
        rows = []
        notes = []
        for m in s.metrics.values():
            if m.stats is None:
                rows.append([m.metric, str(m.n_ok), str(m.n_failed), "-", "-", "-", "-", "-"])
                continue
            st = m.stats
            rows.append(
                [
                    m.metric,
                    str(m.n_ok),
                    str(m.n_failed),
                    _ci(st.srcc),
                    _ci(st.krcc),
                    _ci(st.plcc),
                    _ci(st.plcc_fitted),
                    _ci(st.rmse),
                ]
            )
            if not st.fit.ok:
                notes.append(f"- {m.metric}: {st.fit.message}.")
            if m.n_nonfinite:
                notes.append(f"- {m.metric}: {m.n_nonfinite} non-finite score(s) left out.")
            if m.n_missing:
                notes.append(f"- {m.metric}: {m.n_missing} pair(s) not scored yet.")
            for reason, count in m.failure_reasons:
                notes.append(f"- {m.metric}: {count} failed: {reason}")
        lines += _table(header, rows, "l")
        if notes:
            lines += ["", *notes]
        dist_names = sorted({g for m in s.metrics.values() for g in m.per_distortion})
        if dist_names:
            lines += ["", "### SRCC per distortion type", ""]
            metric_names = list(s.metrics)
            drows = []
            for g in dist_names:
                n_g = max(
                    (m.per_distortion[g].n for m in s.metrics.values() if g in m.per_distortion),
                    default=0,
                )
                drows.append(
                    [g, str(n_g)]
                    + [
                        _f(s.metrics[k].per_distortion[g].srcc)
                        if g in s.metrics[k].per_distortion
                        else "-"
                        for k in metric_names
                    ]
                )
            lines += _table(["distortion", "n", *metric_names], drows, "l")
        if s.comparisons:
            lines += [
                "",
                "### Metric A vs metric B",
                "",
                "Paired bootstrap of SRCC(A) - SRCC(B) over the same images, and Williams' "
                "test (Steiger 1980) for dependent correlations on the rank correlations.",
                "",
            ]
            crows = [
                [
                    c.a,
                    c.b,
                    str(c.n),
                    _ci(c.bootstrap.difference),
                    _p(c.bootstrap.p_value),
                    _f(c.williams.t, 2),
                    _p(c.williams.p_value),
                ]
                for c in s.comparisons
            ]
            lines += _table(
                [
                    "A",
                    "B",
                    "n",
                    "SRCC(A) - SRCC(B)",
                    "p (bootstrap)",
                    "t (Williams)",
                    "p (Williams)",
                ],
                crows,
                "ll",
            )
        if s.run is not None:
            r = s.run
            lines += [
                "",
                "### Scoring run",
                "",
                f"{r.total} results expected; {r.skipped} already present (resumed), "
                f"{r.scored} scored and {r.failed} failed in this run "
                f"({r.failed_total} failed in total); {r.seconds:.1f} s, "
                f"{r.pairs_per_second:.2f} pairs/s.",
            ]
        if plots:
            figs = [(m, plots[(s.name, m)]) for m in s.metrics if (s.name, m) in plots]
            if figs:
                lines += ["", "### Scatter plots", ""]
                lines += [f"![{s.name} {m}]({p})" for m, p in figs]
        lines.append("")
    return "\n".join(lines)


def _json_clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_clean(v) for v in value]
    if isinstance(value, np.generic):
        return _json_clean(value.item())
    return value


def write_report(
    summaries: Sequence[DatasetSummary],
    out_dir: str | os.PathLike[str],
    *,
    plots: bool = True,
    plot_dirs: Mapping[str, str | os.PathLike[str]] | None = None,
) -> dict[str, Path]:
    """Write ``report.md``, ``summary.json`` and (with ``plots``) the scatter plots.

    Plots go to ``plot_dirs[dataset]`` (default ``out_dir/<dataset>/``) as
    ``scatter_<metric>.png``.

    Returns:
        Paths written: ``"report"``, ``"summary"`` and ``"plot:<dataset>:<metric>"``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    rel_plots: dict[tuple[str, str], str] = {}
    if plots:
        from friqa.plotting.scatter import scatter_plot

        for s in summaries:
            folder = Path(plot_dirs[s.name]) if plot_dirs and s.name in plot_dirs else out / s.name
            for m in s.metrics.values():
                if m.stats is None:
                    continue
                st = m.stats
                path = folder / f"scatter_{m.metric}.png"
                direction = "lower is better" if m.lower_better else "higher is better"
                fig = scatter_plot(
                    m.scores,
                    m.subjective,
                    fit_params=st.fit.params,
                    fit_label="logistic fit" if st.fit.ok else "linear fit (logistic failed)",
                    groups=m.distortions if any(m.distortions) else None,
                    title=f"{m.metric} on {s.name} ({m.n_ok} images)",
                    xlabel=f"{m.metric} ({direction})",
                    ylabel="MOS" if s.higher_better else "DMOS",
                    note=(
                        f"SRCC {_f(st.srcc.value, 3)}   KRCC {_f(st.krcc.value, 3)}   "
                        f"PLCC {_f(st.plcc_fitted.value, 3)}   RMSE {_f(st.rmse.value, 3)}"
                        + ("" if st.fit.ok else "   (linear fit)")
                    ),
                    path=path,
                )
                del fig
                written[f"plot:{s.name}:{m.metric}"] = path
                rel_plots[(s.name, m.metric)] = Path(os.path.relpath(path, out)).as_posix()
    report = out / "report.md"
    report.write_text(markdown_report(summaries, plots=rel_plots), encoding="utf-8")
    summary = out / "summary.json"
    payload = {"datasets": [_json_clean(s.as_dict()) for s in summaries]}
    summary.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    written["report"] = report
    written["summary"] = summary
    return written
