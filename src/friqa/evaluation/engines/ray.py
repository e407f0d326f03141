"""The Ray engine: shards scored by Ray actors, on one machine or a cluster.

Each worker is a Ray actor of :class:`~friqa.evaluation.engines.worker.ShardScorer`:
it builds the metrics once (for the deep metrics: VGG16 loaded once per worker)
and scores shard after shard. The driver sends each actor a shard and keeps a
second one queued so the actor never waits, collects the records as shards
finish and hands them to the caller, which commits them as part files.
Images are read by the workers from their paths (shared storage on a cluster);
only shard descriptions and score records travel through Ray.

Fault tolerance is Ray's: actors are restarted when their process dies
(``max_restarts=-1``) and the shard they were scoring is sent again
(``max_task_retries``); a shard's records reach the driver only whole, so a
killed worker loses or duplicates no row. A row that fails for a data reason
(unreadable image, size mismatch) is not an error for Ray: it is recorded with
``status=failed``, as in a local run. A shard that kills its worker
``max_retries + 1`` times stops the run with a :class:`~friqa.exceptions.FriqaError`;
the finished shards are kept and a new run scores only the rest.

Reference: Moritz et al., "Ray: A Distributed Framework for Emerging AI
Applications", OSDI 2018 (actors, lineage-based task retries).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import replace
from types import ModuleType
from typing import Any

from friqa.evaluation.engines import EngineOptions, ScoringJob, ShardResult
from friqa.evaluation.engines.worker import ShardScorer
from friqa.evaluation.scores_file import clean_reason
from friqa.evaluation.shards import ShardTask
from friqa.exceptions import FriqaError

__all__ = ["RayEngine", "require_ray"]

#: Shards sent ahead to each actor (one scoring, one waiting).
IN_FLIGHT_PER_WORKER = 2


def require_ray() -> ModuleType:
    """Import ray or raise a :class:`FriqaError` that says how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise FriqaError(
            "the ray engine needs Ray, which is not installed: pip install 'friqa[ray]', "
            "or use the local engine (--engine local)"
        ) from exc
    return ray


class RayEngine:
    """Scores shards on Ray actors (see the module docstring).

    Args:
        options: workers, resources per worker, cluster address, retries.
        worker_class: the actor class (a :class:`ShardScorer` subclass; tests use one
            whose process dies in the middle of a shard).
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

    def run(self, job: ScoringJob, tasks: Sequence[ShardTask]) -> Iterator[ShardResult]:
        """Score ``tasks`` on actors; yields each shard's result as it arrives."""
        if not tasks:
            return
        ray = require_ray()
        from ray.exceptions import RayActorError, RayTaskError

        opts = self.options
        self._connect(ray)
        actors: list[Any] = []
        try:
            actor_class = ray.remote(self.worker_class).options(
                num_cpus=opts.cpus_per_worker,
                num_gpus=opts.gpus_per_worker,
                max_restarts=-1,
                max_task_retries=opts.max_retries,
            )
            job_ref = ray.put(replace(job, options=replace(job.options, progress=False)))
            threads = max(1, int(opts.cpus_per_worker))
            actors = [
                actor_class.remote(job_ref, threads)
                for _ in range(self._worker_count(ray, len(tasks)))
            ]
            queue = deque(tasks)
            in_flight: dict[Any, tuple[Any, ShardTask]] = {}

            def submit(actor: Any) -> None:
                task = queue.popleft()
                in_flight[actor.score.remote(task)] = (actor, task)

            for _ in range(IN_FLIGHT_PER_WORKER):
                for actor in actors:
                    if queue:
                        submit(actor)
            while in_flight:
                (done,), _ = ray.wait(list(in_flight), num_returns=1)
                actor, task = in_flight.pop(done)
                try:
                    result: ShardResult = ray.get(done)
                except RayTaskError as exc:
                    cause = getattr(exc, "cause", None)
                    if isinstance(cause, FriqaError):
                        raise cause from None
                    raise FriqaError(
                        f"shard {task.shard.id} failed on a Ray worker: {clean_reason(str(exc))}"
                    ) from None
                except RayActorError as exc:
                    raise FriqaError(
                        f"shard {task.shard.id}: its Ray worker died {opts.max_retries + 1} "
                        f"times or could not start ({clean_reason(str(exc))[:300]}); finished "
                        "shards are kept, run again to score the rest"
                    ) from None
                yield result
                if queue:
                    submit(actor)
        finally:
            for actor in actors:
                ray.kill(actor)
