"""The progress bar of a scoring run: one tqdm bar on stderr (pairs done, pairs/s, ETA)."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["progress_bar"]


class _NoBar:
    def update(self, n: int = 1) -> None:
        return None

    def close(self) -> None:
        return None


def progress_bar(total: int, name: str, progress: bool | None) -> Any:
    """A bar over ``total`` pairs (None: only on a terminal; False or nothing to do: no bar)."""
    if progress is False or total == 0:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=f"scoring {name}" if name else "scoring",
        unit="pair",
        file=sys.stderr,
        disable=None if progress is None else False,
        dynamic_ncols=True,
    )
