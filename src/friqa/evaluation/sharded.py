"""A scoring run through shards and part files, on any engine: :func:`score_sharded`.

:func:`~friqa.evaluation.runner.score_manifest` comes here for the Ray engine,
for one shard of a job array (``shard=(i, n)``) and for Parquet output; the
plain local CSV/JSON-lines run streams into its scores file instead, and merges
any part files first. Steps, on the driver:

1. plan the shards (:func:`~friqa.evaluation.shards.plan_shards`), check the
   output folder as every run does (:mod:`~friqa.evaluation.run_config`; the
   config also records the engine, the shard plan and the weights' SHA-256);
2. read what is done (scores file and part files) and send the engine only the
   missing (row, metric) keys, shard by shard;
3. commit each finished shard as one part file, atomically, and advance the one
   progress bar (pairs, pairs/s, ETA) whatever the engine;
4. unless this is one shard of a job array, merge the parts into the scores file,
   from which the statistics and the report are made exactly as for a local run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from friqa.evaluation.engines import Engine, EngineOptions, ScoringJob, create_engine
from friqa.evaluation.manifest import Manifest
from friqa.evaluation.options import RunOptions
from friqa.evaluation.progress import progress_bar
from friqa.evaluation.run_config import open_run_dir, run_config, write_config
from friqa.evaluation.runner import RunResult, checked_metrics
from friqa.evaluation.scores_file import ScoreRecord, read_scores, rewrite_scores
from friqa.evaluation.scoring import MetricTiming
from friqa.evaluation.shards import (
    PartStore,
    merge_parts,
    pending_tasks,
    plan_shards,
    record_order,
    select_shards,
)
from friqa.exceptions import InputError

__all__ = ["score_sharded"]


def _known(scores: Path, store: PartStore) -> dict[tuple[int, str], ScoreRecord]:
    """Every result already written, from the scores file then the parts (newer)."""
    out: dict[tuple[int, str], ScoreRecord] = {}
    if scores.exists():
        out.update(((r.row, r.metric), r) for r in read_scores(scores, repair=True))
    out.update(((r.row, r.metric), r) for r in store.read())
    return out


def _absolute_root(manifest: Manifest) -> Manifest:
    """The manifest with an absolute root, so workers in other folders find the images."""
    return manifest.with_root(Path(manifest.root if manifest.root is not None else ".").absolute())


def score_sharded(
    manifest: Manifest,
    metrics: Sequence[str],
    out_dir: str | os.PathLike[str],
    options: RunOptions | None = None,
    *,
    engine: Engine | None = None,
    **settings: Any,
) -> RunResult:
    """Score ``manifest`` shard by shard on an engine; same files and result as the runner.

    Args:
        manifest, metrics, out_dir, options, settings: as for
            :func:`~friqa.evaluation.runner.score_manifest`; ``options.engine``,
            ``engine_options`` and ``shard`` choose the engine and the shards.
        engine: an engine object to use instead of ``options.engine`` (for tests and
            custom engines).

    Returns:
        A :class:`~friqa.evaluation.runner.RunResult`; with ``shard`` set, its scores
        file is not written yet (the parts are in ``out_dir/parts``).
    """
    opts = replace(options or RunOptions(), **settings)
    names, per_metric = checked_metrics(metrics, opts)
    if opts.shard is not None and opts.overwrite:
        raise InputError(
            "overwrite with a shard would delete the other shards' results; clear the output "
            "folder once before starting the shard jobs"
        )
    engine_opts = EngineOptions.from_mapping(opts.engine_options)
    eng = engine if engine is not None else create_engine(opts.engine, engine_opts)
    plan = plan_shards(manifest, engine_opts.shard_rows)
    config = run_config(manifest, names, per_metric, opts)
    config["engine"] = eng.describe()
    config["shards"] = {
        "shard_rows": engine_opts.shard_rows,
        "count": len(plan),
        "job": list(opts.shard) if opts.shard is not None else None,
    }
    paths = open_run_dir(out_dir, config, overwrite=opts.overwrite)
    if opts.overwrite:
        merge_parts(paths.scores, manifest, names, discard=True)  # the old parts go too
    write_config(paths, config)

    store = PartStore(paths.out_dir, opts.fmt)
    order = record_order(manifest, names)
    known = _known(paths.scores, store)
    n_rows = len(manifest)
    done = {
        k
        for k, r in known.items()
        if 0 <= k[0] < n_rows and k[1] in names and (r.ok or not opts.retry_failed)
    }
    tasks = pending_tasks(select_shards(plan, opts.shard), names, done)
    by_id = {t.shard.id: t for t in tasks}
    job = ScoringJob(_absolute_root(manifest), tuple(names), per_metric, opts)

    timings = {n: MetricTiming() for n in names}
    ok = failed = 0
    start = time.perf_counter()
    bar = progress_bar(sum(t.pairs for t in tasks), manifest.name, opts.progress)
    try:
        for result in eng.run(job, tasks):
            task = by_id[result.shard_id]
            store.commit(task.shard, result.records, order)
            ok += result.ok
            failed += result.failed
            for name, t in result.timings.items():
                total = timings[name]
                total.encode_seconds += t.encode_seconds
                total.compute_seconds += t.compute_seconds
                total.refs_encoded += t.refs_encoded
                total.pairs_scored += t.pairs_scored
            bar.update(task.pairs)
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    if opts.shard is None:
        merge_parts(paths.scores, manifest, names)
        if not paths.scores.exists():  # nothing was left to score
            rewrite_scores(paths.scores, [])
    failed_before = sum(1 for k in done if not known[k].ok)
    return RunResult.of_run(
        paths,
        n_metrics=len(names),
        n_rows=n_rows,
        skipped=len(done),
        ok=ok,
        failed=failed,
        failed_before=failed_before,
        seconds=seconds,
        timings=timings,
    )
