"""Tables of results (one dict per row) as CSV, JSON, JSON lines or Parquet, chosen by extension.

One writer for every command that saves a table, so that the same columns come
out whatever the format: :func:`write_table` and its reader :func:`read_table`.
Files are written atomically (a temporary file in the same folder, then a
rename), so a reader never sees half a table. Numbers in CSV are written as
Python's ``repr`` (exact round trip; ``nan``, ``inf``), as in the scores files
of ``friqa evaluate``; JSON writes non-finite numbers as text. Parquet needs
pyarrow (``pip install "friqa[ray]"`` or ``pip install pyarrow``), imported only
when a Parquet file is read or written.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = write_table([{"name": "a", "score": 0.5}], path)
    >>> path.read_text()
    'name,score\\na,0.5\\n'
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from friqa.exceptions import FriqaError, InputError
from friqa.formatting import format_float, json_safe

__all__ = ["TABLE_FORMATS", "table_format", "require_pyarrow", "write_table", "read_table"]

#: Extension -> format name of the tables :func:`write_table` writes.
TABLE_FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".parquet": "parquet",
}


def table_format(path: str | os.PathLike[str]) -> str:
    """The format of a table file from its extension; InputError for an unknown one."""
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_FORMATS:
        raise InputError(
            f"'{path}': unknown table format '{suffix}'; use one of {', '.join(TABLE_FORMATS)}"
        )
    return TABLE_FORMATS[suffix]


def require_pyarrow() -> ModuleType:
    """Import pyarrow or raise a :class:`FriqaError` that says how to install it."""
    try:
        import pyarrow
    except ImportError as exc:
        raise FriqaError(
            "Parquet files need pyarrow, which is not installed: pip install 'friqa[ray]' "
            "(or pip install pyarrow), or choose CSV or JSON lines (--format csv)"
        ) from exc
    return pyarrow


def _as_rows(table: Iterable[Mapping[str, Any]] | Any) -> list[dict[str, Any]]:
    """A list of dicts from a sequence of mappings or a data frame (``to_dict("records")``)."""
    to_dict = getattr(table, "to_dict", None)
    if callable(to_dict) and not isinstance(table, Mapping):
        return [dict(r) for r in to_dict("records")]
    return [dict(r) for r in table]


def _csv_text(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(
            [format_float(v) if isinstance(v, float) else v for v in (r.get(c) for c in columns)]
        )
    return buf.getvalue()


def _write_parquet(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], path: Path) -> None:
    require_pyarrow()
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = {c: [r.get(c) for r in rows] for c in columns}
    pq.write_table(pa.table(data), path)


def write_table(
    table: Iterable[Mapping[str, Any]] | Any,
    path: str | os.PathLike[str],
    *,
    columns: Sequence[str] | None = None,
) -> Path:
    """Write ``table`` to ``path`` as CSV, JSON, JSON lines or Parquet (by its extension).

    Args:
        table: rows as mappings, or a pandas data frame.
        path: ``.csv``, ``.json`` (a list of objects), ``.jsonl`` or ``.parquet``.
        columns: the columns, in order (default: every key of the rows, in the order
            first seen; a row without a key leaves that cell empty).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        InputError: an unknown extension.
        FriqaError: Parquet without pyarrow.
    """
    p = Path(path)
    fmt = table_format(p)
    rows = _as_rows(table)
    cols = list(columns) if columns is not None else list(dict.fromkeys(k for r in rows for k in r))
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    try:
        if fmt == "parquet":
            _write_parquet(rows, cols, tmp)
        else:
            if fmt == "csv":
                text = _csv_text(rows, cols)
            elif fmt == "json":
                text = (
                    json.dumps(
                        [json_safe({c: r.get(c) for c in cols}) for r in rows], ensure_ascii=False
                    )
                    + "\n"
                )
            else:
                text = "".join(
                    json.dumps(json_safe({c: r.get(c) for c in cols}), ensure_ascii=False) + "\n"
                    for r in rows
                )
            tmp.write_text(text, encoding="utf-8", newline="")
        os.replace(tmp, p)
    finally:
        tmp.unlink(missing_ok=True)
    return p


def read_table(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The rows of a table written by :func:`write_table` (CSV values stay text)."""
    p = Path(path)
    fmt = table_format(p)
    if fmt == "parquet":
        require_pyarrow()
        import pyarrow.parquet as pq

        return list(pq.read_table(p).to_pylist())
    text = p.read_text(encoding="utf-8")
    if fmt == "csv":
        return [dict(r) for r in csv.DictReader(io.StringIO(text))]
    if fmt == "json":
        return list(json.loads(text))
    return [json.loads(line) for line in text.splitlines() if line.strip()]
