"""Cutting feature maps into ``k x k`` patches with stride ``s`` (the SMIC patch grid).

Patches that do not fit are dropped, as ``torch.nn.Unfold`` does, so a ``h x w``
map gives a ``((h - k) // s + 1, (w - k) // s + 1)`` grid in row-major order; the
values inside a patch are in row-major order too. The SMIC attention
(:mod:`friqa.smic.attention`) and the per-patch distortion terms of the faithful
SMIC metrics all cut their features here, so their grids always line up.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from friqa.exceptions import InputError

__all__ = ["grid_shape", "patch_columns", "patch_vectors"]


def grid_shape(height: int, width: int, patch_size: int, stride: int) -> tuple[int, int]:
    """Patch grid of a ``height x width`` map: ``((h - k) // s + 1, (w - k) // s + 1)``.

    Example:
        >>> grid_shape(64, 85, 7, 7)
        (9, 12)
    """
    if height < patch_size or width < patch_size:
        raise InputError(
            f"a {height}x{width} feature map is smaller than the {patch_size}x{patch_size} "
            "patch; use a larger image or a smaller patch_size"
        )
    return (height - patch_size) // stride + 1, (width - patch_size) // stride + 1


def patch_columns(x: Tensor, patch_size: int, stride: int) -> Tensor:
    """``(N, C, h, w)`` -> ``(N, C, k*k, L)``: channel-major patch values (a view of ``unfold``).

    ``L = gh * gw`` patches (see :func:`grid_shape`, which also checks the size).

    Example:
        >>> import torch
        >>> patch_columns(torch.zeros(2, 3, 9, 10), 3, 3).shape
        torch.Size([2, 3, 9, 9])
    """
    n, ch, h, w = x.shape
    grid_shape(h, w, patch_size, stride)
    cols = F.unfold(x, kernel_size=patch_size, stride=stride)  # (N, C*k*k, L)
    return cols.view(n, ch, patch_size * patch_size, -1)


def patch_vectors(x: Tensor, patch_size: int, stride: int) -> Tensor:
    """``(N, C, h, w)`` -> ``(N, L, C, k*k)``: the values of every ``k x k`` patch per channel."""
    return patch_columns(x, patch_size, stride).permute(0, 3, 1, 2)
