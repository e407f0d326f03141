"""The LIVE release 2 importer, on .mat files written here in the release's format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import io as sio

from friqa.evaluation.datasets import LIVE_FOLDERS, import_live
from friqa.exceptions import DatasetError


def _write_live(folder: Path, *, realigned: bool) -> tuple[np.ndarray, np.ndarray, list[str]]:
    total = sum(n for _, n in LIVE_FOLDERS)
    rng = np.random.default_rng(0)
    dmos = rng.uniform(0, 100, total)
    orgs = np.zeros(total)
    orgs[[0, 5, 300, 981]] = 1
    refs = [f"ref{k % 29}.bmp" for k in range(total)]
    names = np.empty((1, total), dtype=object)
    names[0, :] = refs
    sio.savemat(folder / "refnames_all.mat", {"refnames_all": names})
    if realigned:
        sio.savemat(
            folder / "dmos_realigned.mat",
            {"dmos_new": dmos[None], "dmos_std": dmos[None] / 10, "orgs": orgs[None]},
        )
    else:
        sio.savemat(folder / "dmos.mat", {"dmos": dmos[None], "orgs": orgs[None]})
    return dmos, orgs, refs


def test_live_release2_from_dmos_mat(tmp_path: Path) -> None:
    dmos, orgs, refs = _write_live(tmp_path, realigned=False)
    m = import_live(tmp_path)
    assert not m.higher_better and m.name == "live"
    assert len(m) == 982 - 4
    first = m.rows[0]  # entry 1 (entry 0 is a reference copy)
    assert first.dist == "jp2k/img2.bmp" and first.ref == f"refimgs/{refs[1]}"
    assert first.score == pytest.approx(dmos[1])
    # entry 227 is the first JPEG image
    jpeg = next(r for r in m.rows if r.distortion == "jpeg")
    assert jpeg.dist == "jpeg/img1.bmp" and jpeg.score == pytest.approx(dmos[227])
    last = m.rows[-1]  # entry 980 = fastfading/img173.bmp
    assert last.dist == "fastfading/img173.bmp" and last.score == pytest.approx(dmos[980])
    assert {r.distortion for r in m.rows} == {f for f, _ in LIVE_FOLDERS}
    with_refs = import_live(tmp_path, include_references=True)
    assert len(with_refs) == 982 and with_refs.rows[0].extra["orgs"] == "1"


def test_live_prefers_realigned_scores(tmp_path: Path) -> None:
    _write_live(tmp_path, realigned=False)
    dmos, _, _ = _write_live(tmp_path, realigned=True)  # same orgs, new scores
    m = import_live(tmp_path)
    assert m.rows[0].extra["dmos_std"] == repr(float(dmos[1] / 10))
    assert m.rows[0].score == pytest.approx(dmos[1])
    assert "dmos_std" not in import_live(tmp_path, realigned=False).rows[0].extra


def test_live_wrong_sizes_are_rejected(tmp_path: Path) -> None:
    sio.savemat(tmp_path / "dmos.mat", {"dmos": np.ones((1, 10)), "orgs": np.zeros((1, 10))})
    sio.savemat(tmp_path / "refnames_all.mat", {"refnames_all": np.array([["a.bmp"] * 10])})
    with pytest.raises(DatasetError, match="expected 982 entries"):
        import_live(tmp_path)
