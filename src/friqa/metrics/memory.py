"""Memory a metric needs for an image size, a limit, and exact tiling where the maths allows.

A metric on a huge image would otherwise die in the allocator (``can't allocate
memory``, a traceback). Before computing, :func:`score_within_memory` estimates
the peak memory from the batch's size (:func:`estimate_bytes`, a per-pixel cost
per metric for float32, scaled by the dtype: a rounded-up bound, see
:data:`BYTES_PER_PIXEL`) and compares it with
a limit (:func:`memory_limit`: ``FRIQA_MEMORY_LIMIT`` or ``--memory-limit``,
else 80 % of the available RAM). Above it:

* ``psnr``, ``ssim`` and ``ssim_rgb`` are computed in bands of rows, exactly:
  PSNR from the sum of the squared errors of every band, SSIM from the 'valid'
  map of bands that overlap by ``window_size - 1`` rows, so every window
  position is counted once (equal to the whole-image score up to float
  summation order);
* every other metric is refused with :class:`MemoryLimitError`, one line naming
  the size, the estimate, the limit and the options (downscale the images or
  raise the limit).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import torch
from torch import Tensor

from friqa.exceptions import InputError, MemoryLimitError
from friqa.metrics.base import Metric
from friqa.metrics.psnr import psnr_from_mse

__all__ = [
    "MemoryLimitError",
    "BYTES_PER_PIXEL",
    "TILED_METRICS",
    "parse_size",
    "format_size",
    "memory_limit",
    "estimate_bytes",
    "check_memory",
    "score_within_memory",
]

#: Peak bytes per pixel of one float32 (ref, dist) pair, per metric: deliberately generous
#: bounds. Peak RSS above the inputs, measured once on a 1024x1024 pair on CPU (torch
#: 2.13, no grad, 2026-11-30): psnr 12, ssim 243, ssim_rgb 199, ms_ssim 185, lpips 1455,
#: dists 1504, deepwsd 25 (it downsamples first), deepssim 799; every bound is above that.
#: Deep metrics keep several full-resolution VGG16 activations of both images.
BYTES_PER_PIXEL: dict[str, int] = {
    "psnr": 80,
    "ssim": 256,
    "ssim_rgb": 512,
    "ms_ssim": 768,
    "lpips": 4096,
    "dists": 4096,
    "deepwsd": 4096,
    "deepssim": 4096,
}
#: Faithful SMIC metrics resize large images first (``preprocess=True``): the input's copies.
_RESIZED_BYTES_PER_PIXEL = 128
#: What the SMIC attention adds to a consistent variant's base metric.
_ATTENTION_BYTES_PER_PIXEL = 128

#: Metrics computed in bands of rows, exactly, when the whole image does not fit.
TILED_METRICS = ("psnr", "ssim", "ssim_rgb")

_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(text: str) -> int:
    """``"512M"``, ``"8G"``, ``"2.5GB"``, ``"1000000"`` -> bytes.

    >>> parse_size("1.5G") == 3 << 29
    True
    """
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([KMGT]?)i?B?\s*", str(text), re.IGNORECASE)
    if not m:
        raise InputError(f"memory size '{text}': expected a number with K, M, G or T (8G)")
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def format_size(n: float) -> str:
    """Bytes as text: ``format_size(3 << 30) == '3.0 GB'``."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def _available_ram() -> int | None:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        pass
    else:
        m = re.search(r"MemAvailable:\s+(\d+) kB", text)
        if m:
            return int(m.group(1)) * 1024
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def memory_limit(limit: int | str | None = None) -> int | None:
    """The limit in bytes: ``limit`` if given, else ``FRIQA_MEMORY_LIMIT``, else 80 % of the
    available RAM; None when none of these is known (no check)."""
    if limit is None:
        limit = os.environ.get("FRIQA_MEMORY_LIMIT") or None
    if limit is not None:
        return parse_size(limit) if isinstance(limit, str) else int(limit)
    ram = _available_ram()
    return None if ram is None else int(0.8 * ram)


