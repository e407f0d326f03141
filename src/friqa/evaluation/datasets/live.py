"""LIVE Image Quality Assessment Database release 2: ``.mat`` score files (DMOS)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from friqa.evaluation.datasets.common import PathLike, finish_manifest
from friqa.evaluation.datasets.locate import Locator, find_score_file
from friqa.evaluation.manifest import Manifest, ManifestRow
from friqa.exceptions import DatasetError

__all__ = ["LIVE_FOLDERS", "import_live"]

#: LIVE release 2: distortion folders and their image counts, in the order of ``dmos.mat``.
LIVE_FOLDERS: tuple[tuple[str, int], ...] = (
    ("jp2k", 227),
    ("jpeg", 233),
    ("wn", 174),
    ("gblur", 174),
    ("fastfading", 174),
)


def _mat_strings(value: Any) -> list[str]:
    out = []
    for el in np.asarray(value, dtype=object).ravel():
        arr = np.asarray(el).ravel()
        out.append(str(arr[0]) if arr.size else "")
    return out


def import_live(
    root: PathLike,
    scores: PathLike | None = None,
    *,
    higher_better: bool | None = None,
    locate: bool = True,
    realigned: bool | None = None,
    include_references: bool = False,
) -> Manifest:
    """LIVE Image Quality Assessment Database release 2 (Sheikh et al., IEEE TIP 15(11), 2006).

    Reads ``refnames_all.mat`` (``refnames_all``: the reference of each of the 982
    images) and either ``dmos_realigned.mat`` (``dmos_new``, ``dmos_std``,
    ``orgs``; the realigned scores most papers use) or ``dmos.mat`` (``dmos``,
    ``orgs``), with ``scipy.io.loadmat``. Entries follow the folders
    :data:`LIVE_FOLDERS` in order, ``<folder>/img<k>.bmp``; references are in
    ``refimgs/``. Scores are DMOS (higher = worse). The 203 entries with
    ``orgs == 1`` are the undistorted references and are dropped unless
    ``include_references`` is set.

    Args:
        scores: must be None: the ``.mat`` files are read from ``root``.
        realigned: True: ``dmos_realigned.mat``; False: ``dmos.mat``; None: the
            realigned file when present.
        include_references: keep the entries of the undistorted references.
    """
    from scipy import io as sio

    if scores is not None:
        raise DatasetError("the LIVE importer reads dmos[_realigned].mat from the root folder")
    base = Path(root)
    if realigned is None:
        realigned = (base / "dmos_realigned.mat").is_file()
    mat_name = "dmos_realigned.mat" if realigned else "dmos.mat"
    mat_path = find_score_file(base, None, [mat_name], "LIVE")
    ref_path = find_score_file(base, None, ["refnames_all.mat"], "LIVE")
    try:
        scores_mat = sio.loadmat(mat_path)
        refs_mat = sio.loadmat(ref_path)
    except (ValueError, OSError, NotImplementedError) as exc:
        raise DatasetError(f"LIVE: cannot read the .mat files: {exc}") from None
    key = "dmos_new" if realigned else "dmos"
    for needed, mat, fname in ((key, scores_mat, mat_name), ("orgs", scores_mat, mat_name)):
        if needed not in mat:
            raise DatasetError(f"LIVE: '{fname}' has no variable '{needed}'")
    if "refnames_all" not in refs_mat:
        raise DatasetError("LIVE: 'refnames_all.mat' has no variable 'refnames_all'")
    dmos = np.asarray(scores_mat[key], dtype=np.float64).ravel()
    orgs = np.asarray(scores_mat["orgs"]).ravel().astype(bool)
    std = (
        np.asarray(scores_mat["dmos_std"], dtype=np.float64).ravel()
        if realigned and "dmos_std" in scores_mat
        else None
    )
    refnames = _mat_strings(refs_mat["refnames_all"])
    total = sum(n for _, n in LIVE_FOLDERS)
    if not (dmos.size == orgs.size == len(refnames) == total):
        raise DatasetError(
            f"LIVE: expected {total} entries in {key}, orgs and refnames_all, got "
            f"{dmos.size}, {orgs.size} and {len(refnames)}"
        )
    loc = Locator(base, locate)
    rows: list[ManifestRow] = []
    k = 0
    for folder, count in LIVE_FOLDERS:
        for j in range(1, count + 1):
            if include_references or not orgs[k]:
                extra = {"orgs": str(int(orgs[k]))}
                if std is not None:
                    extra["dmos_std"] = repr(float(std[k]))
                rows.append(
                    ManifestRow(
                        dist=loc.find(f"{folder}/img{j}.bmp"),
                        ref=loc.find(f"refimgs/{refnames[k]}"),
                        score=float(dmos[k]),
                        distortion=folder,
                        extra=extra,
                    )
                )
            k += 1
    extra_cols = ["orgs", "dmos_std"] if std is not None else ["orgs"]
    return finish_manifest(rows, base, "live", extra_cols, higher_better=False, given=higher_better)
