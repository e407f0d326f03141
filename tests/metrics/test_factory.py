"""build_metrics: the one factory of the CLI and the evaluation runner."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from friqa.exceptions import UnknownMetricError, WeightsError
from friqa.metrics.factory import build_metrics, metric_options


def test_names_options_and_mode() -> None:
    metrics = build_metrics(["PSNR", "ssim_rgb"], options={"ssim_rgb": {"window_size": 7}})
    assert list(metrics) == ["psnr", "ssim_rgb"]
    assert all(not m.training for m in metrics.values())
    ref = torch.rand(1, 3, 16, 16)
    assert torch.isfinite(metrics["ssim_rgb"](ref, ref.flip(-1))).all()
    with pytest.raises(UnknownMetricError):
        build_metrics(["nope"])


def test_weights_go_to_the_deep_metrics_only(tmp_path: Path) -> None:
    opts = metric_options(
        ["psnr", "lpips", "dists"], weights=tmp_path / "w.pth", options={"DISTS": {"weights": "d"}}
    )
    assert opts == {"dists": {"weights": "d"}, "lpips": {"weights": str(tmp_path / "w.pth")}}
    assert metric_options(["lpips"]) == {}
    # a missing weights file fails at creation, with the explanation of the weights resolver
    with pytest.raises(WeightsError):
        build_metrics(["psnr", "lpips"], weights=tmp_path / "none.pth")


def test_weights_and_dtype_reach_the_metric(vgg_weights_path: Path) -> None:
    def dtypes(dtype: torch.dtype | None) -> set[torch.dtype]:
        lpips = build_metrics(["lpips"], weights=vgg_weights_path, dtype=dtype)["lpips"]
        return {t.dtype for t in [*lpips.parameters(), *lpips.buffers()] if t.is_floating_point()}

    assert dtypes(torch.float64) == {torch.float64}
    assert dtypes(None) == {torch.float32}
