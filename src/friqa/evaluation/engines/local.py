"""The local engine: shards scored one after another in this process."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from friqa.evaluation.engines import EngineOptions, ScoringJob, ShardResult
from friqa.evaluation.engines.worker import ShardScorer
from friqa.evaluation.shards import ShardTask

__all__ = ["LocalEngine"]


class LocalEngine:
    """Scores every shard in this process with one :class:`ShardScorer` (metrics built once)."""

    name = "local"

    def __init__(self, options: EngineOptions | None = None) -> None:
        self.options = options or EngineOptions()

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "shard_rows": self.options.shard_rows}

    def run(self, job: ScoringJob, tasks: Sequence[ShardTask]) -> Iterator[ShardResult]:
        scorer = ShardScorer(job)
        for task in tasks:
            yield scorer.score(task)
