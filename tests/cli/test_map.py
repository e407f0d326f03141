"""``friqa map``: the panel PNG, the raw arrays, user errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from friqa.cli.main import main


@pytest.fixture(scope="module")
def crop_pair(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A 160x128 crop of a real pair, saved as PNG (fast to score)."""
    out = tmp_path_factory.mktemp("map")
    paths = []
    for name in ("I07.png", "I07_09_04.png"):
        with Image.open(shared_data / "pairs" / "kadid" / name) as im:
            path = out / name
            im.crop((160, 100, 320, 228)).save(path)
            paths.append(str(path))
    return paths[0], paths[1]


def test_map_writes_panel_and_arrays(
    crop_pair: tuple[str, str],
    vgg_weights_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("matplotlib")
    png, npz = tmp_path / "panel.png", tmp_path / "maps.npz"
    status = main(
        ["map", *crop_pair, "--metric", "ssim_smic", "-o", str(png), "--npy", str(npz),
         "--stride", "3", "--weights", str(vgg_weights_path)]
    )  # fmt: skip
    assert status == 0
    out = capsys.readouterr().out
    assert out.startswith("ssim_smic\t") and str(png) in out
    with Image.open(png) as im:
        assert im.format == "PNG" and im.size[0] > 2 * im.size[1]
    arrays = np.load(npz)
    assert arrays["ref"].shape == (128, 160, 3)
    assert arrays["distortion"].shape == arrays["rectified"].shape == (122, 154)
    assert arrays["normalized_relu3_3"].shape == (9, 12)  # 32x40 relu3_3, k7 s3
    assert 0 <= arrays["attention"].min() and arrays["attention"].max() <= 1
    assert float(arrays["score"]) == pytest.approx(float(out.split("\t")[1]), rel=1e-5)


def test_map_user_errors(
    crop_pair: tuple[str, str], vgg_weights_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["map", *crop_pair, "--weights", str(vgg_weights_path)]) == 2
    assert "nothing to write" in capsys.readouterr().err
    status = main(
        ["map", *crop_pair, "-m", "dists_smic", "--npy", "x.npz", "--weights",
         str(vgg_weights_path)]
    )  # fmt: skip
    assert status == 2 and "no distortion map" in capsys.readouterr().err
    assert main(["map", *crop_pair, "--npy", "x.npz", "--stride", "0"]) == 2
    assert "--stride" in capsys.readouterr().err


def test_missing_matplotlib_stops_map_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 14, finding 2: matplotlib is a core dependency (the SMIC figure is the
    deliverable); without it `friqa map -o` stops at once with the install command."""
    import sys

    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    core = pyproject.split("dependencies = [", 1)[1].split("]", 1)[0]
    assert '"matplotlib>=' in core

    import friqa.smic.maps

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("computed the maps before checking matplotlib")

    monkeypatch.setattr(friqa.smic.maps, "smic_maps", no_work)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    img = tmp_path / "a.png"
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(img)
    assert main(["map", str(img), str(img), "-o", str(tmp_path / "p.png")]) == 2
    err = capsys.readouterr().err
    assert "pip install 'friqa[plot]'" in err and "--npy" in err and "--no-plots" not in err
