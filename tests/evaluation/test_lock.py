"""One run per output folder (issue 14, finding 3): the lock, stale locks, duplicates removed."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from friqa.evaluation.lock import LOCK_NAME, RunLock
from friqa.evaluation.runner import score_manifest
from friqa.evaluation.scores_file import read_scores
from friqa.evaluation.synthetic import make_synthetic_dataset
from friqa.exceptions import InputError

SRC = str(Path(__file__).resolve().parents[2] / "src")

_HOLD = """
import sys
from friqa.evaluation.lock import RunLock
lock = RunLock(sys.argv[1]).acquire()
print("locked", flush=True)
sys.stdin.read()  # hold until the test closes our stdin
"""


def test_concurrent_run_refused_stale_lock_taken_over_duplicates_removed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    manifest = make_synthetic_dataset(tmp_path / "syn", n_refs=1, levels=2, size=16)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert first.stdout is not None and first.stdout.readline().strip() == "locked"
        with pytest.raises(InputError, match=rf"in use by another friqa run \(PID {first.pid}\)"):
            score_manifest(manifest, ["psnr"], out, progress=False)
        assert not (out / "scores.csv").exists()
    finally:
        assert first.stdin is not None
        first.stdin.close()
        first.wait(timeout=600)
    # the first process is gone: its lock file is stale and taken over
    (out / LOCK_NAME).write_text(f"{first.pid}\n")
    res = score_manifest(manifest, ["psnr"], out, progress=False)
    assert res.scored == 4 and not (out / LOCK_NAME).exists()
    # a scores file with every result twice (as two unlocked runs wrote): resume cleans it
    scores = out / "scores.csv"
    lines = scores.read_text().splitlines()
    scores.write_text("\n".join([*lines, *lines[1:]]) + "\n")
    with caplog.at_level(logging.WARNING):
        res = score_manifest(manifest, ["psnr"], out, progress=False)
    assert res.skipped == 4 and res.scored == 0
    assert scores.read_text().splitlines() == lines
    assert "removed 4 duplicate (row, metric) result(s)" in caplog.text
    assert len(read_scores(scores)) == 4


def test_lock_in_one_process_and_release(tmp_path: Path) -> None:
    with RunLock(tmp_path / "o") as lock:
        assert lock.path.read_text().strip() == str(os.getpid())
        with pytest.raises(InputError, match=f"PID {os.getpid()}"):
            RunLock(tmp_path / "o").acquire()
    assert not lock.path.exists()
    RunLock(tmp_path / "o").acquire().release()
