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

__all__ = [
    "register_metric",
    "list_metrics",
    "metric_info",
    "create_metric",
    "metric_options_defaults",
    "PROVIDER_PACKAGES",
]

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
    """Names of all registered metrics, sorted; optionally only one ``family``.

    Raises:
        InputError: ``family`` is not the family of any registered metric (the
            message lists the families).
    """
    _load_builtins()
    names = sorted(_INFOS)
    if family is not None:
        families = sorted({str(i.family) for i in _INFOS.values()})
        if family not in families:
            raise InputError(f"unknown family '{family}'; the families are: {', '.join(families)}")
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
    """Create the metric called ``name`` (any case) with its constructor ``options``.

    The result is a ``torch.nn.Module``: ``metric(ref, dist)`` gives one score per
    image ``(N,)`` of ``(N, 3, H, W)`` batches in ``[0, data_range]``;
    ``metric.compute(ref, dist, return_map=True)`` also the distortion map.
    ``friqa.list_metrics()`` / ``friqa.metric_info(name)`` (or ``friqa list``) give
    every name with its metadata.

    Built-in names and their options (every metric also takes ``data_range``,
    the value of white, default 1.0; ``weights`` is the VGG16 file, default found as
    the README's Weights section says):

    * ``psnr``; ``ssim`` (``quantize``: the 8-bit rounding of the reference code,
      default True; False makes it differentiable); ``ssim_rgb``, ``ms_ssim``
      (``window_size``, ``sigma``, ``k1``, ``k2``; ``ms_ssim`` also ``weights``, the
      per-scale exponents)
    * ``lpips``, ``dists`` (``weights``); ``deepwsd`` (``weights``, ``resize``, ``as_loss``)
    * ``deepssim`` (``weights``, ``saliency``, ``threshold``)
    * faithful SMIC: ``psnr_smic``, ``ssim_smic`` (also ``window_size``, ``sigma``,
      ``k1``, ``k2``), ``lpips_smic``, ``dists_smic``: ``weights``, ``preprocess``
      (the reference's resizing, default True), ``patch_size``, ``stride`` (the
      attention patches; a smaller ``patch_size`` for small images);
      ``deepwsd_smic``: ``weights``, ``preprocess``, ``as_loss``, ``patch_size``
    * consistent SMIC: ``psnr+smic``, ``ssim+smic`` (also ``quantize``),
      ``ms_ssim+smic``, ``lpips+smic``: ``weights``, ``patch_size``, ``stride``,
      ``attention_scale`` (``"smic"`` or ``"native"``)

    The same options are given on the command line as
    ``--metric-option NAME.KEY=VALUE`` (``friqa score``, ``map``, ``evaluate``).

    Raises:
        UnknownMetricError: no metric of that name (the message lists them).
        InputError: an option the metric does not take, or a bad value.

    Example:
        >>> import torch, friqa
        >>> psnr = friqa.create_metric("psnr", data_range=255)
        >>> psnr(torch.zeros(1, 3, 8, 8), torch.full((1, 3, 8, 8), 255.0))
        tensor([0.])
        >>> friqa.create_metric("psnr_smic", patch_size=3).patch_size
        3
    """
    info = metric_info(name)
    factory = _FACTORIES[info.name]
    try:
        inspect.signature(factory).bind(**options)
    except TypeError as exc:
        raise InputError(f"bad options for metric '{name}': {exc}") from exc
    return factory(**options)


def metric_options_defaults(name: str) -> dict[str, Any]:
    """The constructor options of metric ``name`` with their defaults (options without a
    default are left out)."""
    factory = _FACTORIES[metric_info(name).name]
    return {
        k: p.default
        for k, p in inspect.signature(factory).parameters.items()
        if p.default is not inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
