"""Write the reports of an evaluation: ``report.md``, ``summary.json`` and the scatter plots."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from friqa.evaluation.markdown import markdown_report
from friqa.evaluation.stats import CorrelationReport
from friqa.evaluation.summary import DatasetSummary, MetricSummary
from friqa.formatting import format_float, json_safe

__all__ = ["write_report"]


def _stat(v: float) -> str:
    return format_float(v, ".3f", nonfinite="-")


def _scatter(s: DatasetSummary, m: MetricSummary, st: CorrelationReport, path: Path) -> None:
    """Draw and save the scatter plot of metric ``m`` (statistics ``st``) on dataset ``s``."""
    from friqa.plotting.scatter import scatter_plot

    direction = "lower is better" if m.lower_better else "higher is better"
    scatter_plot(
        m.scores,
        m.subjective,
        fit_params=st.fit.params,
        fit_label="logistic fit" if st.fit.ok else "linear fit (logistic failed)",
        groups=m.distortions if any(m.distortions) else None,
        title=f"{m.metric} on {s.name} ({m.n_ok} images)",
        xlabel=f"{m.metric} ({direction})",
        ylabel="MOS" if s.higher_better else "DMOS",
        note=(
            f"SRCC {_stat(st.srcc.value)}   KRCC {_stat(st.krcc.value)}   "
            f"PLCC {_stat(st.plcc_fitted.value)}   RMSE {_stat(st.rmse.value)}"
            + ("" if st.fit.ok else "   (linear fit)")
        ),
        path=path,
    )


def write_report(
    summaries: Sequence[DatasetSummary],
    out_dir: str | os.PathLike[str],
    *,
    plots: bool = True,
    plot_dirs: Mapping[str, str | os.PathLike[str]] | None = None,
) -> dict[str, Path]:
    """Write ``report.md``, ``summary.json`` and (with ``plots``) the scatter plots.

    Plots go to ``plot_dirs[dataset]`` (default ``out_dir/<dataset>/``) as
    ``scatter_<metric>.png``. In ``summary.json`` non-finite numbers are ``null``.

    Returns:
        Paths written: ``"report"``, ``"summary"`` and ``"plot:<dataset>:<metric>"``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    rel_plots: dict[tuple[str, str], str] = {}
    if plots:
        for s in summaries:
            folder = Path(plot_dirs[s.name]) if plot_dirs and s.name in plot_dirs else out / s.name
            for m in s.metrics.values():
                if m.stats is None:
                    continue
                path = folder / f"scatter_{m.metric}.png"
                _scatter(s, m, m.stats, path)
                written[f"plot:{s.name}:{m.metric}"] = path
                rel_plots[(s.name, m.metric)] = Path(os.path.relpath(path, out)).as_posix()
    report = out / "report.md"
    report.write_text(markdown_report(summaries, plots=rel_plots), encoding="utf-8")
    summary = out / "summary.json"
    payload = {"datasets": [json_safe(s.as_dict(), nonfinite="null") for s in summaries]}
    summary.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    written["report"] = report
    written["summary"] = summary
    return written
