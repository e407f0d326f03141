"""SMIC's random projections are bit-identical to the reference's recipe."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from friqa.exceptions import InputError
from friqa.smic.projections import projection_weights


def _reference_recipe() -> tuple[torch.Tensor, torch.Tensor]:
    """What the SMIC reference does with torch's global generator (inside fork_rng)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1234)  # whatever state came before must not matter
        first = nn.Conv2d(256, 32, 1, 1, 0, bias=False)
        torch.manual_seed(-3566)
        nn.init.xavier_uniform_(first.weight, gain=1.0)
        second = nn.Conv2d(512, 32, 1, 1, 0, bias=False)
        nn.init.xavier_uniform_(second.weight, gain=1.0)
    return first.weight.detach()[:, :, 0, 0], second.weight.detach()[:, :, 0, 0]


def test_bit_identical_to_the_reference_recipe() -> None:
    w3, w4 = _reference_recipe()
    ours = projection_weights()
    assert torch.equal(ours["relu3_3"], w3)
    assert torch.equal(ours["relu4_3"], w4)


def test_global_random_state_is_untouched() -> None:
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    projection_weights()
    assert torch.equal(torch.rand(3), expected)


def test_other_settings() -> None:
    a = projection_weights(("relu2_2", "relu3_3", "relu4_3"), projections=8, seed=1)
    assert [tuple(v.shape) for v in a.values()] == [(8, 128), (8, 256), (8, 512)]
    b = projection_weights(("relu2_2", "relu3_3", "relu4_3"), projections=8, seed=2)
    assert not torch.equal(a["relu3_3"], b["relu3_3"])
    bound = (6 / (128 + 8)) ** 0.5  # Xavier-uniform bound
    assert a["relu2_2"].abs().max() <= bound
    with pytest.raises(InputError, match="stages"):
        projection_weights(("conv9",))
    with pytest.raises(InputError, match="projections"):
        projection_weights(projections=0)
