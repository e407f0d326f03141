"""Refusing back-propagation through metrics whose score has no gradient.

Some metrics round to 8 bits or resize through PIL, as their reference code
does (``differentiable=False`` in their :class:`~friqa.metrics.base.MetricInfo`).
Back-propagating through them would give all-zero or missing gradients without
complaint, and a model trained on such a score learns nothing. So when an input
of such a metric requires a gradient, :meth:`Metric.compute
<friqa.metrics.base.Metric.compute>` passes its result through
:func:`refuse_gradients`: the forward values stay exactly as they are, and
``backward`` through the score or the map raises
:class:`~friqa.exceptions.NotDifferentiableError`, one line naming the metric
and (from ``MetricInfo.gradient_note``) why it has no gradient and what to train
with instead. ``MetricResult.extras`` are returned as computed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import fields, is_dataclass, replace
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from friqa.exceptions import NotDifferentiableError

if TYPE_CHECKING:
    from friqa.metrics.base import Metric, MetricResult

__all__ = ["not_differentiable_message", "block_backward", "refuse_gradients"]


def not_differentiable_message(name: str, note: str = "") -> str:
    """The error of a backward pass through metric ``name``; ``note``: why, and what to use."""
    if note:
        return f"metric '{name}' is not differentiable: {note}"
    return (
        f"metric '{name}' is not differentiable; train with a metric whose metadata says "
        "differentiable=True (friqa list)"
    )


class _Refuse(torch.autograd.Function):
    """Identity in the forward pass; raises in the backward pass."""

    @staticmethod
    def forward(ctx: Any, value: Tensor, message: str, *anchors: Tensor) -> Tensor:
        ctx.message = message
        return value.clone()

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Tensor) -> Any:
        raise NotDifferentiableError(ctx.message)


def block_backward(value: Tensor, message: str, anchors: list[Tensor]) -> Tensor:
    """A copy of ``value`` whose backward pass raises :class:`NotDifferentiableError`.

    ``anchors`` are the tensors requiring a gradient the value came from (for
    example the distorted batch); the copy is attached to them, so that
    ``backward`` reaches it and raises instead of returning zeros or nothing.

    Example:
        >>> x = torch.rand(3, requires_grad=True)
        >>> y = block_backward(x.round(), "no gradient here", [x])
        >>> torch.equal(y, x.round()), y.requires_grad
        (True, True)
    """
    out: Tensor = _Refuse.apply(value.detach(), message, *anchors)
    return out


def _tensors(obj: Any) -> Iterator[Tensor]:
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, Mapping):
        for v in obj.values():
            yield from _tensors(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _tensors(v)
    elif is_dataclass(obj) and not isinstance(obj, type):  # an EncodedRef inside another
        for f in fields(obj):
            yield from _tensors(getattr(obj, f.name))


def refuse_gradients(metric: Metric, result: MetricResult, *inputs: Any) -> MetricResult:
    """``result`` whose score and map refuse ``backward`` if a tensor in ``inputs`` needs one.

    ``inputs`` are the metric's inputs (tensors, or nested dicts / lists / tuples /
    dataclasses of them, such as an encoded reference's data). Without an input requiring a
    gradient, ``result`` is returned as it is.
    """
    anchors = [t for t in _tensors(inputs) if t.requires_grad]
    if not anchors:
        return result
    message = not_differentiable_message(metric.info.name, metric.info.gradient_note)
    dmap = None if result.map is None else block_backward(result.map, message, anchors)
    return replace(result, score=block_backward(result.score, message, anchors), map=dmap)
