"""Exact, batched maximal information coefficient (MIC), the core of SMIC.

:func:`mic` is the fast engine (pure torch, any batch shape, CPU or GPU);
:func:`mic_reference` is the slow scalar transcription it is tested against.
"""

from friqa.mic.engine import grid_plan, mic
from friqa.mic.reference import mic_reference

__all__ = ["mic", "mic_reference", "grid_plan"]
