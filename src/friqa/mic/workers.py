"""Coarse-grained CPU parallelism for the MIC engine: threads that each run whole chunks.

torch splits every operation over its intra-op threads and joins them when the
operation ends. The engine runs a few hundred small operations per chunk; when
other programs keep the cores busy, a thread of the team is often descheduled
and every join waits for it (measured on 2 busy cores: 2 intra-op threads gave
2,000-15,000 pairs/s at n = 49 where 1 thread gave 46,000-72,000). Here each
worker thread runs whole chunks with intra-op parallelism 1, so no operation
waits for another thread; chunks are handed out one at a time, so a worker on a
busier core simply takes fewer of them. torch releases the GIL inside its
operations, so the workers run in parallel.

The workers are daemon threads shared by all callers, started on first use and
kept (a fork gives the child a fresh, empty pool). A worker's intra-op thread
count is set once, when it starts, with ``torch.set_num_threads(1)``: with
torch's OpenMP backend (the default of its CPU builds) that count belongs to
the calling thread, and the process-wide default that it also sets is put back
to the starting caller's count before any work is handed out.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable

import torch

__all__ = ["run_chunks", "worker_count"]


class _Pool:
    """Daemon threads (intra-op parallelism 1) serving a queue of jobs."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self.size = 0

    def grow(self, count: int) -> None:
        with self.lock:
            missing = count - self.size
            if missing <= 0:
                return
            caller = torch.get_num_threads()
            started = threading.Barrier(missing + 1)
            for _ in range(missing):
                threading.Thread(
                    target=self._serve, args=(started,), name="friqa-mic-worker", daemon=True
                ).start()
            started.wait()
            # set_num_threads(1) in a worker also changed the default of threads that
            # have not run a parallel operation yet; give them the caller's count again
            torch.set_num_threads(caller)
            self.size = count

    def _serve(self, started: threading.Barrier) -> None:
        # torch sets a thread's count lazily, from the process-wide default, on its first
        # query or parallel operation; let that happen first so that it cannot undo ours
        torch.get_num_threads()
        torch.set_num_threads(1)
        started.wait()
        while True:
            self.jobs.get()()


_POOL = _Pool()


def _fresh_pool_after_fork() -> None:
    global _POOL
    _POOL = _Pool()  # the parent's worker threads do not exist in the child


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fresh_pool_after_fork)


def worker_count() -> int:
    """Worker threads started so far (0 until the first parallel call)."""
    return _POOL.size


class _Run:
    """One call's chunks, handed out one index at a time to ``workers`` jobs."""

    def __init__(self, task: Callable[[int], None], count: int, workers: int) -> None:
        self.task = task
        self.count = count
        self.next = 0
        self.active = workers
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.stop = False
        self.error: BaseException | None = None

    def work(self) -> None:
        try:
            while not self.stop:
                with self.lock:
                    index = self.next
                    self.next += 1
                if index >= self.count:
                    break
                self.task(index)
        except BaseException as exc:  # handed to the caller, which re-raises it
            self.error = self.error or exc
            self.stop = True
        finally:
            with self.lock:
                self.active -= 1
                if self.active == 0:
                    self.done.set()


def run_chunks(task: Callable[[int], None], count: int, workers: int) -> None:
    """Run ``task(0), ..., task(count - 1)`` on ``workers`` worker threads; wait for all.

    Each worker takes the next index when it finishes one, so the order and the
    thread of the calls vary: ``task`` must write its own, disjoint output. The
    first exception raised by a call stops the others and is raised here.
    """
    pool = _POOL
    pool.grow(workers)
    run = _Run(task, count, workers)
    for _ in range(workers):
        pool.jobs.put(run.work)
    try:
        run.done.wait()
    finally:
        run.stop = True  # an interrupted caller: the workers take no further chunks
    if run.error is not None:
        raise run.error
