"""write_table / read_table: one table, four formats, the same columns; atomic; pyarrow optional."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

from friqa.exceptions import FriqaError, InputError
from friqa.io.tables import read_table, write_table

ROWS = [
    {"row": 0, "metric": "psnr", "score": 31.25, "status": "ok"},
    {"row": 1, "metric": "psnr", "score": math.inf, "status": "ok"},
    {"row": 2, "metric": "ssim", "score": math.nan, "status": "failed"},
]


def _same(a: object, b: object) -> bool:
    fa, fb = float(a), float(b)  # type: ignore[arg-type]
    return (math.isnan(fa) and math.isnan(fb)) or fa == fb


@pytest.mark.parametrize("ext", ["csv", "json", "jsonl", "parquet"])
def test_round_trip_keeps_columns_and_values(tmp_path: Path, ext: str) -> None:
    if ext == "parquet":
        pytest.importorskip("pyarrow", reason="Parquet needs pyarrow (the ray extra)")
    path = write_table(ROWS, tmp_path / f"t.{ext}")
    back = read_table(path)
    assert [list(r) for r in back] == [list(ROWS[0])] * 3
    for got, want in zip(back, ROWS, strict=True):
        assert int(got["row"]) == want["row"] and got["metric"] == want["metric"]
        assert got["status"] == want["status"] and _same(got["score"], want["score"])
    assert [p.name for p in tmp_path.iterdir()] == [f"t.{ext}"]  # no temporary file left


def test_columns_choose_and_order(tmp_path: Path) -> None:
    path = write_table(ROWS, tmp_path / "t.csv", columns=["metric", "row"])
    assert path.read_text().splitlines()[:2] == ["metric,row", "psnr,0"]


def test_a_data_frame_is_accepted(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas", reason="needs pandas")
    path = write_table(pd.DataFrame(ROWS), tmp_path / "t.jsonl")
    assert [r["metric"] for r in read_table(path)] == ["psnr", "psnr", "ssim"]


def test_unknown_extension_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown table format"):
        write_table(ROWS, tmp_path / "t.xlsx")


def test_parquet_without_pyarrow_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(FriqaError, match=r"friqa\[ray\]"):
        write_table(ROWS, tmp_path / "t.parquet")
    assert not list(tmp_path.iterdir())
