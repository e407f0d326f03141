"""The optional compiled CPU kernel of the MIC engine (``kernel.c``), built on first use.

The torch engine runs a few hundred array operations per chunk, each of which
reads and writes the whole chunk; on CPU a scalar loop over one pair at a time,
whose data stay in the L1 cache, is several times faster. ``kernel.c`` is such
a loop, plain C99 without Python or libm, written from
:mod:`friqa.mic.reference`. :func:`friqa.native.load_library` compiles it once per
machine and loads it with :mod:`ctypes`, which releases the GIL during the call,
so the engine's worker threads run it side by side. Without a compiler, with
``FRIQA_MIC_NATIVE=0`` (or ``FRIQA_NATIVE=0``) or if the build fails,
:func:`kernel` returns ``None`` and the engine uses its torch path: nothing is
required.

The kernel forms every score from the same float64 numbers as the torch path
(the ``x ln x`` and logarithm tables are handed to it), so both give the
minepy value to round-off; on SMIC's grids (``n = 49`` and ``16``) they agree
to the bit on the minepy fixture (``tests/mic/test_native.py``).
"""

from __future__ import annotations

import ctypes
from pathlib import Path

from friqa.native import load_kernel

__all__ = ["kernel", "NativeKernel", "SOURCE"]

#: The C source of the kernel.
SOURCE = Path(__file__).with_name("kernel.c")


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


def kernel() -> NativeKernel | None:
    """The compiled kernel, built and loaded on the first call; ``None`` if unavailable.

    Unavailable means ``FRIQA_MIC_NATIVE=0`` or ``FRIQA_NATIVE=0`` in the environment,
    no C compiler, or a failed build or load (see :func:`friqa.native.load_library`).
    """
    return load_kernel(SOURCE, NativeKernel, "FRIQA_MIC_NATIVE")
