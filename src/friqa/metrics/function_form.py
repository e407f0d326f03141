"""Function forms of the metrics, made from their classes.

A metric with a map has a function form ``name(ref, dist, *, <options>,
return_map=False)`` that returns the scores, or ``(scores, map)`` with
``return_map=True``; its options are the metric class's constructor arguments.
Instead of writing that wrapper and its ``@overload`` signatures for every
metric, a metric module writes::

    psnr = metric_function(PSNR, "psnr", \"\"\"PSNR of each pair ... (docstring, examples).\"\"\")

The result is a plain function of the metric's module (so its docstring examples
run as doctests there). Its runtime signature (:func:`inspect.signature`,
``help``) is ``(ref, dist, *, <the class's options>, return_map=False)``; type
checkers see :class:`MetricFunction`, whose overloads give ``Tensor`` without a
map (with the options checked against the class) and ``tuple[Tensor, Tensor]``
with ``return_map=True``.

A metric without a map gets ``name(ref, dist, *, <options>)`` returning the
scores from :func:`score_function` in the same way.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Literal, ParamSpec, Protocol, cast, overload

from torch import Tensor

from friqa.metrics.base import Metric

__all__ = ["MetricFunction", "ScoreFunction", "metric_function", "score_function"]

P = ParamSpec("P")


class MetricFunction(Protocol[P]):
    """The function form of a metric with a map; ``P`` are its options (keyword-only)."""

    @overload
    def __call__(self, ref: Tensor, dist: Tensor, *args: P.args, **kwargs: P.kwargs) -> Tensor: ...
    @overload
    def __call__(
        self, ref: Tensor, dist: Tensor, *, return_map: Literal[True], **options: Any
    ) -> tuple[Tensor, Tensor]: ...
    @overload
    def __call__(
        self, ref: Tensor, dist: Tensor, *, return_map: Literal[False], **options: Any
    ) -> Tensor: ...
    @overload
    def __call__(
        self, ref: Tensor, dist: Tensor, *, return_map: bool, **options: Any
    ) -> Tensor | tuple[Tensor, Tensor]: ...


class ScoreFunction(Protocol[P]):
    """The function form of a metric without a map; ``P`` are its options (keyword-only)."""

    def __call__(self, ref: Tensor, dist: Tensor, *args: P.args, **kwargs: P.kwargs) -> Tensor: ...


def _signature(metric: Callable[..., Metric], with_map: bool) -> inspect.Signature:
    """``(ref, dist, *, <the class's options>[, return_map=False])``."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    given = inspect.Parameter.POSITIONAL_OR_KEYWORD
    flag = [inspect.Parameter("return_map", keyword, default=False, annotation="bool")]
    return inspect.Signature(
        [
            inspect.Parameter("ref", given, annotation="Tensor"),
            inspect.Parameter("dist", given, annotation="Tensor"),
            *(p.replace(kind=keyword) for p in inspect.signature(metric).parameters.values()),
            *(flag if with_map else []),
        ],
        return_annotation="Tensor | tuple[Tensor, Tensor]" if with_map else "Tensor",
    )


def _bind(signature: inspect.Signature, name: str, *args: Any, **options: Any) -> None:
    """Fail on unknown options as a plain function would, before anything runs."""
    try:
        signature.bind(*args, **options)
    except TypeError as exc:
        raise TypeError(f"{name}(): {exc}") from None


def _publish(function: Callable[..., Any], metric: Any, name: str, doc: str, sig: Any) -> None:
    function.__name__ = function.__qualname__ = name
    function.__module__ = metric.__module__
    function.__doc__ = doc
    function.__signature__ = sig  # type: ignore[attr-defined]


def score_function(metric: Callable[P, Metric], name: str, doc: str) -> ScoreFunction[P]:
    """The function form ``name(ref, dist, *, <options>)`` of a metric class without a map.

    Args:
        metric: a :class:`Metric` subclass (its constructor arguments are the options).
        name: the function's name (it lives in the class's module).
        doc: its docstring.
    """
    signature = _signature(metric, with_map=False)
    build = cast(Callable[..., Metric], metric)

    def function(ref: Tensor, dist: Tensor, **options: Any) -> Tensor:
        _bind(signature, name, ref, dist, **options)
        return build(**options)(ref, dist)

    _publish(function, metric, name, doc, signature)
    return cast(ScoreFunction[P], function)


def metric_function(metric: Callable[P, Metric], name: str, doc: str) -> MetricFunction[P]:
    """The function form ``name`` of the metric class ``metric`` (see the module docstring).

    Args:
        metric: a :class:`Metric` subclass whose ``info.returns_map`` is True.
        name: the function's name (it lives in the class's module).
        doc: its docstring.
    """
    signature = _signature(metric, with_map=True)
    build = cast(Callable[..., Metric], metric)

    def function(
        ref: Tensor, dist: Tensor, *, return_map: bool = False, **options: Any
    ) -> Tensor | tuple[Tensor, Tensor]:
        _bind(signature, name, ref, dist, **options)
        result = build(**options).compute(ref, dist, return_map=return_map)
        if return_map:
            return result.score, cast(Tensor, result.map)
        return result.score

    _publish(function, metric, name, doc, signature)
    return cast(MetricFunction[P], function)
