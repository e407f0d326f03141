"""The ``meta_info`` CSVs of pyiqa (IQA-PyTorch) full-reference datasets.

pyiqa describes a full-reference dataset by a CSV
(``meta_info_<Name>Dataset.csv``) whose columns are used by *position*: the
reference image, the distorted image, the subjective score, then optional
extras (``std``). The header names vary and do not say the score's direction
(KADID-10k's ``dmos`` column holds MOS; LIVE's ``mos`` column holds DMOS), so
the direction is taken from the dataset named in the file name, as pyiqa's own
dataset configuration states it, or from ``higher_better``.

Image paths are relative to the dataset folder (pyiqa's ``dataroot_target``;
references may sit in another folder, ``dataroot_ref``, which the locator
finds under ``root``). LIVE's distorted names have no extension (``jp2k/img2``);
``.bmp`` and ``.png`` are tried.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from pathlib import Path

from friqa.evaluation.datasets.common import PathLike, finish_manifest, parse_float, read_text
from friqa.evaluation.datasets.kadid import KADID10K_DISTORTIONS
from friqa.evaluation.datasets.locate import Locator
from friqa.evaluation.datasets.tid import TID2013_DISTORTIONS
from friqa.evaluation.manifest import Manifest, ManifestRow
from friqa.exceptions import DatasetError

__all__ = ["PYIQA_DIRECTION", "import_pyiqa"]

#: Score direction (True: higher = better) of pyiqa's full-reference meta_info files,
#: keyed by the lower-cased ``<Name>`` of ``meta_info_<Name>Dataset.csv`` (pyiqa's
#: ``default_dataset_configs.yml``, ``lower_better``).
PYIQA_DIRECTION: Mapping[str, bool] = {
    "csiq": False,
    "liveiqa": False,
    "livemd": False,
    "tid2008": True,
    "tid2013": True,
    "kadid10k": True,
    "pipal": True,
}

_META_NAME = re.compile(r"^meta_info_(.+?)(dataset)?$", re.IGNORECASE)
_CODE_NAME = re.compile(r"^i\d+_(\d+)_\w+$", re.IGNORECASE)  # KADID / TID: I01_03_4
_CSIQ_NAME = re.compile(r"^[^.]+\.([A-Za-z0-9]+)\.\d+$")  # 1600.AWGN.1


def _dataset_key(path: Path) -> str:
    m = _META_NAME.match(path.stem)
    return (m.group(1) if m else path.stem).lower()


def _distortion(dist: str, dataset: str) -> str:
    """The distortion type from a distorted image's path (folder, or the name's code)."""
    p = Path(dist)
    if len(p.parts) > 1:
        return p.parts[-2]
    stem = p.stem if p.suffix.lower() in (".bmp", ".png", ".jpg") else p.name
    code = _CODE_NAME.match(stem)
    if code:
        k = int(code.group(1))
        table = KADID10K_DISTORTIONS if dataset.startswith("kadid") else TID2013_DISTORTIONS
        return table[k - 1] if 1 <= k <= len(table) else code.group(1)
    csiq = _CSIQ_NAME.match(stem)
    return csiq.group(1).lower() if csiq else ""


def _candidates(name: str) -> list[str]:
    if Path(name).suffix:
        return [name]
    return [name, f"{name}.bmp", f"{name}.png"]


def import_pyiqa(
    root: PathLike,
    scores: PathLike | None = None,
    *,
    higher_better: bool | None = None,
    locate: bool = True,
) -> Manifest:
    """A pyiqa ``meta_info`` CSV of a full-reference dataset (``ref_name,dist_name,score,...``).

    ``scores`` is the CSV (required); ``root`` the dataset folder the image names are
    relative to. Columns are read by position: reference, distorted image, score; further
    columns are kept as extras under their header names. The score direction comes from
    the file name for pyiqa's datasets (:data:`PYIQA_DIRECTION`; ``higher_better`` must
    then agree), otherwise ``higher_better`` is required. Distortion types come from the
    distorted image's folder (LIVE), or its name (KADID-10k, TID, CSIQ).
    """
    if scores is None:
        raise DatasetError("the pyiqa format needs the meta_info CSV file (--scores FILE.csv)")
    path = Path(scores)
    if not path.is_file():
        raise FileNotFoundError(f"pyiqa meta_info file '{path}' does not exist")
    dataset = _dataset_key(path)
    known = PYIQA_DIRECTION.get(dataset)
    if known is None and higher_better is None:
        raise DatasetError(
            f"the direction of the scores in '{path.name}' is not known (known: "
            f"{', '.join(sorted(PYIQA_DIRECTION))}); pass higher_better=True for MOS or "
            "False for DMOS (CLI: --score-kind mos|dmos)"
        )
    table = list(csv.reader(io.StringIO(read_text(path))))
    if not table or len(table[0]) < 3:
        raise DatasetError(
            f"{path.name}: expected a header of at least three columns "
            "(reference, distorted image, score), as pyiqa's meta_info files have"
        )
    header = [h.strip() for h in table[0]]
    extra_names = header[3:]
    base = Path(root)
    loc = Locator(base, locate)
    rows: list[ManifestRow] = []
    for k, cells in enumerate(table[1:]):
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if len(cells) < 3:
            raise DatasetError(f"{path.name}, row {k + 2}: expected at least 3 columns")
        ref, dist = cells[0], cells[1]
        rows.append(
            ManifestRow(
                dist=loc.find(*_candidates(dist)),
                ref=loc.find(*_candidates(ref)),
                score=parse_float(cells[2], f"{path.name}, row {k + 2}"),
                distortion=_distortion(dist, dataset),
                extra={
                    n: (cells[3 + i] if 3 + i < len(cells) else "")
                    for i, n in enumerate(extra_names)
                },
            )
        )
    direction = known if known is not None else bool(higher_better)
    given = higher_better if known is not None else None
    return finish_manifest(rows, base, dataset, extra_names, higher_better=direction, given=given)
