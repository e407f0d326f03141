"""Scoring engines: who scores the shards of a run (:mod:`~friqa.evaluation.shards`).

An engine takes a :class:`ScoringJob` (manifest, metrics, options) and the
pending :class:`~friqa.evaluation.shards.ShardTask` list, and yields one
:class:`ShardResult` per shard as shards finish, in any order. It does not
write files: the driver (:mod:`~friqa.evaluation.sharded`) commits every result
as a part file, so results never depend on the engine.

* ``"local"`` (:mod:`~friqa.evaluation.engines.local`): this process, one shard
  after another.
* ``"ray"`` (:mod:`~friqa.evaluation.engines.ray`): a Ray Data pipeline whose
  pool of actors build the metrics once and score shards in parallel, on one
  machine or a cluster (``pip install "friqa[ray]"``).

Both score a shard with the same :class:`~friqa.evaluation.engines.worker.ShardScorer`,
so their per-image scores are bit-identical for the same device and precision.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Protocol

from friqa.evaluation.manifest import Manifest
from friqa.evaluation.options import RunOptions
from friqa.evaluation.scores_file import ScoreRecord
from friqa.evaluation.scoring import MetricTiming
from friqa.evaluation.shards import DEFAULT_SHARD_ROWS, ShardTask
from friqa.exceptions import InputError

__all__ = ["EngineOptions", "ScoringJob", "ShardResult", "Engine", "create_engine"]


@dataclass(frozen=True)
class EngineOptions:
    """Settings of an engine (``engine_options`` of :func:`~friqa.evaluation.evaluate`).

    Attributes:
        workers: Ray actors (default: the cluster's CPUs / ``cpus_per_worker``, or its
            GPUs / ``gpus_per_worker`` when that is set).
        cpus_per_worker: CPUs reserved per actor; also its torch threads.
        gpus_per_worker: GPUs per actor (then use ``device="cuda"``).
        address: the Ray cluster (``"auto"``: the one this machine belongs to; None:
            start a local one for the run).
        shard_rows: rows per shard (:func:`~friqa.evaluation.shards.plan_shards`).
        max_retries: times Ray runs a shard again after its worker died.
    """

    workers: int | None = None
    cpus_per_worker: float = 1.0
    gpus_per_worker: float = 0.0
    address: str | None = None
    shard_rows: int = DEFAULT_SHARD_ROWS
    max_retries: int = 3

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any] | None) -> EngineOptions:
        """Options from a mapping; InputError for an unknown key or a bad value."""
        given = dict(options or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(given) - known)
        if unknown:
            raise InputError(
                f"unknown engine options: {', '.join(unknown)} (known: {', '.join(sorted(known))})"
            )
        out = cls(**given)
        if out.workers is not None and out.workers < 1:
            raise InputError(f"workers must be >= 1, got {out.workers}")
        if out.cpus_per_worker <= 0 or out.gpus_per_worker < 0 or out.max_retries < 0:
            raise InputError(
                "cpus_per_worker must be > 0, gpus_per_worker and max_retries >= 0; got "
                f"{out.cpus_per_worker}, {out.gpus_per_worker}, {out.max_retries}"
            )
        if out.shard_rows < 1:
            raise InputError(f"shard_rows must be >= 1, got {out.shard_rows}")
        return out

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ScoringJob:
    """What every worker needs: the manifest (absolute root), the metrics and the run options."""

    manifest: Manifest
    metrics: tuple[str, ...]
    metric_options: Mapping[str, Mapping[str, Any]]
    options: RunOptions


@dataclass
class ShardResult:
    """The records of one scored shard, with counts and per-metric timings."""

    shard_id: str
    records: list[ScoreRecord]
    ok: int = 0
    failed: int = 0
    timings: dict[str, MetricTiming] = field(default_factory=dict)


class Engine(Protocol):
    """Scores shard tasks; yields results as they finish (see the module docstring)."""

    name: str

    def describe(self) -> dict[str, Any]:
        """The engine and its settings, for ``run_config.json``."""
        ...

    def run(self, job: ScoringJob, tasks: Sequence[ShardTask]) -> Iterator[ShardResult]:
        """Score ``tasks``; stops (and releases its workers) when the iterator is closed."""
        ...


def create_engine(name: str, options: EngineOptions) -> Engine:
    """The engine called ``name`` (``"local"`` or ``"ray"``)."""
    if name == "local":
        from friqa.evaluation.engines.local import LocalEngine

        return LocalEngine(options)
    if name == "ray":
        from friqa.evaluation.engines.ray import RayEngine

        return RayEngine(options)
    raise InputError(f"unknown engine '{name}'; use local or ray")
