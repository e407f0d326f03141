"""The patch grid shared by the SMIC attention and the faithful metrics' patch terms."""

from __future__ import annotations

import pytest
import torch

from friqa.exceptions import InputError
from friqa.ops.patches import grid_shape, patch_columns, patch_vectors


def test_patch_order_matches_slicing() -> None:
    x = torch.arange(2 * 5 * 6, dtype=torch.float64).view(1, 2, 5, 6)
    p = patch_vectors(x, 3, 2)  # grid (2, 2)
    assert p.shape == (1, 4, 2, 9)
    assert p[0, 1, 0].tolist() == x[0, 0, 0:3, 2:5].flatten().tolist()
    assert p[0, 2, 1].tolist() == x[0, 1, 2:5, 0:3].flatten().tolist()
    cols = patch_columns(x, 3, 2)
    assert cols.shape == (1, 2, 9, 4)
    assert cols[0, 1, :, 3].tolist() == x[0, 1, 2:5, 2:5].flatten().tolist()
    assert grid_shape(5, 6, 3, 2) == (2, 2)


def test_too_small_maps_raise() -> None:
    with pytest.raises(InputError, match="smaller than the 7x7"):
        grid_shape(6, 20, 7, 7)
    with pytest.raises(InputError, match="5x6 feature map is smaller than the 7x7"):
        patch_columns(torch.zeros(1, 2, 5, 6), 7, 1)
