"""The per-image scores file of an evaluation run: ``scores.csv``, ``.jsonl`` or ``.parquet``.

One line per (pair, metric), in long format, with the columns
:data:`SCORE_FIELDS`: ``row`` (0-based position in the manifest), ``metric``,
``dist``, ``ref``, ``distortion``, ``subjective`` (the manifest's MOS/DMOS),
``score``, ``status`` (``ok`` or ``failed``) and ``reason`` (why it failed).
The CSV starts with a header line; the JSON-lines file has none. Numbers are
written as Python's ``repr`` (exact round trip); a non-finite score is
``nan``, ``inf`` or ``-inf`` (text in JSON). The runner appends lines and
flushes after every batch, so a killed run leaves at most one cut line,
which :func:`read_scores` ignores.

Example:
    >>> rec = ScoreRecord(0, "psnr", "d.png", "r.png", "jpeg", 4.5, float("inf"), "ok")
    >>> print(encode_records([rec], "csv"), end="")
    0,psnr,d.png,r.png,jpeg,4.5,inf,ok,
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from friqa.exceptions import InputError
from friqa.formatting import format_float, json_number

__all__ = [
    "SCORE_FIELDS",
    "SCORE_FORMATS",
    "ScoreRecord",
    "clean_reason",
    "encode_records",
    "scores_header",
    "read_scores",
    "rewrite_scores",
    "ScoresWriter",
]

logger = logging.getLogger(__name__)

#: Columns of the per-image scores file, in order.
SCORE_FIELDS: tuple[str, ...] = (
    "row",
    "metric",
    "dist",
    "ref",
    "distortion",
    "subjective",
    "score",
    "status",
    "reason",
)

#: Formats of the scores file (its extension). Parquet (needs pyarrow) cannot be appended to:
#: runs in that format write whole shards (:mod:`~friqa.evaluation.shards`).
SCORE_FORMATS: tuple[str, ...] = ("csv", "jsonl", "parquet")


@dataclass(frozen=True)
class ScoreRecord:
    """One line of the scores file: a (pair, metric) result."""

    row: int
    metric: str
    dist: str
    ref: str
    distortion: str
    subjective: float
    score: float
    status: str
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ScoreRecord:
        """The record of one row of a JSON-lines or Parquet scores file."""
        return cls(
            row=int(d["row"]),
            metric=str(d["metric"]),
            dist=str(d["dist"]),
            ref=str(d["ref"]),
            distortion=str(d["distortion"]),
            subjective=float(d["subjective"]),
            score=float(d["score"]),
            status=str(d["status"]),
            reason=str(d.get("reason") or ""),
        )


def clean_reason(text: str) -> str:
    """A failure reason as the file stores it: one line, at most 500 characters.

    >>> clean_reason("cannot read\\n  'a.png'")
    "cannot read 'a.png'"
    """
    return " ".join(text.split())[:500]


def encode_records(records: Sequence[ScoreRecord], fmt: str) -> str:
    """The lines of ``records`` in format ``fmt`` (``"csv"`` or ``"jsonl"``), newline-ended."""
    if fmt == "jsonl":
        lines = []
        for r in records:
            d = r.as_dict()
            d["score"] = json_number(r.score)
            lines.append(json.dumps(d, ensure_ascii=False) + "\n")
        return "".join(lines)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for r in records:
        w.writerow(
            [
                r.row,
                r.metric,
                r.dist,
                r.ref,
                r.distortion,
                format_float(r.subjective),
                format_float(r.score),
                r.status,
                r.reason,
            ]
        )
    return buf.getvalue()


def _decode_line(line: str, fmt: str) -> ScoreRecord:
    if fmt == "jsonl":
        return ScoreRecord.from_dict(json.loads(line))
    (values,) = list(csv.reader([line]))
    if len(values) != len(SCORE_FIELDS):
        raise ValueError(f"{len(values)} fields")
    v = dict(zip(SCORE_FIELDS, values, strict=True))
    return ScoreRecord(
        row=int(v["row"]),
        metric=v["metric"],
        dist=v["dist"],
        ref=v["ref"],
        distortion=v["distortion"],
        subjective=float(v["subjective"]),
        score=float(v["score"]),
        status=v["status"],
        reason=v["reason"],
    )


def scores_header(fmt: str) -> str:
    """The first line of a new scores file (the CSV header; nothing for JSON lines)."""
    return ",".join(SCORE_FIELDS) + "\n" if fmt == "csv" else ""


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    return suffix[1:] if suffix in (".jsonl", ".parquet") else "csv"


def read_scores(path: str | os.PathLike[str], *, repair: bool = False) -> list[ScoreRecord]:
    """Read a scores file (``.csv`` or ``.jsonl``) written by an evaluation run.

    A last line without its newline (a run killed while writing) is ignored, and
    removed from the file when ``repair`` is set. Repeated (row, metric) keys
    keep their first occurrence; with ``repair`` the others are removed from the
    file too, with one logged warning.

    Raises:
        FileNotFoundError: no such file.
        InputError: a malformed line, or a CSV without the friqa header.
    """
    p = Path(path)
    fmt = _format_of(p)
    if not p.is_file():
        raise FileNotFoundError(f"scores file '{p}' does not exist")
    if fmt == "parquet":
        from friqa.io.tables import read_table  # friqa.io imports torch

        return _first_of_each(ScoreRecord.from_dict(d) for d in read_table(p))
    data = p.read_bytes()
    complete = data[: data.rfind(b"\n") + 1] if not data.endswith(b"\n") else data
    if repair and len(complete) != len(data):
        with open(p, "r+b") as fh:
            fh.truncate(len(complete))
    lines = complete.decode("utf-8").splitlines()
    if fmt == "csv":
        if not lines:
            return []
        if lines[0].strip() != ",".join(SCORE_FIELDS):
            raise InputError(
                f"'{p}' does not start with the header '{','.join(SCORE_FIELDS)}'; "
                "it was not written by friqa evaluate"
            )
        lines = lines[1:]
    records: list[ScoreRecord] = []
    for k, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            records.append(_decode_line(line, fmt))
        except (ValueError, KeyError, json.JSONDecodeError) as exc:
            raise InputError(f"'{p}', line {k + 2}: malformed record ({exc})") from None
    out = _first_of_each(records)
    if repair and len(records) != len(out):
        rewrite_scores(p, out)
        logger.warning(
            "%s: removed %d duplicate (row, metric) result(s), kept the first of each",
            p,
            len(records) - len(out),
        )
    return out


def _first_of_each(records: Iterable[ScoreRecord]) -> list[ScoreRecord]:
    """``records`` without repeated (row, metric) keys, keeping the first occurrence."""
    out: list[ScoreRecord] = []
    seen: set[tuple[int, str]] = set()
    for rec in records:
        key = (rec.row, rec.metric)
        if key not in seen:
            seen.add(key)
            out.append(rec)
    return out


def rewrite_scores(path: Path, records: Sequence[ScoreRecord]) -> None:
    """Replace the scores file at ``path`` by ``records`` (atomically, via a temporary file)."""
    fmt = _format_of(path)
    if fmt == "parquet":
        from friqa.io.tables import write_table

        write_table([r.as_dict() for r in records], path, columns=SCORE_FIELDS)
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(scores_header(fmt) + encode_records(records, fmt), encoding="utf-8")
    os.replace(tmp, path)


class ScoresWriter:
    """Appends records to a scores file, flushed at every :meth:`write`; a context manager.

    A new (or empty) file gets its header first.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fmt = _format_of(path)
        if self.fmt == "parquet":
            raise InputError(f"'{path}': a Parquet file is written whole, not appended to")
        new_file = not path.exists() or path.stat().st_size == 0
        self._fh = open(path, "a", encoding="utf-8", newline="")  # noqa: SIM115 - closed in close()
        if new_file:
            self._fh.write(scores_header(self.fmt))
            self._fh.flush()

    def write(self, records: Sequence[ScoreRecord]) -> None:
        """Append ``records`` and flush them to the file."""
        if records:
            self._fh.write(encode_records(records, self.fmt))
            self._fh.flush()

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> ScoresWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
