"""Scratch memory of the MIC engine, kept per thread from chunk to chunk and call to call.

SMIC calls the engine once per image pair with a few thousand pairs; fresh
scratch buffers would be faulted in anew by every call, which costs about as
much as the arithmetic of such a call. Each thread that runs chunks (the
caller's, or a worker of :mod:`friqa.mic.workers`) keeps one :class:`Workspace`
per device; :func:`clear_workspace` frees them all.
"""

from __future__ import annotations

import math
import threading
import weakref

import torch
from torch import Tensor

__all__ = ["Workspace", "thread_workspace", "release_workspace", "kept_bytes", "clear_workspace"]


class Workspace:
    """Named scratch tensors, reused from chunk to chunk.

    Allocating fresh megabyte-sized tensors for every chunk makes the C allocator
    hand memory back to the OS and fault it in again, which on CPU costs more than
    the arithmetic. Every large intermediate of the engine therefore lives
    in a buffer keyed by (name, dtype), written with ``out=``; a smaller request
    (the last chunk) gets a view of the same memory. A name is never used for two
    live tensors at once.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self._buffers: dict[tuple[str, torch.dtype], Tensor] = {}
        # views handed out, by (name, dtype, shape): a chunk asks for the same ones again
        self._views: dict[tuple[str, torch.dtype, tuple[int, ...]], Tensor] = {}

    def _flat(
        self, key: tuple[str, torch.dtype], numel: int, fill: int | None = None, step: int = 0
    ) -> Tensor:
        buf = self._buffers.get(key)
        if buf is None or buf.numel() < numel:
            if fill is not None:
                buf = torch.full((numel,), fill, dtype=key[1], device=self.device)
            elif step:
                buf = torch.arange(numel, dtype=key[1], device=self.device) * step
            else:
                buf = torch.empty(numel, dtype=key[1], device=self.device)
            self._buffers[key] = buf
            self._views = {k: v for k, v in self._views.items() if k[:2] != key}
        return buf[:numel]

    def __call__(
        self, name: str, shape: tuple[int, ...], dtype: torch.dtype = torch.long
    ) -> Tensor:
        view = self._views.get((name, dtype, shape))
        if view is None:
            if len(self._views) > 1024:  # shapes that vary from chunk to chunk
                self._views.clear()
            view = self._views[name, dtype, shape] = self._flat(
                (name, dtype), math.prod(shape)
            ).view(shape)
        return view

    def zeros(self, name: str, shape: tuple[int, ...], dtype: torch.dtype = torch.long) -> Tensor:
        return self(name, shape, dtype).zero_()

    def ones(self, shape: tuple[int, ...], dtype: torch.dtype = torch.long) -> Tensor:
        """A tensor of ones (callers must not write to it)."""
        return self._flat(("ones", dtype), math.prod(shape), fill=1).view(shape)

    def arange(self, rows: int, step: int, dtype: torch.dtype = torch.long) -> Tensor:
        """``arange(rows) * step`` (callers must not write to it)."""
        return self._flat((f"arange*{step}", dtype), rows, step=step)

    def nbytes(self) -> int:
        return sum(b.numel() * b.element_size() for b in self._buffers.values())


class _ThreadWorkspaces:
    """One thread's workspaces, by device (an object, so that a WeakSet can hold it)."""

    def __init__(self) -> None:
        self.by_device: dict[str, Workspace] = {}


_LOCAL = threading.local()
#: Every thread's workspaces, so that :func:`clear_workspace` reaches the worker threads.
_ALL: weakref.WeakSet[_ThreadWorkspaces] = weakref.WeakSet()


def _mine() -> _ThreadWorkspaces:
    cache: _ThreadWorkspaces | None = getattr(_LOCAL, "workspaces", None)
    if cache is None:
        cache = _LOCAL.workspaces = _ThreadWorkspaces()
        _ALL.add(cache)
    return cache


def thread_workspace(device: torch.device) -> Workspace:
    """The calling thread's workspace for ``device``, kept from call to call."""
    cache = _mine()
    ws = cache.by_device.get(str(device))
    if ws is None:
        ws = cache.by_device[str(device)] = Workspace(device)
    return ws


def release_workspace(ws: Workspace, keep_bytes: int) -> None:
    """Drop the calling thread's ``ws`` if it grew past ``keep_bytes`` (a large chunk)."""
    cache = _mine()
    if ws.nbytes() > keep_bytes and cache.by_device.get(str(ws.device)) is ws:
        del cache.by_device[str(ws.device)]


def kept_bytes() -> int:
    """Scratch bytes kept by all threads."""
    return sum(ws.nbytes() for cache in list(_ALL) for ws in list(cache.by_device.values()))


def clear_workspace() -> None:
    """Free the scratch memory the MIC engine keeps between calls, in every thread.

    A call running meanwhile keeps the buffers it holds until it returns.
    """
    for cache in list(_ALL):
        cache.by_device.clear()
