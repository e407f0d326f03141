"""TID2008 and TID2013 importers, on small files in the release's format."""

from __future__ import annotations

from pathlib import Path

import pytest
from dataset_files import touch

from friqa.evaluation.datasets import (
    TID2013_DISTORTIONS,
    import_tid2008,
    import_tid2013,
    missing_files,
)
from friqa.evaluation.manifest import read_manifest
from friqa.exceptions import DatasetError


def test_tid2013_with_std_and_case_insensitive_files(tmp_path: Path) -> None:
    (tmp_path / "mos_with_names.txt").write_text(
        "5.51429 i01_01_1.bmp\n4.02 i01_24_5.bmp\r\n\n6.1 I25_10_3.BMP\n"
    )
    (tmp_path / "mos_std.txt").write_text("0.13\n0.2\n0.3\n")
    # the release mixes cases: I01.BMP but i25.bmp
    touch(tmp_path / "reference_images" / "I01.BMP")
    touch(tmp_path / "reference_images" / "i25.bmp")
    touch(tmp_path / "distorted_images" / "i01_01_1.bmp")
    touch(tmp_path / "distorted_images" / "i25_10_3.bmp")
    m = import_tid2013(tmp_path)
    assert m.higher_better and m.name == "tid2013" and len(m) == 3
    assert [r.score for r in m.rows] == [5.51429, 4.02, 6.1]
    assert [r.distortion for r in m.rows] == ["awgn", "sparse_sampling", "jpeg"]
    assert m.rows[2].ref == "reference_images/i25.bmp"
    assert m.rows[2].dist == "distorted_images/i25_10_3.bmp"
    assert m.rows[0].extra == {"level": "1", "mos_std": "0.13"}
    assert missing_files(m) == ["distorted_images/i01_24_5.bmp"]
    # written next to the images, the manifest reads back to the same files
    back = read_manifest(m.write(tmp_path / "manifest.csv"))
    assert [r.dist for r in back.rows] == [r.dist for r in m.rows]
    assert back.extra_columns == ("level", "mos_std")


def test_tid2008_has_17_types_and_rejects_others(tmp_path: Path) -> None:
    (tmp_path / "mos_with_names.txt").write_text("5.9706 I01_17_1.bmp\n")
    m = import_tid2008(tmp_path)
    assert m.rows[0].distortion == TID2013_DISTORTIONS[16] == "contrast_change"
    (tmp_path / "mos_with_names.txt").write_text("5.9706 I01_18_1.bmp\n")
    with pytest.raises(DatasetError, match="distortion type 18"):
        import_tid2008(tmp_path)
    (tmp_path / "mos_with_names.txt").write_text("5.9706 picture.bmp\n")
    with pytest.raises(DatasetError, match="not a TID image name"):
        import_tid2008(tmp_path)


def test_missing_score_file_is_explained(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="mos_with_names.txt"):
        import_tid2013(tmp_path)
