"""The one CSV reader (issue 14, finding 4): UTF-8 with or without BOM, else a clear error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from friqa.cli.main import main
from friqa.evaluation.manifest import read_manifest
from friqa.exceptions import DatasetError
from friqa.io.csvfile import read_csv_table


def test_score_pairs_and_manifests_read_the_same_bytes_the_same_way(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    img = np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "r.png")
    Image.fromarray(255 - img).save(tmp_path / "d.png")
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfref,dist,mos\nr.png,d.png,3\n")
    assert main(["score", "--pairs", str(bom), "-m", "psnr", "--json"]) == 0
    assert '"psnr"' in capsys.readouterr().out
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"ref,dist,mos\nr.png,d.png,3\nr.png,d\xfc.png,2\n")
    assert main(["score", "--pairs", str(latin), "-m", "psnr"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1
    assert f"'{latin}', line 3: byte 0xfc at offset 34 is not UTF-8" in err
    manifest = tmp_path / "m.csv"
    manifest.write_bytes(latin.read_bytes().replace(b"ref,dist", b"dist,ref"))
    with pytest.raises(DatasetError, match="line 3: byte 0xfc at offset 34"):
        read_manifest(manifest)


def test_read_csv_table_rows_lines_and_errors(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("Ref, Dist ,extra\n\nA,B\nc,d,e\n", encoding="utf-8")
    t = read_csv_table(p, required=("ref", "dist"))
    assert t.columns == ("ref", "dist", "extra")
    assert t.rows == [
        {"ref": "A", "dist": "B", "extra": ""},
        {"ref": "c", "dist": "d", "extra": "e"},
    ]
    assert t.lines == [3, 4]
    with pytest.raises(DatasetError, match="column"):
        read_csv_table(p, required=("mos",))
    p.write_text("ref,dist\na,b,c\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="line 2: 3 fields"):
        read_csv_table(p)
    with pytest.raises(DatasetError, match="does not exist"):
        read_csv_table(tmp_path / "none.csv")
