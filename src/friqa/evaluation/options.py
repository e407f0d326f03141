"""The settings of a scoring run, in one object: :class:`RunOptions`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from friqa.evaluation.scores_file import SCORE_FORMATS
from friqa.exceptions import InputError

__all__ = ["RunOptions", "ImageLoader", "ENGINES"]

#: The scoring engines (:mod:`~friqa.evaluation.engines`).
ENGINES: tuple[str, ...] = ("local", "ray")

#: Loads one image as a ``(3, H, W)`` tensor of the given dtype.
ImageLoader = Callable[[Path, torch.dtype], Tensor]


@dataclass(frozen=True)
class RunOptions:
    """How :func:`~friqa.evaluation.runner.score_manifest` scores a manifest.

    Attributes:
        metric_options: per-metric constructor options, e.g.
            ``{"lpips": {"weights": "vgg16.pth"}}``.
        batch_size: distorted images scored per call.
        ref_cache: encode each reference once per metric (see
            :mod:`~friqa.evaluation.runner`); False computes the reference with
            every batch (the plain way, for comparison).
        device, dtype: where and in which precision to compute.
        fmt: ``"csv"`` or ``"jsonl"`` for the scores file.
        overwrite: discard a previous run in the output folder instead of resuming it.
        retry_failed: when resuming, score the failed results again.
        progress: show a tqdm bar with ETA on stderr (None: only on a terminal).
        loader: image loader ``(path, dtype) -> (3, H, W)`` (default
            :func:`friqa.io.load_image`).
        engine: ``"local"`` (this process) or ``"ray"`` (Ray actors; ``friqa[ray]``);
            see :mod:`~friqa.evaluation.engines` and docs/scale-out.md.
        engine_options: the engine's settings (``workers``, ``cpus_per_worker``,
            ``gpus_per_worker``, ``address``, ``shard_rows``:
            :class:`~friqa.evaluation.engines.EngineOptions`).
        shard: ``(i, n)``: score only shard ``i`` (0-based) of ``n`` and write its part
            files, for job arrays; a later run without it merges the parts.

    Example:
        >>> RunOptions(batch_size=4).fmt
        'csv'
    """

    metric_options: Mapping[str, Mapping[str, Any]] | None = None
    batch_size: int = 8
    ref_cache: bool = True
    device: torch.device | str = "cpu"
    dtype: torch.dtype = torch.float32
    fmt: str = "csv"
    overwrite: bool = False
    retry_failed: bool = False
    progress: bool | None = None
    loader: ImageLoader | None = None
    engine: str = "local"
    engine_options: Mapping[str, Any] | None = None
    shard: tuple[int, int] | None = None

    def check(self) -> None:
        """Raise :class:`~friqa.exceptions.InputError` for a bad batch size, format or shard."""
        if self.batch_size < 1:
            raise InputError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.fmt not in SCORE_FORMATS:
            raise InputError(f"fmt must be one of {', '.join(SCORE_FORMATS)}, got '{self.fmt}'")
        if self.engine not in ENGINES:
            raise InputError(f"engine must be one of {', '.join(ENGINES)}, got '{self.engine}'")
        if self.shard is not None and not 0 <= self.shard[0] < self.shard[1]:
            raise InputError(f"shard (i, n) needs 0 <= i < n, got {self.shard}")

    @property
    def sharded(self) -> bool:
        """True when the run goes through shards and part files (not the streamed scores file)."""
        return self.engine != "local" or self.shard is not None or self.fmt == "parquet"
