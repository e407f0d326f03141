"""The VGG16 pooling layers: the fast no-gradient paths give the reference values."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from friqa.backbone.pooling import L2Pool, MaxPool2x2


@pytest.mark.parametrize("shape", [(1, 3, 5, 7), (2, 4, 8, 8), (1, 64, 33, 2), (3, 2, 2, 9)])
@pytest.mark.parametrize("layout", ["contiguous", "channels_last_bf16"])
def test_max_pool_without_grad_equals_max_pool2d(shape: tuple[int, ...], layout: str) -> None:
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    if layout != "contiguous":
        x = x.to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
    x[0, 0, 0, 0] = x[0, 0, 0, 1]  # a tie
    with torch.no_grad():
        got = MaxPool2x2()(x)
    assert torch.equal(got, F.max_pool2d(x, kernel_size=2, stride=2))


def test_max_pool_with_grad_is_max_pool2d_and_its_gradient() -> None:
    x = torch.zeros(1, 1, 2, 2, requires_grad=True)  # four tied values
    MaxPool2x2()(x).sum().backward()
    assert x.grad is not None and float(x.grad.sum()) == 1.0 and int((x.grad != 0).sum()) == 1


def test_l2_pool_in_place_path_equals_the_graph_path() -> None:
    x = torch.rand(2, 8, 11, 13, generator=torch.Generator().manual_seed(1))
    pool = L2Pool(8)
    with torch.no_grad():
        fast = pool(x)
    slow = pool(x.clone().requires_grad_(True))
    assert torch.equal(fast, slow.detach())
