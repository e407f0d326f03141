"""The manifest CSV: parsing, validation, writing with relocated paths, fingerprints."""

from __future__ import annotations

from pathlib import Path

import pytest

from friqa.evaluation.manifest import Manifest, ManifestRow, parse_manifest, read_manifest
from friqa.exceptions import DatasetError


def test_shared_manifests_parse(shared_data: Path) -> None:
    for rel in ("tid2013-mini/manifest.csv", "pairs/kadid/manifest.csv"):
        m = read_manifest(shared_data / rel)
        assert m.higher_better and m.root == (shared_data / rel).parent.absolute()
        for row in m.rows:
            assert m.resolve(row.dist).is_file() and m.resolve(row.ref).is_file()
            assert row.distortion
    tid = read_manifest(shared_data / "tid2013-mini" / "manifest.csv")
    assert tid.name == "tid2013-mini" and len(tid) == 5
    assert list(tid.groups()) == ["reference_images/i02.bmp", "reference_images/i06.bmp"]
    assert tid.groups()["reference_images/i06.bmp"] == [1, 2, 3, 4]


def test_dmos_column_extra_columns_and_blank_lines(tmp_path: Path) -> None:
    p = tmp_path / "m.csv"
    p.write_text("\ufeffDist,Ref,DMOS,level,std\n\na.png,r.png,12.5,3,0.1\nb.png,r.png,2,1,0.2\n")
    m = read_manifest(p, name="x")
    assert not m.higher_better and m.score_column == "dmos" and m.name == "x"
    assert m.extra_columns == ("level", "std")
    assert m.rows[0] == ManifestRow("a.png", "r.png", 12.5, "", {"level": "3", "std": "0.1"})


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "empty"),
        ("dist,ref,score\na,b,1\n", "exactly one score column"),
        ("dist,ref,mos,dmos\na,b,1,2\n", "exactly one score column"),
        ("dist,mos\na,1\n", "missing column"),
        ("dist,ref,mos\n", "no rows"),
        ("dist,ref,mos\na,b,high\n", "line 2: the mos value 'high' is not a number"),
        ("dist,ref,mos\na,b,nan\n", "not finite"),
        ("dist,ref,mos\na,b\n", "line 2: 2 fields"),
        ("dist,ref,mos\na,b,1\nc,d,2\na,b,3\n", "rows 1 and 3 are the same pair"),
        ("dist,ref,mos\n,b,1\n", "empty dist"),
        ("dist,ref,mos,mos\na,b,1,1\n", "duplicate column names"),
    ],
)
def test_malformed_manifests_are_rejected(text: str, match: str) -> None:
    with pytest.raises(DatasetError, match=match):
        parse_manifest(text)


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_manifest(tmp_path / "nope.csv")


def test_write_relocates_paths_and_round_trips(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "d").mkdir(parents=True)
    rows = [
        ManifestRow("d/a.png", "r.png", 3.5, "blur", {"level": "1"}),
        ManifestRow("d/b.png", "r.png", 1.0, "noise", {"level": "2"}),
    ]
    m = Manifest(rows, higher_better=False, root=data, name="t", extra_columns=("level",))
    out = m.write(tmp_path / "elsewhere" / "manifest.csv")
    text = out.read_text()
    assert text.splitlines()[0] == "dist,ref,dmos,distortion,level"
    assert text.splitlines()[1].startswith("../data/d/a.png,../data/r.png,3.5,blur,1")
    back = read_manifest(out)
    assert [back.resolve(r.dist).resolve() for r in back.rows] == [
        (data / r.dist).resolve() for r in rows
    ]
    assert not back.higher_better and back.rows[1].extra == {"level": "2"}
    assert back.fingerprint() != m.fingerprint()  # paths differ as written
    same = Manifest(rows, False, tmp_path, "other", ("level",))
    assert same.fingerprint() == m.fingerprint()  # root and name are not content
    changed = Manifest([rows[0], ManifestRow("d/b.png", "r.png", 1.5)], False, data)
    assert changed.fingerprint() != m.fingerprint()


def test_empty_manifest_object_is_rejected() -> None:
    with pytest.raises(DatasetError, match="no rows"):
        Manifest([], True)
