"""Any friqa metric as a ``torchmetrics.Metric``: accumulate over batches and processes.

Needs the ``torchmetrics`` extra (``pip install "friqa[torchmetrics]"``).

:class:`FriqaTorchMetric` wraps a friqa :class:`~friqa.metrics.base.Metric` (or a
registry name and its options). ``update(ref, dist)`` scores a batch (reference
first, as everywhere in friqa) and adds the scores to two states, their sum and
their count, both reduced by summation across processes, so ``compute()`` is the
mean over every image seen by every process. With ``reduction="none"`` it also
keeps each image's score (a list state concatenated across processes) and
``compute()`` returns them all, in update order within each process.

Example:
    >>> import torch
    >>> m = FriqaTorchMetric("psnr")
    >>> ref = torch.full((2, 3, 8, 8), 0.5)
    >>> m.update(ref, ref * 0.8)
    >>> m.update(ref, ref * 0.9)
    >>> round(m.compute().item(), 3)
    23.01
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import torch
from torch import Tensor

from friqa.exceptions import FriqaError, InputError
from friqa.metrics.base import Metric
from friqa.metrics.registry import create_metric

try:
    from torchmetrics import Metric as _TorchMetric
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise FriqaError(
        "friqa.integrations.torchmetrics needs torchmetrics, which is not installed: "
        "pip install 'friqa[torchmetrics]' (or pip install torchmetrics)"
    ) from exc

__all__ = ["FriqaTorchMetric", "Reduction"]

Reduction = Literal["mean", "sum", "none"]
_REDUCTIONS = ("mean", "sum", "none")


class FriqaTorchMetric(_TorchMetric):
    """A friqa metric accumulated the torchmetrics way.

    Args:
        metric: a friqa metric module, or a registry name (``"lpips"``, ``"ssim+smic"``).
        metric_options: constructor options when ``metric`` is a name
            (``{"y_channel": True, "crop_border": 4}``).
        reduction: what :meth:`compute` returns: ``"mean"`` (default) of all scores,
            their ``"sum"``, or ``"none"``, every per-image score ``(N_total,)``.
        **kwargs: passed to ``torchmetrics.Metric`` (``sync_on_compute``,
            ``process_group``, ``compute_on_cpu``, ...).

    States: ``score_sum`` (float64) and ``count`` (int64), reduced by ``"sum"``; with
    ``reduction="none"`` also ``scores``, a list reduced by ``"cat"``. Scores are
    computed without gradient: this is for monitoring; train with the friqa metric
    itself. ``higher_is_better`` follows the wrapped metric's metadata. A batch whose
    scores are not finite (``+inf`` PSNR of identical images) makes the mean infinite,
    as the mean of those numbers is.
    """

    is_differentiable = False
    full_state_update = False

    score_sum: Tensor
    count: Tensor
    scores: list[Tensor]

    def __init__(
        self,
        metric: Metric | str,
        metric_options: Mapping[str, Any] | None = None,
        *,
        reduction: Reduction = "mean",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if reduction not in _REDUCTIONS:
            raise InputError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
        if isinstance(metric, str):
            metric = create_metric(metric, **dict(metric_options or {}))
        elif not isinstance(metric, Metric):
            raise InputError(
                f"metric must be a friqa Metric or a registry name, got {type(metric).__name__}"
            )
        elif metric_options:
            raise InputError("metric_options only apply when metric is given by name")
        self.metric = metric.eval()
        self.reduction: Reduction = reduction
        self.add_state("score_sum", torch.tensor(0.0, dtype=torch.float64), "sum")
        self.add_state("count", torch.tensor(0, dtype=torch.int64), "sum")
        if reduction == "none":
            self.add_state("scores", [], "cat")

    @property
    def higher_is_better(self) -> bool:  # type: ignore[override]
        """True unless the wrapped metric is a distance (``info.lower_better``)."""
        return not self.metric.info.lower_better

    def update(self, ref: Tensor, dist: Tensor) -> None:
        """Score a batch of pairs ``(N, 3, H, W)`` (reference first) and accumulate."""
        with torch.no_grad():
            scores = self.metric(ref, dist).detach()
        self.score_sum += scores.to(torch.float64).sum()
        self.count += scores.numel()
        if self.reduction == "none":
            self.scores.append(scores)

    def compute(self) -> Tensor:
        """The mean (or sum) of every score so far, or all of them with ``"none"``."""
        if self.reduction == "none":
            # after a distributed sync the list state is already one concatenated tensor
            parts = self.scores if isinstance(self.scores, list) else [self.scores]
            if not parts:
                return self.score_sum.new_zeros(0)
            return torch.cat([p.reshape(-1) for p in parts])
        if self.reduction == "sum":
            return self.score_sum
        if int(self.count) == 0:
            raise InputError("compute() before any update(): no scores to average")
        return self.score_sum / self.count

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"
