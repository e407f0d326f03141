"""Huge images (issue 14, finding 5), simulated with a lowered memory limit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from friqa.cli.main import main
from friqa.exceptions import InputError, MemoryLimitError
from friqa.metrics.memory import (
    estimate_bytes,
    memory_limit,
    parse_size,
    score_within_memory,
)
from friqa.metrics.registry import create_metric


def _pair(h: int = 61, w: int = 47) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    ref = torch.rand(2, 3, h, w, generator=g)
    return ref, (ref + 0.1 * torch.randn(2, 3, h, w, generator=g)).clamp(0, 1)


@pytest.mark.parametrize(
    ("name", "options"), [("psnr", {}), ("ssim", {}), ("ssim_rgb", {"window_size": 7})]
)
def test_tiles_give_the_whole_image_score(name: str, options: dict[str, int]) -> None:
    ref, dist = _pair()
    metric = create_metric(name, **options)
    whole = metric(ref, dist)
    need = estimate_bytes(metric, 2, 61, 47, torch.float32)
    for fraction in (0.5, 0.3, 0.2):  # 2 to many bands
        tiled = score_within_memory(metric, ref, dist, limit=int(need * fraction))
        torch.testing.assert_close(tiled, whole, rtol=1e-6, atol=1e-6)
    assert torch.equal(score_within_memory(metric, ref, dist, limit=need), whole)


def test_deep_metric_above_the_limit_is_one_clear_line(
    tmp_path: Path, vgg_weights_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ref, dist = _pair()
    lpips = create_metric("lpips", weights="unused.pth")
    with pytest.raises(MemoryLimitError, match=r"lpips on 2 image\(s\) of 47x61 needs about"):
        score_within_memory(lpips, ref, dist, limit="100K")
    assert parse_size("1.5G") == 3 << 29 and memory_limit("2M") == 2 << 20
    with pytest.raises(InputError, match="memory size"):
        parse_size("lots")
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (64, 80, 3), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "a.png")
    Image.fromarray(255 - img).save(tmp_path / "b.png")
    args = ["score", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "--weights"]
    args += [str(vgg_weights_path), "--memory-limit", "400K"]
    assert main([*args, "-m", "psnr,ssim,lpips"]) == 1
    captured = capsys.readouterr()
    assert (
        captured.out.startswith("psnr") and "ssim" in captured.out and "lpips" not in captured.out
    )
    assert "lpips on 1 image(s) of 80x64 needs about" in captured.err
    assert "--memory-limit" in captured.err and "Traceback" not in captured.err
    assert main([*args[:-1], "huge", "-m", "psnr"]) == 2
