"""Score every pair of a manifest with every metric: streamed, resumable, failure-tolerant.

The scoring of each reference's rows (reference features reused, batches by
image size, retries) is :mod:`~friqa.evaluation.scoring`.

Output, in ``out_dir``: the scores file (:mod:`~friqa.evaluation.scores_file`),
appended and flushed after every batch, and ``run_config.json``
(:mod:`~friqa.evaluation.run_config`). A run started again with the same
``out_dir`` resumes: every (row, metric) already written is skipped, so
nothing is lost or written twice. A run holds the folder's lock
(:mod:`~friqa.evaluation.lock`) so that a second run at the same time refuses,
and a resume removes (row, metric) results written twice by older versions.

Failed rows (a missing or unreadable image, a size mismatch for an aligned
metric, a metric error) are written with ``status=failed`` and the reason, and
count as done when resuming (``retry_failed=True`` scores them again). Missing
weights (:class:`~friqa.exceptions.WeightsError`) stop the run: they would fail
every row.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from friqa.evaluation.lock import RunLock
from friqa.evaluation.manifest import Manifest
from friqa.evaluation.options import RunOptions
from friqa.evaluation.progress import progress_bar
from friqa.evaluation.run_config import RunPaths, open_run_dir, run_config, write_config
from friqa.evaluation.scores_file import ScoresWriter, read_scores, rewrite_scores
from friqa.evaluation.scoring import GroupScorer, MetricTiming
from friqa.evaluation.shards import merge_parts
from friqa.exceptions import InputError
from friqa.metrics.factory import build_metrics
from friqa.metrics.registry import metric_info

__all__ = ["RunOptions", "RunResult", "MetricTiming", "score_manifest"]


@dataclass
class RunResult:
    """What :func:`score_manifest` did.

    Attributes:
        out_dir: the output folder; ``scores_path`` and ``config_path`` are in it.
        total: pairs x metrics in the manifest.
        skipped: results already in the scores file when the run started.
        scored: results written by this run with ``status=ok``.
        failed: results written by this run with ``status=failed``.
        failed_total: failed results in the whole file.
        seconds: wall time of this run.
        pairs_per_second: distorted images scored per second by all metrics of this run
            (pairs written / seconds).
        timings: per-metric :class:`MetricTiming`.
    """

    out_dir: Path
    scores_path: Path
    config_path: Path
    total: int
    skipped: int
    scored: int
    failed: int
    failed_total: int
    seconds: float
    pairs_per_second: float
    timings: dict[str, MetricTiming] = field(default_factory=dict)

    @classmethod
    def of_run(
        cls,
        paths: RunPaths,
        *,
        n_metrics: int,
        n_rows: int,
        skipped: int,
        ok: int,
        failed: int,
        failed_before: int,
        seconds: float,
        timings: dict[str, MetricTiming],
    ) -> RunResult:
        """The result of a run that wrote ``ok`` + ``failed`` records in ``seconds``."""
        written = ok + failed
        return cls(
            out_dir=paths.out_dir,
            scores_path=paths.scores,
            config_path=paths.config,
            total=n_rows * n_metrics,
            skipped=skipped,
            scored=ok,
            failed=failed,
            failed_total=failed + failed_before,
            seconds=seconds,
            pairs_per_second=(written / n_metrics) / seconds if seconds > 0 and written else 0.0,
            timings=timings,
        )

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["out_dir"] = str(self.out_dir)
        d["scores_path"] = str(self.scores_path)
        d["config_path"] = str(self.config_path)
        return d


def checked_metrics(
    metrics: Sequence[str], options: RunOptions
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """Registry names of ``metrics`` and their options; InputError for a bad combination."""
    options.check()
    names = [metric_info(n).name for n in metrics]
    if not names:
        raise InputError("give at least one metric (see friqa.list_metrics())")
    if len(set(names)) != len(names):
        raise InputError(f"metrics are repeated: {', '.join(names)}")
    per_metric = {k.lower(): dict(v) for k, v in (options.metric_options or {}).items()}
    unknown = sorted(set(per_metric) - set(names))
    if unknown:
        raise InputError(f"options given for metrics not evaluated: {', '.join(unknown)}")
    return names, per_metric


def score_manifest(
    manifest: Manifest,
    metrics: Sequence[str],
    out_dir: str | os.PathLike[str],
    options: RunOptions | None = None,
    **settings: Any,
) -> RunResult:
    """Score every pair of ``manifest`` with every metric, streaming to ``out_dir``.

    Args:
        manifest: the pairs (see :func:`~friqa.evaluation.manifest.read_manifest`).
        metrics: registry names (``friqa.list_metrics()``).
        out_dir: output folder (created); see the module docstring for its files.
        options: the run's settings (:class:`RunOptions`; default: its defaults).
        settings: fields of :class:`RunOptions` to change, as a shorthand
            (``score_manifest(m, ["psnr"], "out", batch_size=4)``).

    Returns:
        A :class:`RunResult` with counts and timings.
    """
    opts = replace(options or RunOptions(), **settings)
    if opts.sharded:  # another engine, one shard of a job array, or Parquet
        from friqa.evaluation.sharded import score_sharded

        return score_sharded(manifest, metrics, out_dir, opts)
    names, per_metric = checked_metrics(metrics, opts)
    with RunLock(out_dir):  # one run per folder (evaluation/lock.py)
        return _score_locked(manifest, names, per_metric, out_dir, opts)


def _score_locked(
    manifest: Manifest,
    names: list[str],
    per_metric: dict[str, dict[str, Any]],
    out_dir: str | os.PathLike[str],
    opts: RunOptions,
) -> RunResult:
    config = run_config(manifest, names, per_metric, opts)
    paths = open_run_dir(out_dir, config, overwrite=opts.overwrite)
    built = build_metrics(names, options=per_metric, device=opts.device, dtype=opts.dtype)
    write_config(paths, config)
    merge_parts(paths.scores, manifest, names, discard=opts.overwrite)  # shards scored elsewhere
    existing = read_scores(paths.scores, repair=True) if paths.scores.exists() else []
    if opts.retry_failed and any(not r.ok for r in existing):
        existing = [r for r in existing if r.ok]
        rewrite_scores(paths.scores, existing)
    n_rows = len(manifest)
    done = {(r.row, r.metric) for r in existing if 0 <= r.row < n_rows and r.metric in built}
    pending: dict[int, list[str]] = {}
    for i in range(n_rows):
        need = [m for m in names if (i, m) not in done]
        if need:
            pending[i] = need

    start = time.perf_counter()
    with ScoresWriter(paths.scores) as writer:
        run = GroupScorer(manifest, built, opts, writer)
        bar = progress_bar(len(pending), manifest.name, opts.progress)
        try:
            with torch.no_grad():
                for ref_path, row_ids in manifest.groups().items():
                    todo = {i: pending[i] for i in row_ids if i in pending}
                    if todo:
                        run.score_group(ref_path, todo, bar.update)
        finally:
            bar.close()
    seconds = time.perf_counter() - start
    failed_before = sum(1 for r in existing if not r.ok and (r.row, r.metric) in done)
    return RunResult.of_run(
        paths,
        n_metrics=len(names),
        n_rows=n_rows,
        skipped=len(done),
        ok=run.ok,
        failed=run.failed,
        failed_before=failed_before,
        seconds=seconds,
        timings=run.timings,
    )
