"""Finding a release's files under its folder, tolerant of layout changes.

A dataset copy rarely matches the release exactly: file names change case,
folders are flattened or split (PIPAL's ``Distortion_1..4``). :class:`Locator`
finds each expected relative path, falling back to a case-insensitive search
by file name; :func:`find_score_file` finds the score file; :func:`missing_files`
lists what a manifest names but the disk lacks.

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "Images").mkdir()
    >>> _ = (root / "Images" / "A.PNG").write_bytes(b"")
    >>> Locator(root).find("images/a.png"), Locator(root).find("b.png")
    ('Images/A.PNG', 'b.png')
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from friqa.evaluation.datasets.common import PathLike
from friqa.evaluation.manifest import Manifest

__all__ = ["Locator", "find_score_file", "missing_files"]


class Locator:
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


def find_score_file(
    root: Path, given: PathLike | None, candidates: Sequence[str], what: str
) -> Path:
    """The score file of a release: ``given`` (absolute, or relative to the working
    folder or to ``root``), else the first of ``candidates`` under ``root`` (at its top,
    then anywhere below, case-insensitively).

    Raises:
        FileNotFoundError: nothing found; the message names ``what`` (the dataset).
    """
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
