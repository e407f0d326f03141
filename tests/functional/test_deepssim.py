"""DeepSSIM kernels: Gram matrices and the block structure term against a loop oracle."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from friqa.exceptions import InputError
from friqa.functional.deepssim import block_structure, gram_matrix


def _rand(*shape: int, seed: int = 0, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=g, dtype=dtype)


def _block_structure_loop(gx: np.ndarray, gy: np.ndarray, b: int, c: float) -> np.ndarray:
    """Straight from the description: per b x b block, population statistics of its entries."""
    n, rows, cols = gx.shape
    out = np.empty((n, rows // b, cols // b))
    for k in range(n):
        for i in range(rows // b):
            for j in range(cols // b):
                x = gx[k, i * b : (i + 1) * b, j * b : (j + 1) * b].ravel()
                y = gy[k, i * b : (i + 1) * b, j * b : (j + 1) * b].ravel()
                cov = np.mean((x - x.mean()) * (y - y.mean()))
                out[k, i, j] = (2 * cov + c) / (x.var() + y.var() + c)
    return out


@pytest.mark.parametrize("block", [4, 2])
def test_block_structure_matches_loop_oracle(block: int) -> None:
    f1 = _rand(2, 16, 5, 7, seed=1, dtype=torch.float64)
    f2 = f1 + 0.3 * _rand(2, 16, 5, 7, seed=2, dtype=torch.float64)
    gx, gy = gram_matrix(f1), gram_matrix(f2)
    np.testing.assert_allclose(
        gx.numpy(), np.einsum("nchw,ndhw->ncd", f1.numpy(), f1.numpy()), rtol=1e-12
    )
    got = block_structure(gx, gy, block=block, c=1e-6)
    want = _block_structure_loop(gx.numpy(), gy.numpy(), block, 1e-6)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-9, atol=1e-12)


def test_block_structure_bounds_and_constant_blocks() -> None:
    gx = _rand(3, 8, 8, seed=4, dtype=torch.float64) * 100
    gy = _rand(3, 8, 8, seed=5, dtype=torch.float64) * 100
    s = block_structure(gx, gy)
    assert bool((s.abs() <= 1 + 1e-12).all())
    torch.testing.assert_close(block_structure(gx, gx), torch.ones(3, 2, 2, dtype=torch.float64))
    torch.testing.assert_close(block_structure(gx, -gx), -torch.ones(3, 2, 2, dtype=torch.float64))
    zeros = torch.zeros(1, 4, 4)
    assert block_structure(zeros, zeros).item() == 1.0  # c / c
    with pytest.raises(InputError):
        block_structure(torch.zeros(1, 6, 6), torch.zeros(1, 6, 6))
    with pytest.raises(InputError):
        block_structure(torch.zeros(1, 8, 8), torch.zeros(2, 8, 8))
