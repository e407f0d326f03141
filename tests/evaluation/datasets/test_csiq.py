"""The CSIQ importer and the .xlsx reader, on a genuine small workbook and text exports."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from dataset_files import touch

from friqa.evaluation.datasets import import_csiq, read_xlsx_sheet
from friqa.exceptions import DatasetError

_CSIQ_ROWS = [
    ("image", "dst_idx", "dst_type", "dst_lev", "dmos_std", "dmos"),
    (1600, 1, "noise", 1, 0.061, 0.062),
    (1600, 3, "jpeg 2000", 2, 0.05, 0.2),
    ("aerial_city", 6, "contrast", 4, 0.02, 0.4685),
    ("aerial_city", 5, "blur", 5, 0.1, 0.91),
]


def _write_xlsx(path: Path, sheets: dict[str, list[tuple[object, ...]]]) -> None:
    """A minimal but genuine Office Open XML workbook (shared strings, numeric cells)."""
    strings: list[str] = []

    def cell(ref: str, v: object) -> str:
        if isinstance(v, str):
            if v not in strings:
                strings.append(v)
            return f'<c r="{ref}" t="s"><v>{strings.index(v)}</v></c>'
        return f'<c r="{ref}"><v>{float(v)!r}</v></c>'  # numbers stored as floats, 1600.0

    sheet_xml = {}
    for name, rows in sheets.items():
        body = "".join(
            f'<row r="{i + 1}">'
            + "".join(cell(f"{chr(65 + j)}{i + 1}", v) for j, v in enumerate(r))
            + "</row>"
            for i, r in enumerate(rows)
        )
        sheet_xml[name] = (
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f"<sheetData>{body}</sheetData></worksheet>"
        )
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    wb = (
        f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
        + "".join(
            f'<sheet name="{escape(n)}" sheetId="{k + 1}" r:id="rId{k + 1}"/>'
            for k, n in enumerate(sheets)
        )
        + "</sheets></workbook>"
    )
    rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(
            f'<Relationship Id="rId{k + 1}" Type="{rel}/worksheet" '
            f'Target="worksheets/sheet{k + 1}.xml"/>'
            for k in range(len(sheets))
        )
        + "</Relationships>"
    )
    sst = (
        f'<sst xmlns="{main}">'
        + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
        + "</sst>"
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("xl/workbook.xml", wb)
        z.writestr("xl/_rels/workbook.xml.rels", rels)
        for k, name in enumerate(sheets):
            z.writestr(f"xl/worksheets/sheet{k + 1}.xml", sheet_xml[name])
        z.writestr("xl/sharedStrings.xml", sst)


def _check_csiq(m_rows: list, higher_better: bool) -> None:
    assert not higher_better
    assert [r.dist for r in m_rows] == [
        "dst_imgs/awgn/1600.AWGN.1.png",
        "dst_imgs/jpeg2000/1600.jpeg2000.2.png",
        "dst_imgs/contrast/aerial_city.contrast.4.png",
        "dst_imgs/blur/aerial_city.BLUR.5.png",
    ]
    assert m_rows[0].ref == "src_imgs/1600.png"
    assert [r.score for r in m_rows] == [0.062, 0.2, 0.4685, 0.91]
    labels = ["awgn", "jpeg2000", "contrast_change", "gaussian_blur"]
    assert [r.distortion for r in m_rows] == labels


def test_csiq_spreadsheet(tmp_path: Path) -> None:
    _write_xlsx(
        tmp_path / "csiq.DMOS.xlsx",
        {"note": [("CSIQ",)], "all_by_image": list(_CSIQ_ROWS)},
    )
    assert read_xlsx_sheet(tmp_path / "csiq.DMOS.xlsx", "all_by_image")[1][:3] == [
        "1600",
        "1",
        "noise",
    ]
    m = import_csiq(tmp_path)
    _check_csiq(m.rows, m.higher_better)
    assert m.rows[0].extra == {"level": "1", "dmos_std": "0.061"}
    # a copy saved with only one, renamed sheet
    _write_xlsx(tmp_path / "csiq.DMOS.xlsx", {"Sheet1": list(_CSIQ_ROWS)})
    _check_csiq(import_csiq(tmp_path).rows, False)
    with pytest.raises(DatasetError, match="no sheet 'x'"):
        read_xlsx_sheet(tmp_path / "csiq.DMOS.xlsx", "x")


@pytest.mark.parametrize("sep", ["\t", ",", " "])
def test_csiq_text_export(tmp_path: Path, sep: str) -> None:
    lines = [sep.join(str(v) for v in r) for r in _CSIQ_ROWS]
    (tmp_path / "csiq_dmos.txt").write_text("\n".join(lines) + "\n")
    # the images exist with upper-case folder names (as some copies have them)
    touch(tmp_path / "dst_imgs" / "AWGN" / "1600.AWGN.1.png")
    m = import_csiq(tmp_path, locate=False)
    _check_csiq(m.rows, m.higher_better)
    located = import_csiq(tmp_path)
    assert located.rows[0].dist == "dst_imgs/AWGN/1600.AWGN.1.png"


def test_csiq_unknown_type(tmp_path: Path) -> None:
    (tmp_path / "csiq_dmos.txt").write_text("1600\t1\tsmudge\t1\t0.1\t0.2\n")
    with pytest.raises(DatasetError, match="unknown distortion type 'smudge'"):
        import_csiq(tmp_path)
