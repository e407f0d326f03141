"""The MIC engine's worker threads: every chunk once, errors surface, thread counts kept."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import torch

import friqa.mic.workspace as workspace
from friqa.mic import clear_workspace, mic
from friqa.mic.workers import run_chunks, worker_count


@pytest.fixture(autouse=True)
def restore_threads() -> Iterator[None]:
    saved = torch.get_num_threads()
    yield
    torch.set_num_threads(saved)


def test_every_chunk_runs_once_on_workers_with_one_intra_op_thread() -> None:
    torch.set_num_threads(2)
    seen: list[tuple[int, str, int]] = []
    lock = threading.Lock()

    def task(i: int) -> None:
        with lock:
            seen.append((i, threading.current_thread().name, torch.get_num_threads()))

    run_chunks(task, 50, 3)
    assert sorted(i for i, _name, _t in seen) == list(range(50))
    assert {name for _i, name, _t in seen} <= {"friqa-mic-worker"}
    assert {t for _i, _name, t in seen} == {1}
    assert worker_count() >= 3
    assert torch.get_num_threads() == 2
    # a thread started after the workers gets the usual default, not the workers' 1
    fresh: list[int] = []
    thread = threading.Thread(target=lambda: fresh.append(torch.get_num_threads()))
    thread.start()
    thread.join()
    assert fresh == [2]


def test_an_error_in_a_chunk_is_raised_and_stops_the_others() -> None:
    done: list[int] = []

    def task(i: int) -> None:
        if i == 3:
            raise ValueError("chunk 3 failed")
        done.append(i)

    with pytest.raises(ValueError, match="chunk 3 failed"):
        run_chunks(task, 10_000, 2)
    assert len(done) < 10_000 - 1


def test_concurrent_callers_share_the_workers() -> None:
    torch.set_num_threads(2)
    g = torch.Generator().manual_seed(5)
    x = torch.randn(600, 49, generator=g)
    y = torch.where(torch.rand(600, 49, generator=g) < 0.4, 0.0, x + torch.randn(600, 49))
    want = mic(x, y, alpha=0.5, c=10.0, chunk_size=600)
    got: dict[int, torch.Tensor] = {}

    def call(k: int) -> None:
        got[k] = mic(x, y, alpha=0.5, c=10.0, chunk_size=37 + k)

    callers = [threading.Thread(target=call, args=(k,)) for k in range(3)]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    assert all(torch.equal(got[k], want) for k in range(3))


def test_clear_workspace_frees_the_workers_scratch_memory() -> None:
    torch.set_num_threads(2)
    g = torch.Generator().manual_seed(6)
    x, y = torch.randn(400, 49, generator=g), torch.randn(400, 49, generator=g)
    mic(x, y, alpha=0.5, c=10.0, chunk_size=50)
    kept = [ws for ws in workspace._ALL if ws.by_device]
    assert len(kept) >= 2  # the workers keep theirs between calls
    clear_workspace()
    assert not any(ws.by_device for ws in workspace._ALL)
