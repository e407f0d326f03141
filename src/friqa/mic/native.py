"""The optional compiled CPU kernel of the MIC engine (``kernel.c``), built on first use.

The torch engine runs a few hundred array operations per chunk, each of which
reads and writes the whole chunk; on CPU a scalar loop over one pair at a time,
whose data stay in the L1 cache, is several times faster. ``kernel.c`` is such
a loop, plain C99 without Python or libm, written from
:mod:`friqa.mic.reference`. It is compiled once per machine with the C
compiler found on the ``PATH`` (``$CC``, else ``cc``, ``gcc`` or ``clang``) into
``$FRIQA_CACHE_DIR`` (default ``$XDG_CACHE_HOME/friqa``, i.e.
``~/.cache/friqa``) and loaded with :mod:`ctypes`, which releases the GIL
during the call, so the engine's worker threads run it side by side. Without a
compiler, with ``FRIQA_MIC_NATIVE=0`` or if the build fails, :func:`kernel`
returns ``None`` and the engine uses its torch path: nothing is required.

The kernel forms every score from the same float64 numbers as the torch path
(the ``x ln x`` and logarithm tables are handed to it), so both give the
minepy value to round-off; on SMIC's grids (``n = 49`` and ``16``) they agree
to the bit on the minepy fixture (``tests/mic/test_native.py``).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

__all__ = ["kernel", "NativeKernel", "cache_dir"]

_SOURCE = Path(__file__).with_name("kernel.c")
_FLAGS = ["-O3", "-std=c99", "-fPIC", "-shared", "-fno-fast-math", "-ffp-contract=off"]
_LOCK = threading.Lock()
_LOADED: list[NativeKernel | None] = []  # empty: not tried yet


class NativeKernel:
    """The loaded shared library: ``batch(...)`` and ``scratch_bytes(n, max_r)``."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        ptr, i32, i64 = ctypes.c_void_p, ctypes.c_int, ctypes.c_int64
        self.scratch_bytes = lib.friqa_mic_scratch_bytes
        self.scratch_bytes.argtypes = [i32, i32]
        self.scratch_bytes.restype = ctypes.c_size_t
        self.batch = lib.friqa_mic_batch
        # x, y, is_double, npairs, n, ngrids, r, m, k_hat, xlogx, log_q, log_l, out, scratch
        self.batch.argtypes = [ptr, ptr, i32, i64, i32, i32, *([ptr] * 8)]
        self.batch.restype = ctypes.c_int  # 1: x holds NaN or inf, 2: y does, 3: both
        self._lib = lib  # keeps the library loaded


def cache_dir() -> Path:
    """Where the compiled kernel is kept: ``$FRIQA_CACHE_DIR`` or ``$XDG_CACHE_HOME/friqa``."""
    env = os.environ.get("FRIQA_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "friqa"


def _compiler() -> str | None:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return name
    return None


def _build(cc: str) -> Path:
    source = _SOURCE.read_bytes()
    tag = hashlib.sha256(
        b"\0".join(
            [source, cc.encode(), " ".join(_FLAGS).encode(), platform.machine().encode()]
            + [sys.platform.encode()]
        )
    ).hexdigest()[:16]
    target = cache_dir() / f"mic_kernel-{tag}.so"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
    os.close(fd)
    try:
        subprocess.run(
            [cc, *_FLAGS, str(_SOURCE), "-o", tmp],
            check=True,
            capture_output=True,
            timeout=120,
        )
        os.replace(tmp, target)  # atomic: concurrent builders both end with a whole file
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def kernel() -> NativeKernel | None:
    """The compiled kernel, built and loaded on the first call; ``None`` if unavailable.

    Unavailable means ``FRIQA_MIC_NATIVE=0`` in the environment, no C compiler,
    or a failed build or load; the result is remembered for the process.
    """
    if os.environ.get("FRIQA_MIC_NATIVE", "1") == "0":
        return None
    if _LOADED:
        return _LOADED[0]
    with _LOCK:
        if not _LOADED:
            loaded: NativeKernel | None = None
            cc = _compiler()
            if cc is not None:
                try:
                    loaded = NativeKernel(ctypes.CDLL(str(_build(cc))))
                except (OSError, subprocess.SubprocessError, AttributeError):
                    loaded = None
            _LOADED.append(loaded)
    return _LOADED[0]
