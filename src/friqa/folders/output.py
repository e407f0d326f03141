"""Writing the per-image rows of a folder scoring: CSV, JSON or Parquet by extension.

The rows go through the one table writer, :func:`friqa.io.tables.write_table`,
with the union of the rows' keys as columns (failed rows carry an error column).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from friqa.exceptions import InputError
from friqa.io.tables import write_table

__all__ = ["FOLDER_TABLE_FORMATS", "write_folder_table"]

#: Extensions :func:`write_folder_table` knows.
FOLDER_TABLE_FORMATS = (".csv", ".json", ".parquet")


def write_folder_table(rows: Sequence[Mapping[str, Any]], path: str | os.PathLike[str]) -> Path:
    """Write ``rows`` (one dict per image) to ``path``: ``.csv``, ``.json`` or ``.parquet``
    (needs pyarrow). Returns the path."""
    out = Path(path)
    if out.suffix.lower() not in FOLDER_TABLE_FORMATS:
        raise InputError(f"--out {out}: use a {', '.join(FOLDER_TABLE_FORMATS)} file name")
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_table(rows, out)
