"""Shared test fixtures.

`../shared` (beside the repository) holds real images, reference outputs of the
authors' code and a real VGG16 weight file. Tests that need it use the fixtures
below and skip, saying why, when it is absent (for example in a user's clone).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FRIQA_SHARED_DIR", REPO.parent / "shared"))
SHARED_WEIGHTS = SHARED / "weights" / "vgg16-imagenet-caffe-features.pth"


def load_benchmark(filename: str) -> ModuleType:
    """Import ``benchmarks/<filename>`` (a script folder, not a package) for a test."""
    path = REPO / "benchmarks" / filename
    spec = importlib.util.spec_from_file_location(f"{path.stem}_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(
            f"needs {path} (the project's ../shared folder with real data, fixtures and weights); "
            "it is absent here"
        )
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ../shared folder; skips the test when absent."""
    return _need(SHARED)


@pytest.fixture(scope="session")
def shared_data(shared_dir: Path) -> Path:
    return _need(shared_dir / "data")


@pytest.fixture(scope="session")
def vgg_weights_path() -> Path:
    """Real ImageNet VGG16 conv weights (not torchvision's file; see shared/weights/README.md)."""
    return _need(SHARED_WEIGHTS)


@pytest.fixture(scope="session")
def official_scores(shared_dir: Path) -> dict[str, Any]:
    path = _need(shared_dir / "fixtures" / "official_scores.json")
    with open(path) as fh:
        data: dict[str, Any] = json.load(fh)
    return data
