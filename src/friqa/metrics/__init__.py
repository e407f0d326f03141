"""Metrics: the :class:`Metric` base class, the registry and every built-in metric."""

from friqa.metrics.base import EncodedRef, Family, Metric, MetricInfo, MetricResult
from friqa.metrics.registry import create_metric, list_metrics, metric_info, register_metric

__all__ = [
    "Metric",
    "MetricInfo",
    "Family",
    "MetricResult",
    "EncodedRef",
    "create_metric",
    "list_metrics",
    "metric_info",
    "register_metric",
]
