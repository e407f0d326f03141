"""CSIQ: the ``csiq.DMOS.xlsx`` spreadsheet or its text export (DMOS 0-1, higher = worse)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from friqa.evaluation.datasets.common import PathLike, finish_manifest, parse_float, read_text
from friqa.evaluation.datasets.locate import Locator, find_score_file
from friqa.evaluation.datasets.xlsx import read_xlsx_sheet
from friqa.evaluation.manifest import Manifest, ManifestRow
from friqa.exceptions import DatasetError

__all__ = ["import_csiq"]

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
    for k, line in enumerate(read_text(path).splitlines()):
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


def import_csiq(
    root: PathLike,
    scores: PathLike | None = None,
    *,
    higher_better: bool | None = None,
    locate: bool = True,
) -> Manifest:
    """CSIQ (Larson & Chandler, J. Electron. Imaging 19(1), 2010).

    Reads the published spreadsheet ``csiq.DMOS.xlsx`` (sheet ``all_by_image``,
    columns ``image, dst_idx, dst_type, dst_lev, dmos_std, dmos``) with a small
    standard-library reader, or its common text export (the same six columns
    separated by tabs, commas or spaces). Scores are DMOS in [0, 1] (higher =
    worse). Images: ``dst_imgs/<type>/<image>.<TAG>.<level>.png`` and
    ``src_imgs/<image>.png``.
    """
    base = Path(root)
    path = find_score_file(
        base, scores, ["csiq.DMOS.xlsx", "csiq_dmos.txt", "csiq.DMOS.txt", "csiq.DMOS.csv"], "CSIQ"
    )
    loc = Locator(base, locate)
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
        level = str(int(parse_float(rec["dst_lev"], where)))
        rows.append(
            ManifestRow(
                dist=loc.find(f"dst_imgs/{folder}/{image}.{tag}.{level}.png"),
                ref=loc.find(f"src_imgs/{image}.png"),
                score=parse_float(rec["dmos"], where),
                distortion=label,
                extra={"level": level, "dmos_std": rec["dmos_std"]},
            )
        )
    return finish_manifest(
        rows, base, "csiq", ["level", "dmos_std"], higher_better=False, given=higher_better
    )
