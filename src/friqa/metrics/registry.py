"""The metric registry: names, metadata and factories.

Metric modules register themselves with :func:`register_metric` when imported.
The modules of the packages listed in :data:`PROVIDER_PACKAGES` are imported on
the first look-up, so the registry always lists every built-in metric without a
hand-kept list. Users can register their own metrics the same way.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any

from friqa.exceptions import InputError, UnknownMetricError
from friqa.metrics.base import Metric, MetricInfo

__all__ = ["register_metric", "list_metrics", "metric_info", "create_metric", "PROVIDER_PACKAGES"]

#: Packages whose (non-underscore) modules define built-in metrics.
PROVIDER_PACKAGES = ("friqa.metrics", "friqa.smic")

_FACTORIES: dict[str, Callable[..., Metric]] = {}
_INFOS: dict[str, MetricInfo] = {}
_loaded = False


def register_metric(
    info: MetricInfo, factory: Callable[..., Metric] | None = None
) -> Callable[[Any], Any]:
    """Register a metric under ``info.name``.

    Use as a class decorator (``@register_metric(INFO)``) or call with a factory.
    Registering a name twice with different metadata is an error.
    """

    def add(obj: Any) -> Any:
        name = info.name
        if name in _INFOS and _INFOS[name] != info:
            raise InputError(f"a different metric is already registered as '{name}'")
        _INFOS[name] = info
        _FACTORIES[name] = obj
        return obj

    if factory is not None:
        add(factory)
        return lambda obj: obj
    return add


def _load_builtins() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for package_name in PROVIDER_PACKAGES:
        try:
            package = importlib.import_module(package_name)
        except ModuleNotFoundError:
            continue
        for module in pkgutil.iter_modules(package.__path__):
            if not module.name.startswith("_"):
                importlib.import_module(f"{package_name}.{module.name}")


def list_metrics(family: str | None = None) -> list[str]:
    """Names of all registered metrics, sorted; optionally only one ``family``."""
    _load_builtins()
    names = sorted(_INFOS)
    if family is not None:
        names = [n for n in names if _INFOS[n].family == family]
    return names


def metric_info(name: str) -> MetricInfo:
    """Metadata of the metric called ``name``."""
    _load_builtins()
    key = name.lower()
    if key not in _INFOS:
        raise UnknownMetricError(f"unknown metric '{name}'; available: {', '.join(sorted(_INFOS))}")
    return _INFOS[key]


def create_metric(name: str, **options: Any) -> Metric:
    """Create the metric called ``name`` with its options (see the metric's class)."""
    info = metric_info(name)
    factory = _FACTORIES[info.name]
    try:
        inspect.signature(factory).bind(**options)
    except TypeError as exc:
        raise InputError(f"bad options for metric '{name}': {exc}") from exc
    return factory(**options)
