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
