"""The Ray engine: shards scored with Ray Data by a pool of actors, on one machine or a cluster.

The run is one Ray Data pipeline (Ray Data: Ray's library for distributed data
processing on top of Ray tasks and actors):

* a dataset of the pending shards, one row (and one block) per
  :class:`~friqa.evaluation.shards.ShardTask` (``ray.data.from_items``);
* ``map_batches`` with a callable class, :class:`ShardBatches`, on a fixed pool
  of ``workers`` actors (``ActorPoolStrategy``), ``batch_size=1``: each actor
  builds the metrics once with :class:`~friqa.evaluation.engines.worker.ShardScorer`
  (for the deep metrics: VGG16 loaded once per worker) and scores shard after
  shard, with one more shard queued so it never waits. Ray schedules the actors
  on ``cpus_per_worker`` CPUs and ``gpus_per_worker`` GPUs each;
* the driver takes each shard's result as soon as its block is made, in any
  order (``iter_batches`` without prefetching), and hands it to the caller,
  which commits it as a part file and advances its one progress bar (Ray
  Data's own bars and console logs are off for the run).

Images are read by the workers from their paths (shared storage on a cluster);
only shard descriptions and results travel through Ray. Both are pickled into
one binary column: a shard's result (records, counts, per-metric timings) is a
nested object, not a table row, and pickled it reaches the driver whole and as
the same Python objects the local engine yields, with no second record codec
and no Arrow schema to infer block by block (a shard's ``reason`` column, say,
may be all empty).

Fault tolerance is Ray's: an actor whose process dies is restarted
(``max_restarts=-1``) and the shards it held are run again
(``max_task_retries=max_retries``), so a killed worker loses or duplicates no
row. A row that fails for a data reason (unreadable image, size mismatch) is
recorded with ``status=failed``, as in a local run; a
:class:`~friqa.exceptions.FriqaError` in a worker (missing weights, ...) is
returned as the shard's result and raised on the driver unchanged. A shard that
kills its worker ``max_retries + 1`` times stops the run with a FriqaError; the
finished shards are kept and a new run scores only the rest.

References: Moritz et al., "Ray: A Distributed Framework for Emerging AI
Applications", OSDI 2018 (actors, lineage-based task retries); Ray Data,
https://docs.ray.io/en/latest/data/data.html (datasets, ``map_batches`` with
actor pools, streaming execution).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from types import ModuleType
from typing import Any

import numpy as np

from friqa.evaluation.engines import EngineOptions, ScoringJob, ShardResult
from friqa.evaluation.engines.worker import ShardScorer
from friqa.evaluation.scores_file import clean_reason
from friqa.evaluation.shards import ShardTask
from friqa.exceptions import FriqaError

__all__ = ["RayEngine", "ShardBatches", "require_ray"]

#: Shards sent ahead to each actor (one scoring, one waiting).
IN_FLIGHT_PER_WORKER = 2
#: The dataset's columns: a pickled shard task in, a pickled result (or FriqaError) out.
TASK, RESULT = "task", "result"


def require_ray() -> ModuleType:
    """Import ray and Ray Data, or raise a :class:`FriqaError` that says how to install them."""
    try:
        import ray
        import ray.data  # noqa: F401  (needs ray[data]: pyarrow, pandas)
    except ImportError as exc:
        raise FriqaError(
            f"the ray engine needs Ray Data, which is not installed ({exc}): "
            "pip install 'friqa[ray]', or use the local engine (--engine local)"
        ) from exc
    return ray


def _failure(exc: Exception, where: str) -> FriqaError:
    """``exc`` as a one-line FriqaError (a FriqaError stays itself)."""
    if isinstance(exc, FriqaError):
        return exc
    return FriqaError(f"{where}: {type(exc).__name__}: {clean_reason(str(exc))}")


class ShardBatches:
    """Ray Data's callable class: one actor of the pool, scoring the shard of each batch.

    Args:
        worker_class: the scorer (:class:`ShardScorer` or a subclass), built once here.
        job_ref: the :class:`ScoringJob`, put in Ray's object store once by the driver.
        threads: torch threads of the actor.
    """

    def __init__(self, worker_class: type[ShardScorer], job_ref: Any, threads: int) -> None:
        import ray

        self.error: FriqaError | None = None
        try:
            self.scorer = worker_class(ray.get(job_ref), threads)
        except Exception as exc:  # reported with the first shard, on the driver
            self.error = _failure(exc, "a Ray worker could not build the metrics")

    def score(self, task: ShardTask) -> ShardResult | FriqaError:
        """The shard's result, or the FriqaError that stops the run."""
        if self.error is not None:
            return self.error
        try:
            return self.scorer.score(task)
        except Exception as exc:
            return _failure(exc, f"shard {task.shard.id} failed on a Ray worker")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[bytes]]:
        from ray import cloudpickle

        return {RESULT: [cloudpickle.dumps(self.score(cloudpickle.loads(b))) for b in batch[TASK]]}


#: The DataContext of a run: no progress bars, start line or statistics on the console
#: (the driver has its own bar), and no time limit without output (a shard may take
#: longer than Ray Data's default 30 minutes).
RUN_CONTEXT = {
    "enable_progress_bars": False,
    "print_on_execution_start": False,
    "enable_auto_log_stats": False,
    "execution_no_progress_timeout_s": -1,
}


