"""Helpers of the importer tests."""

from __future__ import annotations

from pathlib import Path


def touch(path: Path) -> None:
    """Create a placeholder image file (and its folders)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
