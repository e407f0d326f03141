"""What a run computed with, for ``run_config.json``: versions, every metric's settings, weights.

None of it decides whether a run may resume (that is
:data:`~friqa.evaluation.run_config.IDENTITY_KEYS`); it is there so that a
result can be reproduced and a bug report answered.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from friqa.metrics.registry import metric_info, metric_options_defaults

__all__ = ["run_environment", "metric_settings"]


def _plain(value: Any) -> Any:
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def metric_settings(name: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """Every constructor option of metric ``name``: its defaults, overridden by ``given``."""
    merged = {**metric_options_defaults(name), **given}
    return {k: _plain(v) for k, v in sorted(merged.items())}


def run_environment(
    metrics: Sequence[str], metric_options: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """Versions, every metric's full settings and, for the metrics on VGG16, the weights
    file each uses (path, SHA-256, whether it is torchvision's)."""
    from friqa.backbone.provenance import weights_identity

    settings = {n: metric_settings(n, metric_options.get(n, {})) for n in metrics}
    weights = {
        n: weights_identity(metric_options.get(n, {}).get("weights")).as_dict()
        for n in metrics
        if metric_info(n).needs_weights
    }
    return {
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "threads": torch.get_num_threads(),
        "metric_settings": settings,
        "weights": weights,
    }
