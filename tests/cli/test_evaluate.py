"""``friqa evaluate`` and ``friqa import-dataset``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from friqa.cli.evaluate import parse_metric_options
from friqa.cli.main import main
from friqa.evaluation.synthetic import make_synthetic_dataset
from friqa.exceptions import InputError


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "friqa.cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        timeout=600,
    )


def test_parse_metric_options() -> None:
    got = parse_metric_options(["lpips.weights=/a/b.pth", "ssim.quantize=false", "X.k=[1, 2]"])
    assert got == {
        "lpips": {"weights": "/a/b.pth"},
        "ssim": {"quantize": False},
        "x": {"k": [1, 2]},
    }
    for bad in ("lpips", "lpips=3", ".k=1"):
        with pytest.raises(InputError, match="METRIC.KEY=VALUE"):
            parse_metric_options([bad])


def test_evaluate_in_process_then_resume(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_synthetic_dataset(tmp_path / "syn", n_refs=2, levels=4, size=32)
    args = [
        "evaluate",
        "--manifest",
        str(tmp_path / "syn" / "manifest.csv"),
        "--metrics",
        "psnr,ssim",
        "--out",
        str(tmp_path / "out"),
        "--bootstrap",
        "100",
        "--no-progress",
        "--no-plots",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "| metric | syn SRCC | syn PLCC |"
    assert "syn: 32 scored, 0 already done, 0 failed" in out
    assert (tmp_path / "out" / "report.md").is_file()
    assert len((tmp_path / "out" / "syn" / "scores.csv").read_text().splitlines()) == 33
    assert main(args) == 0
    assert "syn: 0 scored, 32 already done" in capsys.readouterr().out
    # other arguments on the same folder: a one-line error, exit status 2
    assert main([*args[:4], "psnr", *args[5:]]) == 2
    err = capsys.readouterr().err
    assert "different arguments" in err and "metrics" in err and "Traceback" not in err


def test_evaluate_subprocess_shared_data(shared_data: Path, tmp_path: Path) -> None:
    res = _run(
        "evaluate",
        "--manifest",
        str(shared_data / "tid2013-mini" / "manifest.csv"),
        "--manifest",
        str(shared_data / "pairs" / "kadid" / "manifest.csv"),
        "--name",
        "tid",
        "--name",
        "kadid",
        "-m",
        "psnr",
        "--out",
        str(tmp_path / "out"),
        "--bootstrap",
        "50",
        "--json",
    )
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert [d["name"] for d in data["datasets"]] == ["tid", "kadid"]
    assert data["datasets"][0]["metrics"]["psnr"]["n_ok"] == 5
    assert (tmp_path / "out" / "tid" / "scatter_psnr.png").is_file()


def test_evaluate_user_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["evaluate", "--manifest", str(tmp_path / "no.csv"), "-m", "psnr", "--out", "x"]) == 2
    )
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err
    bad = tmp_path / "bad.csv"
    bad.write_text("dist,ref,quality\na.png,b.png,1\n")
    assert main(["evaluate", "--manifest", str(bad), "-m", "psnr", "--out", str(tmp_path)]) == 2
    assert "'mos' (higher = better) or 'dmos'" in capsys.readouterr().err
    args = ["evaluate", "--manifest", str(bad), "--root", "a", "--root", "b", "--out", "x"]
    assert main(args) == 2
    assert "one --root per --manifest" in capsys.readouterr().err


def test_import_dataset_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "mos_with_names.txt").write_text("5.51429 i01_01_1.bmp\n4.2 i01_02_3.bmp\n")
    out = tmp_path / "manifests" / "tid.csv"
    code = main(
        ["import-dataset", "--format", "tid2013", "--root", str(tmp_path), "--out", str(out)]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "2 pairs, 1 references, scores are MOS (higher = better)" in captured.out
    assert "3 image(s) not found" in captured.err  # no images in this test: reported
    lines = out.read_text().splitlines()
    assert lines[0] == "dist,ref,mos,distortion,level"
    assert lines[1].startswith("../distorted_images/i01_01_1.bmp,../reference_images/I01.BMP,")


def test_manifest_paths_resolve_one_way_and_failures_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 14, finding 1: an imported manifest (paths relative to its own folder) given
    with --root too is refused before scoring; an evaluation whose rows all fail exits 1."""
    make_synthetic_dataset(tmp_path / "syn", n_refs=1, levels=2, size=16)
    text = (tmp_path / "syn" / "manifest.csv").read_text()
    lines = text.splitlines()
    moved = [lines[0]] + [
        ",".join(f"syn/{c}" if k < 2 else c for k, c in enumerate(line.split(",")))
        for line in lines[1:]
    ]
    (tmp_path / "imp_syn.csv").write_text("\n".join(moved) + "\n")
    base = ["evaluate", "--manifest", str(tmp_path / "imp_syn.csv"), "-m", "psnr", "--no-plots"]
    tail = ["--bootstrap", "0", "--no-progress"]
    out = str(tmp_path / "out")
    assert main([*base, "--root", str(tmp_path / "syn"), "--out", out, *tail]) == 2
    err = capsys.readouterr().err
    assert "relative to the manifest's folder" in err and "drop --root" in err
    assert main([*base, "--out", out, *tail]) == 0
    assert "imp_syn: 4 scored" in capsys.readouterr().out  # named after the file
    for f in (tmp_path / "syn" / "dist").iterdir():
        f.unlink()
    assert main([*base, "--out", str(tmp_path / "out2"), *tail]) == 1
    captured = capsys.readouterr()
    assert "pairs/s" not in captured.out
    assert (
        captured.err.count("\n") == 1
        and "all 4 (pair, metric) results of imp_syn failed" in captured.err
    )


