"""The scoring runner: bookkeeping, reference reuse, failures, resume (also after a kill)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import eval_helpers as H
import pytest
import torch
from PIL import Image

from friqa.evaluation.manifest import Manifest, ManifestRow, read_manifest
from friqa.evaluation.runner import score_manifest
from friqa.evaluation.scores_file import SCORE_FIELDS, read_scores
from friqa.evaluation.synthetic import make_synthetic_dataset
from friqa.exceptions import InputError, UnknownMetricError, WeightsError
from friqa.io import load_image
from friqa.metrics.registry import create_metric

HERE = Path(__file__).resolve().parent


@pytest.fixture()
def synthetic(tmp_path: Path) -> Manifest:
    return make_synthetic_dataset(tmp_path / "syn", n_refs=3, levels=4, size=32, seed=1)


def _raw_keys(path: Path) -> list[tuple[int, str]]:
    """(row, metric) of every line of a CSV scores file, duplicates included."""
    lines = path.read_text().splitlines()
    assert lines[0] == ",".join(SCORE_FIELDS)
    return [(int(ln.split(",")[0]), ln.split(",")[1]) for ln in lines[1:]]


def test_every_pair_scored_once_with_one_encoding_per_reference(
    synthetic: Manifest, tmp_path: Path
) -> None:
    H.CALLS.clear()
    res = score_manifest(synthetic, ["_test_mean_diff", "psnr"], tmp_path / "out", batch_size=5)
    n = len(synthetic)  # 3 references x 2 distortions x 4 levels
    assert n == 24 and res.total == 48 and res.scored == 48 and res.failed == 0
    assert res.skipped == 0 and res.pairs_per_second > 0
    keys = _raw_keys(res.scores_path)
    assert sorted(keys) == sorted((i, m) for i in range(n) for m in ("_test_mean_diff", "psnr"))
    # one encoding per reference, distorted images in batches of 5, 3 (8 per reference)
    assert [c for c in H.CALLS if c[0] == "encode"] == [("encode", (1, 3, 32, 32))] * 3
    assert [c[1][0] for c in H.CALLS if c[0] == "compute"] == [5, 3] * 3
    assert res.timings["_test_mean_diff"].refs_encoded == 3
    # scores equal an independent computation
    psnr = create_metric("psnr")
    for r in read_scores(res.scores_path):
        row = synthetic.rows[r.row]
        ref = load_image(synthetic.resolve(row.ref))
        dist = load_image(synthetic.resolve(row.dist))
        assert r.ok and r.dist == row.dist and r.subjective == row.score
        expect = (
            H.mean_abs_diff(ref, dist)
            if r.metric == "_test_mean_diff"
            else float(psnr(ref[None], dist[None])[0])
        )
        assert r.score == pytest.approx(expect, rel=1e-5)
    config = json.loads(res.config_path.read_text())
    assert config["metrics"] == ["_test_mean_diff", "psnr"]
    assert config["manifest_sha256"] == synthetic.fingerprint()


def test_without_reference_cache_same_scores_and_no_reuse(
    synthetic: Manifest, tmp_path: Path
) -> None:
    cached = score_manifest(synthetic, ["_test_mean_diff", "ssim"], tmp_path / "a", batch_size=4)
    H.CALLS.clear()
    plain = score_manifest(
        synthetic, ["_test_mean_diff", "ssim"], tmp_path / "b", batch_size=4, ref_cache=False
    )
    # the plain path encodes the reference repeated to every batch
    encodes = [c[1] for c in H.CALLS if c[0] == "encode"]
    assert encodes == [(4, 3, 32, 32)] * 6
    a = {(r.row, r.metric): r.score for r in read_scores(cached.scores_path)}
    b = {(r.row, r.metric): r.score for r in read_scores(plain.scores_path)}
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == pytest.approx(b[k], rel=1e-6, abs=1e-9)


def _failure_dataset(root: Path) -> Manifest:
    root.mkdir(parents=True)
    img = Image.new("RGB", (16, 16), (100, 120, 140))
    img.save(root / "r1.png")
    Image.new("RGB", (16, 16), (110, 120, 140)).save(root / "d_ok.png")
    Image.new("RGB", (20, 16), (110, 120, 140)).save(root / "d_wide.png")
    (root / "d_corrupt.png").write_bytes(b"not a png at all")
    Image.new("RGB", (16, 16), (90, 120, 140)).save(root / "d_orphan.png")
    rows = [
        ManifestRow("d_ok.png", "r1.png", 4.0, "a"),
        ManifestRow("d_missing.png", "r1.png", 3.0, "a"),
        ManifestRow("d_corrupt.png", "r1.png", 2.0, "b"),
        ManifestRow("d_wide.png", "r1.png", 1.0, "b"),
        ManifestRow("d_orphan.png", "r_missing.png", 2.5, "b"),
    ]
    return Manifest(rows, True, root, "fail")


def test_failures_are_recorded_with_reasons_and_the_run_goes_on(tmp_path: Path) -> None:
    m = _failure_dataset(tmp_path / "data")
    res = score_manifest(m, ["_test_mean_diff", "_test_unaligned"], tmp_path / "out")
    recs = {(r.row, r.metric): r for r in read_scores(res.scores_path)}
    assert len(recs) == 10
    assert recs[(0, "_test_mean_diff")].ok and recs[(0, "_test_unaligned")].ok
    missing = recs[(1, "_test_mean_diff")]
    assert missing.status == "failed" and "d_missing.png" in missing.reason
    corrupt = recs[(2, "_test_unaligned")]
    assert corrupt.status == "failed" and corrupt.reason.startswith("distorted d_corrupt.png")
    assert not recs[(2, "_test_mean_diff")].ok
    # the wider image: the aligned metric fails with the size in the reason, the other scores it
    wide = recs[(3, "_test_mean_diff")]
    assert wide.status == "failed" and "same shape" in wide.reason
    assert recs[(3, "_test_unaligned")].ok
    orphan = recs[(4, "_test_unaligned")]
    assert orphan.status == "failed" and orphan.reason.startswith("reference r_missing.png")
    assert res.failed == res.failed_total == 7 and res.scored == 3
    assert all("\n" not in r.reason for r in recs.values())


def test_a_failing_batch_is_retried_image_by_image(synthetic: Manifest, tmp_path: Path) -> None:
    # make one distorted image bright: the flaky metric fails on it only
    bright = synthetic.rows[5]
    Image.new("RGB", (32, 32), (250, 250, 250)).save(synthetic.resolve(bright.dist))
    res = score_manifest(synthetic, ["_test_flaky"], tmp_path / "out", batch_size=8)
    recs = {r.row: r for r in read_scores(res.scores_path)}
    assert [i for i, r in recs.items() if not r.ok] == [5]
    assert "RuntimeError: too bright" in recs[5].reason
    assert res.scored == len(synthetic) - 1


def test_images_of_different_sizes_are_batched_by_size(tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    Image.new("RGB", (24, 24), (100, 100, 100)).save(root / "r.png")
    rows = []
    for k, size in enumerate([(24, 24), (30, 20), (24, 24), (30, 20), (24, 24)]):
        Image.new("RGB", size, (90 + k, 100, 100)).save(root / f"d{k}.png")
        rows.append(ManifestRow(f"d{k}.png", "r.png", float(k)))
    H.CALLS.clear()
    res = score_manifest(Manifest(rows, True, root, "sizes"), ["_test_unaligned"], tmp_path / "o")
    assert res.scored == 5
    assert [c[1] for c in H.CALLS if c[0] == "compute"] == [(3, 3, 24, 24), (2, 3, 20, 30)]
    recs = sorted(read_scores(res.scores_path), key=lambda r: r.row)
    assert [r.row for r in recs] == [0, 1, 2, 3, 4]


def test_resume_skips_done_work_and_drops_a_cut_line(synthetic: Manifest, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = score_manifest(synthetic, ["_test_mean_diff", "psnr"], out, batch_size=3)
    full = {(r.row, r.metric): r.score for r in read_scores(first.scores_path)}
    lines = first.scores_path.read_text().splitlines(keepends=True)
    # as if killed: 7 results lost and the next line cut in the middle
    first.scores_path.write_text("".join(lines[:-7]) + lines[-7][:12])
    again = score_manifest(synthetic, ["_test_mean_diff", "psnr"], out, batch_size=3)
    assert again.skipped == 48 - 7 and again.scored == 7
    keys = _raw_keys(again.scores_path)
    assert len(keys) == len(set(keys)) == 48
    resumed = {(r.row, r.metric): r.score for r in read_scores(again.scores_path)}
    assert resumed == pytest.approx(full)
    # a third run has nothing to do
    third = score_manifest(synthetic, ["_test_mean_diff", "psnr"], out, batch_size=3)
    assert third.skipped == 48 and third.scored == 0 and len(_raw_keys(out / "scores.csv")) == 48


def test_resume_with_other_arguments_is_refused(synthetic: Manifest, tmp_path: Path) -> None:
    out = tmp_path / "out"
    score_manifest(synthetic, ["_test_mean_diff"], out)
    with pytest.raises(InputError, match="metrics: was"):
        score_manifest(synthetic, ["_test_mean_diff", "psnr"], out)
    # another batch size changes no score: the run resumes (issue 14, finding 11)
    assert score_manifest(synthetic, ["_test_mean_diff"], out, batch_size=2).scored == 0
    changed = Manifest(
        [ManifestRow(r.dist, r.ref, r.score + 1, r.distortion) for r in synthetic.rows],
        True,
        synthetic.root,
    )
    with pytest.raises(InputError, match="manifest_sha256"):
        score_manifest(changed, ["_test_mean_diff"], out)
    res = score_manifest(synthetic, ["psnr"], out, overwrite=True)
    assert res.skipped == 0 and {r.metric for r in read_scores(res.scores_path)} == {"psnr"}


def test_retry_failed_after_the_image_appears(tmp_path: Path) -> None:
    m = _failure_dataset(tmp_path / "data")
    out = tmp_path / "out"
    score_manifest(m, ["_test_mean_diff"], out)
    Image.new("RGB", (16, 16), (0, 0, 0)).save(m.resolve("d_missing.png"))
    plain = score_manifest(m, ["_test_mean_diff"], out)
    assert plain.scored == 0 and plain.failed_total == 4  # failed rows count as done
    retry = score_manifest(m, ["_test_mean_diff"], out, retry_failed=True)
    assert retry.scored == 1 and retry.failed == 3
    recs = read_scores(retry.scores_path)
    assert len(_raw_keys(retry.scores_path)) == len(recs) == 5
    assert next(r for r in recs if r.row == 1).ok


def test_jsonl_output_and_progress_bar(
    synthetic: Manifest, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    res = score_manifest(synthetic, ["psnr"], tmp_path / "out", fmt="jsonl", progress=True)
    assert res.scores_path.name == "scores.jsonl"
    lines = res.scores_path.read_text().splitlines()
    assert len(lines) == 24 and json.loads(lines[0])["metric"] == "psnr"
    assert len(read_scores(res.scores_path)) == 24
    err = capsys.readouterr().err
    assert "24/24" in err and "pair/s" in err  # tqdm's count, rate and ETA
    with pytest.raises(InputError, match="scores file but no"):
        (tmp_path / "out" / "run_config.json").unlink()
        score_manifest(synthetic, ["psnr"], tmp_path / "out", fmt="jsonl")


def test_bad_arguments(synthetic: Manifest, tmp_path: Path) -> None:
    with pytest.raises(UnknownMetricError):
        score_manifest(synthetic, ["nope"], tmp_path / "o")
    with pytest.raises(InputError, match="not evaluated"):
        score_manifest(synthetic, ["psnr"], tmp_path / "o", metric_options={"ssim": {}})
    with pytest.raises(InputError, match="batch_size"):
        score_manifest(synthetic, ["psnr"], tmp_path / "o", batch_size=0)
    with pytest.raises(InputError, match="repeated"):
        score_manifest(synthetic, ["psnr", "PSNR"], tmp_path / "o")
    with pytest.raises(WeightsError):
        score_manifest(
            synthetic,
            ["lpips"],
            tmp_path / "o",
            metric_options={"lpips": {"weights": str(tmp_path / "none.pth")}},
        )
    assert not (tmp_path / "o" / "scores.csv").exists()


def test_killed_run_resumes_without_loss_or_duplicates(tmp_path: Path) -> None:
    manifest = make_synthetic_dataset(tmp_path / "syn", n_refs=4, levels=5, size=24, seed=3)
    out = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(HERE)}
    proc = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "eval_helpers.py"),
            str(manifest.root / "manifest.csv"),
            str(out),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    scores = out / "scores.csv"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if scores.exists() and scores.read_text().count("\n") >= 13:
                break
            if proc.poll() is not None:
                pytest.fail(f"the run ended before it was killed: {proc.stderr.read()!r}")
            time.sleep(0.02)
        else:
            pytest.fail("the run wrote nothing in 60 s")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    written = len(_raw_keys(scores))
    assert 12 <= written < 80  # killed mid-run
    res = score_manifest(
        read_manifest(tmp_path / "syn" / "manifest.csv"),
        ["_test_slow", "psnr"],
        out,
        batch_size=2,
        progress=False,
    )
    assert res.skipped >= 12 and res.skipped + res.scored == 80 and res.failed == 0
    keys = _raw_keys(scores)
    assert len(keys) == len(set(keys)) == 80
    fresh = score_manifest(manifest, ["_test_slow", "psnr"], tmp_path / "fresh", batch_size=2)
    a = {(r.row, r.metric): r.score for r in read_scores(scores)}
    b = {(r.row, r.metric): r.score for r in read_scores(fresh.scores_path)}
    assert a == pytest.approx(b)
    assert torch.isfinite(torch.tensor(list(a.values()))).all()


def test_memory_limit_tiles_psnr_and_refuses_deep_metrics_in_one_line(
    synthetic: Manifest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vgg_weights_path: Path
) -> None:
    """Issue 14 #5 in evaluate: the memory estimate runs before each batch (limit lowered)."""
    monkeypatch.setenv("FRIQA_MEMORY_LIMIT", "4K")
    options = {"lpips": {"weights": str(vgg_weights_path)}}
    res = score_manifest(
        synthetic, ["psnr", "lpips"], tmp_path / "low", batch_size=4, metric_options=options
    )
    records = {(r.row, r.metric): r for r in read_scores(res.scores_path)}
    monkeypatch.delenv("FRIQA_MEMORY_LIMIT")
    full = score_manifest(synthetic, ["psnr"], tmp_path / "full", batch_size=4)
    expected = {r.row: r.score for r in read_scores(full.scores_path)}
    for i in range(len(synthetic)):
        assert records[(i, "psnr")].status == "ok"  # exact bands of rows
        assert records[(i, "psnr")].score == pytest.approx(expected[i], rel=1e-6)
        failed = records[(i, "lpips")]
        assert failed.status == "failed" and "memory limit" in failed.reason
        assert "\n" not in failed.reason and "Traceback" not in failed.reason
