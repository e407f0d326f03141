"""evaluate() end to end: a synthetic dataset with a known ranking, and the real shared data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import eval_helpers  # noqa: F401  (registers the test metrics)
import numpy as np
import pytest
from scipy import stats

from friqa.evaluation import evaluate, read_manifest, read_scores, score_manifest
from friqa.evaluation.synthetic import make_synthetic_dataset
from friqa.metrics.registry import list_metrics, metric_info


def test_synthetic_dataset_known_ranking(tmp_path: Path) -> None:
    manifest = make_synthetic_dataset(
        tmp_path / "syn", n_refs=4, levels=5, distortions=("noise", "blur"), size=48, seed=2
    )
    # _test_unaligned (mean(dist) - mean(ref)) is blind to zero-mean noise: a poor metric
    result = evaluate(
        manifest, ["psnr", "_test_unaligned"], tmp_path / "out", n_boot=300, progress=False
    )
    (summary,) = result.summaries
    run = result.runs["syn"]
    assert run.scored == 80 and run.failed == 0
    records = read_scores(run.scores_path)
    psnr = {r.row: r.score for r in records if r.metric == "psnr"}
    # within each (reference, distortion) PSNR falls strictly as the level rises
    for ref_rows in manifest.groups().values():
        for d in ("noise", "blur"):
            rows = sorted(
                (i for i in ref_rows if manifest.rows[i].distortion == d),
                key=lambda i: -manifest.rows[i].score,
            )
            values = [psnr[i] for i in rows]
            assert all(a > b for a, b in zip(values, values[1:], strict=False))
    # the noise levels are ranked perfectly across references too: the SRCC reaches its
    # maximum given the tied MOS values
    noise = [i for i, r in enumerate(manifest.rows) if r.distortion == "noise"]
    mos = np.array([manifest.rows[i].score for i in noise])
    best_possible = stats.spearmanr(np.argsort(np.argsort(mos, kind="stable")), mos).statistic
    got = summary.metrics["psnr"].per_distortion["noise"].srcc
    assert got == pytest.approx(best_possible, abs=1e-12)
    assert summary.metrics["psnr"].stats is not None
    assert summary.metrics["psnr"].stats.srcc.value > 0.8
    assert result.table("srcc")["psnr"]["syn"] > result.table("srcc")["_test_unaligned"]["syn"]
    (cmp,) = summary.comparisons
    assert cmp.a == "psnr" and cmp.bootstrap.p_value < 0.01 and cmp.williams.p_value < 0.01
    # the reports
    report = result.files["report"].read_text()
    assert report.splitlines()[4] == "| metric | syn SRCC | syn PLCC |"
    assert (tmp_path / "out" / "syn" / "scatter_psnr.png").is_file()
    data = json.loads(result.files["summary"].read_text())
    assert data["datasets"][0]["metrics"]["psnr"]["n_ok"] == 40


def _official(official_scores: dict[str, Any], dist: str) -> dict[str, Any]:
    for entry in official_scores["pairs"].values():
        if entry["dist"] == dist:
            return dict(entry)
    raise KeyError(dist)


@pytest.mark.slow
def test_shared_data_with_a_deep_metric(
    shared_data: Path,
    vgg_weights_path: Path,
    official_scores: dict[str, Any],
    tmp_path: Path,
) -> None:
    tid = shared_data / "tid2013-mini" / "manifest.csv"
    kadid = shared_data / "pairs" / "kadid" / "manifest.csv"
    base = evaluate(
        {"tid2013-mini": tid, "kadid": kadid},
        ["psnr", "ssim"],
        tmp_path / "base",
        n_boot=200,
        progress=False,
    )
    assert [s.name for s in base.summaries] == ["tid2013-mini", "kadid"]
    assert base.runs["tid2013-mini"].scored == 10 and base.runs["kadid"].scored == 8
    report = base.files["report"].read_text()
    assert "| metric | tid2013-mini SRCC | tid2013-mini PLCC | kadid SRCC | kadid PLCC |" in report
    for s in base.summaries:
        for m in s.metrics.values():
            assert m.stats is not None and -1 <= m.stats.srcc.value <= 1
    # LPIPS through the runner (reference features reused) equals the authors' code
    deep = evaluate(
        {"kadid": kadid},
        ["lpips"],
        tmp_path / "deep",
        weights=vgg_weights_path,
        n_boot=200,
        progress=False,
    )
    records = read_scores(deep.runs["kadid"].scores_path)
    assert len(records) == 4 and all(r.ok for r in records)
    for r in records:
        expected = _official(official_scores, f"pairs/kadid/{r.dist}")["lpips_vgg"]
        assert r.score == pytest.approx(expected, abs=2e-4)
    assert deep.runs["kadid"].timings["lpips"].refs_encoded == 2
    config = json.loads((tmp_path / "deep" / "kadid" / "run_config.json").read_text())
    assert config["metric_options"]["lpips"]["weights"] == str(vgg_weights_path)
    assert read_manifest(kadid).fingerprint() == config["manifest_sha256"]


@pytest.mark.parametrize("name", list_metrics())
def test_every_registered_metric_runs_with_and_without_the_cache(
    name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The runner works for whatever the registry holds, now and later: encoding the
    reference once gives the same results as scoring each pair from scratch."""
    options = None
    if metric_info(name).needs_weights:
        options = {name: {"weights": str(request.getfixturevalue("vgg_weights_path"))}}
    manifest = make_synthetic_dataset(tmp_path / "d", n_refs=1, levels=3, size=64, seed=5)
    runs = [
        score_manifest(
            manifest,
            [name],
            tmp_path / f"out{cache}",
            metric_options=options,
            batch_size=2,
            ref_cache=cache,
            progress=False,
        )
        for cache in (True, False)
    ]
    cached, plain = (sorted(read_scores(r.scores_path), key=lambda r: r.row) for r in runs)
    assert len(cached) == len(plain) == len(manifest)
    for a, b in zip(cached, plain, strict=True):
        assert a.status == b.status
        if a.ok:
            assert np.isfinite(a.score) or a.score == b.score
            assert a.score == pytest.approx(b.score, rel=1e-4, abs=1e-6)
        else:
            assert a.reason and b.reason  # e.g. an image below the metric's minimum size
