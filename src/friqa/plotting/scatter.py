"""Scatter plot of metric scores against subjective scores, with the fitted logistic curve.

The figure is drawn with matplotlib's object API on an Agg canvas (no pyplot,
no global state, no display needed).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from friqa.exceptions import InputError
from friqa.fitting import logistic5
from friqa.plotting import require_matplotlib

__all__ = ["scatter_plot"]

_MAX_LEGEND_GROUPS = 25


def scatter_plot(
    scores: ArrayLike,
    subjective: ArrayLike,
    *,
    fit_params: Sequence[float] | None = None,
    fit_label: str = "logistic fit",
    groups: Sequence[str] | None = None,
    title: str = "",
    xlabel: str = "metric score",
    ylabel: str = "MOS",
    note: str = "",
    path: str | os.PathLike[str] | None = None,
    dpi: int = 110,
) -> Any:
    """Draw subjective scores (y) against metric scores (x), one point per image.

    Args:
        scores, subjective: one value per image (non-finite pairs are left out).
        fit_params: ``(b1, ..., b5)`` of the 5-parameter logistic
            (:func:`friqa.fitting.logistic5`), drawn as a curve labelled
            ``fit_label``.
        groups: a label per image (distortion type) to colour the points; with more
            than 25 groups points are drawn in one colour.
        title, xlabel, ylabel: texts; ``note`` is printed under the title
            (for example ``"SRCC 0.91  PLCC 0.90"``).
        path: when given, the figure is saved there as PNG.

    Returns:
        The :class:`matplotlib.figure.Figure`.
    """
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    x = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(subjective, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise InputError(f"scores and subjective differ in length: {x.size} and {y.size}")
    if groups is not None and len(groups) != x.size:
        raise InputError(f"groups must have one label per score, got {len(groups)} for {x.size}")
    keep = np.isfinite(x) & np.isfinite(y)
    labels = np.asarray(groups if groups is not None else [""] * x.size, dtype=object)[keep]
    x, y = x[keep], y[keep]

    names = sorted(set(labels.tolist()))
    legend = groups is not None and 1 < len(names) <= _MAX_LEGEND_GROUPS
    fig = Figure(figsize=(8.4 if legend else 6.4, 4.8), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if legend:
        cmap = require_matplotlib().colormaps["tab20" if len(names) > 10 else "tab10"]
        for k, g in enumerate(names):
            m = labels == g
            ax.scatter(x[m], y[m], s=14, alpha=0.75, color=cmap(k % cmap.N), label=g or "?")
    else:
        ax.scatter(x, y, s=12, alpha=0.6, color="tab:blue", label="images")
    if fit_params is not None and x.size:
        lo, hi = float(x.min()), float(x.max())
        grid = np.linspace(lo, hi, 400) if hi > lo else np.array([lo])
        ax.plot(grid, logistic5(grid, *fit_params), color="black", lw=1.6, label=fit_label)
    if legend:
        ax.legend(
            fontsize=7,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            ncol=2 if len(names) > 14 else 1,
            frameon=False,
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    heading = title or f"{x.size} images"
    ax.set_title(f"{heading}\n{note}" if note else heading, fontsize=10)
    ax.grid(alpha=0.3)
    if path is not None:
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, format="png")
    return fig
