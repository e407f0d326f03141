"""Pairing folder trees by stem, with patterns; nothing unmatched is dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from friqa.exceptions import InputError
from friqa.folders import Pair, match_folders


def _touch(root: Path, *names: str) -> None:
    for n in names:
        (root / n).parent.mkdir(parents=True, exist_ok=True)
        (root / n).write_bytes(b"x")


def test_same_stems_recursively_with_unmatched_on_both_sides(tmp_path: Path) -> None:
    gt, out = tmp_path / "gt", tmp_path / "out"
    _touch(gt, "a.png", "sub/b.png", "c.png", "notes.txt")
    _touch(out, "a.jpg", "sub/b.png", "extra.png", "readme.md")
    m = match_folders(gt, out)
    assert m.pairs == [Pair("a.png", "a.jpg"), Pair("sub/b.png", "sub/b.png")]
    assert m.unmatched_refs == ["c.png"]
    assert m.unmatched_dists == ["extra.png"]


def test_pattern_with_and_without_extension(tmp_path: Path) -> None:
    gt, out = tmp_path / "gt", tmp_path / "out"
    _touch(gt, "0801.png", "0802.png", "set5/baby.png")
    _touch(out, "0801_x4_SR.png", "0802_x4_SR.jpg", "set5/baby_x4_SR.png", "0801.png")
    m = match_folders(gt, out, "{stem}_x4_SR.png")
    assert m.pairs == [
        Pair("0801.png", "0801_x4_SR.png"),
        Pair("set5/baby.png", "set5/baby_x4_SR.png"),
    ]
    assert m.unmatched_refs == ["0802.png"]
    assert sorted(m.unmatched_dists) == ["0801.png", "0802_x4_SR.jpg"]
    # no extension in the pattern: any image extension
    m = match_folders(gt, out, "{stem}_x4_SR")
    assert len(m.pairs) == 3 and m.unmatched_refs == []
    # '*' matches anything
    m = match_folders(gt, out, "{stem}_*")
    assert len(m.pairs) == 3


def test_flat_outputs_find_nested_references_when_the_stem_is_unique(tmp_path: Path) -> None:
    gt, out = tmp_path / "gt", tmp_path / "out"
    _touch(gt, "set5/baby.png", "set5/bird.png", "set14/bird.png")
    _touch(out, "baby.png", "bird.png", "set14/bird.png")
    m = match_folders(gt, out)
    assert Pair("set5/baby.png", "baby.png") in m.pairs
    assert Pair("set14/bird.png", "set14/bird.png") in m.pairs
    assert m.unmatched_dists == ["bird.png"]  # two references are called bird: ambiguous
    assert m.unmatched_refs == ["set5/bird.png"]


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--ref-dir"):
        match_folders(tmp_path / "nope", tmp_path)
    with pytest.raises(InputError, match="exactly once"):
        match_folders(tmp_path, tmp_path, "x4.png")
    with pytest.raises(InputError, match="without folders"):
        match_folders(tmp_path, tmp_path, "sr/{stem}.png")
