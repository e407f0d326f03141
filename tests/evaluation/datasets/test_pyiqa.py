"""The importer of pyiqa's meta_info CSVs, on files written in pyiqa's format."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from dataset_files import touch

from friqa.cli.main import main
from friqa.evaluation.datasets import import_dataset, import_pyiqa, missing_files
from friqa.evaluation.manifest import read_manifest
from friqa.exceptions import DatasetError


def test_kadid_meta_info_is_mos_despite_its_header(tmp_path: Path) -> None:
    meta = tmp_path / "meta_info_KADID10kDataset.csv"
    meta.write_text(
        "ref_name,dist_name,dmos,std\nI01.png,I01_01_01.png,4.57,0.496\n"
        "I01.png,I01_10_05.png,1.17,0.373\n"
    )
    images = tmp_path / "kadid10k" / "images"
    for name in ("I01.png", "I01_01_01.png", "I01_10_05.png"):
        touch(images / name)
    m = import_pyiqa(tmp_path / "kadid10k", meta)
    assert m.higher_better and m.name == "kadid10k" and len(m) == 2
    assert m.rows[0].ref == "images/I01.png" and m.rows[0].dist == "images/I01_01_01.png"
    assert [r.distortion for r in m.rows] == ["gaussian_blur", "jpeg"]
    assert m.rows[1].score == 1.17 and m.rows[1].extra == {"std": "0.373"}
    assert m.extra_columns == ("std",)
    assert missing_files(m) == []
    with pytest.raises(DatasetError, match="contradicts"):
        import_pyiqa(tmp_path / "kadid10k", meta, higher_better=False)


def test_live_names_without_extension_and_dmos(tmp_path: Path) -> None:
    meta = tmp_path / "meta_info_LIVEIQADataset.csv"
    meta.write_text(
        "ref_name,dist_name,mos\nstudentsculpture.bmp,jp2k/img2,28.0\nrapids.bmp,wn/img3,34.0\n\n"
    )
    live = tmp_path / "LIVE"
    touch(live / "jp2k" / "img2.bmp")
    touch(live / "refimgs" / "studentsculpture.bmp")
    m = import_dataset("pyiqa", live, meta)
    assert not m.higher_better and m.name == "liveiqa"
    assert m.rows[0].dist == "jp2k/img2.bmp" and m.rows[0].ref == "refimgs/studentsculpture.bmp"
    assert m.rows[1].dist == "wn/img3"  # absent: kept as written
    assert [r.distortion for r in m.rows] == ["jp2k", "wn"]


def test_csiq_and_pipal_headers(tmp_path: Path) -> None:
    csiq = tmp_path / "meta_info_CSIQDataset.csv"
    csiq.write_text("ref_name,dist_name,dmos\n1600.png,1600.AWGN.1.png,0.061989\n")
    m = import_pyiqa(tmp_path, csiq, locate=False)
    assert not m.higher_better and m.rows[0].distortion == "awgn"
    pipal = tmp_path / "meta_info_PIPALDataset.csv"
    pipal.write_text("hq_name,dist_name,elo_score\nA0001.bmp,A0001_00_00.bmp,1400.5\n")
    m = import_pyiqa(tmp_path, pipal, locate=False)
    assert m.higher_better and m.rows[0].score == 1400.5 and m.rows[0].ref == "A0001.bmp"


def test_unknown_dataset_needs_the_direction_and_bad_files_fail(tmp_path: Path) -> None:
    own = tmp_path / "meta_info_MyFRDataset.csv"
    own.write_text("ref_name,dist_name,mos\na.png,b.png,3\n")
    with pytest.raises(DatasetError, match="higher_better"):
        import_pyiqa(tmp_path, own)
    assert import_pyiqa(tmp_path, own, higher_better=True).name == "myfr"
    with pytest.raises(DatasetError, match="needs the meta_info"):
        import_pyiqa(tmp_path)
    with pytest.raises(FileNotFoundError):
        import_pyiqa(tmp_path, tmp_path / "nope.csv")
    bad = tmp_path / "meta_info_TID2013Dataset.csv"
    bad.write_text("ref_name,dist_name\na.bmp,b.bmp\n")
    with pytest.raises(DatasetError, match="three columns"):
        import_pyiqa(tmp_path, bad)
    bad.write_text("ref_name,dist_name,mos\na.bmp,b.bmp,good\n")
    with pytest.raises(DatasetError, match="row 2"):
        import_pyiqa(tmp_path, bad)
    bad.write_text("ref_name,dist_name,mos\n")
    with pytest.raises(DatasetError, match="no rows"):
        import_pyiqa(tmp_path, bad)


def test_real_tid2013_pairs_through_the_cli(shared_data: Path, tmp_path: Path) -> None:
    """The tid2013-mini pairs written as pyiqa's meta_info, imported and found on disk."""
    root = shared_data / "tid2013-mini"
    with open(root / "manifest.csv") as fh:
        rows = list(csv.DictReader(fh))
    meta = tmp_path / "meta_info_TID2013Dataset.csv"
    with open(meta, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["ref_name", "dist_name", "mos", "std"])
        for r in rows:
            w.writerow([Path(r["ref"]).name, Path(r["dist"]).name, r["mos"], "0.1"])
    out = tmp_path / "manifest.csv"
    status = main(
        [
            "import-dataset",
            "--format",
            "pyiqa",
            "--root",
            str(root),
            "--scores",
            str(meta),
            "--out",
            str(out),
        ]
    )
    assert status == 0
    m = read_manifest(out)
    assert m.higher_better and len(m) == len(rows)
    for got, want in zip(m.rows, rows, strict=True):
        assert m.resolve(got.dist).resolve() == (root / want["dist"]).resolve()
        assert m.resolve(got.ref).resolve() == (root / want["ref"]).resolve()
        assert got.score == float(want["mos"])
    assert m.rows[0].distortion == "color_noise"  # type 02 of friqa's TID2013 table
    assert missing_files(m) == []
