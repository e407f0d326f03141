"""Pieces every dataset importer uses: reading text, parsing numbers, the finished manifest."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from friqa.evaluation.manifest import Manifest, ManifestRow
from friqa.exceptions import DatasetError
from friqa.io.csvfile import decode_csv

__all__ = ["PathLike", "read_text", "parse_float", "finish_manifest"]

PathLike = str | os.PathLike[str]


def read_text(path: Path) -> str:
    """The text of a release's score file: UTF-8 with or without BOM
    (:func:`friqa.io.csvfile.decode_csv`), else Latin-1, as some releases were saved."""
    raw = path.read_bytes()
    try:
        return decode_csv(raw, str(path))
    except DatasetError:
        return raw.decode("latin-1")


def parse_float(text: str, where: str) -> float:
    """``float(text)``, or a :class:`~friqa.exceptions.DatasetError` saying ``where``."""
    try:
        return float(text)
    except ValueError:
        raise DatasetError(f"{where}: '{text}' is not a number") from None


def finish_manifest(
    rows: list[ManifestRow],
    root: Path,
    name: str,
    extra: Sequence[str],
    *,
    higher_better: bool,
    given: bool | None = None,
) -> Manifest:
    """The manifest of an importer, checked: it has rows, and the score kind ``given``
    (True: MOS, False: DMOS, None: not given) agrees with the release's ``higher_better``.
    """
    if not rows:
        raise DatasetError(f"{name}: the score file has no rows")
    if given is not None and given != higher_better:
        raise DatasetError(
            f"{name} scores are {'MOS' if higher_better else 'DMOS'}; "
            "the score kind given contradicts the release"
        )
    return Manifest(rows, higher_better, root, name, tuple(extra))
