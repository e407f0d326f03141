"""Writing the per-image rows of a folder scoring: CSV, JSON or Parquet by extension.

TODO(lead): when ``friqa.io.tables.write_table`` (branch ``ray``) is merged, make
:func:`write_folder_table` call it and delete the format code below; the columns
are the same in every format, as that writer expects.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from friqa.exceptions import FriqaError, InputError
from friqa.formatting import json_safe

__all__ = ["FOLDER_TABLE_FORMATS", "write_folder_table"]

#: Extensions :func:`write_folder_table` knows.
FOLDER_TABLE_FORMATS = (".csv", ".json", ".parquet")


def write_folder_table(rows: Sequence[Mapping[str, Any]], path: str | os.PathLike[str]) -> Path:
    """Write ``rows`` (one dict per image, same keys) to ``path``: ``.csv``, ``.json`` or
    ``.parquet`` (needs pyarrow). Returns the path."""
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in FOLDER_TABLE_FORMATS:
        raise InputError(f"--out {out}: use a {', '.join(FOLDER_TABLE_FORMATS)} file name")
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".json":
        out.write_text(json.dumps(json_safe(list(rows)), indent=2) + "\n")
    elif suffix == ".csv":
        with open(out, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    else:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as exc:
            raise FriqaError(
                "Parquet output needs pyarrow, which is not installed: pip install pyarrow "
                "(or write .csv / .json)"
            ) from exc
        table = pa.table({c: [row.get(c) for row in rows] for c in columns})
        pq.write_table(table, out)
    return out