def test_exit_status_on_partial_failure_is_1_for_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 14, finding 7: one failed row gives exit 1 from `score --pairs` and `evaluate`
    alike (0 all good, 2 user error; docs/cli.md)."""
    make_synthetic_dataset(tmp_path / "syn", n_refs=1, levels=2, size=16)
    manifest = tmp_path / "syn" / "manifest.csv"
    pairs = tmp_path / "syn" / "pairs.csv"
    rows = [line.split(",")[:2] for line in manifest.read_text().splitlines()[1:]]
    pairs.write_text("ref,dist\n" + "".join(f"{r},{d}\n" for d, r in rows))
    common = ["-m", "psnr"]
    ev = ["evaluate", "--manifest", str(manifest), *common, "--no-plots", "--no-progress"]
    assert main(["score", "--pairs", str(pairs), *common, "--out", str(tmp_path / "a.csv")]) == 0
    assert main([*ev, "--bootstrap", "0", "--out", str(tmp_path / "e1")]) == 0
    (tmp_path / "syn" / rows[0][0]).unlink()
    capsys.readouterr()
    assert main(["score", "--pairs", str(pairs), *common, "--out", str(tmp_path / "b.csv")]) == 1
    assert main([*ev, "--bootstrap", "0", "--out", str(tmp_path / "e2")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("friqa score: 1 of 4 pairs failed (first:")
    assert err[1].startswith("friqa evaluate: 1 of 4 (pair, metric) results of syn failed")
    assert main([*ev, "--bootstrap", "-1", "--out", str(tmp_path / "e3")]) == 2


def test_score_pairs_output_table_out_line_extra_columns_and_unicode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 14, finding 9: `score --pairs` prints a table (JSON only with --json), says where
    --out went, keeps the CSV's extra columns and writes non-ASCII paths as they are."""
    import numpy as np
    from PIL import Image

    img = np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "r.png")
    Image.fromarray(255 - img).save(tmp_path / "dü.png")
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("ref,dist,mos,distortion\nr.png,dü.png,3.5,invert\n", encoding="utf-8")
    assert main(["score", "--pairs", str(pairs), "-m", "psnr"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ref", "dist", "mos", "distortion", "psnr", "error"]
    assert lines[1].split()[:4] == ["r.png", "dü.png", "3.5", "invert"]
    assert main(["score", "--pairs", str(pairs), "-m", "psnr", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"dist": "dü.png"' in out and json.loads(out)[0]["mos"] == "3.5"
    for name in ("s.csv", "s.json"):
        assert (
            main(["score", "--pairs", str(pairs), "-m", "psnr", "--out", str(tmp_path / name)]) == 0
        )
        assert capsys.readouterr().out == f"1 pairs, 1 metrics: {tmp_path / name}\n"
    assert (
        (tmp_path / "s.csv")
        .read_text(encoding="utf-8")
        .startswith("ref,dist,mos,distortion,psnr,error\nr.png,dü.png,3.5,invert,")
    )
    assert '"dü.png"' in (tmp_path / "s.json").read_text(encoding="utf-8")
