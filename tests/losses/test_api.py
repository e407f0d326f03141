"""The loss API: names, orientation, reduction, weight, composition, refusals, reference cache."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

import friqa
from friqa.backbone import get_vgg16
from friqa.exceptions import InputError, NotDifferentiableError, UnknownMetricError
from friqa.losses import (
    CompositeLoss,
    DeepSSIMLite,
    DeepSSIMLiteLoss,
    Loss,
    MetricLoss,
    create_loss,
    deepssim_lite_loss,
    list_losses,
    loss_needs_weights,
)
from friqa.metrics import list_metrics, metric_info


def _ours(name: str) -> bool:
    """Not a test double registered by another test module (see tests/metrics/test_contract.py)."""
    if name in ("l1", "mse", "deepssim_lite"):
        return True
    return type(friqa.create_metric(name)).__module__.partition(".")[0] == "friqa"


def _smooth(n: int, size: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 3, size // 8, size // 8, generator=g)
    return torch.nn.functional.interpolate(low, size=(size, size), mode="bilinear")


def test_every_differentiable_metric_is_a_loss_and_no_other() -> None:
    names = list_losses()
    assert names[:3] == ["l1", "mse", "deepssim_lite"]
    for name in list_metrics():
        assert (name in names) == metric_info(name).differentiable, name


@pytest.mark.parametrize(
    "name", [n for n in list_metrics() if not metric_info(n).differentiable and _ours(n)]
)
def test_non_differentiable_metric_refused_with_one_line(name: str) -> None:
    info = metric_info(name)
    with pytest.raises(NotDifferentiableError) as err:
        create_loss(name)
    text = str(err.value)
    assert f"metric '{name}' is not differentiable" in text
    assert info.gradient_note in text and "\n" not in text


def test_an_option_that_restores_the_gradient_is_accepted() -> None:
    loss = create_loss("ssim", quantize=False)
    x = _smooth(2, 32, 1)
    y = _smooth(2, 32, 2).requires_grad_(True)
    loss(x, y).backward()
    assert y.grad is not None and bool(torch.isfinite(y.grad).all())


def test_unknown_names_and_bad_options() -> None:
    with pytest.raises(UnknownMetricError, match="unknown loss 'l3'.*l1, mse, deepssim_lite"):
        create_loss("l3")
    with pytest.raises(InputError, match="reduction"):
        create_loss("l1", reduction="avg")
    with pytest.raises(InputError, match="weight"):
        create_loss("l1", weight=math.nan)
    with pytest.raises(InputError, match="no options"):
        create_loss("l1", weights="x")
    with pytest.raises(InputError, match="only weights="):
        create_loss("deepssim_lite", quantize=False)
    with pytest.raises(InputError, match="bad options"):
        create_loss("psnr", weights="x")
    with pytest.raises(InputError, match="not both"):
        create_loss(friqa.create_metric("psnr"), data_range=2.0)


def test_orientation_from_metadata() -> None:
    x = _smooth(3, 32, 3)
    y = _smooth(3, 32, 4)
    ssim = friqa.create_metric("ssim_rgb")
    torch.testing.assert_close(create_loss("ssim_rgb", reduction="none")(x, y), 1 - ssim(x, y))
    psnr = friqa.create_metric("psnr")
    torch.testing.assert_close(create_loss("psnr", reduction="none")(x, y), -psnr(x, y))
    assert float(create_loss("ssim_rgb")(x, x)) == pytest.approx(0.0, abs=1e-6)
    assert create_loss("ms_ssim").describe() == "1 - ms_ssim"
    assert create_loss("psnr").describe() == "-psnr"
    # a Metric instance works the same as its name
    torch.testing.assert_close(create_loss(ssim)(x, y), (1 - ssim(x, y)).mean())


def test_lower_is_better_for_every_loss(vgg_weights_path: Path) -> None:
    """A slightly noisier image has a larger loss than a slightly noisy one, for every loss."""
    g = torch.Generator().manual_seed(5)
    ref = _smooth(1, 168, 6)  # MS-SSIM needs 161 pixels
    noise = torch.randn(ref.shape, generator=g)
    mild, strong = (ref + 0.02 * noise).clamp(0, 1), (ref + 0.2 * noise).clamp(0, 1)
    for name in filter(_ours, list_losses()):
        opts = {"weights": vgg_weights_path} if loss_needs_weights(name) else {}
        loss = create_loss(name, **opts)
        assert float(loss(ref, mild)) < float(loss(ref, strong)), name


def test_reductions_and_weight() -> None:
    x = _smooth(4, 32, 7)
    y = _smooth(4, 32, 8)
    none = create_loss("ssim_rgb", reduction="none")(x, y)
    assert none.shape == (4,)
    torch.testing.assert_close(create_loss("ssim_rgb")(x, y), none.mean())
    torch.testing.assert_close(create_loss("ssim_rgb", reduction="sum")(x, y), none.sum())
    torch.testing.assert_close(
        create_loss("ssim_rgb", weight=0.5, reduction="sum")(x, y), 0.5 * none.sum()
    )
    l1 = create_loss("l1", reduction="none")(x, y)
    torch.testing.assert_close(l1, (x - y).abs().mean(dim=(1, 2, 3)))
    torch.testing.assert_close(
        create_loss("mse", reduction="none")(x, y), (x - y).square().mean(dim=(1, 2, 3))
    )


def test_composition() -> None:
    x = _smooth(2, 32, 9)
    y = _smooth(2, 32, 10)
    l1, mse, ssim = create_loss("l1"), create_loss("mse", weight=2.0), create_loss("ssim_rgb")
    total = l1 + 0.1 * ssim + mse * 3
    assert isinstance(total, CompositeLoss) and isinstance(total, Loss)
    assert total.describe() == "l1 + 0.1 * (1 - ssim_rgb) + 3 * (2 * mse)"
    expected = l1(x, y) + 0.1 * ssim(x, y) + 3 * mse(x, y)
    torch.testing.assert_close(total(x, y), expected)
    assert len(total.terms()) == 3  # flattened
    torch.testing.assert_close(sum([l1, ssim])(x, y), l1(x, y) + ssim(x, y))  # type: ignore[operator]
    torch.testing.assert_close((0.5 * (l1 + ssim))(x, y), 0.5 * (l1(x, y) + ssim(x, y)))
    with pytest.raises(InputError, match="one reduction"):
        _ = l1 + create_loss("mse", reduction="none")
    with pytest.raises(TypeError):
        _ = l1 + 1.0  # type: ignore[operator]
    none = (create_loss("l1", reduction="none") + create_loss("mse", reduction="none"))(x, y)
    assert none.shape == (2,)


def test_deepssim_lite_in_the_api(vgg_weights_path: Path) -> None:
    """create_loss("deepssim_lite") equals the function; DeepSSIMLiteLoss composes."""
    w = vgg_weights_path
    ref, dist = _smooth(2, 48, 11), _smooth(2, 48, 12)
    expected = deepssim_lite_loss(ref, dist, weights=w, reduction="none")
    lite = create_loss("deepssim_lite", weights=w, reduction="none")
    assert isinstance(lite, DeepSSIMLite)
    torch.testing.assert_close(lite(ref, dist), expected)
    legacy = DeepSSIMLiteLoss(weights=w, reduction="none")
    torch.testing.assert_close(legacy(dist, ref), expected)
    torch.testing.assert_close(
        (create_loss("l1", reduction="none") + legacy)(ref, dist),
        expected + (ref - dist).abs().mean(dim=(1, 2, 3)),
    )


class _Counting(MetricLoss):
    encodes = 0

    def _encode_ref(self, ref: torch.Tensor) -> object:
        type(self).encodes += 1
        return super()._encode_ref(ref)


def test_reference_encoded_once_per_tensor_and_version(vgg_weights_path: Path) -> None:
    loss = _Counting(friqa.create_metric("lpips", weights=vgg_weights_path))
    ref = _smooth(2, 32, 13)
    out1 = _smooth(2, 32, 14).requires_grad_(True)
    out2 = _smooth(2, 32, 15).requires_grad_(True)
    first = loss(ref, out1)
    (first + loss(ref, out2)).backward()  # the same reference twice in one step
    assert _Counting.encodes == 1
    fresh = create_loss("lpips", weights=vgg_weights_path)
    torch.testing.assert_close(first, fresh(ref, out1))  # cached = computed afresh
    loss(ref.clone(), out1)  # another tensor, same values: encoded again
    assert _Counting.encodes == 2
    same = ref.clone()
    loss(same, out1)
    same.mul_(0.5)  # changed in place: its version moves on
    torch.testing.assert_close(loss(same, out1), fresh(same, out1))
    assert _Counting.encodes == 4
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss(same, out1)  # another autocast state: encoded again
    assert _Counting.encodes == 5
    loss.clear_reference_cache()
    loss(same, out1)
    assert _Counting.encodes == 6


def test_gradients_reach_the_output_only(vgg_weights_path: Path) -> None:
    w = vgg_weights_path
    loss = create_loss("l1") + create_loss("lpips", weights=w) + create_loss("dists", weights=w)
    loss = loss + create_loss("deepssim_lite", weights=w)
    assert not any(p.requires_grad for p in loss.parameters())
    ref = _smooth(2, 48, 16).requires_grad_(True)
    out = _smooth(2, 48, 17).requires_grad_(True)
    loss(ref, out).backward()
    assert ref.grad is None  # the reference is a constant
    assert out.grad is not None and float(out.grad.abs().sum()) > 0
    for pooling in ("max", "l2"):
        vgg = get_vgg16(w, pooling)
        assert all(not p.requires_grad and p.grad is None for p in vgg.parameters())


def test_output_outside_the_range_is_clamped_for_metrics(vgg_weights_path: Path) -> None:
    ref = _smooth(1, 32, 18)
    out = (ref * 1.3 - 0.15).requires_grad_(True)  # steps outside [0, 1]
    loss = create_loss("lpips", weights=vgg_weights_path)
    value = loss(ref, out)
    torch.testing.assert_close(value, loss(ref, out.detach().clamp(0, 1)))
    value.backward()
    assert out.grad is not None
    outside = (out.detach() < 0) | (out.detach() > 1)
    assert bool(outside.any()) and float(out.grad[outside].abs().max()) == 0.0
    with pytest.raises(InputError, match="NaN"):
        loss(ref, torch.full_like(ref, math.nan))
