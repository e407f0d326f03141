"""Saliency models and saliency maps as inputs.

:func:`gbvs` is Graph-Based Visual Saliency (Harel, Koch and Perona, NIPS 2006)
with the defaults of Harel's MATLAB toolbox. :mod:`friqa.saliency.masks` reads
saliency maps (files, arrays, tensors) and turns them into the binary masks of
DeepSSIM's saliency calibration (:func:`saliency_mask`, :func:`gbvs_mask`).
"""

from __future__ import annotations

from friqa.saliency.gbvs import GBVSParams, gbvs, saliency_grid_size
from friqa.saliency.masks import (
    SaliencyMap,
    SaliencyMaps,
    gbvs_mask,
    load_saliency_map,
    saliency_mask,
)

__all__ = [
    "GBVSParams",
    "gbvs",
    "saliency_grid_size",
    "SaliencyMap",
    "SaliencyMaps",
    "load_saliency_map",
    "saliency_mask",
    "gbvs_mask",
]
