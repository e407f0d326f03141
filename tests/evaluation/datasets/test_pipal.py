"""The PIPAL importer, on label files in the release's format."""

from __future__ import annotations

from pathlib import Path

import pytest
from dataset_files import touch

from friqa.evaluation.datasets import import_pipal
from friqa.exceptions import DatasetError


def test_pipal_label_folder_and_scattered_images(tmp_path: Path) -> None:
    labels = tmp_path / "Train_Label"
    labels.mkdir()
    (labels / "A0001.txt").write_text("A0001_00_00.bmp,1520.0648\nA0001_10_03.bmp,1437.08\n")
    (labels / "A0002.txt").write_text("A0002_06_25.bmp,1348.9856\n")
    touch(tmp_path / "Distortion_3" / "A0001_10_03.bmp")
    touch(tmp_path / "Train_Ref" / "A0001.bmp")
    m = import_pipal(tmp_path)
    assert m.higher_better and len(m) == 3
    assert m.rows[1].dist == "Distortion_3/A0001_10_03.bmp"
    assert m.rows[1].ref == "Train_Ref/A0001.bmp"
    assert m.rows[1].distortion == "type_10" and m.rows[1].extra == {"level": "03"}
    assert m.rows[2].score == 1348.9856 and m.rows[2].ref == "Train_Ref/A0002.bmp"
    single = import_pipal(tmp_path, labels / "A0002.txt")
    assert len(single) == 1
    (labels / "A0003.txt").write_text("A0003_00_00.bmp 12\n")
    with pytest.raises(DatasetError, match="name.bmp,score"):
        import_pipal(tmp_path)
