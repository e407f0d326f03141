"""Optional compiled CPU kernels: plain C99 files built on first use, loaded with ctypes.

friqa's torch code runs everywhere. Where one scalar C loop beats a chain of
torch operations on CPU (the MIC estimator, the checked squared error of PSNR),
the C source ships beside the module and :func:`load_library` compiles it once
per machine with the C compiler on the ``PATH`` (``$CC``, else ``cc``, ``gcc`` or
``clang``) into :func:`cache_dir`, then loads it with :mod:`ctypes` (which
releases the GIL during each call).

Nothing is required: without a compiler, with ``FRIQA_NATIVE=0`` (or a kernel's
own switch, such as ``FRIQA_MIC_NATIVE=0``) or when the build fails,
:func:`load_library` returns ``None`` and the caller runs its torch path.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

T = TypeVar("T")

__all__ = ["FLAGS", "cache_dir", "compiler", "load_library", "load_kernel", "forget_libraries"]

#: Compiler flags of every kernel: no fast-math and no fused multiply-add, so the C
#: arithmetic rounds as the scalar float code it is written as.
FLAGS = ("-O3", "-std=c99", "-fPIC", "-shared", "-fno-fast-math", "-ffp-contract=off")

_LOCK = threading.Lock()
_LOADED: dict[str, ctypes.CDLL | None] = {}
_BOUND: dict[tuple[ctypes.CDLL, Callable[[ctypes.CDLL], Any]], Any] = {}


def cache_dir() -> Path:
    """Where compiled kernels are kept: ``$FRIQA_CACHE_DIR`` or ``$XDG_CACHE_HOME/friqa``."""
    env = os.environ.get("FRIQA_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "friqa"


def compiler() -> str | None:
    """The C compiler to build with: ``$CC``, else the first of cc, gcc, clang on the PATH."""
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return name
    return None


def _build(source: Path, cc: str) -> Path:
    text = source.read_bytes()
    tag = hashlib.sha256(
        b"\0".join(
            [text, cc.encode(), " ".join(FLAGS).encode(), platform.machine().encode()]
            + [sys.platform.encode()]
        )
    ).hexdigest()[:16]
    target = cache_dir() / f"{source.stem}-{tag}.so"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
    os.close(fd)
    try:
        subprocess.run(
            [cc, *FLAGS, str(source), "-o", tmp], check=True, capture_output=True, timeout=120
        )
        os.replace(tmp, target)  # atomic: concurrent builders both end with a whole file
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def load_library(source: Path, switch: str | None = None) -> ctypes.CDLL | None:
    """The compiled ``source``, built and loaded on first use; ``None`` if unavailable.

    Unavailable means ``FRIQA_NATIVE=0`` (or ``switch``, an environment variable of
    this kernel, set to ``0``), no C compiler, or a failed build or load. The outcome
    is remembered for the process (see :func:`forget_libraries`).
    """
    environ = os.environ
    if environ.get("FRIQA_NATIVE") == "0" or (switch is not None and environ.get(switch) == "0"):
        return None
    key = str(source)
    if key in _LOADED:
        return _LOADED[key]
    with _LOCK:
        if key not in _LOADED:
            loaded: ctypes.CDLL | None = None
            cc = compiler()
            if cc is not None:
                try:
                    loaded = ctypes.CDLL(str(_build(Path(source), cc)))
                except (OSError, subprocess.SubprocessError):
                    loaded = None
            _LOADED[key] = loaded
    return _LOADED[key]


def load_kernel(
    source: Path, bind: Callable[[ctypes.CDLL], T], switch: str | None = None
) -> T | None:
    """``bind(library)`` for the compiled ``source`` (its functions with their ctypes
    signatures), made once per loaded library; ``None`` if unavailable (see
    :func:`load_library`)."""
    lib = load_library(source, switch)
    if lib is None:
        return None
    key = (lib, bind)
    if key not in _BOUND:
        with _LOCK:
            if key not in _BOUND:
                _BOUND[key] = bind(lib)
    return cast(T, _BOUND[key])


def forget_libraries() -> None:
    """Forget which kernels were loaded, so the next :func:`load_library` tries again."""
    with _LOCK:
        _LOADED.clear()
        _BOUND.clear()
