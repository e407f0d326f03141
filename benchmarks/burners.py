"""Bounded CPU burners: measure friqa with other work beside it, as on a user's busy machine.

``with cpu_burners(k): ...`` starts ``k`` separate Python processes that each
spin one core on integer arithmetic until the block ends, or until
``max_seconds`` pass, so that a crashed benchmark never leaves them behind.
They allocate nothing and touch no file. They are plain subprocesses, so the
calling script needs no ``if __name__ == "__main__"`` guard.

Usage in a benchmark::

    with cpu_burners(args.load):
        measure()
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["cpu_burners"]

_BURN = """
import sys, time
deadline = time.monotonic() + float(sys.argv[1])
x = 0
while time.monotonic() < deadline:
    for i in range(100_000):
        x = (x * 1103515245 + i) & 0xFFFFFFFF
"""


@contextmanager
def cpu_burners(count: int, *, max_seconds: float = 900.0) -> Iterator[int]:
    """Run ``count`` CPU-burning processes while the block runs; yields ``count``."""
    procs = [
        subprocess.Popen([sys.executable, "-c", _BURN, str(max_seconds)]) for _ in range(count)
    ]
    if procs:
        time.sleep(0.5)  # let them reach full speed before the measurement starts
    try:
        yield count
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()
