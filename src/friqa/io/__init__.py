"""Image input/output: paths, PIL images, numpy arrays and tensors to ``(3, H, W)`` in [0, 1].

See :mod:`friqa.io.images` for the conventions (channel order, value ranges,
alpha, grayscale, EXIF orientation, errors).
"""

from friqa.io.images import ImageSource, load_batch, load_image, save_image, to_pil

__all__ = ["ImageSource", "load_image", "load_batch", "save_image", "to_pil"]
