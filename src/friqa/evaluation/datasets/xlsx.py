"""A small reader of ``.xlsx`` workbooks (standard library only), for the CSIQ spreadsheet.

An ``.xlsx`` file is a zip of XML parts (ECMA-376 Office Open XML): the
workbook lists the sheets, each sheet part holds rows of cells, and text cells
point into a shared-strings table. Only cell values are read.
"""

from __future__ import annotations

import re
import zipfile
from xml.etree import ElementTree

from friqa.evaluation.datasets.common import PathLike
from friqa.exceptions import DatasetError

__all__ = ["read_xlsx_sheet"]

_XLSX_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "pr": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def _col_index(ref: str) -> int:
    letters = "".join(ch for ch in ref if ch.isalpha())
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def read_xlsx_sheet(path: PathLike, sheet: str | None = None) -> list[list[str]]:
    """The cells of one sheet of an ``.xlsx`` workbook as text rows (standard library only).

    Numbers are given as written in the file, except that integral values lose
    their ``.0``. ``sheet=None`` takes the first sheet.
    """
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DatasetError(f"'{path}' is not an .xlsx workbook: {exc}") from None
    with zf:
        try:
            wb = ElementTree.fromstring(zf.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        except KeyError as exc:
            raise DatasetError(f"'{path}' is not an .xlsx workbook: {exc}") from None
        targets = {
            r.get("Id"): r.get("Target", "") for r in rels.findall("pr:Relationship", _XLSX_NS)
        }
        sheets = [
            (s.get("name", ""), targets.get(s.get(f"{{{_XLSX_NS['r']}}}id"), ""))
            for s in wb.findall("m:sheets/m:sheet", _XLSX_NS)
        ]
        if not sheets:
            raise DatasetError(f"'{path}' has no sheets")
        if sheet is None:
            target = sheets[0][1]
        else:
            match = [t for n, t in sheets if n.lower() == sheet.lower()]
            if not match:
                names = ", ".join(n for n, _ in sheets)
                raise DatasetError(f"'{path}' has no sheet '{sheet}' (sheets: {names})")
            target = match[0]
        target = target.lstrip("/")
        member = target if target.startswith("xl/") else f"xl/{target}"
        shared: list[str] = []
        if "xl/sharedStrings.xml" in zf.namelist():
            sst = ElementTree.fromstring(zf.read("xl/sharedStrings.xml"))
            for si in sst.findall("m:si", _XLSX_NS):
                shared.append("".join(t.text or "" for t in si.iter(f"{{{_XLSX_NS['m']}}}t")))
        data = ElementTree.fromstring(zf.read(member))
    rows: list[list[str]] = []
    for row in data.findall("m:sheetData/m:row", _XLSX_NS):
        cells: dict[int, str] = {}
        for c in row.findall("m:c", _XLSX_NS):
            kind = c.get("t", "n")
            v = c.find("m:v", _XLSX_NS)
            if kind == "inlineStr":
                text = "".join(t.text or "" for t in c.iter(f"{{{_XLSX_NS['m']}}}t"))
            elif v is None or v.text is None:
                text = ""
            elif kind == "s":
                text = shared[int(v.text)]
            else:
                text = v.text
                if kind == "n" and re.fullmatch(r"-?\d+\.0+", text):
                    text = text.split(".")[0]
            cells[_col_index(c.get("r", "A"))] = text
        if cells:
            width = max(cells) + 1
            rows.append([cells.get(i, "") for i in range(width)])
    return rows
