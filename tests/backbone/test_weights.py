"""Weight resolution and strict loading of VGG16 state dicts."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
import torch

import friqa
from friqa.backbone import weights as W
from friqa.backbone.vgg16 import clear_vgg16_cache
from friqa.backbone.weights import (
    TORCHVISION_VGG16_FILENAME,
    VGG16_CONV_SHAPES,
    load_vgg16_state_dict,
    resolve_vgg16_weights,
)
from friqa.exceptions import WeightsError


def _random_state_dict(seed: int = 0, full: bool = False) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    sd: dict[str, torch.Tensor] = {}
    for i, (o, c) in VGG16_CONV_SHAPES.items():
        sd[f"features.{i}.weight"] = torch.randn(o, c, 3, 3, generator=g) * 0.05
        sd[f"features.{i}.bias"] = torch.randn(o, generator=g) * 0.01
    if full:
        sd["classifier.0.weight"] = torch.randn(8, 8, generator=g)
        sd["classifier.0.bias"] = torch.randn(8, generator=g)
    return sd


@pytest.fixture
def no_weights_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An environment where no weights exist anywhere and downloads are off."""
    monkeypatch.delenv("FRIQA_VGG16_WEIGHTS", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("FRIQA_OFFLINE", "1")
    return tmp_path


def test_features_only_and_full_dicts_load(tmp_path: Path) -> None:
    for full in (False, True):
        path = tmp_path / f"vgg_{full}.pth"
        sd = _random_state_dict(full=full)
        torch.save(sd, path)
        loaded = load_vgg16_state_dict(path)
        assert set(loaded) == {k for k in sd if k.startswith("features.")}
        assert torch.equal(loaded["features.28.weight"], sd["features.28.weight"])


def test_missing_key_is_an_error(tmp_path: Path) -> None:
    sd = _random_state_dict()
    del sd["features.14.bias"]
    path = tmp_path / "missing.pth"
    torch.save(sd, path)
    with pytest.raises(WeightsError, match=r"missing keys: \['features.14.bias'\]"):
        load_vgg16_state_dict(path)


def test_unexpected_key_is_an_error(tmp_path: Path) -> None:
    sd = _random_state_dict()
    sd["features.31.weight"] = torch.zeros(1)
    path = tmp_path / "extra.pth"
    torch.save(sd, path)
    with pytest.raises(WeightsError, match="unexpected keys"):
        load_vgg16_state_dict(path)


def test_wrong_shape_is_an_error(tmp_path: Path) -> None:
    sd = _random_state_dict()
    sd["features.7.weight"] = torch.zeros(128, 128, 1, 1)
    path = tmp_path / "shape.pth"
    torch.save(sd, path)
    with pytest.raises(WeightsError, match=r"features.7.weight has shape \(128, 128, 1, 1\)"):
        load_vgg16_state_dict(path)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_weights_are_an_error(tmp_path: Path, bad: float) -> None:
    sd = _random_state_dict()
    sd["features.21.weight"][7, 3, 1, 2] = bad
    path = tmp_path / "bad.pth"
    torch.save(sd, path)
    with pytest.raises(WeightsError, match=r"features\.21\.weight contains NaN or infinite"):
        load_vgg16_state_dict(path)


def test_truncated_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "full.pth"
    torch.save(_random_state_dict(), path)
    data = path.read_bytes()
    cut = tmp_path / "truncated.pth"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(WeightsError, match="truncated"):
        load_vgg16_state_dict(cut)


def test_pickled_code_is_refused(tmp_path: Path) -> None:
    """weights_only=True: a file that needs arbitrary unpickling is rejected."""
    path = tmp_path / "evil.pth"
    torch.save({"features.0.weight": Path("/")}, path)
    with pytest.raises(WeightsError):
        load_vgg16_state_dict(path)


def test_explicit_path_wins_and_must_exist(no_weights_env: Path) -> None:
    path = no_weights_env / "mine.pth"
    path.write_bytes(b"x")
    assert resolve_vgg16_weights(path) == path
    with pytest.raises(WeightsError, match="does not exist"):
        resolve_vgg16_weights(no_weights_env / "nope.pth")


def test_environment_variable(no_weights_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = no_weights_env / "env.pth"
    path.write_bytes(b"x")
    monkeypatch.setenv("FRIQA_VGG16_WEIGHTS", str(path))
    assert resolve_vgg16_weights() == path
    monkeypatch.setenv("FRIQA_VGG16_WEIGHTS", str(no_weights_env / "gone.pth"))
    with pytest.raises(WeightsError, match="FRIQA_VGG16_WEIGHTS"):
        resolve_vgg16_weights()


def test_offline_with_nothing_found_lists_every_place(no_weights_env: Path) -> None:
    with pytest.raises(WeightsError) as info:
        resolve_vgg16_weights()
    message = str(info.value)
    assert "FRIQA_VGG16_WEIGHTS" in message
    assert str(no_weights_env / "torch_home" / "hub" / "checkpoints") in message
    assert "FRIQA_OFFLINE=1" in message
    assert "Fix:" in message


def test_cache_file_with_wrong_hash_is_refused(no_weights_env: Path) -> None:
    cache = no_weights_env / "torch_home" / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    bad = cache / TORCHVISION_VGG16_FILENAME
    torch.save(_random_state_dict(), bad)
    assert not hashlib.sha256(bad.read_bytes()).hexdigest().startswith("397923af")
    with pytest.raises(WeightsError, match="SHA-256"):
        resolve_vgg16_weights()


def test_cache_file_with_right_hash_prefix_is_used(
    no_weights_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = no_weights_env / "torch_home" / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    good = cache / TORCHVISION_VGG16_FILENAME
    good.write_bytes(b"stand-in for torchvision's file")
    prefix = hashlib.sha256(good.read_bytes()).hexdigest()[:8]
    monkeypatch.setattr(W, "TORCHVISION_VGG16_SHA256_PREFIX", prefix)
    assert resolve_vgg16_weights() == good


def test_failed_download_is_reported(no_weights_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without FRIQA_OFFLINE the download is tried; its failure is part of the message."""
    monkeypatch.delenv("FRIQA_OFFLINE")
    monkeypatch.setattr(W, "TORCHVISION_VGG16_URL", "file:///nonexistent/vgg16-397923af.pth")
    with pytest.raises(WeightsError, match="download from file:///nonexistent"):
        resolve_vgg16_weights()
    assert not list((no_weights_env / "torch_home").rglob("*.part"))


def test_download_checks_the_hash(no_weights_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A downloaded file whose hash does not match is not kept in the cache."""
    monkeypatch.delenv("FRIQA_OFFLINE")
    source = no_weights_env / "served.pth"
    source.write_bytes(b"not the real file")
    monkeypatch.setattr(W, "TORCHVISION_VGG16_URL", source.as_uri())
    with pytest.raises(WeightsError, match="SHA-256"):
        resolve_vgg16_weights()
    cache = no_weights_env / "torch_home" / "hub" / "checkpoints"
    assert not (cache / TORCHVISION_VGG16_FILENAME).exists()
    assert not list(cache.glob("*.part"))


def test_download_into_cache(no_weights_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FRIQA_OFFLINE")
    source = no_weights_env / "served.pth"
    source.write_bytes(b"pretend weights")
    monkeypatch.setattr(W, "TORCHVISION_VGG16_URL", source.as_uri())
    monkeypatch.setattr(
        W, "TORCHVISION_VGG16_SHA256_PREFIX", hashlib.sha256(b"pretend weights").hexdigest()[:8]
    )
    got = resolve_vgg16_weights()
    assert got == no_weights_env / "torch_home" / "hub" / "checkpoints" / TORCHVISION_VGG16_FILENAME
    assert got.read_bytes() == b"pretend weights"


def test_cache_file_is_hashed_once_per_process(
    no_weights_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through torch's cache, metric forwards hash the file once; a changed file again."""
    cache = no_weights_env / "torch_home" / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    good = cache / TORCHVISION_VGG16_FILENAME
    torch.save(_random_state_dict(seed=3), good)
    monkeypatch.setattr(W, "TORCHVISION_VGG16_SHA256_PREFIX", W.sha256_of(good)[:8])
    hashed: list[Path] = []
    real_sha256_of = W.sha256_of

    def counting_sha256_of(path: Path, chunk: int = 1 << 20) -> str:
        hashed.append(Path(path))
        return real_sha256_of(path, chunk)

    monkeypatch.setattr(W, "sha256_of", counting_sha256_of)
    clear_vgg16_cache()
    x, y = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    lpips, dists = friqa.create_metric("lpips"), friqa.create_metric("dists")
    with torch.no_grad():
        for _ in range(3):
            lpips(x, y)
            dists(x, y)
    assert hashed == [good]

    # a rewritten file (other size) is checked again, and so is one with a new mtime only
    torch.save({**_random_state_dict(seed=4), "classifier.0.bias": torch.zeros(3)}, good)
    monkeypatch.setattr(W, "TORCHVISION_VGG16_SHA256_PREFIX", real_sha256_of(good)[:8])
    with torch.no_grad():
        lpips(x, y)
        lpips(x, y)
    assert hashed == [good, good]
    stat = good.stat()
    os.utime(good, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with torch.no_grad():
        lpips(x, y)
        lpips(x, y)
    assert hashed == [good, good, good]
    clear_vgg16_cache()
