"""A Figure-5-style panel of SMIC maps: reference, distorted, distortion, attention, rectified.

As in the SMIC paper (Xiao et al., arXiv 2408.09920, Figure 5): the two images,
the metric's distortion map, the SMIC attention map and the rectified
(attention-weighted) distortion map side by side, maps in the colour map
"magma" with a colour bar each. Drawn with matplotlib's object API on an Agg
canvas (no pyplot, no display needed); matplotlib is imported when a panel is
drawn.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from friqa.exceptions import InputError
from friqa.plotting import require_matplotlib

__all__ = ["smic_panel", "DEFAULT_TITLES"]

#: Panel titles, in order.
DEFAULT_TITLES = (
    "Reference",
    "Distorted",
    "Distortion map",
    "SMIC attention",
    "Rectified map",
)


def _image(x: ArrayLike, what: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[-1] not in (1, 3):
        a = np.moveaxis(a, 0, -1)  # (C, H, W) -> (H, W, C)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[-1] != 3):
        raise InputError(f"{what}: expected an (H, W, 3), (3, H, W) or (H, W) image, got {a.shape}")
    return np.clip(a, 0.0, 1.0)


def _map(x: ArrayLike, what: str) -> np.ndarray:
    a = np.squeeze(np.asarray(x, dtype=np.float64))
    if a.ndim != 2:
        raise InputError(f"{what}: expected a 2-D map (h, w), got shape {np.shape(x)}")
    return a


def smic_panel(
    ref: ArrayLike,
    dist: ArrayLike,
    distortion: ArrayLike,
    attention: ArrayLike,
    rectified: ArrayLike,
    *,
    titles: Sequence[str] = DEFAULT_TITLES,
    suptitle: str = "",
    cmap: str = "magma",
    path: str | os.PathLike[str] | None = None,
    dpi: int = 120,
    panel_width: float = 3.2,
) -> Any:
    """Draw the five-panel figure and optionally save it as PNG.

    Args:
        ref, dist: images in [0, 1], ``(H, W, 3)`` or ``(3, H, W)``.
        distortion: the metric's distortion map ``(h, w)`` (larger = more distorted).
        attention: the SMIC attention map ``(h', w')`` (normalised to [0, 1] for the
            paper's look; any range works).
        rectified: the attention-weighted distortion map ``(h, w)``.
        titles: five panel titles.
        suptitle: a line above the panels (for example the metric and its score).
        cmap: colour map of the three maps ("magma" as in the paper).
        path: save the figure there as PNG when given.
        dpi, panel_width: resolution and width of one panel in inches.

    Returns:
        The :class:`matplotlib.figure.Figure`.
    """
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if len(titles) != 5:
        raise InputError(f"titles must hold five strings, got {len(titles)}")
    images = [_image(ref, "ref"), _image(dist, "dist")]
    maps = [
        _map(distortion, "distortion"),
        _map(attention, "attention"),
        _map(rectified, "rectified"),
    ]
    h, w = images[0].shape[:2]
    height = panel_width * h / w + (0.55 if suptitle else 0.35)
    fig = Figure(figsize=(5 * panel_width, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 5)
    for ax, img, title in zip(axes[:2], images, titles[:2], strict=True):
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=1)
        ax.set_title(title, fontsize=10)
    for ax, m, title in zip(axes[2:], maps, titles[2:], strict=True):
        finite = m[np.isfinite(m)]
        lo = float(finite.min()) if finite.size else 0.0
        hi = float(finite.max()) if finite.size else 1.0
        im = ax.imshow(m, cmap=cmap, vmin=lo, vmax=hi if hi > lo else lo + 1e-12)
        ax.set_title(title, fontsize=10)
        bar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02, shrink=0.9)
        bar.ax.tick_params(labelsize=7)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    if path is not None:
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        # zlib level 3: 0.1 s less than the default 6 for a 13 % larger file
        fig.savefig(out, format="png", pil_kwargs={"compress_level": 3})
    return fig
