"""What a run computed with (issue 14, finding 10): run_config.json, weights warning, reprs."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import torch

import friqa.backbone.weights as weights_module
from friqa.cli.main import main
from friqa.evaluation.runner import score_manifest
from friqa.evaluation.synthetic import make_synthetic_dataset
from friqa.metrics.registry import create_metric

#: SHA-256 of the shared test weights (../shared/weights/README.md).
SHARED_SHA256 = "33ceb566556044c0e96a56a3cab2d64e2dc1ab624f7b609e8ab2992139db4273"


def test_run_config_weights_warning_reprs_and_smic_scales(
    tmp_path: Path,
    vgg_weights_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(weights_module, "_WARNED", set())
    manifest = make_synthetic_dataset(tmp_path / "syn", n_refs=1, levels=1, size=32)
    with caplog.at_level(logging.WARNING):
        score_manifest(
            manifest,
            ["psnr", "lpips"],
            tmp_path / "out",
            metric_options={"lpips": {"weights": str(vgg_weights_path)}},
            progress=False,
        )
        weights_module.resolve_vgg16_weights(vgg_weights_path)
    warnings = [r for r in caplog.records if "not torchvision's" in r.getMessage()]
    assert len(warnings) == 1 and str(vgg_weights_path) in warnings[0].getMessage()
    config = json.loads((tmp_path / "out" / "run_config.json").read_text())
    assert config["friqa_version"] and config["torch_version"] == torch.__version__
    assert config["device"] == "cpu"
    assert config["metric_settings"]["psnr"] == {
        "crop_border": 0,
        "data_range": 1.0,
        "y_channel": False,
    }
    assert config["metric_settings"]["lpips"]["weights"] == str(vgg_weights_path)
    assert config["weights"]["lpips"] == {
        "path": str(vgg_weights_path.absolute()),
        "sha256": SHARED_SHA256,
        "torchvision": False,
    }
    monkeypatch.setenv("FRIQA_VGG16_WEIGHTS", str(vgg_weights_path))
    assert f"weights='{vgg_weights_path}'" in repr(create_metric("lpips"))
    assert f"weights='{vgg_weights_path}'" in repr(create_metric("psnr_smic"))
    assert "weights='nope.pth' (not found)" in repr(create_metric("dists", weights="nope.pth"))
    assert main(["list", "--family", "smic"]) == 0
    out = capsys.readouterr().out
    assert "keep its score scales" in out and "1e6-1e7" in out and "lower" in out


def test_doctor_reports_versions_weights_threads_devices_extras(
    vgg_weights_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["doctor", "--weights", str(vgg_weights_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["weights"]["sha256"] == SHARED_SHA256 and not report["weights"]["torchvision"]
    assert report["versions"]["torch"] and report["threads"]["torch"] >= 1
    assert "matplotlib" in report["extras"] and "cuda" in report["devices"]
    assert main(["doctor", "--weights", str(vgg_weights_path)]) == 0
    text = capsys.readouterr().out
    assert "NOT torchvision's file" in text and SHARED_SHA256 in text
    assert text.startswith("friqa ") and "threads: torch" in text and "extras:" in text
