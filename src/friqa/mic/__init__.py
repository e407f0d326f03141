"""Exact, batched maximal information coefficient (MIC), the core of SMIC.

:func:`mic` is the fast engine (any batch shape, CPU or GPU; on CPU a small
compiled kernel, :mod:`friqa.mic.native`, with the torch path as fallback);
:func:`mic_reference` is the slow scalar transcription it is tested against.
With several torch threads the engine runs its chunks on worker threads of
its own (:mod:`friqa.mic.workers`). It keeps its scratch memory between calls
(per thread and device, about ``DEFAULT_MEMORY_BUDGET`` in all);
:func:`clear_workspace` frees it.
"""

from friqa.mic.engine import grid_plan, mic
from friqa.mic.reference import mic_reference
from friqa.mic.workspace import clear_workspace

__all__ = ["mic", "mic_reference", "grid_plan", "clear_workspace"]
