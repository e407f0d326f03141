"""PIPAL: the label text files, Elo ratings (higher = better)."""

from __future__ import annotations

from pathlib import Path

from friqa.evaluation.datasets.common import PathLike, finish_manifest, parse_float, read_text
from friqa.evaluation.datasets.locate import Locator
from friqa.evaluation.manifest import Manifest, ManifestRow
from friqa.exceptions import DatasetError

__all__ = ["import_pipal"]


def import_pipal(
    root: PathLike,
    scores: PathLike | None = None,
    *,
    higher_better: bool | None = None,
    locate: bool = True,
) -> Manifest:
    """PIPAL (Gu et al., ECCV 2020; NTIRE 2021 release).

    Reads the label text files: one file per reference (``Train_Label/A0001.txt``)
    or one file for a split, with lines ``"A0001_00_00.bmp,1520.0648"``
    (distorted image, Elo rating; higher = better). The reference of
    ``A0001_TT_LL.bmp`` is ``A0001.bmp`` in ``Train_Ref/`` (or ``Val_Ref/``,
    ``Test_Ref/``); distorted images are searched under ``root`` by name (the
    release splits them over ``Distortion_1..4``). Distortion = ``type_TT``.

    Args:
        scores: a label folder or file; default ``Train_Label/`` under ``root``.
    """
    base = Path(root)
    if scores is None:
        label_path = next(
            (base / d for d in ("Train_Label", "Val_Label", "Test_Label") if (base / d).is_dir()),
            None,
        )
        if label_path is None:
            raise FileNotFoundError(
                f"PIPAL: no Train_Label/ folder under '{base}'; give the label folder or file"
            )
    else:
        label_path = Path(scores) if Path(scores).exists() else base / scores
        if not label_path.exists():
            raise FileNotFoundError(f"PIPAL: label path '{scores}' does not exist")
    files = sorted(label_path.glob("*.txt")) if label_path.is_dir() else [label_path]
    if not files:
        raise DatasetError(f"PIPAL: no .txt label files in '{label_path}'")
    loc = Locator(base, locate)
    rows: list[ManifestRow] = []
    for f in files:
        for k, line in enumerate(read_text(f).splitlines()):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split(",")]
            if len(parts) != 2:
                raise DatasetError(
                    f"{f.name}, line {k + 1}: expected 'name.bmp,score', got '{line}'"
                )
            name, score = parts
            stem = Path(name).stem
            fields = stem.split("_")
            ref_name = fields[0] + Path(name).suffix
            dtype = f"type_{fields[1]}" if len(fields) >= 3 else ""
            rows.append(
                ManifestRow(
                    dist=loc.find(f"Train_Dist/{name}", f"Distortion/{name}"),
                    ref=loc.find(
                        f"Train_Ref/{ref_name}", f"Val_Ref/{ref_name}", f"Test_Ref/{ref_name}"
                    ),
                    score=parse_float(score, f"{f.name}, line {k + 1}"),
                    distortion=dtype,
                    extra={"level": fields[2] if len(fields) >= 3 else ""},
                )
            )
    return finish_manifest(rows, base, "pipal", ["level"], higher_better=True, given=higher_better)
