"""Input checks shared by every metric.

Metrics call :func:`check_pair` (or :func:`check_batch` for one tensor) before
computing anything, so that a wrong shape, dtype or range fails with a
:class:`~friqa.exceptions.InputError` that says what was expected and what came,
instead of a shape error deep inside a convolution.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from friqa.exceptions import InputError

__all__ = ["check_batch", "check_pair", "check_data_range", "value_range", "RANGE_TOLERANCE"]

#: Values may exceed ``[0, data_range]`` by this fraction of ``data_range`` (round-off,
#: a network output overshooting slightly); such values are clamped into the range.
#: Beyond it the input is refused, unless the caller asks to clamp (``clamp=True``).
RANGE_TOLERANCE = 1e-3


def check_data_range(data_range: float) -> float:
    """Return ``data_range`` as a float after checking it is finite and positive."""
    try:
        value = float(data_range)
    except (TypeError, ValueError) as exc:
        raise InputError(f"data_range must be a positive number, got {data_range!r}") from exc
    if not (value > 0 and value < float("inf")):
        raise InputError(f"data_range must be a positive finite number, got {data_range!r}")
    return value


def value_range(x: Tensor) -> tuple[float, float]:
    """``(min, max)`` of ``x`` in one pass and one host sync.

    NaN propagates into both and +-inf is an extreme, so both are finite exactly when
    every value is.

    Example:
        >>> value_range(torch.tensor([0.5, -2.0]))
        (-2.0, 0.5)
        >>> [math.isfinite(v) for v in value_range(torch.tensor([0.5, float("nan")]))]
        [False, False]
    """
    with torch.no_grad():
        lo, hi = torch.stack(torch.aminmax(x)).tolist()
    return lo, hi


def check_batch(
    x: object,
    name: str = "input",
    *,
    data_range: float | None = 1.0,
    channels: int | None = 3,
    min_size: int = 1,
    clamp: bool = False,
    values: bool = True,
) -> Tensor:
    """Check that ``x`` is a ``(N, C, H, W)`` floating tensor of finite values in range.

    Args:
        x: the tensor to check.
        name: how to call it in error messages (``"ref"``, ``"dist"``, ...).
        data_range: values must lie in ``[0, data_range]``; ``None`` skips the range check.
            Values at most :data:`RANGE_TOLERANCE` ``* data_range`` outside are clamped.
        channels: required number of channels; ``None`` accepts any.
        min_size: smallest allowed height and width.
        clamp: clamp any finite value into ``[0, data_range]`` instead of refusing
            it (for network outputs; the gradient of a clamped value is zero).
        values: False checks only the type, shape and dtype, not the values (for a
            caller that checks them itself, such as :func:`friqa.ops.sse.checked_sse`).

    Returns:
        ``x``, unchanged when it lies in range, else clamped into it.

    Raises:
        InputError: on any violation, naming the tensor and what was expected.
    """
    if not isinstance(x, Tensor):
        raise InputError(
            f"{name}: expected a torch.Tensor of shape (N, 3, H, W), got {type(x).__name__}; "
            "use friqa.io.load_image to read files or arrays"
        )
    if x.ndim != 4:
        hint = " (add a batch dimension with x.unsqueeze(0))" if x.ndim == 3 else ""
        raise InputError(
            f"{name}: expected 4 dimensions (N, C, H, W), got shape {tuple(x.shape)}{hint}"
        )
    if channels is not None and x.shape[1] != channels:
        raise InputError(
            f"{name}: expected {channels} channels (N, {channels}, H, W), got shape "
            f"{tuple(x.shape)}; grayscale images can be repeated with x.expand(-1, 3, -1, -1)"
        )
    if not x.is_floating_point():
        raise InputError(
            f"{name}: expected a floating-point tensor in [0, data_range], got dtype {x.dtype}; "
            "convert with x.float() / 255 for 8-bit data"
        )
    if x.shape[0] == 0:
        raise InputError(f"{name}: the batch is empty (shape {tuple(x.shape)})")
    if x.shape[2] < min_size or x.shape[3] < min_size:
        raise InputError(
            f"{name}: images must be at least {min_size}x{min_size} pixels, got "
            f"{x.shape[2]}x{x.shape[3]}"
        )
    if not values:
        return x
    lo, hi = value_range(x)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        with torch.no_grad():
            bad = int((~torch.isfinite(x)).sum())
        raise InputError(f"{name}: contains {bad} NaN or infinite value(s)")
    if data_range is not None and (lo < 0 or hi > data_range):
        tol = RANGE_TOLERANCE * data_range
        if not clamp and (lo < -tol or hi > data_range + tol):
            raise InputError(
                f"{name}: values must lie in [0, {data_range:g}] (data_range, with a "
                f"tolerance of {tol:g}), got [{lo:.6g}, {hi:.6g}]; pass the right data_range, "
                "rescale the input, or clamp it (clamp=True)"
            )
        return x.clamp(0.0, data_range)
    return x


def check_pair(
    ref: object,
    dist: object,
    *,
    data_range: float | None = 1.0,
    aligned: bool = True,
    min_size: int = 1,
    clamp: bool = False,
    values: bool = True,
) -> tuple[Tensor, Tensor]:
    """Check a reference/distorted pair of batches.

    Args:
        ref: reference batch ``(N, 3, H, W)``.
        dist: distorted batch ``(N, 3, H', W')``.
        data_range: values must lie in ``[0, data_range]``.
        aligned: when True (pixel-aligned metrics) the shapes must be equal; when False
            only the batch size and channels must agree (DeepSSIM accepts different sizes).
        min_size: smallest allowed height and width.
        clamp: clamp out-of-range values instead of refusing them (see :func:`check_batch`).
        values: False skips the check of the values (see :func:`check_batch`).

    Returns:
        ``(ref, dist)``, clamped into range where they were slightly (or, with ``clamp``,
        any amount) outside it.

    Raises:
        InputError: naming which image is wrong and how.
    """
    r = check_batch(
        ref, "ref", data_range=data_range, min_size=min_size, clamp=clamp, values=values
    )
    d = check_batch(
        dist, "dist", data_range=data_range, min_size=min_size, clamp=clamp, values=values
    )
    if aligned and r.shape != d.shape:
        raise InputError(
            f"ref and dist must have the same shape for this metric (it compares aligned "
            f"pixels), got ref {tuple(r.shape)} and dist {tuple(d.shape)}; resize one of them "
            "or use a metric that accepts unaligned pairs such as 'deepssim'"
        )
    if r.shape[0] != d.shape[0]:
        raise InputError(
            f"ref and dist must have the same batch size, got {r.shape[0]} and {d.shape[0]}"
        )
    if r.device != d.device:
        raise InputError(f"ref is on {r.device} but dist is on {d.device}; move them together")
    return r, d
