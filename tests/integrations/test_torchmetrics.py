"""friqa metrics as torchmetrics metrics, in a training-loop-like sequence."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

pytest.importorskip("torchmetrics", reason="needs torchmetrics (pip install 'friqa[torchmetrics]')")

from friqa.exceptions import InputError  # noqa: E402
from friqa.integrations.torchmetrics import FriqaTorchMetric  # noqa: E402
from friqa.io import load_image  # noqa: E402
from friqa.metrics import create_metric  # noqa: E402


@pytest.fixture(scope="module")
def kadid_batches(shared_data: Path) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The KADID pairs as two batches of two, like a validation loader."""
    base = shared_data / "pairs" / "kadid"
    with open(base / "manifest.csv") as fh:
        rows = list(csv.DictReader(fh))
    refs = torch.stack([load_image(base / r["ref"]) for r in rows])
    dists = torch.stack([load_image(base / r["dist"]) for r in rows])
    return [(refs[i : i + 2], dists[i : i + 2]) for i in range(0, len(rows), 2)]


def _synthetic(seed: int, n: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    ref = torch.rand(n, 3, 24, 24, generator=g)
    return ref, (ref + 0.05 * torch.randn(n, 3, 24, 24, generator=g)).clamp(0, 1)


@pytest.mark.parametrize("name", ["psnr", "ssim"])
def test_epochs_on_real_pairs_match_friqa(kadid_batches, name):
    metric = FriqaTorchMetric(name)
    direct = create_metric(name)
    expected = torch.cat([direct(r, d) for r, d in kadid_batches]).double()
    for _epoch in range(2):
        batch_values = [metric(r, d) for r, d in kadid_batches]  # forward: the batch's mean
        for value, (r, d) in zip(batch_values, kadid_batches, strict=True):
            assert value.item() == pytest.approx(direct(r, d).double().mean().item(), abs=1e-12)
        assert metric.compute().item() == pytest.approx(expected.mean().item(), abs=1e-12)
        assert int(metric.count) == expected.numel()
        metric.reset()
    assert int(metric.count) == 0


def test_reduction_none_keeps_every_score_in_order():
    metric = FriqaTorchMetric("psnr", reduction="none")
    direct = create_metric("psnr")
    batches = [_synthetic(s) for s in range(3)]
    for r, d in batches:
        metric.update(r, d)
    expected = torch.cat([direct(r, d) for r, d in batches])
    assert torch.equal(metric.compute(), expected)
    assert metric.compute().shape == (9,)
    metric.reset()
    assert metric.scores == []


def test_sum_options_and_metadata():
    metric = FriqaTorchMetric("psnr", {"y_channel": True, "crop_border": 2}, reduction="sum")
    r, d = _synthetic(4)
    metric.update(r, d)
    expected = create_metric("psnr", y_channel=True, crop_border=2)(r, d).double().sum()
    assert metric.compute().item() == pytest.approx(expected.item(), abs=1e-9)
    assert metric.higher_is_better is True
    assert FriqaTorchMetric(create_metric("ssim_rgb")).metric.info.name == "ssim_rgb"


def test_states_reduce_across_processes():
    """Two processes' states, gathered by torchmetrics' own sync with a stand-in gather."""
    r0, d0 = _synthetic(5, n=2)
    r1, d1 = _synthetic(6, n=3)
    other = FriqaTorchMetric("psnr", reduction="none")
    other.update(r1, d1)
    other_states = {
        "score_sum": other.score_sum.clone(),
        "count": other.count.clone(),
        "scores": torch.cat(other.scores),
    }

    def gather(tensor: torch.Tensor, group=None) -> list[torch.Tensor]:
        key = next(
            k
            for k, v in other_states.items()
            if v.dtype == tensor.dtype
            and (v.shape == tensor.shape or k == "scores" and tensor.ndim == 1)
        )
        return [tensor, other_states[key]]

    for reduction in ("mean", "none"):
        metric = FriqaTorchMetric(
            "psnr",
            reduction=reduction,
            dist_sync_fn=gather,
            distributed_available_fn=lambda: True,
        )
        metric.update(r0, d0)
        direct = create_metric("psnr")
        everything = torch.cat([direct(r0, d0), direct(r1, d1)])
        if reduction == "mean":
            assert metric.compute().item() == pytest.approx(everything.double().mean().item())
        else:
            assert torch.equal(metric.compute(), everything)


def test_merge_state_combines_two_workers():
    a, b = FriqaTorchMetric("psnr"), FriqaTorchMetric("psnr")
    (r0, d0), (r1, d1) = _synthetic(7), _synthetic(8)
    a.update(r0, d0)
    b.update(r1, d1)
    a.merge_state(b)
    direct = create_metric("psnr")
    expected = torch.cat([direct(r0, d0), direct(r1, d1)]).double().mean()
    assert a.compute().item() == pytest.approx(expected.item())


def test_errors():
    with pytest.raises(InputError, match="reduction"):
        FriqaTorchMetric("psnr", reduction="max")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="metric must be"):
        FriqaTorchMetric(42)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="metric_options"):
        FriqaTorchMetric(create_metric("psnr"), {"crop_border": 1})
    with pytest.raises(InputError, match="before any update"), pytest.warns(UserWarning):
        FriqaTorchMetric("psnr").compute()
