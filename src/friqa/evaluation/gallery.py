"""The pairs where a metric and the subjective scores disagree most, drawn with SMIC attention.

Disagreement is the absolute residual of the metric's VQEG logistic fit
(:attr:`~friqa.evaluation.stats.CorrelationReport.fit`): how far the subjective
score the metric predicts for an image is from the one observers gave, in
subjective-score units. :func:`disagreements` picks the ``k`` largest per metric;
:func:`render_gallery` draws each as a panel: the reference and the distorted
image, the metric's distortion map, the SMIC attention, and the attention-weighted
map (:func:`friqa.smic.maps.smic_maps`; for a metric without a map, the absolute
difference of the images stands in for it, and the panel says so). The attention
needs the VGG16 weights and matplotlib; without them an item keeps its numbers and
thumbnails and notes why the panel is missing.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from friqa.evaluation.manifest import Manifest
from friqa.evaluation.summary import DatasetSummary
from friqa.exceptions import FriqaError, InputError

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["GalleryItem", "disagreements", "render_gallery"]

#: Longer side of the thumbnails, in pixels.
THUMBNAIL = 320


@dataclass
class GalleryItem:
    """One pair of the gallery.

    Attributes:
        dataset, metric: where it comes from.
        row: its manifest row; ``ref``, ``dist`` its paths as in the manifest.
        distortion: its distortion label.
        score: the metric's score; ``subjective`` the observers'; ``predicted`` the
            subjective score the metric's logistic fit predicts; ``residual`` their
            difference (predicted - subjective).
        thumbnails: ``"ref"``/``"dist"`` -> PNG bytes (set by :func:`render_gallery`).
        panel: PNG bytes of the attention panel, or None (then ``note`` says why).
    """

    dataset: str
    metric: str
    row: int
    ref: str
    dist: str
    distortion: str
    score: float
    subjective: float
    predicted: float
    residual: float
    thumbnails: dict[str, bytes] = field(default_factory=dict)
    panel: bytes | None = None
    note: str = ""


def disagreements(summary: DatasetSummary, manifest: Manifest, k: int) -> list[GalleryItem]:
    """The ``k`` pairs of largest absolute fit residual, for each metric with statistics."""
    if k < 0:
        raise InputError(f"the number of gallery pairs must be >= 0, got {k}")
    items: list[GalleryItem] = []
    for m in summary.metrics.values():
        if m.stats is None or k == 0 or len(m.rows) != m.scores.size:
            continue
        predicted = np.asarray(m.stats.fit.predict(m.scores), dtype=np.float64)
        residual = predicted - m.subjective
        order = np.argsort(-np.abs(residual), kind="stable")[:k]
        for j in order:
            row = manifest.rows[m.rows[int(j)]]
            items.append(
                GalleryItem(
                    dataset=summary.name,
                    metric=m.metric,
                    row=m.rows[int(j)],
                    ref=row.ref,
                    dist=row.dist,
                    distortion=m.distortions[int(j)],
                    score=float(m.scores[j]),
                    subjective=float(m.subjective[j]),
                    predicted=float(predicted[j]),
                    residual=float(residual[j]),
                )
            )
    return list(items)


def _png(image: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")  # type: ignore[attr-defined]
    return buf.getvalue()


def _thumbnail(x: np.ndarray) -> bytes:
    from PIL import Image

    img = Image.fromarray((np.clip(x, 0, 1) * 255 + 0.5).astype(np.uint8))
    img.thumbnail((THUMBNAIL, THUMBNAIL))
    return _png(img)


def _panel(
    item: GalleryItem,
    ref: Tensor,
    dist: Tensor,
    weights: str | os.PathLike[str] | None,
    stride: int,
) -> bytes:
    import torch

    from friqa.metrics.registry import metric_info
    from friqa.plotting.maps import smic_panel
    from friqa.smic.maps import attention_maps, smic_maps

    titles = ["reference", "distorted", "distortion map", "SMIC attention", "attention x map"]
    if metric_info(item.metric).returns_map:
        maps = smic_maps(ref, dist, item.metric, weights=weights, stride=stride)
        distortion, rectified = maps.distortion, maps.rectified
        if distortion is None:  # a faithful metric keeps only its rectified map
            distortion = rectified
    else:
        maps = attention_maps(ref, dist, weights=weights, stride=stride)
        distortion = (maps.ref - maps.dist).abs().mean(dim=1, keepdim=True)
        rectified = distortion * torch.nn.functional.interpolate(
            maps.attention, size=distortion.shape[-2:], mode="bilinear"
        )
        titles[2], titles[4] = "|ref - dist| (no metric map)", "attention x |ref - dist|"
    if distortion is None or rectified is None:
        raise FriqaError(f"'{item.metric}' gave no map to draw")
    fig = smic_panel(
        maps.ref[0],
        maps.dist[0],
        distortion[0, 0].cpu().numpy(),
        maps.attention[0, 0].cpu().numpy(),
        rectified[0, 0].cpu().numpy(),
        titles=titles,
        suptitle=(
            f"{item.metric} = {item.score:.4g}; subjective {item.subjective:.3g}, "
            f"predicted {item.predicted:.3g}"
        ),
        dpi=80,
    )
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def render_gallery(
    items: Sequence[GalleryItem],
    manifests: dict[str, Manifest],
    *,
    weights: str | os.PathLike[str] | None = None,
    stride: int = 4,
) -> list[GalleryItem]:
    """Add thumbnails and attention panels to ``items`` (in place; also returned).

    ``manifests`` maps dataset names to their manifests (to find the images).
    ``stride`` is the attention's patch stride (1 as in the paper's figures; larger
    is faster). Failures (missing weights, matplotlib, unreadable images) are kept
    in each item's ``note``.
    """
    from friqa.io import load_image

    for item in items:
        manifest = manifests[item.dataset]
        try:
            ref = load_image(manifest.resolve(item.ref))[None]
            dist = load_image(manifest.resolve(item.dist))[None]
        except FriqaError as exc:
            item.note = f"images unavailable: {exc}"
            continue
        item.thumbnails = {
            "ref": _thumbnail(ref[0].permute(1, 2, 0).numpy()),
            "dist": _thumbnail(dist[0].permute(1, 2, 0).numpy()),
        }
        try:
            item.panel = _panel(item, ref, dist, weights, stride)
        except FriqaError as exc:
            item.note = f"attention panel unavailable: {exc}"
    return list(items)
