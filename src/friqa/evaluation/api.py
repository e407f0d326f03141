"""One call from dataset folders to the paper-style table: :func:`evaluate`."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from friqa.evaluation.manifest import Manifest, read_manifest
from friqa.evaluation.options import RunOptions
from friqa.evaluation.paper import write_paper_outputs
from friqa.evaluation.report import write_report
from friqa.evaluation.runner import RunResult, score_manifest
from friqa.evaluation.scores_file import read_scores
from friqa.evaluation.summary import DatasetSummary, summarize
from friqa.exceptions import InputError
from friqa.metrics.factory import metric_options as merged_options
from friqa.metrics.registry import metric_info

__all__ = ["EvaluationResult", "evaluate", "DatasetLike"]

DatasetLike = Manifest | str | os.PathLike[str]


@dataclass
class EvaluationResult:
    """What :func:`evaluate` produced.

    Attributes:
        summaries: per dataset, the statistics (:class:`DatasetSummary`).
        runs: per dataset name, the scoring run (:class:`RunResult`).
        files: paths written (``"report"``, ``"summary"``, ``"plot:<dataset>:<metric>"``,
            ``"scores:<dataset>"``).
    """

    summaries: list[DatasetSummary]
    runs: dict[str, RunResult]
    files: dict[str, Path] = field(default_factory=dict)

    def table(self, stat: str = "srcc") -> dict[str, dict[str, float]]:
        """``{metric: {dataset: value}}`` for ``stat`` in srcc, krcc, plcc, plcc_fitted, rmse."""
        out: dict[str, dict[str, float]] = {}
        for s in self.summaries:
            for name, m in s.metrics.items():
                if m.stats is not None:
                    out.setdefault(name, {})[s.name] = getattr(m.stats, stat).value
        return out


def _folder_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "dataset"


def _as_manifests(
    datasets: DatasetLike | Sequence[DatasetLike] | Mapping[str, DatasetLike],
    root: str | os.PathLike[str] | None,
) -> list[Manifest]:
    if isinstance(datasets, Mapping):
        items: list[tuple[str | None, DatasetLike]] = list(datasets.items())
    elif isinstance(datasets, Manifest | str | os.PathLike):
        items = [(None, datasets)]
    else:
        items = [(None, d) for d in datasets]
    if not items:
        raise InputError("give at least one dataset (a manifest path or a Manifest)")
    if root is not None and len(items) != 1:
        raise InputError("root applies to a single dataset; set it on each Manifest instead")
    manifests = []
    for name, d in items:
        m = d if isinstance(d, Manifest) else read_manifest(d, root=root)
        if isinstance(d, Manifest) and root is not None:
            m = m.with_root(root)
        if name is not None:
            m = Manifest(m.rows, m.higher_better, m.root, name, m.extra_columns)
        manifests.append(m)
    names = [_folder_name(m.name) for m in manifests]
    if len(set(names)) != len(names):
        raise InputError(
            f"dataset names must differ (they name the output folders): {', '.join(names)}; "
            "pass a mapping {name: manifest} or --name"
        )
    return manifests


def evaluate(
    datasets: DatasetLike | Sequence[DatasetLike] | Mapping[str, DatasetLike],
    metrics: Sequence[str],
    out_dir: str | os.PathLike[str],
    *,
    root: str | os.PathLike[str] | None = None,
    metric_options: Mapping[str, Mapping[str, Any]] | None = None,
    weights: str | os.PathLike[str] | None = None,
    batch_size: int = 8,
    ref_cache: bool = True,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    fmt: str = "csv",
    overwrite: bool = False,
    retry_failed: bool = False,
    progress: bool | None = None,
    engine: str = "local",
    engine_options: Mapping[str, Any] | None = None,
    shard: tuple[int, int] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    compare: bool = True,
    plots: bool = True,
    maps: int = 0,
    latex_ci: bool = False,
) -> EvaluationResult:
    """Score datasets with metrics and write the report, the JSON summary and the plots.

    Output layout::

        out_dir/report.md            metrics x datasets table, then details
        out_dir/summary.json         every number of the report
        out_dir/table.tex            the table in LaTeX (booktabs)
        out_dir/report.html          self-contained report (plots inline, gallery)
        out_dir/<dataset>/scores.csv per-image results (resumable, see runner)
        out_dir/<dataset>/run_config.json
        out_dir/<dataset>/scatter_<metric>.png

    Args:
        datasets: a manifest path or :class:`Manifest`, a list of them, or a mapping
            ``{name: manifest}`` (names label the report and the folders).
        metrics: registry names.
        out_dir: output folder. Running again with the same arguments resumes.
        root: image root for a single manifest path (default: the manifest's folder).
        metric_options: per-metric options, ``{"lpips": {"weights": "vgg16.pth"}}``.
        weights: VGG16 weights for every metric that needs them (unless its options say).
        n_boot, seed, level: bootstrap settings of the statistics.
        compare: significance tests between every pair of metrics.
        plots: draw the scatter plots (needs matplotlib).
        engine, engine_options: ``"local"`` (default) or ``"ray"`` and its settings
            (``{"workers": 4, "gpus_per_worker": 1, ...}``); see docs/scale-out.md.
        shard: ``(i, n)``: score only shard ``i`` of ``n`` of every dataset (a job
            array); no statistics are made, a later run without it merges and reports.
        maps: in report.html, the ``maps`` pairs per metric where it disagrees most with
            the subjective scores, with SMIC attention panels (0: no gallery).
        latex_ci: bootstrap intervals in table.tex.
        The remaining arguments are the fields of
        :class:`~friqa.evaluation.options.RunOptions` (how the pairs are scored).

    Example:
        >>> result = evaluate("tid/manifest.csv", ["psnr", "ssim"], "runs/tid")  # doctest: +SKIP
        >>> result.table("srcc")["psnr"]["tid2013"]  # doctest: +SKIP
    """
    if not metrics:
        raise InputError("give at least one metric (see friqa.list_metrics())")
    manifests = _as_manifests(datasets, root)
    names = [metric_info(n).name for n in metrics]
    run_options = RunOptions(
        metric_options=merged_options(names, weights=weights, options=metric_options),
        batch_size=batch_size,
        ref_cache=ref_cache,
        device=device,
        dtype=dtype,
        fmt=fmt,
        overwrite=overwrite,
        retry_failed=retry_failed,
        progress=progress,
        engine=engine,
        engine_options=engine_options,
        shard=shard,
    )
    if plots and shard is None:
        from friqa.plotting import require_matplotlib

        require_matplotlib()  # fail before hours of scoring, not after
    out = Path(out_dir)
    runs: dict[str, RunResult] = {}
    summaries: list[DatasetSummary] = []
    files: dict[str, Path] = {}
    plot_dirs: dict[str, Path] = {}
    for m in manifests:
        folder = out / _folder_name(m.name)
        run = score_manifest(m, names, folder, run_options)
        runs[m.name] = run
        files[f"scores:{m.name}"] = run.scores_path
        if shard is not None:
            continue
        summary = summarize(
            m,
            read_scores(run.scores_path),
            metrics=names,
            n_boot=n_boot,
            seed=seed,
            level=level,
            compare=compare,
        )
        summary.run = run
        summaries.append(summary)
        plot_dirs[m.name] = folder
    if shard is None:
        files.update(write_report(summaries, out, plots=plots, plot_dirs=plot_dirs))
        files.update(
            write_paper_outputs(
                summaries,
                manifests,
                out,
                plot_files=files,
                maps=maps,
                weights=weights,
                latex_ci=latex_ci,
            )
        )
    return EvaluationResult(summaries, runs, files)
