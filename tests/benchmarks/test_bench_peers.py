"""Smoke test of benchmarks/bench_peers.py: friqa's side on tiny images, peers as installed.

Needs none of the peers: those that are absent (pyiqa, piq and torchmetrics in
the project's own environment) must be reported as "not installed".
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch
from bench_scripts import load_script

import friqa
from friqa.weights import load_shipped

METRICS = ["psnr", "ssim", "ssim_rgb"]
BATCHES = (1, 2)


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_script("bench_peers")


@pytest.fixture(scope="module")
def pairs(bench: ModuleType) -> list[Any]:
    g = torch.Generator().manual_seed(0)
    out = []
    for i in range(3):
        ref = torch.rand(3, 24, 32, generator=g)
        dist = (ref + 0.05 * torch.randn(3, 24, 32, generator=g)).clamp(0, 1)
        out.append(bench.Pair(f"tiny/{i}", ref, dist))
    return out


@pytest.fixture(scope="module")
def results(bench: ModuleType, pairs: list[Any]) -> list[dict[str, Any]]:
    return bench.run(METRICS, pairs, BATCHES, repeats=2, vgg_weights=None)


def test_blocks_and_friqa_scores(results: list[dict[str, Any]], pairs: list[Any]) -> None:
    assert [r["block"] for r in results] == ["psnr", "ssim"]
    assert [o["metric"] for o in results[1]["friqa"]] == ["ssim", "ssim_rgb"]
    ref = torch.stack([p.ref for p in pairs])
    dist = torch.stack([p.dist for p in pairs])
    for block in results:
        for ours in block["friqa"]:
            assert ours["status"] == "ok"
            want = friqa.create_metric(ours["metric"])(ref, dist)
            assert ours["scores"] == pytest.approx(want.tolist(), rel=1e-6)


def test_times_and_ratios_structure(results: list[dict[str, Any]]) -> None:
    for block in results:
        assert sorted(block["batches"]) == sorted(str(b) for b in BATCHES)
        for per_batch in block["batches"].values():
            times, ratios = per_batch["times"], per_batch["ratios"]
            assert set(ratios) == {o["metric"] for o in block["friqa"]}
            for ours in block["friqa"]:
                t = times[ours["label"]]
                assert len(t["runs_s"]) == len(t["cpu_runs_s"]) == 2
                assert 0 < t["min_s"] <= t["median_s"]
            for t in times.values():
                assert set(t) == {
                    "min_s",
                    "median_s",
                    "cpu_min_s",
                    "cpu_median_s",
                    "runs_s",
                    "cpu_runs_s",
                }
            for ratio in ratios.values():
                if ratio is not None:  # only with a same-definition peer installed
                    assert set(ratio) == {"min_s", "median_s", "cpu_median_s"}
                    assert math.isfinite(ratio["median_s"]["value"])


def test_absent_peers_are_reported_not_skipped(
    bench: ModuleType, results: list[dict[str, Any]]
) -> None:
    for block in results:
        labels = [p["label"] for p in block["peers"]]
        assert labels == [p.label for p in bench.PEERS[block["block"]]]
        for peer in block["peers"]:
            timed = any(peer["label"] in b["times"] for b in block["batches"].values())
            if importlib.util.find_spec(peer["library"]) is None:
                assert peer["status"] == "not installed"
                assert peer["agreement"] == {} and not timed
            elif peer["status"] == "ok":
                assert set(peer["agreement"]) == {o["metric"] for o in block["friqa"]}
                assert timed
            else:
                assert peer["status"].startswith("failed")


def test_report_and_json(
    bench: ModuleType, results: list[dict[str, Any]], pairs: list[Any], tmp_path: Path
) -> None:
    args = argparse.Namespace(load=0, repeats=2, batch=list(BATCHES), same_rtol=1e-4, weights=None)
    cond = bench.conditions(args, pairs)
    assert cond["pairs"] == ["tiny/0", "tiny/1", "tiny/2"] and cond["image_size"] == [24, 32]
    report = bench.format_report(results, cond)
    for block in results:
        assert f"== {block['block']} ==" in report
        for row in [*block["friqa"], *block["peers"]]:
            assert row["label"] in report
    if any(p["status"] == "not installed" for b in results for p in b["peers"]):
        assert "not installed" in report
    out = tmp_path / "peers.json"
    out.write_text(json.dumps({"conditions": cond, "metrics": results}))
    assert json.loads(out.read_text())["metrics"][0]["block"] == "psnr"


def test_peer_environment_is_undone_and_places_piq_weights(bench: ModuleType) -> None:
    hub_before = torch.hub.get_dir()
    had_torchvision = "torchvision" in sys.modules
    with bench.peer_environment(Path("absent-vgg16.pth")):
        folder = Path(torch.hub.get_dir()) / "checkpoints"
        lin = torch.load(folder / "lpips_weights.pt", weights_only=True)
        shipped = load_shipped("lpips_vgg_v0.1.pth")
        assert [tuple(t.shape) for t in lin] == [(1, c, 1, 1) for c in (64, 128, 256, 512, 512)]
        assert all(torch.equal(t, shipped[f"lin{k}.model.1.weight"]) for k, t in enumerate(lin))
        ab = torch.load(folder / "dists_weights.pt", weights_only=True)
        assert torch.equal(ab["alpha"], load_shipped("dists_alpha_beta.pt")["alpha"])
        models = importlib.import_module("torchvision.models")
        assert importlib.util.find_spec("torchvision") is not None
        with pytest.raises(NotImplementedError, match="stand-in"):
            models.resnet50()
    assert torch.hub.get_dir() == hub_before
    assert ("torchvision" in sys.modules) == had_torchvision
    assert not folder.exists()
