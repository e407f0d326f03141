"""Input validation shared by all metrics."""

from __future__ import annotations

import pytest
import torch

from friqa.exceptions import InputError
from friqa.validation import check_batch, check_data_range, check_pair


def test_good_pair_passes_through() -> None:
    x, y = torch.rand(2, 3, 8, 9), torch.rand(2, 3, 8, 9)
    r, d = check_pair(x, y)
    assert r is x and d is y


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        (torch.rand(3, 8, 8), r"expected 4 dimensions .*unsqueeze"),
        (torch.rand(1, 1, 8, 8), "expected 3 channels"),
        ((torch.rand(1, 3, 8, 8) * 255).to(torch.uint8), "floating-point"),
        (torch.rand(0, 3, 8, 8), "empty"),
        (torch.full((1, 3, 4, 4), float("nan")), "NaN"),
        (torch.full((1, 3, 4, 4), 2.0), r"\[0, 1\]"),
        (torch.full((1, 3, 4, 4), -0.5), r"\[0, 1\]"),
        ([[0.0]], "torch.Tensor"),
    ],
)
def test_bad_inputs_are_named(value: object, pattern: str) -> None:
    with pytest.raises(InputError, match=pattern) as info:
        check_batch(value, "dist")
    assert str(info.value).startswith("dist:") or "dist" in str(info.value)


def test_data_range_is_respected() -> None:
    check_batch(torch.full((1, 3, 4, 4), 200.0), data_range=255)
    with pytest.raises(InputError, match=r"\[0, 255\]"):
        check_batch(torch.full((1, 3, 4, 4), 256.0), data_range=255)
    check_batch(torch.full((1, 3, 4, 4), 1.0 + 1e-7))  # round-off tolerance


def test_pair_mismatch_messages() -> None:
    with pytest.raises(InputError, match="same shape") as info:
        check_pair(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 10))
    assert "deepssim" in str(info.value)
    check_pair(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 10), aligned=False)
    with pytest.raises(InputError, match="batch size"):
        check_pair(torch.rand(1, 3, 8, 8), torch.rand(2, 3, 8, 10), aligned=False)
    with pytest.raises(InputError, match="at least 11x11"):
        check_pair(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8), min_size=11)


@pytest.mark.parametrize("bad", [0, -1, float("inf"), float("nan"), "x", None])
def test_data_range_must_be_positive(bad: object) -> None:
    with pytest.raises(InputError, match="data_range"):
        check_data_range(bad)  # type: ignore[arg-type]


def _with(values: dict[tuple[int, int, int, int], float], dtype: torch.dtype) -> torch.Tensor:
    x = torch.full((2, 3, 5, 7), 0.5, dtype=dtype)
    for index, v in values.items():
        x[index] = v
    return x


NAN, INF = float("nan"), float("inf")
ONE_BAD = "dist: contains 1 NaN or infinite value(s)"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
@pytest.mark.parametrize(
    ("values", "data_range", "message"),
    [
        ({(1, 2, 4, 6): NAN}, 1.0, ONE_BAD),
        ({(0, 0, 0, 0): INF, (1, 1, 1, 1): NAN}, 1.0, "dist: contains 2 NaN or infinite value(s)"),
        ({(0, 1, 2, 3): -INF}, 1.0, ONE_BAD),
        ({(0, 1, 2, 3): INF, (0, 1, 2, 4): -0.5}, None, ONE_BAD),
        ({(0, 1, 2, 3): NAN, (1, 0, 0, 0): 7.0}, 255, ONE_BAD),
        (
            {(0, 2, 1, 1): -0.25},
            1.0,
            "dist: values must lie in [0, 1] (data_range, with a tolerance of 0.001), "
            "got [-0.25, 0.5]; pass the right data_range, rescale the input, or clamp it "
            "(clamp=True)",
        ),
        (
            {(1, 2, 4, 6): 3.0, (0, 0, 0, 0): 0.0},
            2.0,
            "dist: values must lie in [0, 2] (data_range, with a tolerance of 0.002), "
            "got [0, 3]; pass the right data_range, rescale the input, or clamp it "
            "(clamp=True)",
        ),
        (
            {(0, 0, 0, 0): -1.0, (1, 2, 4, 6): 300.0},
            255,
            "dist: values must lie in [0, 255] (data_range, with a tolerance of 0.255), "
            "got [-1, 300]; pass the right data_range, rescale the input, or clamp it "
            "(clamp=True)",
        ),
    ],
)
def test_value_errors_have_exact_messages(
    values: dict[tuple[int, int, int, int], float],
    data_range: float | None,
    message: str,
    dtype: torch.dtype,
) -> None:
    """Every bad value is found wherever it sits, in any memory layout, with the same text."""
    x = _with(values, dtype)
    layouts = [
        x,
        x.contiguous(memory_format=torch.channels_last),
        x.transpose(2, 3).contiguous().transpose(2, 3),
    ]
    for layout in layouts:
        with pytest.raises(InputError) as info:
            check_batch(layout, "dist", data_range=data_range)
        assert str(info.value) == message


def test_range_check_is_skipped_without_data_range() -> None:
    x = torch.full((1, 3, 4, 4), -3.0)
    assert check_batch(x, data_range=None) is x


def test_range_tolerance_clamps_and_clamp_option() -> None:
    """Issue 14, finding 12: values within 1e-3 (of data_range) outside the range are
    clamped, symmetrically; beyond, an error that names clamp=True, which clamps anything."""
    from friqa.metrics.registry import create_metric

    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    over = x.clone()
    over[0, 0, 0, 0] = 1.0005
    under = x.clone()
    under[0, 0, 0, 0] = -0.0005
    clamped = check_batch(over)
    assert clamped.max() == 1.0 and torch.equal(clamped[0, 1:], x[0, 1:])
    assert check_batch(under).min() == 0.0
    assert check_batch(x) is x
    assert check_batch(over * 255, data_range=255).max() == 255
    psnr = create_metric("psnr")
    fixed = over.clamp(0, 1)
    assert torch.equal(psnr(x, over), psnr(x, fixed))
    far = x * 1.5 - 0.2
    with pytest.raises(InputError, match=r"tolerance of 0\.001.*clamp=True"):
        psnr(x, far)
    net = far.clone().requires_grad_(True)
    score = psnr(x, net, clamp=True)
    assert torch.equal(score, psnr(x, far.clamp(0, 1)))
    score.sum().backward()
    assert net.grad is not None and net.grad.abs().sum() > 0
    assert torch.equal(psnr.compute(x, far, clamp=True).score, score.detach())
