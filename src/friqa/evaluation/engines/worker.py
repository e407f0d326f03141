"""What scores one shard, in any process: :class:`ShardScorer` (a Ray actor's class too).

It builds the metrics once, then scores shard after shard with the run's
:class:`~friqa.evaluation.scoring.GroupScorer` (reference features reused per
group, batches by size, retries image by image, failures recorded with their
reason), collecting the records instead of writing them.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from friqa.evaluation.engines import ScoringJob, ShardResult
from friqa.evaluation.scores_file import ScoreRecord
from friqa.evaluation.scoring import GroupScorer
from friqa.evaluation.shards import ShardTask
from friqa.metrics.factory import build_metrics

__all__ = ["RecordList", "ShardScorer"]


class RecordList:
    """A record sink that keeps what it is given (the in-memory form of a scores file)."""

    def __init__(self) -> None:
        self.records: list[ScoreRecord] = []

    def write(self, records: Sequence[ScoreRecord]) -> None:
        self.records.extend(records)


def _ignore(n: int) -> None:
    return None


class ShardScorer:
    """Builds the metrics of ``job`` once and scores shard tasks with them.

    Args:
        job: the manifest, metrics and options of the run.
        threads: torch threads of this process (None: leave them).
    """

    def __init__(self, job: ScoringJob, threads: int | None = None) -> None:
        if threads is not None:
            torch.set_num_threads(threads)
        self.job = job
        opts = job.options
        self.metrics = build_metrics(
            job.metrics, options=job.metric_options, device=opts.device, dtype=opts.dtype
        )

    def score(self, task: ShardTask) -> ShardResult:
        """Score the pending rows of one shard, reference group after reference group."""
        sink = RecordList()
        scorer = GroupScorer(self.job.manifest, self.metrics, self.job.options, sink)
        with torch.no_grad():
            for ref, rows in task.shard.groups:
                todo = {i: task.todo[i] for i in rows if i in task.todo}
                if todo:
                    scorer.score_group(ref, todo, _ignore)
        return ShardResult(task.shard.id, sink.records, scorer.ok, scorer.failed, scorer.timings)
