"""Load images from files, PIL images, numpy arrays and torch tensors.

Every loader returns a float tensor ``(3, H, W)`` with values in ``[0, 1]``
(``load_batch``: ``(N, 3, H, W)``). Arrays and tensors are read by
:mod:`friqa.io.arrays`, files and PIL images by :mod:`friqa.io.files`; images are
written by :mod:`friqa.io.write`. The conventions, in one place:

Sources
    * a path (``str`` or ``os.PathLike``): the file is read once, read-only, and
      decoded with Pillow. Multi-frame files (GIF, multi-page TIFF) give their
      first frame. The EXIF Orientation tag is applied with the semantics of
      :func:`PIL.ImageOps.exif_transpose`.
    * a :class:`PIL.Image.Image`: used as it is (its EXIF orientation is applied
      to a copy; the caller's image is not changed).
    * a numpy array: ``(H, W)`` or ``(H, W, C)`` with ``C`` in ``{1, 3, 4}``,
      channel-last as images are stored.
    * a torch tensor: ``(H, W)`` or ``(C, H, W)`` with ``C`` in ``{1, 3, 4}``,
      channel-first as torch stores images. The result stays on the tensor's
      device.

Values
    * ``uint8`` (and 8-bit image modes) are divided by 255, ``uint16`` (and
      16-bit modes ``'I;16*'``) by 65535, ``bool`` (and bilevel ``'1'``) give
      exactly 0 or 1.
    * float arrays/tensors (and ``'F'`` images) are divided by ``data_range``,
      which defaults to 1.0.
    * other integer arrays/tensors (int8, int16, int32, int64, uint32, uint64)
      need an explicit ``data_range``; ``'I'`` images (32-bit integer, the mode
      some Pillow versions give 16-bit grayscale PNGs) default to 65535.
    * ``data_range``, when given, is the white level for every numeric source,
      overriding the defaults above (for instance ``data_range=4095`` for 12-bit
      data in a ``uint16`` array); it does not apply to ``bool`` / ``'1'``.
    * values outside ``[0, data_range]`` and NaN/inf are errors, with no
      tolerance: the loader never clips silently.
    * 16-bit colour PNG and TIFF files (which Pillow itself reduces to 8 bits)
      are decoded at full 16-bit precision.

Channels
    * grayscale is replicated to three identical channels.
    * alpha (RGBA, LA, PA, palettes with transparency, a ``tRNS`` colour key) is
      composited on white by default (``alpha="white"``:
      ``out = colour * a + (1 - a)``); ``alpha="drop"`` ignores it.
    * ``'P'`` (palette), ``'CMYK'``, ``'YCbCr'``, ``'HSV'``, ``'LAB'`` and
      ``'RGBX'`` images are converted to RGB with Pillow.

Errors
    Problems with a file or a PIL image raise :class:`~friqa.exceptions.ImageLoadError`;
    problems with an array, a tensor or an option raise
    :class:`~friqa.exceptions.InputError`. Messages name the source and say what
    was expected and what was found.

Precision
    The arithmetic runs in float64 when ``dtype=torch.float64`` and in float32
    otherwise (then cast to ``dtype``): ``k / 255`` and ``k / 65535`` are one
    division in that dtype (correctly rounded on CPU).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Union

import numpy as np
import torch
from PIL import Image

from friqa.exceptions import InputError
from friqa.io.arrays import from_numpy, from_torch
from friqa.io.files import from_path, from_pil
from friqa.io.values import AlphaMode, check_options

__all__ = ["AlphaMode", "ImageSource", "load_batch", "load_image"]

ImageSource = Union[str, "os.PathLike[str]", Image.Image, np.ndarray, torch.Tensor]
"""Anything :func:`load_image` accepts."""


def _describe(source: object, index: int | None) -> str:
    at = "" if index is None else f" (item {index})"
    if isinstance(source, (str, os.PathLike)):
        return f"image file '{os.fsdecode(source)}'{at}"
    if isinstance(source, Image.Image):
        return f"PIL image{at} (mode {source.mode!r}, {source.width}x{source.height} WxH)"
    if isinstance(source, np.ndarray):
        return f"array{at}"
    if isinstance(source, torch.Tensor):
        return f"tensor{at}"
    return f"source{at}"


def _load(
    source: object,
    data_range: float | None,
    alpha: str,
    dtype: torch.dtype,
    index: int | None,
) -> torch.Tensor:
    what = _describe(source, index)
    if isinstance(source, (str, os.PathLike)):
        return from_path(Path(os.fsdecode(source)), data_range, alpha, dtype, what)
    if isinstance(source, Image.Image):
        return from_pil(source, data_range, alpha, dtype, what)
    if isinstance(source, np.ndarray):
        return from_numpy(source, data_range, alpha, dtype, what)
    if isinstance(source, torch.Tensor):
        return from_torch(source, data_range, alpha, dtype, what)
    raise InputError(
        f"{what}: expected a path (str or os.PathLike), a PIL image, a numpy array or a "
        f"torch tensor; got {type(source).__name__}"
    )


def load_image(
    source: ImageSource,
    *,
    data_range: float | None = None,
    alpha: AlphaMode = "white",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Load one image as a new ``(3, H, W)`` tensor with values in ``[0, 1]``.

    Args:
        source: a path, a PIL image, an ``(H, W[, C])`` numpy array or an
            ``(H, W)`` / ``(C, H, W)`` torch tensor (see the module docstring).
        data_range: the value meaning white; default 255 for 8-bit, 65535 for
            16-bit and ``'I'`` data, 1.0 for floats; required for other integer
            arrays/tensors. Ignored for bool / bilevel data.
        alpha: ``"white"`` composites transparent pixels on white, ``"drop"``
            ignores the alpha channel.
        dtype: floating dtype of the result.

    Raises:
        ImageLoadError: a file or PIL image cannot be read as described.
        InputError: an array, tensor or option is not as described.

    The input is never modified and the result never shares memory with it.

    >>> import numpy as np
    >>> load_image(np.array([[0, 255]], dtype=np.uint8)).tolist()
    [[[0.0, 1.0]], [[0.0, 1.0]], [[0.0, 1.0]]]
    """
    dr = check_options(data_range, alpha, dtype)
    return _load(source, dr, alpha, dtype, None)


