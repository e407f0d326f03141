"""The dataset manifest: one CSV row per (distorted, reference) pair with its human score.

Format (UTF-8 CSV with a header line)::

    dist,ref,mos,distortion
    distorted_images/i02_02_5.bmp,reference_images/i02.bmp,4.3889,Chroma_Noise

* ``dist`` and ``ref``: image paths, relative to the *root* (by default the
  folder holding the manifest; absolute paths are allowed).
* The subjective score column is named ``mos`` when a higher score means better
  quality (MOS, Elo ratings) or ``dmos`` when a higher score means worse quality
  (DMOS, difference scores). The name carries the direction, so the statistics
  flip signs correctly without another setting.
* ``distortion`` (optional): the distortion type, for the per-type breakdown.
* Any further columns are kept as extra per-image metadata (for example
  ``level`` or ``mos_std``) and copied to the per-image results.

Blank lines are skipped. Rows must have a unique ``(dist, ref)`` pair.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "m.csv").write_text("dist,ref,dmos\\na.png,r.png,12.5\\n")
    >>> m = read_manifest(folder / "m.csv")
    >>> len(m), m.higher_better, m.rows[0].score
    (1, False, 12.5)
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from friqa.exceptions import DatasetError
from friqa.io.csvfile import read_csv_text

__all__ = [
    "ManifestRow",
    "Manifest",
    "read_manifest",
    "parse_manifest",
    "default_name",
    "check_root",
    "SCORE_COLUMNS",
]

#: Subjective-score column names and whether a higher value means better quality.
SCORE_COLUMNS: Mapping[str, bool] = {"mos": True, "dmos": False}

_FIXED = ("dist", "ref", "distortion", *SCORE_COLUMNS)


@dataclass(frozen=True)
class ManifestRow:
    """One distorted image, its reference and its subjective score.

    Attributes:
        dist: distorted image path as written in the manifest.
        ref: reference image path as written in the manifest.
        score: the subjective score (MOS or DMOS, see :attr:`Manifest.higher_better`).
        distortion: distortion type, or ``""`` when unknown.
        extra: further columns of the manifest (name -> text).
    """

    dist: str
    ref: str
    score: float
    distortion: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Manifest:
    """A list of :class:`ManifestRow` with the direction of its scores and its root folder.

    Attributes:
        rows: the pairs, in file order. A row's position is its id in the results.
        higher_better: True for MOS-like scores, False for DMOS-like scores.
        root: folder the image paths are relative to (``None``: the current directory).
        name: a short dataset name for reports (default: the manifest folder's name).
        extra_columns: names of the extra columns, in file order.
    """

    rows: list[ManifestRow]
    higher_better: bool = True
    root: Path | None = None
    name: str = ""
    extra_columns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.rows:
            raise DatasetError(f"manifest '{self.name or '?'}' has no rows")
        seen: dict[tuple[str, str], int] = {}
        for i, row in enumerate(self.rows):
            if not row.dist or not row.ref:
                raise DatasetError(f"row {i + 1}: empty dist or ref path")
            if not math.isfinite(row.score):
                raise DatasetError(f"row {i + 1} ({row.dist}): the score must be finite")
            key = (row.dist, row.ref)
            if key in seen:
                raise DatasetError(
                    f"rows {seen[key] + 1} and {i + 1} are the same pair ({row.dist}, {row.ref}); "
                    "every (dist, ref) pair must appear once"
                )
            seen[key] = i

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[ManifestRow]:
        return iter(self.rows)

    @property
    def score_column(self) -> str:
        """``"mos"`` or ``"dmos"``."""
        return "mos" if self.higher_better else "dmos"

    def resolve(self, path: str) -> Path:
        """The file a manifest path points to (joined to :attr:`root` unless absolute)."""
        p = Path(path)
        if p.is_absolute() or self.root is None:
            return p
        return self.root / p

    def groups(self) -> dict[str, list[int]]:
        """Row ids grouped by reference, references in order of first appearance."""
        out: dict[str, list[int]] = {}
        for i, row in enumerate(self.rows):
            out.setdefault(row.ref, []).append(i)
        return out

    def distortions(self) -> list[str]:
        """The distortion label of every row (``""`` when unknown)."""
        return [r.distortion for r in self.rows]

    def with_root(self, root: str | os.PathLike[str] | None) -> Manifest:
        """A copy with another root folder."""
        return replace(self, root=None if root is None else Path(root))

    def to_csv(self, *, relative_to: str | os.PathLike[str] | None = None) -> str:
        """The manifest as CSV text.

        Args:
            relative_to: when given, paths are rewritten relative to this folder
                (so a manifest saved there works with its folder as the root).
        """
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        has_dist = any(r.distortion for r in self.rows)
        header = ["dist", "ref", self.score_column]
        if has_dist:
            header.append("distortion")
        header.extend(self.extra_columns)
        writer.writerow(header)

        def rel(p: str) -> str:
            if relative_to is None:
                return p
            full = self.resolve(p).absolute()
            return Path(os.path.relpath(full, Path(relative_to).absolute())).as_posix()

        for r in self.rows:
            line = [rel(r.dist), rel(r.ref), repr(float(r.score))]
            if has_dist:
                line.append(r.distortion)
            line.extend(r.extra.get(c, "") for c in self.extra_columns)
            writer.writerow(line)
        return buf.getvalue()

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Save as CSV; paths are written relative to the file's folder (see :meth:`to_csv`)."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        text = self.to_csv(relative_to=out.parent if self.root is not None else None)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
        return out

    def fingerprint(self) -> str:
        """SHA-256 of the rows and score direction (not the root): identifies the content."""
        return hashlib.sha256(self.to_csv().encode("utf-8")).hexdigest()


def _parse_score(text: str, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DatasetError(f"line {line}: the {column} value '{text}' is not a number") from None
    if not math.isfinite(value):
        raise DatasetError(f"line {line}: the {column} value '{text}' is not finite")
    return value


def parse_manifest(
    text: str,
    *,
    root: str | os.PathLike[str] | None = None,
    name: str = "",
    source: str = "manifest",
) -> Manifest:
    """Parse manifest CSV text (see the module docstring for the format)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header: Sequence[str] | None = None
    for header_row in reader:
        if any(c.strip() for c in header_row):
            header = [c.strip().lower() for c in header_row]
            break
    if header is None:
        raise DatasetError(f"{source} is empty; expected a header line 'dist,ref,mos[,distortion]'")
    missing = [c for c in ("dist", "ref") if c not in header]
    score_cols = [c for c in SCORE_COLUMNS if c in header]
    if missing or len(score_cols) != 1:
        problem = (
            f"missing column(s) {', '.join(missing)}"
            if missing
            else "needs exactly one score column, 'mos' (higher = better) or 'dmos' "
            "(higher = worse)"
        )
        raise DatasetError(
            f"{source}: {problem}; the header is '{','.join(header)}', expected "
            "'dist,ref,mos[,distortion][,...]' or 'dist,ref,dmos[,...]'"
        )
    if len(set(header)) != len(header):
        raise DatasetError(f"{source}: duplicate column names in '{','.join(header)}'")
    score_col = score_cols[0]
    pos = {c: i for i, c in enumerate(header)}
    extra = tuple(c for c in header if c not in _FIXED)
    rows: list[ManifestRow] = []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            raise DatasetError(
                f"{source}, line {line}: {len(values)} fields, the header has {len(header)}"
            )
        v = [x.strip() for x in values]
        rows.append(
            ManifestRow(
                dist=v[pos["dist"]],
                ref=v[pos["ref"]],
                score=_parse_score(v[pos[score_col]], line, score_col),
                distortion=v[pos["distortion"]] if "distortion" in pos else "",
                extra={c: v[pos[c]] for c in extra},
            )
        )
    if not rows:
        raise DatasetError(f"{source} has a header but no rows")
    return Manifest(
        rows=rows,
        higher_better=SCORE_COLUMNS[score_col],
        root=None if root is None else Path(root),
        name=name,
        extra_columns=extra,
    )


def read_manifest(
    path: str | os.PathLike[str],
    *,
    root: str | os.PathLike[str] | None = None,
    name: str | None = None,
) -> Manifest:
    """Read a manifest CSV.

    Args:
        path: the CSV file.
        root: folder the image paths are relative to; default: the CSV's folder. Paths
            are resolved one way only: a root under which none of the first images exist
            while they exist beside the manifest is refused (:func:`check_root`).
        name: dataset name for reports; default: the file's stem, or its folder's name
            for a file named ``manifest.csv`` (:func:`default_name`).

    Raises:
        DatasetError: malformed file (message names the line and what is wrong).
        FileNotFoundError: the file does not exist.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"manifest '{p}' does not exist")
    text = read_csv_text(p, "manifest")
    folder = p.absolute().parent
    manifest = parse_manifest(
        text,
        root=folder if root is None else Path(root),
        name=name if name is not None else default_name(p),
        source=f"manifest '{p}'",
    )
    if root is not None:
        check_root(manifest, p)
    return manifest


def default_name(path: str | os.PathLike[str]) -> str:
    """A dataset's report name from its manifest path: the file's stem, or, for a file
    named ``manifest.csv``, its folder's name (``TID2013/manifest.csv`` -> ``TID2013``)."""
    p = Path(path).absolute()
    return p.parent.name if p.stem.lower() == "manifest" else p.stem


def check_root(manifest: Manifest, path: str | os.PathLike[str], probe: int = 20) -> None:
    """Refuse an explicit root under which none of the first ``probe`` images exist while
    they do exist relative to the manifest's folder (paths are resolved one way only:
    relative to the manifest, unless a root is given).

    Raises:
        DatasetError: naming the manifest, the root and what to do.
    """
    if manifest.root is None:
        return
    rows = manifest.rows[:probe]
    if any(manifest.resolve(r.dist).exists() or manifest.resolve(r.ref).exists() for r in rows):
        return
    here = manifest.with_root(Path(path).absolute().parent)
    if any(here.resolve(r.dist).exists() for r in rows):
        raise DatasetError(
            f"manifest '{path}': its paths are relative to the manifest's folder (as friqa "
            f"import-dataset writes them), but --root '{manifest.root}' was given too; "
            f"drop --root (e.g. {rows[0].dist} is not under it)"
        )
