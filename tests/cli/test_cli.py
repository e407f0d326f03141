"""The friqa command: list, demo, score, errors without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from friqa import __version__
from friqa.cli.main import main


def _run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "OMP_NUM_THREADS": "2", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "friqa.cli.main", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=600,
    )


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_list_subprocess() -> None:
    res = _run("list")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0].split()[:3] == ["metric", "family", "better"]
    res = _run("list", "--json")
    rows = json.loads(res.stdout)
    assert {"name", "lower_better", "score_range", "needs_weights"} <= set(rows[0])
    assert "psnr" in {r["name"] for r in rows}


def test_demo_subprocess_without_weights(tmp_path: Path) -> None:
    env = {"FRIQA_OFFLINE": "1", "TORCH_HOME": str(tmp_path / "th"), "FRIQA_VGG16_WEIGHTS": ""}
    res = _run("demo", "--out", str(tmp_path / "demo"), env=env)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "demo" / "reference.png").is_file()
    lines = {ln.split()[0]: ln for ln in res.stdout.splitlines() if ln and ln[0].isalpha()}
    assert "psnr" in lines and "ssim" in lines
    psnr = float(lines["psnr"].split()[1])
    assert 15 < psnr < 40  # a JPEG-15 + blur distortion of a synthetic scene
    assert "skipped (no VGG16 weights found)" in res.stdout


def test_demo_with_weights(tmp_path: Path, vgg_weights_path: Path) -> None:
    res = _run("demo", "--out", str(tmp_path), "--weights", str(vgg_weights_path))
    assert res.returncode == 0, res.stderr
    assert "skipped" not in res.stdout
    assert "lpips" in res.stdout and "dists" in res.stdout


def test_score_pair_json_and_table(tmp_path: Path, shared_data: Path) -> None:
    ref = shared_data / "pairs" / "kadid" / "I07.png"
    dist = shared_data / "pairs" / "kadid" / "I07_09_04.png"
    res = _run("score", str(ref), str(dist), "-m", "psnr,ssim", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert set(out) == {"ref", "dist", "psnr", "ssim"}
    same = _run("score", str(ref), str(ref), "-m", "psnr", "--json")
    assert json.loads(same.stdout)["psnr"] == "inf"
    table = _run("score", str(ref), str(dist), "-m", "psnr")
    assert table.stdout.startswith("psnr") and "higher is better" in table.stdout


def test_score_pairs_csv(tmp_path: Path, shared_data: Path) -> None:
    kadid = shared_data / "pairs" / "kadid"
    csv_path = tmp_path / "pairs.csv"
    csv_path.write_text(
        "ref,dist\nI07.png,I07_09_04.png\nI47.png,I47_22_02.png\nI47.png,missing.png\n"
    )
    out = tmp_path / "scores.csv"
    res = _run(
        "score", "--pairs", str(csv_path), "--root", str(kadid), "-m", "psnr", "--out", str(out)
    )
    assert res.returncode == 1  # one pair failed, and the others were written
    lines = out.read_text().splitlines()
    assert lines[0] == "ref,dist,psnr,error"
    assert len(lines) == 4
    assert "missing.png" in lines[3] and lines[1].split(",")[2] != ""


def test_score_pairs_out_parquet_has_the_csv_columns(tmp_path: Path, shared_data: Path) -> None:
    pytest.importorskip("pyarrow", reason="Parquet output needs pyarrow (the ray or test extra)")
    from friqa.io.tables import read_table

    kadid = shared_data / "pairs" / "kadid"
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("ref,dist,mos\nI07.png,I07_09_04.png,3.5\nI47.png,missing.png,2.0\n")
    tables = {}
    for ext in ("csv", "parquet"):
        out = tmp_path / f"scores.{ext}"
        res = _run("score", "--pairs", str(pairs), "--root", str(kadid), "-m", "psnr", "--out",
                   str(out))  # fmt: skip
        assert res.returncode == 1, res.stderr  # the missing file fails, the other row is kept
        tables[ext] = read_table(out)
    csv_rows, parquet_rows = tables["csv"], tables["parquet"]
    assert [list(r) for r in parquet_rows] == [list(r) for r in csv_rows]
    assert list(parquet_rows[0]) == ["ref", "dist", "mos", "psnr", "error"]
    assert float(parquet_rows[0]["psnr"]) == float(csv_rows[0]["psnr"])
    assert "missing.png" in str(parquet_rows[1]["error"])


def test_user_errors_exit_2_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "not_an_image.png"
    bad.write_text("hello")
    for args in (
        ("score", str(bad), str(bad), "-m", "psnr"),
        ("score", str(tmp_path / "nope.png"), str(bad), "-m", "psnr"),
        ("score", str(bad), str(bad), "-m", "no_such_metric"),
        ("score", "--pairs", str(tmp_path / "none.csv")),
    ):
        res = _run(*args)
        assert res.returncode == 2, (args, res.stdout, res.stderr)
        assert "Traceback" not in res.stderr
        assert res.stderr.startswith("friqa score: error:")


def test_size_mismatch_is_a_clear_error(tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(np.zeros((20, 31, 3), np.uint8)).save(tmp_path / "b.png")
    res = _run("score", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-m", "psnr")
    assert res.returncode == 1  # the metric failed (issue 14: exit 1, docs/cli.md)
    assert "compares aligned pixels" in res.stderr and "30x20" in res.stderr
    assert "Traceback" not in res.stderr


def test_one_failing_metric_does_not_hide_the_others(
    tmp_path: Path, vgg_weights_path: Path
) -> None:
    """Issue 14, finding 6: psnr fails on a pair of different sizes, deepssim still scores it;
    the failure is reported per metric and the exit status is 1."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)).save(tmp_path / "big.png")
    Image.fromarray(rng.integers(0, 255, (40, 36, 3), dtype=np.uint8)).save(tmp_path / "ret.png")
    args = (str(tmp_path / "big.png"), str(tmp_path / "ret.png"), "-m", "psnr,deepssim")
    res = _run("score", *args, "--weights", str(vgg_weights_path))
    assert res.returncode == 1, res.stderr
    assert res.stdout.startswith("deepssim") and "psnr" not in res.stdout
    assert "psnr compares aligned pixels" in res.stderr and "Traceback" not in res.stderr
    assert "1 of 2 metrics failed" in res.stderr
    js = _run("score", *args, "--weights", str(vgg_weights_path), "--json")
    out = json.loads(js.stdout)
    assert out["psnr"] is None and isinstance(out["deepssim"], float)
    assert "aligned" in out["errors"]["psnr"]


