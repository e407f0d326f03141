"""Function forms of metrics with a distortion map, made from one options-to-module factory.

A metric with a map has a function form ``name(ref, dist, *, <options>,
return_map=False)`` that returns the scores, or ``(scores, map)`` with
``return_map=True``. Instead of writing that wrapper (and its two ``@overload``
signatures) for every metric, a metric module writes the factory that turns the
options into the module and decorates it::

    @metric_function
    def psnr(*, data_range: float = 1.0) -> PSNR:
        \"\"\"PSNR of each pair ... (docstring and examples of the function form).\"\"\"
        return PSNR(data_range)

The decorated name is the function form. Its runtime signature
(:func:`inspect.signature`, ``help``) is ``(ref, dist, *, <the factory's
options>, return_map=False)``; type checkers see :class:`MetricFunction`, whose
overloads give ``Tensor`` without a map (with the options checked against the
factory) and ``tuple[Tensor, Tensor]`` with ``return_map=True``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, Literal, ParamSpec, Protocol, cast, overload

from torch import Tensor

from friqa.metrics.base import Metric

__all__ = ["MetricFunction", "metric_function"]

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


def metric_function(factory: Callable[P, Metric]) -> MetricFunction[P]:
    """The function form of the metric that ``factory(**options)`` builds.

    ``factory`` takes the options as keyword-only parameters and returns the metric
    module (whose ``info.returns_map`` is True); its name, docstring and module
    become the function form's. See the module docstring.
    """
    build = cast(Callable[..., Metric], factory)

    @functools.wraps(factory)
    def function(
        ref: Tensor, dist: Tensor, *, return_map: bool = False, **options: Any
    ) -> Tensor | tuple[Tensor, Tensor]:
        result = build(**options).compute(ref, dist, return_map=return_map)
        if return_map:
            return result.score, cast(Tensor, result.map)
        return result.score

    del function.__wrapped__  # its signature is not this one
    data = inspect.Parameter.POSITIONAL_OR_KEYWORD
    function.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("ref", data, annotation="Tensor"),
            inspect.Parameter("dist", data, annotation="Tensor"),
            *inspect.signature(factory).parameters.values(),
            inspect.Parameter(
                "return_map", inspect.Parameter.KEYWORD_ONLY, default=False, annotation="bool"
            ),
        ],
        return_annotation="Tensor | tuple[Tensor, Tensor]",
    )
    return cast(MetricFunction[P], function)