def load_batch(
    sources: Iterable[ImageSource],
    *,
    data_range: float | None = None,
    alpha: AlphaMode = "white",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Load several images of one size as an ``(N, 3, H, W)`` tensor.

    Options as in :func:`load_image`, applied to every item. Items given as
    tensors must share a device. Raises :class:`InputError` naming the items
    whose size differs from the first item's, or whose device differs.

    >>> import numpy as np
    >>> load_batch([np.zeros((2, 3)), np.ones((2, 3))]).shape
    torch.Size([2, 3, 2, 3])
    """
    dr = check_options(data_range, alpha, dtype)
    if isinstance(sources, (str, os.PathLike, Image.Image, np.ndarray)):
        raise InputError(
            f"sources: expected a sequence of images; got a single {type(sources).__name__} "
            "(use load_image, or wrap it in a list)"
        )
    if isinstance(sources, torch.Tensor):
        if sources.ndim != 4:
            raise InputError(
                f"sources: a tensor batch must have shape (N, C, H, W); got {tuple(sources.shape)}"
            )
        items: Sequence[object] = list(sources.unbind(0))
    else:
        items = list(sources)
    if not items:
        raise InputError("sources: expected at least one image; got an empty sequence")
    images = [_load(s, dr, alpha, dtype, i) for i, s in enumerate(items)]
    first = images[0]
    size = tuple(first.shape[1:])
    odd = [i for i, im in enumerate(images) if tuple(im.shape[1:]) != size]
    if odd:
        listed = ", ".join(
            f"{_describe(items[i], i)} is {images[i].shape[1]}x{images[i].shape[2]}" for i in odd
        )
        raise InputError(
            f"images in a batch must all have the size of item 0 ({_describe(items[0], 0)}, "
            f"{size[0]}x{size[1]} HxW); but {listed}"
        )
    devices = {im.device for im in images}
    if len(devices) > 1:
        raise InputError(f"images in a batch must share a device; got {sorted(map(str, devices))}")
    return torch.stack(images)
