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
)

__all__ = [
    "PadMode",
    "Padding",
    "box_filter",
    "depthwise_conv2d",
    "gaussian_kernel1d",
    "gaussian_kernel2d",
    "pad2d",
    "separable_filter",
]
