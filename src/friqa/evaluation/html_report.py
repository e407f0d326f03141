"""A self-contained ``report.html`` of an evaluation: one file, no network, images inline.

Sections: the metrics x datasets summary (SRCC and PLCC after the logistic fit,
best per column in bold), then per dataset the full statistics with their
bootstrap intervals, the per-distortion SRCC (best per distortion in bold), the
scatter plots, and the gallery of the pairs where each metric disagrees most with
the observers (:mod:`friqa.evaluation.gallery`). Every image is a base64
``data:`` URI and the style sheet is inline, so the file can be mailed or
archived as it is; it loads nothing from anywhere.
"""

from __future__ import annotations

import base64
import html
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from friqa.evaluation.gallery import GalleryItem
from friqa.evaluation.stats import Estimate
from friqa.evaluation.summary import DatasetSummary
from friqa.formatting import format_float

__all__ = ["html_report", "write_html_report", "data_uri"]

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1200px;padding:0 1em;color:#1d1d1f;line-height:1.4}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.8em 0;font-variant-numeric:tabular-nums}
th,td{padding:.25em .7em;text-align:right;border-bottom:1px solid #eee}
th:first-child,td:first-child{text-align:left}
thead th{border-bottom:2px solid #999}
td.best{font-weight:700}
.ci{color:#777;font-size:.85em}
.plots{display:flex;flex-wrap:wrap;gap:1em}
.plots figure{margin:0;width:380px}.plots img{width:100%}
.gallery figure{margin:1.2em 0;padding:.6em;border:1px solid #ddd;border-radius:6px}
.gallery .thumbs img{max-height:200px;margin-right:.5em}
.gallery .panel{width:100%}
figcaption{font-size:.9em;color:#444}
.note{color:#a15c00}
"""


def data_uri(png: bytes) -> str:
    """A PNG as a ``data:`` URI for an ``<img src>``."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _num(v: float | None, digits: int = 4) -> str:
    return format_float(v, f".{digits}f", nonfinite="-")


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], best: Iterable[set[int]]) -> str:
    """A table whose cells are already HTML; ``best[i]`` holds the bold cells of row ``i``."""
    out = ["<table>", "<thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead>"]
    out.append("<tbody>")
    for cells, bold in zip(rows, best, strict=True):
        tds = [
            f'<td class="best">{c}</td>' if j in bold else f"<td>{c}</td>"
            for j, c in enumerate(cells)
        ]
        out.append("<tr>" + "".join(tds) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _best_columns(values: list[list[float | None]], digits: int) -> list[set[int]]:
    """Per row, the columns holding their column's best (largest) value at ``digits``."""
    best_of: dict[int, float] = {}
    for row in values:
        for j, v in enumerate(row):
            if v is not None and math.isfinite(v):
                r = round(v, digits)
                best_of[j] = max(best_of.get(j, r), r)
    return [
        {
            j + 1
            for j, v in enumerate(row)
            if v is not None and math.isfinite(v) and round(v, digits) == best_of[j]
        }
        for row in values
    ]


def _summary_section(summaries: Sequence[DatasetSummary]) -> str:
    metrics = list(dict.fromkeys(m for s in summaries for m in s.metrics))
    head = ["metric"] + [f"{_e(s.name)} {t}" for s in summaries for t in ("SRCC", "PLCC")]
    values: list[list[float | None]] = []
    for name in metrics:
        row: list[float | None] = []
        for s in summaries:
            m = s.metrics.get(name)
            st = m.stats if m is not None else None
            row += [st.srcc.value, st.plcc_fitted.value] if st else [None, None]
        values.append(row)
    cells = [[_e(n)] + [_num(v, 3) for v in row] for n, row in zip(metrics, values, strict=True)]
    return (
        "<h2>Summary</h2>\n<p>Oriented correlations with the subjective scores (positive = "
        "agreement); PLCC after the VQEG 5-parameter logistic fit. Best per column in bold.</p>\n"
        + _table(head, cells, _best_columns(values, 3))
    )


def _ci(e: Estimate) -> str:
    text = _num(e.value)
    if math.isfinite(e.low) and math.isfinite(e.high):
        text += f' <span class="ci">[{_num(e.low)}, {_num(e.high)}]</span>'
    return text


def _dataset_section(
    s: DatasetSummary, plots: Mapping[tuple[str, str], bytes], gallery: Sequence[GalleryItem]
) -> str:
    kind = "MOS" if s.higher_better else "DMOS"
    parts = [f"<h2>{_e(s.name)}</h2>", f"<p>{s.n_pairs} pairs, subjective scores: {kind}.</p>"]
    head = ["metric", "n", "SRCC", "KRCC", "PLCC", "PLCC (raw)", "RMSE", "failed", "non-finite"]
    rows: list[list[str]] = []
    values: list[list[float | None]] = []
    for m in s.metrics.values():
        st = m.stats
        if st is None:
            rows.append(
                [_e(m.metric), str(m.n_ok)] + ["-"] * 5 + [str(m.n_failed), str(m.n_nonfinite)]
            )
            values.append([None] * 8)
            continue
        rows.append(
            [_e(m.metric), str(st.n), _ci(st.srcc), _ci(st.krcc), _ci(st.plcc_fitted)]
            + [_ci(st.plcc), _ci(st.rmse), str(m.n_failed), str(m.n_nonfinite)]
        )
        values.append([None, st.srcc.value, st.krcc.value, st.plcc_fitted.value] + [None] * 4)
    parts.append(_table(head, rows, _best_columns(values, 4)))
    groups = sorted({g for m in s.metrics.values() for g in m.per_distortion})
    if groups:
        names = list(s.metrics)
        grid = [
            [
                s.metrics[n].per_distortion[g].srcc if g in s.metrics[n].per_distortion else None
                for n in names
            ]
            for g in groups
        ]
        best = []
        for row in grid:
            finite = [round(v, 3) for v in row if v is not None and math.isfinite(v)]
            top = max(finite) if finite else None
            best.append(
                {
                    j + 1
                    for j, v in enumerate(row)
                    if v is not None and top is not None and round(v, 3) == top
                }
            )
        cells = [[_e(g)] + [_num(v, 3) for v in row] for g, row in zip(groups, grid, strict=True)]
        parts.append(
            "<h3>SRCC per distortion</h3>\n<p>Within each distortion type; '-' where it has "
            "fewer than 3 images. Best per distortion in bold.</p>"
        )
        parts.append(_table(["distortion"] + [_e(n) for n in names], cells, best))
    figures = [
        f'<figure><img alt="{_e(metric)} on {_e(s.name)}" src="{data_uri(png)}">'
        f"<figcaption>{_e(metric)}</figcaption></figure>"
        for (dataset, metric), png in plots.items()
        if dataset == s.name
    ]
    if figures:
        parts += ["<h3>Scatter plots</h3>", '<div class="plots">', *figures, "</div>"]
    items = [g for g in gallery if g.dataset == s.name]
    if items:
        parts.append(
            "<h3>Largest disagreements</h3>\n<p>Pairs where the subjective score the metric's "
            "logistic fit predicts is farthest from the observers' score.</p>"
        )
        parts.append('<div class="gallery">')
        parts += [_gallery_item(g) for g in items]
        parts.append("</div>")
    return "\n".join(parts)


def _gallery_item(g: GalleryItem) -> str:
    thumbs = "".join(
        f'<img alt="{_e(k)}: {_e(p)}" src="{data_uri(g.thumbnails[k])}">'
        for k, p in (("ref", g.ref), ("dist", g.dist))
        if k in g.thumbnails
    )
    body = [f'<div class="thumbs">{thumbs}</div>'] if thumbs and g.panel is None else []
    if g.panel is not None:
        body.append(f'<img class="panel" alt="SMIC attention panel" src="{data_uri(g.panel)}">')
    if g.note:
        body.append(f'<p class="note">{_e(g.note)}</p>')
    caption = (
        f"<b>{_e(g.metric)}</b> = {g.score:.4g}; subjective {g.subjective:.4g}, predicted "
        f"{g.predicted:.4g} (residual {g.residual:+.3g}); {_e(g.distortion or 'no label')}; "
        f"<code>{_e(g.dist)}</code> vs <code>{_e(g.ref)}</code>"
    )
    return "<figure>" + "".join(body) + f"<figcaption>{caption}</figcaption></figure>"


def html_report(
    summaries: Sequence[DatasetSummary],
    *,
    plots: Mapping[tuple[str, str], bytes] | None = None,
    gallery: Sequence[GalleryItem] = (),
    title: str = "friqa evaluation",
) -> str:
    """The report as one HTML document.

    Args:
        summaries: the datasets' statistics.
        plots: ``(dataset, metric)`` -> PNG bytes of the scatter plot.
        gallery: rendered :class:`~friqa.evaluation.gallery.GalleryItem` s.
        title: the page title.
    """
    from friqa import __version__

    body = [f"<h1>{_e(title)}</h1>", f"<p>friqa {_e(__version__)}</p>"]
    body.append(_summary_section(summaries))
    body += [_dataset_section(s, plots or {}, gallery) for s in summaries]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def write_html_report(
    summaries: Sequence[DatasetSummary],
    path: str | os.PathLike[str],
    *,
    plot_files: Mapping[tuple[str, str], str | os.PathLike[str]] | None = None,
    gallery: Sequence[GalleryItem] = (),
    title: str = "friqa evaluation",
) -> Path:
    """Write :func:`html_report` to ``path``, embedding the scatter plot PNG files given."""
    plots = {k: Path(p).read_bytes() for k, p in (plot_files or {}).items() if Path(p).is_file()}
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        html_report(summaries, plots=plots, gallery=gallery, title=title), encoding="utf-8"
    )
    return out
