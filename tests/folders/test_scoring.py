"""Folder scoring on real images: rows, summary, output formats and the CLI."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from friqa.cli.main import main
from friqa.folders import score_folders, summarize, write_folder_table
from friqa.io import load_image
from friqa.metrics import create_metric

PAIRS = {"I07": "I07_09_04.png", "I47": "I47_03_05.png"}


@pytest.fixture()
def sr_tree(shared_data: Path, tmp_path: Path) -> tuple[Path, Path]:
    """GT/<stem>.png and SR/<stem>_x4_SR.png from the KADID pairs, plus stray files."""
    kadid = shared_data / "pairs" / "kadid"
    gt, sr = tmp_path / "GT", tmp_path / "SR"
    (gt / "sub").mkdir(parents=True)
    (sr / "sub").mkdir(parents=True)
    for stem, dist in PAIRS.items():
        Image.open(kadid / f"{stem}.png").save(gt / "sub" / f"{stem}.png")
        Image.open(kadid / dist).save(sr / "sub" / f"{stem}_x4_SR.png")
    Image.open(kadid / "I07.png").save(gt / "lonely.png")  # a reference without output
    Image.open(kadid / "I07.png").crop((0, 0, 64, 64)).save(sr / "stray.png")  # no reference
    return gt, sr


def _direct(shared_data: Path, name: str, **options: object) -> dict[str, float]:
    kadid = shared_data / "pairs" / "kadid"
    metric = create_metric(name, **options)
    return {
        stem: float(metric(load_image(kadid / f"{stem}.png")[None], load_image(kadid / d)[None]))
        for stem, d in PAIRS.items()
    }


def test_rows_and_summary_match_friqa_directly(shared_data, sr_tree) -> None:
    gt, sr = sr_tree
    result = score_folders(gt, sr, ["psnr", "ssim"], pattern="{stem}_x4_SR.png")
    scored = [r for r in result.rows if r["ref"] and r["dist"]]
    assert [r["dist"] for r in scored] == ["sub/I07_x4_SR.png", "sub/I47_x4_SR.png"]
    for name in ("psnr", "ssim"):
        direct = _direct(shared_data, name)
        got = {Path(r["ref"]).stem: r[name] for r in scored}
        assert got == pytest.approx(direct, abs=1e-9)
        values = np.array(list(direct.values()))
        s = result.summary[name]
        assert (s.mean, s.std, s.count) == pytest.approx((values.mean(), values.std(), 2))
    missing = {
        (r["ref"], r["dist"]): r["error"] for r in result.rows if not (r["ref"] and r["dist"])
    }
    assert missing == {
        ("lonely.png", ""): "no output for this reference",
        ("", "stray.png"): "no reference for this output",
    }
    assert result.failures == 0


def test_sr_options_and_failures(shared_data, sr_tree) -> None:
    gt, sr = sr_tree
    opts = {"psnr": {"y_channel": True, "crop_border": 4}}
    result = score_folders(gt, sr, ["psnr"], pattern="{stem}_x4_SR", options=opts)
    direct = _direct(shared_data, "psnr", y_channel=True, crop_border=4)
    got = {Path(r["ref"]).stem: r["psnr"] for r in result.rows if r["ref"] and r["dist"]}
    assert got == pytest.approx(direct, abs=1e-9)
    # an output of the wrong size fails alone, with its reason
    Image.open(sr / "stray.png").save(sr / "lonely.png")
    result = score_folders(gt, sr, ["psnr"])
    row = next(r for r in result.rows if r["ref"] == "lonely.png")
    assert row["psnr"] is None and "sizes differ" in row["error"] and result.failures == 1


def test_formats_have_the_same_columns(tmp_path: Path) -> None:
    rows = [
        {"ref": "a.png", "dist": "a.png", "psnr": 30.5, "error": ""},
        {"ref": "b.png", "dist": "", "psnr": None, "error": "no output for this reference"},
    ]
    pq = pytest.importorskip("pyarrow.parquet", reason="Parquet needs pyarrow")
    table = pq.read_table(write_folder_table(rows, tmp_path / "s.parquet")).to_pylist()
    assert table == rows
    with open(write_folder_table(rows, tmp_path / "s.csv"), newline="") as fh:
        as_csv = list(csv.DictReader(fh))
    assert list(as_csv[0]) == list(table[0]) and as_csv[0]["psnr"] == "30.5"
    assert json.loads(write_folder_table(rows, tmp_path / "s.json").read_text()) == rows
    with pytest.raises(Exception, match="parquet"):
        write_folder_table(rows, tmp_path / "s.xlsx")


def test_summary_of_infinite_and_missing_scores() -> None:
    s = summarize([{"psnr": math.inf}, {"psnr": 20.0}, {"psnr": math.nan}], ["psnr", "ssim"])
    assert s["psnr"].mean == math.inf and math.isnan(s["psnr"].std) and s["psnr"].count == 2
    assert s["ssim"].count == 0


def test_cli_folder_mode(shared_data, sr_tree, tmp_path: Path, capsys) -> None:
    gt, sr = sr_tree
    out = tmp_path / "scores.csv"
    argv = ["score", "--ref-dir", str(gt), "--dist-dir", str(sr), "--pattern", "{stem}_x4_SR.png"]
    status = main([*argv, "-m", "psnr", "--y-channel", "--crop-border", "4", "--out", str(out)])
    assert status == 0
    captured = capsys.readouterr()
    assert "1 reference(s) without an output: lonely.png" in captured.err
    assert "1 output(s) without a reference: stray.png" in captured.err
    direct = _direct(shared_data, "psnr", y_channel="float", crop_border=4)
    summary_line = next(line for line in captured.out.splitlines() if line.startswith("psnr"))
    mean = float(summary_line.split()[1])
    assert mean == pytest.approx(np.mean(list(direct.values())), rel=1e-5)
    assert summary_line.split()[-1] == "2"
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4 and {r["error"] for r in rows[2:]} != {""}
    # JSON on stdout: rows and summary
    assert main([*argv, "-m", "psnr,ssim", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["summary"]["ssim"]["count"] == 2 and len(payload["rows"]) == 4
    # user errors
    assert main(["score", "--ref-dir", str(gt)]) == 2
    assert main([*argv, "-m", "lpips", "--y-channel"]) == 2
    assert main(["score", "--ref-dir", str(gt), "--dist-dir", str(tmp_path / "none")]) == 2
