"""Saliency models.

:func:`gbvs` is Graph-Based Visual Saliency (Harel, Koch and Perona, NIPS 2006)
with the defaults of Harel's MATLAB toolbox; DeepSSIM's saliency calibration
masks its features with GBVS maps.
"""

from __future__ import annotations

from friqa.saliency.gbvs import GBVSParams, gbvs, saliency_grid_size

__all__ = ["GBVSParams", "gbvs", "saliency_grid_size"]
