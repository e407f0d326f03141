"""The paper table of an evaluation in LaTeX: metrics x datasets, SRCC and PLCC, booktabs.

:func:`latex_table` writes one ``tabular`` (in a ``table`` float when a caption
is given) that compiles with the ``booktabs`` package alone: a column pair per
dataset (SRCC and PLCC; PLCC after the VQEG logistic fit, the number papers
report), the best value of each column in bold (every metric that ties with it
at the printed precision), and optionally the bootstrap confidence intervals
under each value. Correlations are oriented (positive = agreement with the
subjective scores), so "best" is the largest; for ``rmse`` it is the smallest.

"""

from __future__ import annotations

import math
from collections.abc import Sequence

from friqa.evaluation.stats import Estimate
from friqa.evaluation.summary import DatasetSummary
from friqa.exceptions import InputError

__all__ = ["LATEX_STATS", "latex_escape", "latex_table"]

#: Statistics the table can show -> column heading.
LATEX_STATS = {
    "srcc": "SRCC",
    "krcc": "KRCC",
    "plcc": "PLCC (raw)",
    "plcc_fitted": "PLCC",
    "rmse": "RMSE",
}

_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped (``lpips_smic`` -> ``lpips\\_smic``)."""
    return "".join(_SPECIAL.get(c, c) for c in text)


def _estimate(s: DatasetSummary, metric: str, stat: str) -> Estimate | None:
    m = s.metrics.get(metric)
    if m is None or m.stats is None:
        return None
    est: Estimate = getattr(m.stats, stat)
    return est if math.isfinite(est.value) else None


def latex_table(
    summaries: Sequence[DatasetSummary],
    *,
    stats: Sequence[str] = ("srcc", "plcc_fitted"),
    ci: bool = False,
    digits: int = 3,
    caption: str | None = None,
    label: str | None = None,
) -> str:
    """The metrics x datasets table as LaTeX source (needs ``\\usepackage{booktabs}``).

    Args:
        summaries: the datasets, in column order (their metrics give the rows, in order).
        stats: statistics per dataset, from :data:`LATEX_STATS` (default SRCC and PLCC
            after the logistic fit).
        ci: add the bootstrap confidence interval under each value (``\\scriptsize``).
        digits: decimals shown; ties at this precision are all bold.
        caption, label: wrap the tabular in a ``table`` float with them.

    A metric missing on a dataset (or with fewer than 3 usable images) shows ``--``.
    """
    if not summaries:
        raise InputError("latex_table needs at least one dataset summary")
    unknown = [s for s in stats if s not in LATEX_STATS]
    if unknown or not stats:
        raise InputError(f"stats must be among {', '.join(LATEX_STATS)}; got {list(stats)}")
    metrics = list(dict.fromkeys(m for s in summaries for m in s.metrics))
    k = len(stats)
    lines = [r"\begin{tabular}{l" + "c" * (k * len(summaries)) + "}", r"\toprule"]
    if k > 1:
        heads = [rf"\multicolumn{{{k}}}{{c}}{{{latex_escape(s.name)}}}" for s in summaries]
        lines.append("Metric & " + " & ".join(heads) + r" \\")
        rules = [rf"\cmidrule(lr){{{2 + i * k}-{1 + (i + 1) * k}}}" for i in range(len(summaries))]
        lines.append(" ".join(rules))
        lines.append(" & " + " & ".join([LATEX_STATS[t] for t in stats] * len(summaries)) + r" \\")
    else:
        heads = [f"{latex_escape(s.name)} ({LATEX_STATS[stats[0]]})" for s in summaries]
        lines.append("Metric & " + " & ".join(heads) + r" \\")
    lines.append(r"\midrule")
    best: dict[tuple[str, str], float] = {}
    for s in summaries:
        for t in stats:
            shown = [
                round(e.value, digits) for m in metrics if (e := _estimate(s, m, t)) is not None
            ]
            if shown:
                best[(s.name, t)] = min(shown) if t == "rmse" else max(shown)
    for m in metrics:
        cells = []
        for s in summaries:
            for t in stats:
                e = _estimate(s, m, t)
                if e is None:
                    cells.append("--")
                    continue
                text = f"{e.value:.{digits}f}"
                if round(e.value, digits) == best.get((s.name, t)):
                    text = rf"\textbf{{{text}}}"
                if ci and math.isfinite(e.low) and math.isfinite(e.high):
                    text = (
                        rf"\begin{{tabular}}[t]{{@{{}}c@{{}}}}{text}\\"
                        rf"{{\scriptsize[{e.low:.{digits}f}, {e.high:.{digits}f}]}}\end{{tabular}}"
                    )
                cells.append(text)
        lines.append(f"{latex_escape(m)} & " + " & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    if caption is None and label is None:
        return "\n".join(lines) + "\n"
    wrapped = [r"\begin{table}[t]", r"\centering"]
    if caption is not None:
        wrapped.append(rf"\caption{{{latex_escape(caption)}}}")
    if label is not None:
        wrapped.append(rf"\label{{{label}}}")
    return "\n".join([*wrapped, *lines, r"\end{table}"]) + "\n"