def _per_pixel(metric: Metric) -> int | None:
    name = metric.info.name
    if name in BYTES_PER_PIXEL:
        return BYTES_PER_PIXEL[name]
    if metric.info.family == "smic":
        return _RESIZED_BYTES_PER_PIXEL if getattr(metric, "preprocess", True) else 4096
    if metric.info.family == "smic-consistent":
        base = BYTES_PER_PIXEL.get(name.removesuffix("+smic"))
        return None if base is None else base + _ATTENTION_BYTES_PER_PIXEL
    return None  # a metric friqa does not know: not checked


def estimate_bytes(metric: Metric, n: int, height: int, width: int, dtype: torch.dtype) -> int:
    """Estimated peak memory of ``metric`` on ``n`` pairs of ``height x width`` images
    (0 for a metric without an estimate)."""
    per_pixel = _per_pixel(metric)
    if per_pixel is None:
        return 0
    scale = torch.finfo(dtype).bits / 32
    return int(per_pixel * scale * n * height * width)


def _bands(height: int, rows: int, overlap: int) -> list[tuple[int, int]]:
    """Row ranges of height ``rows + overlap`` whose first ``rows`` rows tile ``height``."""
    out = []
    for y0 in range(0, height - overlap, rows):
        out.append((y0, min(height, y0 + rows + overlap)))
    return out


def _tiled(metric: Metric, ref: Tensor, dist: Tensor, rows: int) -> Tensor:
    height, width = ref.shape[-2:]
    if metric.info.name == "psnr":
        total = torch.zeros(ref.shape[0], dtype=torch.float64, device=ref.device)
        for y0, y1 in _bands(height, rows, 0):
            band = metric.compute(ref[..., y0:y1, :], dist[..., y0:y1, :], return_map=True).map
            if band is None:  # pragma: no cover - psnr always gives its map
                raise InputError("psnr gave no map")
            total += band.to(torch.float64).sum(dim=(1, 2, 3))
        return psnr_from_mse(total / (height * width), metric.data_range).to(ref.dtype)
    win = int(getattr(metric, "window_size", 11))
    weighted = torch.zeros(ref.shape[0], dtype=torch.float64, device=ref.device)
    count = 0
    for y0, y1 in _bands(height, max(rows, 1), win - 1):
        positions = (y1 - y0 - win + 1) * (width - win + 1)
        score = metric(ref[..., y0:y1, :], dist[..., y0:y1, :])
        weighted += score.to(torch.float64) * positions
        count += positions
    return (weighted / count).to(ref.dtype)


def check_memory(
    metric: Metric,
    dist: Tensor,
    limit: int | str | None = None,
    *,
    tiles: bool = True,
    aligned: bool = True,
) -> int | None:
    """None when ``metric`` on the batch ``dist`` fits in the memory limit; else the rows of
    a band for the exact tiled computation (``tiles`` and an aligned pair allowing).

    Raises:
        MemoryLimitError: it does not fit and cannot be tiled (see the module docstring).
    """
    cap = memory_limit(limit)
    n, _, height, width = dist.shape
    need = estimate_bytes(metric, n, height, width, dist.dtype)
    if cap is None or need <= cap:
        return None
    name = metric.info.name
    if tiles and aligned and name in TILED_METRICS:
        overlap = 0 if name == "psnr" else int(getattr(metric, "window_size", 11)) - 1
        rows = int(cap // max(1, need // height)) - overlap
        if rows >= 1:
            return rows
    raise MemoryLimitError(
        f"{name} on {n} image(s) of {width}x{height} needs about {format_size(need)}, more "
        f"than the memory limit of {format_size(cap)}; downscale the images, or raise the "
        "limit (--memory-limit SIZE or FRIQA_MEMORY_LIMIT=SIZE, e.g. 32G)"
    )


def score_within_memory(
    metric: Metric, ref: Tensor, dist: Tensor, limit: int | str | None = None
) -> Tensor:
    """``metric(ref, dist)``, in exact bands of rows when the whole batch would need more than
    the memory limit (see the module docstring).

    Raises:
        MemoryLimitError: the metric cannot be tiled exactly and needs more than the limit.
    """
    rows = check_memory(metric, dist, limit, aligned=ref.shape == dist.shape)
    return metric(ref, dist) if rows is None else _tiled(metric, ref, dist, rows)
