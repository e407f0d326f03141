"""Metrics without a gradient refuse ``backward`` with a friqa error instead of giving zeros."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from torch import Tensor

import friqa
from friqa.exceptions import FriqaError, InputError, NotDifferentiableError
from friqa.metrics.base import EncodedRef, Metric, MetricInfo, MetricResult
from friqa.metrics.gradients import block_backward, not_differentiable_message, refuse_gradients


def _pair(n: int = 2, size: int = 24, seed: int = 0) -> tuple[Tensor, Tensor]:
    g = torch.Generator().manual_seed(seed)
    ref = torch.rand(n, 3, size, size, generator=g)
    return ref, (ref + 0.2 * torch.rand(n, 3, size, size, generator=g)).clamp(0, 1)


_ROUNDED_INFO = MetricInfo(
    name="rounded_abs",
    lower_better=True,
    score_range=(0.0, 1.0),
    needs_weights=False,
    returns_map=True,
    differentiable=False,
)


class _RoundedAbs(Metric):
    """Mean absolute difference of 8-bit rounded images: a zero gradient everywhere.

    Not registered, so that the registry (and the contract tests) never see it.
    """

    info = _ROUNDED_INFO

    def _compute(self, ref: EncodedRef, dist: Tensor, return_map: bool) -> MetricResult:
        diff = ((ref.data * 255).round() - (dist * 255).round()).abs().mean(1, keepdim=True) / 255
        return MetricResult(diff.mean(dim=(1, 2, 3)), diff if return_map else None, {"d": diff})


def test_block_backward_keeps_values_and_raises_on_backward() -> None:
    x = torch.rand(4, dtype=torch.float64, requires_grad=True)
    y = block_backward(x.round(), "metric 'm' is not differentiable: no", [x])
    assert torch.equal(y, x.round().detach()) and y.dtype == torch.float64 and y.requires_grad
    with pytest.raises(NotDifferentiableError, match="metric 'm' is not differentiable: no") as err:
        y.sum().backward()
    assert isinstance(err.value, InputError) and isinstance(err.value, FriqaError)
    assert isinstance(err.value, ValueError) and x.grad is None


def test_messages_come_from_metadata() -> None:
    assert not_differentiable_message("x", "why; use y") == (
        "metric 'x' is not differentiable: why; use y"
    )
    general = not_differentiable_message("x")
    assert (
        general.startswith("metric 'x' is not differentiable;") and "differentiable=True" in general
    )


def test_metric_without_note_gets_the_general_message() -> None:
    m = _RoundedAbs()
    ref, dist = _pair()
    x = dist.clone().requires_grad_(True)
    res = m.compute(ref, x, return_map=True)
    with torch.no_grad():
        plain = m.compute(ref, dist, return_map=True)
    assert torch.equal(res.score.detach(), plain.score) and res.map is not None
    assert torch.equal(res.extras["d"], plain.extras["d"])  # extras as computed
    message = re.escape(not_differentiable_message("rounded_abs"))
    with pytest.raises(NotDifferentiableError, match=message):
        res.score.sum().backward()
    with pytest.raises(NotDifferentiableError, match=message):
        torch.autograd.grad(res.map.sum(), x)


def test_nothing_changes_without_a_gradient_to_refuse() -> None:
    m = _RoundedAbs()
    ref, dist = _pair()
    res = m.compute(ref, dist)  # grad mode on, but no input requires a gradient
    assert res.score.grad_fn is None
    with torch.no_grad():
        res = m.compute(ref, dist.clone().requires_grad_(True))
    assert res.score.grad_fn is None and not res.score.requires_grad
    same = MetricResult(torch.zeros(2))
    assert refuse_gradients(m, same, ref, {"a": [dist]}) is same


def test_inputs_are_searched_through_nested_containers() -> None:
    @dataclass
    class Holder:
        inner: EncodedRef

    m = _RoundedAbs()
    x = torch.rand(2, 3, 4, 4, requires_grad=True)
    result = MetricResult(torch.zeros(2))
    nested = {"a": [1, (Holder(EncodedRef((2, 3, 4, 4), {"feats": [x]})),)]}
    out = refuse_gradients(m, result, nested)
    assert out is not result and out.score.requires_grad
    with pytest.raises(NotDifferentiableError):
        out.score.sum().backward()


def test_ssim_refuses_backward_and_names_the_alternative() -> None:
    ref, dist = _pair()
    m = friqa.create_metric("ssim")
    assert not m.differentiable and not m.info.differentiable
    x = dist.clone().requires_grad_(True)
    score = m(ref, x)
    with torch.no_grad():
        torch.testing.assert_close(score, m(ref, dist), rtol=0, atol=0)
    with pytest.raises(NotDifferentiableError) as err:
        score.sum().backward()
    assert str(err.value) == (
        "metric 'ssim' is not differentiable: its 8-bit quantisation has no gradient; use "
        "quantize=False or 'ssim_rgb' for training"
    )
    # through the encoded reference, with the reference requiring the gradient
    r = ref[:1].clone().requires_grad_(True)
    encoded = m.compute_encoded(m.encode_ref(r), dist)
    with pytest.raises(NotDifferentiableError, match="metric 'ssim'"):
        torch.autograd.grad(encoded.score.sum(), r)


def test_an_option_that_restores_the_gradient_lifts_the_refusal() -> None:
    ref, dist = _pair()
    m = friqa.create_metric("ssim", quantize=False)
    assert m.differentiable and not m.info.differentiable  # the registry keeps the default's
    x = dist.clone().requires_grad_(True)
    m(ref, x).sum().backward()
    assert x.grad is not None and bool(torch.isfinite(x.grad).all())
    assert float(x.grad.abs().sum()) > 0


def test_differentiable_metrics_are_untouched() -> None:
    ref, dist = _pair()
    m = friqa.create_metric("ssim_rgb")
    x = dist.clone().requires_grad_(True)
    score = m(ref, x)
    assert "Refuse" not in type(score.grad_fn).__name__
    (grad,) = torch.autograd.grad(score.sum(), x)
    assert float(grad.abs().sum()) > 0


def test_smic_metrics_follow_their_options(vgg_weights_path: Path) -> None:
    ref, dist = _pair(1, 56, seed=3)
    faithful = friqa.create_metric("psnr_smic", weights=vgg_weights_path)
    assert not faithful.differentiable
    assert friqa.create_metric(
        "psnr_smic", weights=vgg_weights_path, preprocess=False
    ).differentiable
    x = dist.clone().requires_grad_(True)
    score = faithful(ref, x)
    assert math.isfinite(float(score.detach()))
    with pytest.raises(NotDifferentiableError, match="metric 'psnr_smic'.*preprocess=False"):
        score.sum().backward()
    consistent = friqa.create_metric("ssim+smic", weights=vgg_weights_path)
    assert not consistent.differentiable
    with pytest.raises(NotDifferentiableError, match=re.escape("metric 'ssim+smic'")):
        consistent(ref, x).sum().backward()
    float_ssim = friqa.create_metric("ssim+smic", weights=vgg_weights_path, quantize=False)
    assert float_ssim.differentiable
    (grad,) = torch.autograd.grad(float_ssim(ref, x).sum(), x)
    assert bool(torch.isfinite(grad).all()) and float(grad.abs().sum()) > 0


def test_smic_wrapper_of_a_callable_lets_its_autograd_decide(vgg_weights_path: Path) -> None:
    from friqa.smic import smic_wrap

    def abs_map(ref: Tensor, dist: Tensor) -> Tensor:
        return (ref - dist).abs().mean(1, keepdim=True)

    assert smic_wrap(abs_map, weights=vgg_weights_path).differentiable
    assert not smic_wrap("ssim", weights=vgg_weights_path).differentiable
