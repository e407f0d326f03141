"""Small shared tensor operations (filters, patches, resizing)."""

from friqa.ops.filters import (
    Padding,
    PadMode,
    box_filter,
    depthwise_conv2d,
    gaussian_kernel1d,
    gaussian_kernel2d,
    pad2d,
    separable_filter,
    shifted_sum,
)
from friqa.ops.patches import grid_shape, patch_columns, patch_vectors

__all__ = [
    "PadMode",
    "Padding",
    "box_filter",
    "depthwise_conv2d",
    "gaussian_kernel1d",
    "gaussian_kernel2d",
    "grid_shape",
    "patch_columns",
    "patch_vectors",
    "pad2d",
    "separable_filter",
    "shifted_sum",
]
