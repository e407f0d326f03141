"""The Markdown report: the papers' metrics x datasets table, then per-dataset details.

Example:
    >>> _table(["metric", "SRCC"], [["psnr", "0.9000"]], "l")
    ['| metric | SRCC |', '| :--- | ---: |', '| psnr | 0.9000 |']
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from friqa.evaluation.stats import Estimate
from friqa.evaluation.summary import DatasetSummary
from friqa.formatting import format_float

__all__ = ["main_table", "markdown_report"]


def _f(v: float | None, digits: int = 4) -> str:
    return format_float(v, f".{digits}f", nonfinite="-")


def _ci(e: Estimate, digits: int = 4) -> str:
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


def _metrics_section(s: DatasetSummary) -> list[str]:
    """The per-metric statistics table of one dataset, then notes on fits and failures."""
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
    lines = _table(header, rows, "l")
    if notes:
        lines += ["", *notes]
    return lines


def _distortion_section(s: DatasetSummary) -> list[str]:
    """SRCC per distortion type and metric (nothing when the manifest has no types)."""
    dist_names = sorted({g for m in s.metrics.values() for g in m.per_distortion})
    if not dist_names:
        return []
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
                _f(s.metrics[k].per_distortion[g].srcc) if g in s.metrics[k].per_distortion else "-"
                for k in metric_names
            ]
        )
    return [
        "",
        "### SRCC per distortion type",
        "",
        *_table(["distortion", "n", *metric_names], drows, "l"),
    ]


def _comparison_section(s: DatasetSummary) -> list[str]:
    """The metric-vs-metric significance tests (nothing when none were run)."""
    if not s.comparisons:
        return []
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
    header = ["A", "B", "n", "SRCC(A) - SRCC(B)", "p (bootstrap)", "t (Williams)", "p (Williams)"]
    return [
        "",
        "### Metric A vs metric B",
        "",
        "Paired bootstrap of SRCC(A) - SRCC(B) over the same images, and Williams' "
        "test (Steiger 1980) for dependent correlations on the rank correlations.",
        "",
        *_table(header, crows, "ll"),
    ]


def _run_section(s: DatasetSummary) -> list[str]:
    """The counts and speed of the scoring run (nothing without a run)."""
    r = s.run
    if r is None:
        return []
    return [
        "",
        "### Scoring run",
        "",
        f"{r.total} results expected; {r.skipped} already present (resumed), "
        f"{r.scored} scored and {r.failed} failed in this run "
        f"({r.failed_total} failed in total); {r.seconds:.1f} s, "
        f"{r.pairs_per_second:.2f} pairs/s.",
    ]


def markdown_report(
    summaries: Sequence[DatasetSummary], *, plots: Mapping[tuple[str, str], str] | None = None
) -> str:
    """The Markdown report (main table, then per-dataset details).

    ``plots`` maps ``(dataset, metric)`` to a scatter plot's path relative to the report.
    """
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
        lines += _metrics_section(s)
        lines += _distortion_section(s)
        lines += _comparison_section(s)
        lines += _run_section(s)
        if plots:
            figs = [(m, plots[(s.name, m)]) for m in s.metrics if (s.name, m) in plots]
            if figs:
                lines += ["", "### Scatter plots", ""]
                lines += [f"![{s.name} {m}]({p})" for m, p in figs]
        lines.append("")
    return "\n".join(lines)