def test_offline_deep_metric_error(tmp_path: Path) -> None:
    env = {"FRIQA_OFFLINE": "1", "TORCH_HOME": str(tmp_path / "th"), "FRIQA_VGG16_WEIGHTS": ""}
    img = tmp_path / "a.png"
    import numpy as np
    from PIL import Image

    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(img)
    res = _run("score", str(img), str(img), "-m", "lpips", env=env)
    assert res.returncode == 2
    assert "no VGG16 weights found" in res.stderr and "FRIQA_OFFLINE=1" in res.stderr


#: Runs each argv given on the command line (``|``-separated) through main() in one process
#: and prints, after each, which heavy modules have been imported so far.
_IMPORT_PROBE = """
import argparse, json, sys
from friqa.cli.main import build_parser, main
commands = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
argvs = [["--version"], ["--help"], *([name, "--help"] for name in commands[0].choices)]
seen = []
for argv in argvs:
    try:
        main(argv)
    except SystemExit:
        pass
    seen.append([argv, [m for m in ("torch", "friqa.metrics") if m in sys.modules]])
sys.stderr.write(json.dumps(seen))
"""


def test_version_and_help_do_not_import_torch() -> None:
    """--version, --help and every sub-command's --help stay light (no torch, no registry)."""
    res = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE], capture_output=True, text=True, timeout=600
    )
    assert res.returncode == 0, res.stderr
    seen = json.loads(res.stderr)
    assert len(seen) >= 2 + 7  # --version, --help and the sub-commands
    assert {"score", "evaluate", "list"} <= {argv[0] for argv, _ in seen}
    assert all(not heavy for _, heavy in seen), seen


def test_console_entry_runs_exit_handlers_flushes_and_keeps_the_status(tmp_path: Path) -> None:
    """entry() ends with os._exit: the exit handlers still run and the output is complete."""
    marker = tmp_path / "atexit.txt"
    code = (
        "import atexit, sys\n"
        f"atexit.register(lambda: open({str(marker)!r}, 'w').write('ran'))\n"
        "from friqa.cli.main import entry\n"
        "sys.stdout.write('x' * 100000)\n"  # buffered: lost unless flushed before os._exit
        "sys.argv = ['friqa', 'list', '--family', 'bogus']\n"
        "entry()\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 2
    assert res.stdout == "x" * 100000
    assert res.stderr.strip().endswith(
        "unknown family 'bogus'; the families are: base, deepssim, smic, smic-consistent"
    )
    assert marker.read_text() == "ran"
