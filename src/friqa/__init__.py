"""friqa: training-free full-reference image quality assessment.

SMIC attention (Xiao et al., arXiv 2408.09920) and DeepSSIM (Zhang et al., TPAMI
2025) on top of exact, batched PSNR, SSIM, LPIPS, DISTS and DeepWSD.

Example:
    >>> import torch, friqa
    >>> ref = torch.rand(2, 3, 64, 64)
    >>> dist = (ref + 0.05 * torch.randn_like(ref)).clamp(0, 1)
    >>> friqa.create_metric("psnr")(ref, dist).shape
    torch.Size([2])
"""

from typing import TYPE_CHECKING

from friqa._lazy import lazy_exports
from friqa._version import __version__
from friqa.exceptions import (
    DatasetError,
    FriqaError,
    ImageLoadError,
    InputError,
    NotDifferentiableError,
    UnknownMetricError,
    WeightsError,
)

if TYPE_CHECKING:
    from friqa.metrics.metric_set import MetricSet
    from friqa.metrics.registry import create_metric, list_metrics, metric_info, register_metric

__all__ = [
    "__version__",
    "create_metric",
    "list_metrics",
    "metric_info",
    "register_metric",
    "MetricSet",
    "FriqaError",
    "InputError",
    "NotDifferentiableError",
    "ImageLoadError",
    "WeightsError",
    "UnknownMetricError",
    "DatasetError",
]

# The registry imports torch: it is imported when one of these names is first used.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        **{
            name: "friqa.metrics.registry"
            for name in ("create_metric", "list_metrics", "metric_info", "register_metric")
        },
        "MetricSet": "friqa.metrics.metric_set",
    },
)
