"""Shared fixtures of the MIC tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="module")
def fixture_pairs(shared_dir: Path) -> dict[str, np.ndarray]:
    """The minepy fixture pairs (``../shared/fixtures/mic_minepy.npz``); skips without it."""
    path = shared_dir / "fixtures" / "mic_minepy.npz"
    if not path.exists():
        pytest.skip(f"needs {path}")
    with np.load(path) as data:
        return {k: data[k] for k in data.files}
