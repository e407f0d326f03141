"""Every loss gives finite gradients on the cases that break naive implementations.

For each name of :func:`friqa.losses.list_losses` (so a newly registered
differentiable metric is checked without being listed): identical inputs,
constant images, images at 0 or 1, and bfloat16 / float16 autocast on CPU. The
value is finite too, except for a loss made from an unbounded higher-is-better
score (``-psnr``), which is ``-inf`` with a zero gradient for identical images.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import Tensor

from friqa.exceptions import InputError
from friqa.losses import Loss, create_loss, list_losses, loss_needs_weights
from friqa.metrics import create_metric

#: Image sides tried in turn: the first a loss accepts is used (MS-SSIM needs 161 pixels).
SIDES = (40, 168)


def _smooth(side: int, seed: int) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(1, 3, side // 8, side // 8, generator=g)
    return torch.nn.functional.interpolate(low, size=(side, side), mode="bilinear")


def _const(side: int, value: float) -> Tensor:
    return torch.full((1, 3, side, side), value)


#: case -> (ref, dist) for a side.
CASES: dict[str, Callable[[int], tuple[Tensor, Tensor]]] = {
    "identical": lambda s: (_smooth(s, 1), _smooth(s, 1)),
    "constant ref": lambda s: (_const(s, 0.5), _smooth(s, 2)),
    "constant dist": lambda s: (_smooth(s, 3), _const(s, 0.5)),
    "identical constants": lambda s: (_const(s, 0.5), _const(s, 0.5)),
    "two constants": lambda s: (_const(s, 0.3), _const(s, 0.6)),
    "zeros": lambda s: (_const(s, 0.0), _const(s, 0.0)),
    "ones": lambda s: (_const(s, 1.0), _const(s, 1.0)),
    "zeros vs ones": lambda s: (_const(s, 0.0), _const(s, 1.0)),
    "image vs zeros": lambda s: (_smooth(s, 4), _const(s, 0.0)),
    "image vs ones": lambda s: (_smooth(s, 5), _const(s, 1.0)),
}

AUTOCAST = (None, torch.bfloat16, torch.float16)


def _library_losses() -> list[str]:
    """The losses friqa defines: test doubles that other test modules register as
    metrics are left out by where their class lives, as in tests/metrics/test_contract.py."""
    return [
        name
        for name in list_losses()
        if name in ("l1", "mse", "deepssim_lite")
        or type(create_metric(name)).__module__.partition(".")[0] == "friqa"
    ]


LOSSES = _library_losses()


def _make(name: str, weights: Path) -> Loss:
    return create_loss(name, **({"weights": weights} if loss_needs_weights(name) else {}))


def _side(loss: Loss) -> int:
    for side in SIDES:
        try:
            with torch.no_grad():
                loss(_smooth(side, 0), _smooth(side, 0))
        except InputError:
            continue
        return side
    raise AssertionError("no side accepted")


def _autocast_supported(dtype: torch.dtype) -> bool:
    try:
        with torch.autocast("cpu", dtype=dtype):
            torch.nn.functional.conv2d(torch.rand(1, 1, 3, 3), torch.rand(1, 1, 1, 1))
    except (RuntimeError, AssertionError):
        return False
    return True


@pytest.mark.parametrize("name", LOSSES)
def test_finite_gradients_in_edge_cases(name: str, vgg_weights_path: Path) -> None:
    loss = _make(name, vgg_weights_path)
    side = _side(loss)
    unbounded = loss.describe().startswith("-")
    failures = []
    for amp in AUTOCAST:
        if amp is not None and not _autocast_supported(amp):
            continue
        for case, make in CASES.items():
            ref, dist = make(side)
            x = dist.clone().requires_grad_(True)
            with torch.autocast("cpu", dtype=amp or torch.bfloat16, enabled=amp is not None):
                value = loss(ref, x)
            value.float().backward()
            label = f"{case} ({amp or 'float32'})"
            if x.grad is None or not bool(torch.isfinite(x.grad).all()):
                failures.append(f"{label}: gradient not finite")
            v = float(value.detach())
            if not math.isfinite(v) and not (unbounded and v == -math.inf):
                failures.append(f"{label}: value {v}")
    assert not failures, failures


@pytest.mark.parametrize("name", LOSSES)
def test_identical_inputs_are_a_minimum(name: str, vgg_weights_path: Path) -> None:
    """At ``dist == ref`` the loss is at its least: nothing near it is lower."""
    loss = _make(name, vgg_weights_path)
    side = _side(loss)
    ref = _smooth(side, 6)
    at = float(loss(ref, ref))
    g = torch.Generator().manual_seed(7)
    near = (ref + 0.01 * torch.randn(ref.shape, generator=g)).clamp(0, 1)
    assert at <= float(loss(ref, near)) + 1e-6
