"""``friqa saliency``: writes a map where the odd object is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from friqa.cli.main import main


def test_saliency_map_written(tmp_path: Path) -> None:
    img = np.zeros((160, 200, 3), np.uint8)
    img[..., 1] = 140  # green field
    img[60:90, 130:160] = (220, 20, 20)  # one red square
    src = tmp_path / "scene.png"
    Image.fromarray(img).save(src)
    out = tmp_path / "maps" / "sal.png"
    assert main(["saliency", str(src), "-o", str(out), "--npy", str(tmp_path / "sal.npy")]) == 0
    sal = np.asarray(Image.open(out))
    assert sal.shape == (160, 200) and sal.dtype == np.uint8
    y, x = np.unravel_index(sal.argmax(), sal.shape)
    assert 50 <= y <= 100 and 120 <= x <= 170
    raw = np.load(tmp_path / "sal.npy")
    assert raw.shape == (160, 200) and 0 <= raw.min() and raw.max() <= 1


def test_saliency_refuses_to_overwrite_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "a.png"
    Image.fromarray(np.zeros((130, 130, 3), np.uint8)).save(src)
    before = src.read_bytes()
    assert main(["saliency", str(src), "-o", str(src)]) == 2
    assert "overwrite the input" in capsys.readouterr().err
    assert src.read_bytes() == before
