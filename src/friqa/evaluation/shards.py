"""Shards of a scoring run: whole reference groups, stable ids, one atomic part file each.

Engine-agnostic: the local engine, the Ray engine and ``--shard I/N`` job arrays
all cut a manifest the same way (:func:`plan_shards`) and keep what they scored
the same way (:class:`PartStore`), so a run started by one can be finished by
another.

* A shard is a run of consecutive reference groups (:meth:`Manifest.groups`)
  holding at most ``shard_rows`` rows (a larger group is a shard on its own), so
  each reference is encoded once per shard, as in the streamed run. Its id,
  ``<index>-<digest>``, is a hash of its rows: the same manifest and shard size
  give the same ids on every machine.
* A scored shard is written as ``parts/<id>.<fmt>`` in the run's folder,
  atomically (a temporary file, then a rename): a part file is complete or absent.
* What is done is the set of (row, metric) keys in the scores file and the part
  files; only missing keys are scored, so a finished shard is never scored twice,
  whichever shard size or engine the earlier run used.
* :func:`merge_parts` folds the part files into the scores file (in the order
  of a streamed run) and removes them; the plain run does it before it scores and
  after it has scored, so statistics are always read from one file.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from friqa.evaluation.manifest import Manifest
from friqa.evaluation.scores_file import ScoreRecord, read_scores, rewrite_scores
from friqa.exceptions import InputError

__all__ = [
    "DEFAULT_SHARD_ROWS",
    "PARTS_DIR",
    "Shard",
    "ShardTask",
    "plan_shards",
    "select_shards",
    "parse_shard_spec",
    "pending_tasks",
    "record_order",
    "PartStore",
    "merge_parts",
]

#: Rows per shard unless told otherwise.
DEFAULT_SHARD_ROWS = 256

#: The folder of the part files, inside a run's output folder.
PARTS_DIR = "parts"

#: (row, metric): the key of a result.
Key = tuple[int, str]


@dataclass(frozen=True)
class Shard:
    """Consecutive reference groups of a manifest: ``groups`` is ``((ref, (row, ...)), ...)``."""

    index: int
    id: str
    groups: tuple[tuple[str, tuple[int, ...]], ...]

    @property
    def rows(self) -> tuple[int, ...]:
        return tuple(i for _, rows in self.groups for i in rows)

    def __len__(self) -> int:
        return sum(len(rows) for _, rows in self.groups)


@dataclass(frozen=True)
class ShardTask:
    """The pending work of one shard: ``todo`` maps its rows to the metrics still to score."""

    shard: Shard
    todo: dict[int, list[str]]

    @property
    def pairs(self) -> int:
        return len(self.todo)


def _shard(index: int, groups: list[tuple[str, tuple[int, ...]]], manifest: Manifest) -> Shard:
    digest = hashlib.sha256()
    for ref, rows in groups:
        digest.update(ref.encode("utf-8") + b"\0")
        for i in rows:
            digest.update(f"{i}:{manifest.rows[i].dist}\n".encode())
    return Shard(index, f"{index:05d}-{digest.hexdigest()[:10]}", tuple(groups))


def plan_shards(manifest: Manifest, shard_rows: int = DEFAULT_SHARD_ROWS) -> list[Shard]:
    """Cut ``manifest`` into shards of whole reference groups, at most ``shard_rows`` rows each.

    >>> from friqa.evaluation.manifest import ManifestRow
    >>> rows = [ManifestRow(f"d{k}.png", f"r{k // 3}.png", 1.0) for k in range(7)]
    >>> [s.rows for s in plan_shards(Manifest(rows), shard_rows=5)]
    [(0, 1, 2), (3, 4, 5, 6)]
    """
    if shard_rows < 1:
        raise InputError(f"shard_rows must be >= 1, got {shard_rows}")
    shards: list[Shard] = []
    current: list[tuple[str, tuple[int, ...]]] = []
    size = 0
    for ref, rows in manifest.groups().items():
        if current and size + len(rows) > shard_rows:
            shards.append(_shard(len(shards), current, manifest))
            current, size = [], 0
        current.append((ref, tuple(rows)))
        size += len(rows)
    if current:
        shards.append(_shard(len(shards), current, manifest))
    return shards


def select_shards(shards: Sequence[Shard], shard: tuple[int, int] | None) -> list[Shard]:
    """The shards of job ``i`` of ``n`` (every ``n``-th, from ``i``); all for None."""
    if shard is None:
        return list(shards)
    i, n = shard
    return [s for s in shards if s.index % n == i]


def parse_shard_spec(text: str) -> tuple[int, int]:
    """``"I/N"`` -> ``(I, N)``, with ``0 <= I < N``.

    >>> parse_shard_spec("2/8")
    (2, 8)
    """
    head, sep, tail = text.partition("/")
    try:
        i, n = int(head), int(tail)
    except ValueError:
        i, n = -1, 0
    if not sep or not 0 <= i < n:
        raise InputError(f"--shard '{text}': expected I/N with 0 <= I < N, e.g. 0/4")
    return i, n


def pending_tasks(
    shards: Iterable[Shard], metrics: Sequence[str], done: Collection[Key]
) -> list[ShardTask]:
    """The work left in ``shards``: every (row, metric) not in ``done``; finished shards omitted."""
    tasks = []
    for shard in shards:
        todo: dict[int, list[str]] = {}
        for i in shard.rows:
            need = [m for m in metrics if (i, m) not in done]
            if need:
                todo[i] = need
        if todo:
            tasks.append(ShardTask(shard, todo))
    return tasks


def record_order(
    manifest: Manifest, metrics: Sequence[str]
) -> Callable[[ScoreRecord], tuple[int, int, int]]:
    """Sort key putting records in the order a streamed run writes them (group, row, metric)."""
    group_of: dict[int, int] = {}
    for k, rows in enumerate(manifest.groups().values()):
        for i in rows:
            group_of[i] = k
    metric_pos = {m: k for k, m in enumerate(metrics)}

    def key(r: ScoreRecord) -> tuple[int, int, int]:
        last = len(metric_pos)
        return (group_of.get(r.row, len(group_of)), r.row, metric_pos.get(r.metric, last))

    return key


def _newest_per_key(groups: Iterable[Iterable[ScoreRecord]]) -> dict[Key, ScoreRecord]:
    """One record per key; a later record (a retried result) replaces an earlier one."""
    out: dict[Key, ScoreRecord] = {}
    for records in groups:
        for r in records:
            out[(r.row, r.metric)] = r
    return out


class PartStore:
    """The part files of a run: ``<out_dir>/parts/<shard id>.<fmt>``, each written atomically."""

    def __init__(self, out_dir: Path, fmt: str) -> None:
        self.dir = Path(out_dir) / PARTS_DIR
        self.fmt = fmt

    def path(self, shard_id: str) -> Path:
        return self.dir / f"{shard_id}.{self.fmt}"

    def files(self) -> list[Path]:
        """The committed part files, in shard order."""
        return sorted(self.dir.glob(f"*.{self.fmt}")) if self.dir.is_dir() else []

    def read(self) -> list[ScoreRecord]:
        """Every record of every part file."""
        return list(_newest_per_key(read_scores(p) for p in self.files()).values())

    def commit(
        self,
        shard: Shard,
        records: Sequence[ScoreRecord],
        order: Callable[[ScoreRecord], tuple[int, int, int]],
    ) -> Path:
        """Write ``records`` as the part of ``shard`` (added to what it held), atomically."""
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.path(shard.id)
        old = read_scores(path) if path.exists() else []
        merged = _newest_per_key([old, records])
        rewrite_scores(path, sorted(merged.values(), key=order))
        return path

    def remove(self, files: Iterable[Path] | None = None) -> None:
        """Delete ``files`` (default: all part files, and the folder)."""
        if files is None:
            shutil.rmtree(self.dir, ignore_errors=True)
            return
        for p in files:
            p.unlink(missing_ok=True)
        if self.dir.is_dir() and not any(self.dir.iterdir()):
            self.dir.rmdir()


def merge_parts(
    scores_path: Path,
    manifest: Manifest,
    metrics: Sequence[str],
    *,
    discard: bool = False,
) -> int:
    """Fold the part files beside ``scores_path`` into it and delete them.

    Records of the part files replace those of the scores file with the same key;
    the file is rewritten atomically in the order of a streamed run, then the parts
    are removed (a crash in between only leaves parts that are merged again).
    With ``discard`` the parts are deleted unread (a run started over).

    Returns:
        The number of part files merged.
    """
    fmt = scores_path.suffix.lstrip(".")
    store = PartStore(scores_path.parent, fmt)
    if discard:
        store.remove()
        return 0
    files = store.files()
    if not files:
        return 0
    base = read_scores(scores_path, repair=True) if scores_path.exists() else []
    parts = (read_scores(p) for p in files)
    merged = _newest_per_key([base, *parts])
    rewrite_scores(scores_path, sorted(merged.values(), key=record_order(manifest, metrics)))
    store.remove(files)
    return len(files)
