"""The scoring engine of a run: the pending rows of one reference, every metric, in batches.

Work is grouped by reference image. For each reference the image is loaded
once and each metric encodes it once (:meth:`Metric.encode_ref`: for the deep
metrics this is the VGG16 pass on the reference); its distorted images are then
loaded in batches and scored with :meth:`Metric.compute_encoded`. Datasets
have 25 to 125 distortions per reference, so this removes almost half of the
backbone work. With ``ref_cache=False`` every batch calls
:meth:`Metric.compute` on the reference repeated to the batch size instead
(the plain way, kept for comparison: ``benchmarks/bench_evaluate.py``).

Distorted images of one batch are stacked by size; images whose size differs
from the others form their own sub-batch. When a sub-batch raises, its images
are retried one by one so that one bad image cannot fail its neighbours.
The metrics of one reference share their VGG16 passes
(:class:`~friqa.metrics.metric_set.MetricSet`; the metric that runs a pass
first is charged its time).

Records are written through a :class:`RecordSink` (a
:class:`~friqa.evaluation.scores_file.ScoresWriter`, or a shard's record list)
and counted; metric errors become ``status=failed`` records with the reason, except
:class:`~friqa.exceptions.WeightsError`, which stops the run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch
from torch import Tensor

from friqa.evaluation.manifest import Manifest
from friqa.evaluation.options import ImageLoader, RunOptions
from friqa.evaluation.scores_file import ScoreRecord, clean_reason
from friqa.exceptions import FriqaError, WeightsError
from friqa.metrics.base import EncodedRef, Metric
from friqa.metrics.memory import check_memory, score_within_memory
from friqa.metrics.metric_set import MetricSet

__all__ = ["MetricTiming", "RecordSink", "GroupScorer"]


class RecordSink(Protocol):
    """Where :class:`GroupScorer` sends records: a scores file or a shard's record list."""

    def write(self, records: Sequence[ScoreRecord]) -> None: ...


@dataclass
class MetricTiming:
    """Seconds spent per metric: encoding references and scoring distorted images."""

    encode_seconds: float = 0.0
    compute_seconds: float = 0.0
    refs_encoded: int = 0
    pairs_scored: int = 0


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if not isinstance(exc, FriqaError | OSError):
        text = f"{type(exc).__name__}: {text}"
    return clean_reason(text)


def _load(path: Path, dtype: torch.dtype) -> Tensor:
    from friqa.io import load_image

    return load_image(path, dtype=dtype)


