"""benchmarks/bench_commits.py: whole-process commands of two trees, alternating."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench_scripts import load_script

SRC = Path(__file__).resolve().parents[2] / "src"


def test_compares_two_trees_and_checks_outputs(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_script("bench_commits")
    bench.main(["--before", str(SRC), "--after", str(SRC), "--repeats", "2", "--", "--version"])
    out = capsys.readouterr().out
    assert "friqa --version  (2 repeats, 0 burner(s))" in out
    assert "before / after: min" in out
    assert "different outputs" not in out


def test_a_failing_command_stops_with_its_status() -> None:
    bench = load_script("bench_commits")
    with pytest.raises(SystemExit, match="exited 2"):
        bench.main(["--before", str(SRC), "--after", str(SRC), "--repeats", "1", "--", "nosuch"])
