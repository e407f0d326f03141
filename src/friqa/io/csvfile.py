"""The one reader of the CSV files users give friqa (``score --pairs``, manifests).

UTF-8 with or without a byte-order mark (Excel's "CSV UTF-8") is accepted;
anything else is a :class:`~friqa.exceptions.DatasetError` naming the file,
the line and the byte that is not UTF-8, with what to do.

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "pairs.csv"
    >>> _ = p.write_bytes(b"\\xef\\xbb\\xbfref,dist,mos\\na.png,b.png,3\\n")
    >>> table = read_csv_table(p, required=("ref", "dist"))
    >>> table.columns, table.rows[0]["mos"], table.lines[0]
    (('ref', 'dist', 'mos'), '3', 2)
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from friqa.exceptions import DatasetError

__all__ = ["decode_csv", "read_csv_text", "CsvTable", "read_csv_table"]


def decode_csv(raw: bytes, source: str) -> str:
    """``raw`` as text: UTF-8, a leading BOM dropped.

    Raises:
        DatasetError: ``source``, the line and the offending byte (1-based line,
            0-based byte offset in the file).
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DatasetError(
            f"{source}, line {line}: byte 0x{raw[exc.start]:02x} at offset {exc.start} is not "
            "UTF-8; save the file as UTF-8 (Excel: 'CSV UTF-8')"
        ) from None


def read_csv_text(path: str | os.PathLike[str], what: str = "CSV file") -> str:
    """The text of a CSV file (see :func:`decode_csv`); a missing file is a DatasetError."""
    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"{what} '{p}' does not exist")
    return decode_csv(p.read_bytes(), f"{what} '{p}'")


@dataclass(frozen=True)
class CsvTable:
    """A CSV file with a header: column names (stripped, lower case), rows as
    ``{column: stripped text}`` and each row's 1-based line number in the file."""

    columns: tuple[str, ...]
    rows: list[dict[str, str]]
    lines: list[int]


def read_csv_table(
    path: str | os.PathLike[str], *, required: Sequence[str] = (), what: str = "CSV file"
) -> CsvTable:
    """Read a CSV file with a header line; blank lines are skipped.

    Raises:
        DatasetError: not UTF-8, no header, a ``required`` column missing, or a row
            with more fields than the header (the message names the file and line).
    """
    source = f"{what} '{Path(path)}'"
    reader = csv.reader(io.StringIO(read_csv_text(path, what)))
    columns: tuple[str, ...] = ()
    for header in reader:
        if any(c.strip() for c in header):
            columns = tuple(c.strip().lower() for c in header)
            break
    missing = [c for c in required if c not in columns]
    if missing:
        raise DatasetError(
            f"{source}: expected a header with the column(s) {', '.join(required)}, "
            f"got '{','.join(columns)}'"
        )
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(columns):
            raise DatasetError(
                f"{source}, line {reader.line_num}: {len(values)} fields, the header has "
                f"{len(columns)}"
            )
        padded = [v.strip() for v in values] + [""] * (len(columns) - len(values))
        rows.append(dict(zip(columns, padded, strict=True)))
        lines.append(reader.line_num)
    return CsvTable(columns, rows, lines)
