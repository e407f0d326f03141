"""Pairing two folder trees of images by file stem, with an optional name pattern.

Rules, for a reference ``GT/sub/0801.png`` (relative folder ``sub``, stem ``0801``):

- without a pattern, an output pairs with it when its stem is ``0801``;
- with a pattern such as ``{stem}_x4_SR.png`` (``{stem}`` is the reference's stem,
  ``*`` matches anything), an output pairs with it when its file name is
  ``0801_x4_SR.png``; a pattern without an extension (``{stem}_x4_SR``) is matched
  against the output's stem, so any image extension is accepted;
- the output is looked for in the same relative folder first (``outputs/sub/``),
  then anywhere when the stem names a single reference of the tree;
- several outputs may pair with one reference (one row each); every reference
  without an output and every output without a reference is listed, never dropped.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from friqa.exceptions import InputError

__all__ = ["IMAGE_EXTENSIONS", "Pair", "FolderMatch", "match_folders"]

#: File extensions read as images (lower case).
IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".gif"}
)


@dataclass(frozen=True)
class Pair:
    """A reference and an output, as paths relative to their folders (POSIX form)."""

    ref: str
    dist: str


@dataclass
class FolderMatch:
    """The result of :func:`match_folders`.

    Attributes:
        ref_dir, dist_dir: the two folders.
        pairs: matched pairs, sorted by output path.
        unmatched_refs: references without any output (relative paths).
        unmatched_dists: image files of ``dist_dir`` that pair with no reference.
    """

    ref_dir: Path
    dist_dir: Path
    pairs: list[Pair] = field(default_factory=list)
    unmatched_refs: list[str] = field(default_factory=list)
    unmatched_dists: list[str] = field(default_factory=list)


def _images(folder: Path) -> list[str]:
    out: list[str] = []
    for parent, _, files in os.walk(folder):
        rel = Path(parent).relative_to(folder)
        out.extend(
            (rel / f).as_posix() for f in files if Path(f).suffix.lower() in IMAGE_EXTENSIONS
        )
    return sorted(out)


def _stem_regex(pattern: str) -> tuple[re.Pattern[str], bool]:
    """The regex of a name pattern, and whether it matches the full file name."""
    if pattern.count("{stem}") != 1:
        raise InputError(f"--pattern {pattern!r}: it must contain '{{stem}}' exactly once")
    if "/" in pattern or "\\" in pattern:
        raise InputError(f"--pattern {pattern!r}: give a file name pattern, without folders")
    head, tail = pattern.split("{stem}")
    parts = [re.escape(p).replace(r"\*", ".*") for p in (head, tail)]
    regex = re.compile(f"^{parts[0]}(?P<stem>.+?){parts[1]}$")
    full = Path(tail).suffix.lower() in IMAGE_EXTENSIONS
    return regex, full


def match_folders(
    ref_dir: str | os.PathLike[str],
    dist_dir: str | os.PathLike[str],
    pattern: str | None = None,
) -> FolderMatch:
    """Pair the images of ``dist_dir`` with those of ``ref_dir`` (see the module docstring).

    Raises:
        InputError: a folder does not exist, or the pattern is malformed.
    """
    rdir, ddir = Path(ref_dir), Path(dist_dir)
    for flag, folder in (("--ref-dir", rdir), ("--dist-dir", ddir)):
        if not folder.is_dir():
            raise InputError(f"{flag} {folder}: no such folder")
    refs = _images(rdir)
    by_place: dict[tuple[str, str], str] = {}
    by_stem: dict[str, list[str]] = defaultdict(list)
    for r in refs:
        p = Path(r)
        by_place[(p.parent.as_posix(), p.stem)] = r
        by_stem[p.stem].append(r)
    regex, full = _stem_regex(pattern) if pattern else (None, False)
    result = FolderMatch(rdir, ddir)
    used: set[str] = set()
    for d in _images(ddir):
        p = Path(d)
        stem: str | None = p.stem
        if regex is not None:
            m = regex.match(p.name if full else p.stem)
            stem = m.group("stem") if m else None
        ref = by_place.get((p.parent.as_posix(), stem)) if stem is not None else None
        if ref is None and stem is not None and len(by_stem.get(stem, [])) == 1:
            ref = by_stem[stem][0]
        if ref is None:
            result.unmatched_dists.append(d)
            continue
        used.add(ref)
        result.pairs.append(Pair(ref, d))
    result.unmatched_refs = [r for r in refs if r not in used]
    return result
