"""The paper-ready outputs of an evaluation: ``table.tex`` and ``report.html``.

Written by :func:`friqa.evaluation.evaluate` next to ``report.md`` (which
:mod:`~friqa.evaluation.report` writes): the LaTeX table
(:func:`~friqa.evaluation.latex.latex_table`) and the self-contained HTML report
(:mod:`~friqa.evaluation.html_report`) with, when ``maps > 0``, the gallery of
the pairs where each metric disagrees most with the observers
(:mod:`~friqa.evaluation.gallery`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from friqa.evaluation.gallery import GalleryItem, disagreements, render_gallery
from friqa.evaluation.html_report import write_html_report
from friqa.evaluation.latex import latex_table
from friqa.evaluation.manifest import Manifest
from friqa.evaluation.summary import DatasetSummary

__all__ = ["write_paper_outputs"]


def write_paper_outputs(
    summaries: Sequence[DatasetSummary],
    manifests: Sequence[Manifest],
    out_dir: str | os.PathLike[str],
    *,
    plot_files: Mapping[str, Path] | None = None,
    maps: int = 0,
    weights: str | os.PathLike[str] | None = None,
    latex_ci: bool = False,
    map_stride: int = 4,
) -> dict[str, Path]:
    """Write ``table.tex`` and ``report.html`` into ``out_dir``.

    Args:
        summaries, manifests: the datasets, in the same order.
        plot_files: the files :func:`~friqa.evaluation.report.write_report` returned
            (keys ``"plot:<dataset>:<metric>"`` are embedded in the HTML).
        maps: pairs per metric and dataset in the disagreement gallery (0: none).
        weights: VGG16 weights for the gallery's SMIC attention.
        latex_ci: bootstrap intervals in the LaTeX table.
        map_stride: stride of the gallery's attention patches.

    Returns:
        ``{"latex": path, "html": path}``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tex = out / "table.tex"
    tex.write_text(latex_table(summaries, ci=latex_ci), encoding="utf-8")
    plots: dict[tuple[str, str], Path] = {}
    for key, path in (plot_files or {}).items():
        kind, _, rest = key.partition(":")
        dataset, _, metric = rest.rpartition(":")
        if kind == "plot" and dataset:
            plots[(dataset, metric)] = path
    gallery: list[GalleryItem] = []
    if maps > 0:
        by_name = {m.name: m for m in manifests}
        for s in summaries:
            gallery += disagreements(s, by_name[s.name], maps)
        render_gallery(gallery, by_name, weights=weights, stride=map_stride)
    page = write_html_report(summaries, out / "report.html", plot_files=plots, gallery=gallery)
    return {"latex": tex, "html": page}