@contextmanager
def _data_context(ctx: Any) -> Iterator[None]:
    """``ctx`` (the current DataContext) with :data:`RUN_CONTEXT` while a dataset is made:
    a Dataset keeps the context current at its creation, the caller's is restored."""
    saved = {k: getattr(ctx, k) for k in RUN_CONTEXT}
    for k, v in RUN_CONTEXT.items():
        setattr(ctx, k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(ctx, k, v)


@contextmanager
def _quiet_ray_data() -> Iterator[None]:
    """Ray Data's logger silenced (its start and end lines, its tracebacks of a failed
    run): the driver shows one bar, and a failure as one FriqaError line."""
    logger = logging.getLogger("ray.data")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


class RayEngine:
    """Scores shards with Ray Data on a pool of actors (see the module docstring).

    Args:
        options: workers, resources per worker, cluster address, retries.
        worker_class: the scorer each actor builds (a :class:`ShardScorer` subclass;
            tests use one whose process dies in the middle of a shard).

    Attributes:
        stats: Ray Data's statistics of the last run that finished (``Dataset.stats()``).
    """

    name = "ray"

    def __init__(
        self,
        options: EngineOptions | None = None,
        worker_class: type[ShardScorer] = ShardScorer,
    ) -> None:
        require_ray()  # fail before the output folder is touched
        self.options = options or EngineOptions()
        self.worker_class = worker_class
        self.stats: str | None = None

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, **self.options.as_dict()}

    def _connect(self, ray: ModuleType) -> None:
        """Join the cluster at ``address``, or start a local one (kept until the process exits,
        so that the datasets of one evaluation share it)."""
        if not ray.is_initialized():
            ray.init(address=self.options.address, logging_level=logging.WARNING)

    def _worker_count(self, ray: ModuleType, n_tasks: int) -> int:
        opts = self.options
        if opts.workers is not None:
            n = opts.workers
        else:
            resources = ray.cluster_resources()
            if opts.gpus_per_worker > 0:
                n = int(resources.get("GPU", 0) // opts.gpus_per_worker)
            else:
                n = int(resources.get("CPU", 1) // opts.cpus_per_worker)
        return max(1, min(n, n_tasks))

    def dataset(self, ray: ModuleType, job_ref: Any, tasks: Sequence[ShardTask]) -> Any:
        """The Ray Data pipeline of a run: shard tasks -> actor pool -> results (lazy)."""
        from ray import cloudpickle
        from ray.data import ActorPoolStrategy, DataContext, from_items

        opts = self.options
        threads = max(1, int(opts.cpus_per_worker))
        with warnings.catch_warnings():
            # Ray 2.60's DataContext warns about its own deprecated fields when first made,
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ray\.data\.")
            # and deprecates extra remote args, yet only they bound the retries of an actor
            # pool's tasks (Ray Data's default: max_task_retries=-1, retried forever)
            warnings.filterwarnings("ignore", message=".*ray_remote_args.* is deprecated")
            with _data_context(DataContext.get_current()):
                shards = from_items(
                    [{TASK: cloudpickle.dumps(t)} for t in tasks], override_num_blocks=len(tasks)
                )
                return shards.map_batches(
                    ShardBatches,
                    fn_constructor_args=(self.worker_class, job_ref, threads),
                    batch_size=1,
                    batch_format="numpy",
                    compute=ActorPoolStrategy(
                        size=self._worker_count(ray, len(tasks)),
                        max_tasks_in_flight_per_actor=IN_FLIGHT_PER_WORKER,
                    ),
                    num_cpus=opts.cpus_per_worker,
                    num_gpus=opts.gpus_per_worker,
                    max_restarts=-1,
                    max_task_retries=opts.max_retries,
                )

    def run(self, job: ScoringJob, tasks: Sequence[ShardTask]) -> Iterator[ShardResult]:
        """Score ``tasks``; yields each shard's result as it arrives."""
        if not tasks:
            return
        ray = require_ray()
        from ray import cloudpickle
        from ray.exceptions import RayActorError, RayError

        self._connect(ray)
        job_ref = ray.put(replace(job, options=replace(job.options, progress=False)))
        scored = self.dataset(ray, job_ref, tasks)
        # one block per shard, handed over as soon as it is made (no prefetching: a
        # prefetched block would wait for the next one before reaching the driver)
        blocks = iter(
            scored.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=0)
        )
        finished = 0
        try:
            with _quiet_ray_data():
                for block in blocks:
                    for blob in block[RESULT]:
                        result = cloudpickle.loads(blob)
                        if isinstance(result, FriqaError):
                            raise result
                        finished += 1
                        yield result
        except RayActorError as exc:
            raise FriqaError(
                f"a Ray worker died on each of the {self.options.max_retries + 1} attempts at "
                f"one of the {len(tasks) - finished} unfinished shards "
                f"({clean_reason(str(exc))[:300]}); "
                "finished shards are kept, run again to score the rest"
            ) from None
        except RayError as exc:
            raise _failure(exc, "the Ray Data run failed") from None
        finally:
            close = getattr(blocks, "close", None)
            if close is not None:
                close()  # stops the pipeline and its actors when the caller stops early
        self.stats = scored.stats()
