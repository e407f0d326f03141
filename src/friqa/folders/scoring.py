"""Scoring matched folder pairs with friqa metrics, and the per-metric summary."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from friqa.exceptions import FriqaError, InputError
from friqa.folders.match import FolderMatch, match_folders
from friqa.folders.output import write_folder_table

__all__ = ["MetricSummary", "FolderScores", "summarize", "score_folders"]


@dataclass(frozen=True)
class MetricSummary:
    """Mean and (population) standard deviation of one metric over the scored images."""

    mean: float
    std: float
    count: int


@dataclass
class FolderScores:
    """The result of :func:`score_folders`.

    Attributes:
        rows: one dict per output image (``ref``, ``dist``, one column per metric,
            ``error``), then one per unmatched reference / output (scores ``None``
            and ``error`` saying what is missing), so no file is dropped silently.
        summary: metric name -> :class:`MetricSummary` over the finite-or-infinite
            scores of the matched rows (failed scores are left out).
        match: the pairing (:class:`~friqa.folders.match.FolderMatch`).
    """

    rows: list[dict[str, Any]]
    summary: dict[str, MetricSummary]
    match: FolderMatch
    metrics: list[str] = field(default_factory=list)

    @property
    def failures(self) -> int:
        """Matched pairs with at least one metric that failed."""
        return sum(1 for r in self.rows if r["error"] and r["ref"] and r["dist"])

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Save :attr:`rows` as ``.csv``, ``.json`` or ``.parquet``."""
        return write_folder_table(self.rows, path)


def summarize(rows: Iterable[Mapping[str, Any]], names: Sequence[str]) -> dict[str, MetricSummary]:
    """Mean, population standard deviation and count of each metric's scores in ``rows``.

    Missing and NaN scores are left out; an infinite score (PSNR of identical images)
    makes the mean infinite and the deviation NaN, as the numbers are.

    >>> summarize([{"psnr": 30.0}, {"psnr": 32.0}, {"psnr": None}], ["psnr"])
    {'psnr': MetricSummary(mean=31.0, std=1.0, count=2)}
    """
    rows = list(rows)
    out: dict[str, MetricSummary] = {}
    for name in names:
        values = [float(r[name]) for r in rows if r.get(name) is not None]
        values = [v for v in values if not math.isnan(v)]
        if not values:
            out[name] = MetricSummary(math.nan, math.nan, 0)
            continue
        mean = math.fsum(values) / len(values)
        if math.isinf(mean):
            out[name] = MetricSummary(mean, math.nan, len(values))
            continue
        var = math.fsum((v - mean) ** 2 for v in values) / len(values)
        out[name] = MetricSummary(mean, math.sqrt(var), len(values))
    return out


def score_folders(
    ref_dir: str | os.PathLike[str],
    dist_dir: str | os.PathLike[str],
    metrics: Sequence[str] | Mapping[str, Any] = ("psnr", "ssim"),
    *,
    pattern: str | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    weights: str | os.PathLike[str] | None = None,
    device: str = "cpu",
    progress: bool = False,
) -> FolderScores:
    """Score every output of ``dist_dir`` against its reference in ``ref_dir``.

    Args:
        ref_dir, dist_dir: the reference (ground-truth) and output folders, searched
            recursively; pairing as in :func:`~friqa.folders.match.match_folders`.
        metrics: registry names, or already built metrics keyed by name.
        pattern: output file name pattern, for example ``"{stem}_x4_SR.png"``.
        options: per-metric constructor options (``{"psnr": {"y_channel": True}}``).
        weights: VGG16 weights for the deep metrics.
        device: where the metrics compute.
        progress: show a progress bar (tqdm, on stderr).

    A pair that fails (unreadable image, sizes that differ for an aligned metric)
    gets ``None`` scores for the failing metrics and the reason in ``error``.

    Example:
        >>> import tempfile, pathlib, numpy as np
        >>> from PIL import Image
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> for sub in ("gt", "sr"):
        ...     (root / sub).mkdir()
        >>> Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(root / "gt" / "a.png")
        >>> Image.fromarray(np.full((16, 16, 3), 25, np.uint8)).save(root / "sr" / "a_x2.png")
        >>> result = score_folders(root / "gt", root / "sr", ["psnr"], pattern="{stem}_x2.png")
        >>> round(result.summary["psnr"].mean, 2), result.summary["psnr"].count
        (20.17, 1)
    """
    import torch
    from tqdm import tqdm

    from friqa.io import load_image
    from friqa.metrics.factory import build_metrics

    match = match_folders(ref_dir, dist_dir, pattern)
    if isinstance(metrics, Mapping):
        built = dict(metrics)
    else:
        built = dict(build_metrics(metrics, weights=weights, options=options, device=device))
    names = list(built)
    dev = torch.device(device)
    rows: list[dict[str, Any]] = []
    cached: tuple[str, torch.Tensor] | None = None
    pairs = tqdm(
        match.pairs, desc="scoring", unit="pair", disable=not progress or None, leave=False
    )
    for pair in pairs:
        row: dict[str, Any] = {"ref": pair.ref, "dist": pair.dist, **dict.fromkeys(names)}
        errors: list[str] = []
        try:
            if cached is None or cached[0] != pair.ref:
                cached = (pair.ref, load_image(match.ref_dir / pair.ref)[None].to(dev))
            ref = cached[1]
            dist = load_image(match.dist_dir / pair.dist)[None].to(dev)
        except FriqaError as exc:
            rows.append({**row, "error": str(exc)})
            continue
        for name, metric in built.items():
            try:
                if metric.info.aligned and ref.shape != dist.shape:
                    raise InputError(
                        f"sizes differ: reference {ref.shape[-1]}x{ref.shape[-2]}, output "
                        f"{dist.shape[-1]}x{dist.shape[-2]}"
                    )
                with torch.no_grad():
                    row[name] = float(metric(ref, dist)[0])
            except FriqaError as exc:
                errors.append(f"{name}: {exc}")
        rows.append({**row, "error": "; ".join(errors)})
    summary = summarize(rows, names)
    empty = dict.fromkeys(names)
    for r in match.unmatched_refs:
        rows.append({"ref": r, "dist": "", **empty, "error": "no output for this reference"})
    for d in match.unmatched_dists:
        rows.append({"ref": "", "dist": d, **empty, "error": "no reference for this output"})
    return FolderScores(rows, summary, match, names)
