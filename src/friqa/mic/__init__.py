"""Exact, batched maximal information coefficient (MIC), the core of SMIC.

:func:`mic` is the fast engine (pure torch, any batch shape, CPU or GPU);
:func:`mic_reference` is the slow scalar transcription it is tested against.
The engine keeps its scratch memory between calls (up to
``DEFAULT_MEMORY_BUDGET``, per thread and device); :func:`clear_workspace`
frees it.
"""

from friqa.mic.engine import clear_workspace, grid_plan, mic
from friqa.mic.reference import mic_reference

__all__ = ["mic", "mic_reference", "grid_plan", "clear_workspace"]