class GroupScorer:
    """Scores the rows of one reference after another; writes, counts and times the results.

    Attributes:
        ok, failed: records written with ``status=ok`` and ``status=failed``.
        timings: per-metric :class:`MetricTiming`.
    """

    def __init__(
        self,
        manifest: Manifest,
        metrics: Mapping[str, Metric],
        options: RunOptions,
        writer: RecordSink,
    ) -> None:
        self.manifest = manifest
        self.metrics = metrics
        self.shared = MetricSet(metrics).shared  # one reference's metrics share VGG16 passes
        self.order = {name: k for k, name in enumerate(metrics)}
        self.options = options
        self.device = torch.device(options.device)
        self.load: ImageLoader = options.loader or _load
        self.writer = writer
        self.timings = {n: MetricTiming() for n in metrics}
        self.ok = 0
        self.failed = 0

    def _record(self, i: int, metric: str, score: float, reason: str = "") -> ScoreRecord:
        row = self.manifest.rows[i]
        status = "failed" if reason else "ok"
        return ScoreRecord(
            i, metric, row.dist, row.ref, row.distortion, row.score, score, status, reason
        )

    def _emit(self, records: list[ScoreRecord]) -> None:
        self.writer.write(records)
        for r in records:
            if r.ok:
                self.ok += 1
            else:
                self.failed += 1

    def _image(self, rel: str) -> Tensor:
        return self.load(self.manifest.resolve(rel), self.options.dtype).to(self.device)

    def score_group(
        self, ref_path: str, todo: Mapping[int, list[str]], advance: Callable[[int], object]
    ) -> None:
        """Score the pending ``{row: [metric, ...]}`` of the reference ``ref_path``."""
        with self.shared():
            self._score_group(ref_path, todo, advance)

    def _score_group(
        self, ref_path: str, todo: Mapping[int, list[str]], advance: Callable[[int], object]
    ) -> None:
        needed = [m for m in self.metrics if any(m in ms for ms in todo.values())]
        try:
            ref = self._image(ref_path).unsqueeze(0)
        except (FriqaError, OSError) as exc:
            reason = clean_reason(f"reference {ref_path}: {_reason(exc)}")
            self._emit([self._record(i, m, math.nan, reason) for i, ms in todo.items() for m in ms])
            advance(len(todo))
            return
        encoded: dict[str, EncodedRef] = {}
        broken: dict[str, str] = {}
        if self.options.ref_cache:
            for m in needed:
                t0 = time.perf_counter()
                try:
                    encoded[m] = self.metrics[m].encode_ref(ref)
                except WeightsError:
                    raise
                except Exception as exc:  # a metric error on the reference fails its rows only
                    broken[m] = clean_reason(f"reference {ref_path}: {_reason(exc)}")
                self.timings[m].encode_seconds += time.perf_counter() - t0
                self.timings[m].refs_encoded += 1
        rows = list(todo)
        for k in range(0, len(rows), self.options.batch_size):
            batch = rows[k : k + self.options.batch_size]
            self._score_batch(ref, encoded, broken, {i: todo[i] for i in batch}, needed)
            advance(len(batch))

    def _score_batch(
        self,
        ref: Tensor,
        encoded: Mapping[str, EncodedRef],
        broken: Mapping[str, str],
        batch: Mapping[int, list[str]],
        needed: Sequence[str],
    ) -> None:
        """Load one batch of distorted images, score them with every metric, write the records."""
        records: list[ScoreRecord] = []
        images: dict[int, Tensor] = {}
        for i, ms in batch.items():
            dist = self.manifest.rows[i].dist
            try:
                images[i] = self._image(dist)
            except (FriqaError, OSError) as exc:
                reason = clean_reason(f"distorted {dist}: {_reason(exc)}")
                records.extend(self._record(i, m, math.nan, reason) for m in ms)
        for m in needed:
            ids = [i for i in batch if i in images and m in batch[i]]
            if m in broken:
                records.extend(self._record(i, m, math.nan, broken[m]) for i in ids)
                continue
            by_shape: dict[tuple[int, ...], list[int]] = {}
            for i in ids:
                by_shape.setdefault(tuple(images[i].shape), []).append(i)
            for sub in by_shape.values():
                t0 = time.perf_counter()
                records.extend(self._score_sub(m, ref, encoded.get(m), sub, images))
                self.timings[m].compute_seconds += time.perf_counter() - t0
                self.timings[m].pairs_scored += len(sub)
        records.sort(key=lambda r: (r.row, self.order[r.metric]))
        self._emit(records)

    def _score_sub(
        self,
        name: str,
        ref: Tensor,
        encoded: EncodedRef | None,
        ids: list[int],
        images: Mapping[int, Tensor],
    ) -> list[ScoreRecord]:
        """Score images of one size; on an error retry them one by one."""
        metric = self.metrics[name]
        try:
            dist = torch.stack([images[i] for i in ids])
            if check_memory(metric, dist) is not None:  # too large at once: exact row bands
                score = score_within_memory(metric, ref.expand(len(ids), *ref.shape[1:]), dist)
            elif encoded is not None:
                score = metric.compute_encoded(encoded, dist).score
            else:
                score = metric.compute(ref.expand(len(ids), *ref.shape[1:]), dist).score
            values: list[float] = score.detach().to("cpu", torch.float64).tolist()
            return [self._record(i, name, v) for i, v in zip(ids, values, strict=True)]
        except WeightsError:
            raise
        except Exception as exc:
            if len(ids) == 1:
                return [self._record(ids[0], name, math.nan, _reason(exc))]
        out: list[ScoreRecord] = []
        for i in ids:
            out.extend(self._score_sub(name, ref, encoded, [i], images))
        return out
