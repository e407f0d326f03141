"""Smoke test of examples/train_sr.py: two training steps per loss on tiny sizes (``--fast``).

Checks that the script runs end to end and writes its table, JSON and picture;
its numbers after two steps mean nothing and are not checked.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from conftest import REPO

SCRIPT = REPO / "examples" / "train_sr.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("train_sr_under_test", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_two_steps_of_every_run(tmp_path: Path, shared_data: Path, vgg_weights_path: Path) -> None:
    pytest.importorskip("skimage")
    script = _load()
    assert script.main(["--fast", "--weights", str(vgg_weights_path), "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "results.json").read_text())
    assert list(result["table"]) == ["bicubic", *script.RUNS]
    assert set(result["held_out"]) == {"I47", "Img2_ref", "coffee"}
    for row in result["table"].values():
        assert list(row) == list(script.EVAL_METRICS)
    assert (tmp_path / "grid.png").stat().st_size > 0
    assert "| L1 + DISTS |" in (tmp_path / "results.md").read_text()


def test_held_out_images_are_not_trained_on(shared_data: Path) -> None:
    pytest.importorskip("skimage")
    script = _load()
    train, held = script.load_images(fast=False)
    assert len(train) + len(held) == len(script.IMAGES) and len(held) == len(script.HELD_OUT)
    for _, img in held:
        assert all(t.shape != img.shape or not bool((t == img).all()) for t in train)
