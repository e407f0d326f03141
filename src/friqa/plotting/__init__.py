"""Figures: scatter plots of metric scores against human scores, SMIC map panels.

matplotlib is a core dependency (the SMIC map figure is a main deliverable;
docs/cli.md says why) but it is imported only when a figure is drawn, and an
install without it (``pip install --no-deps``, a trimmed environment) gets a
:class:`~friqa.exceptions.FriqaError` with the install command *before* any
work starts (:func:`require_matplotlib`).
"""

from __future__ import annotations

import importlib
import threading
from types import ModuleType

from friqa.exceptions import FriqaError

__all__ = ["INSTALL_MATPLOTLIB", "preload_figures", "require_matplotlib", "scatter_plot"]

#: The command that installs the figures' dependency.
INSTALL_MATPLOTLIB = "pip install 'friqa[plot]' (or pip install 'matplotlib>=3.6')"


def require_matplotlib(
    alternative: str = "or turn plots off (--no-plots / plots=False)",
) -> ModuleType:
    """Import matplotlib or raise a :class:`FriqaError` with the install command and
    ``alternative`` (what the caller can do without figures)."""
    try:
        import matplotlib
    except ImportError as exc:
        raise FriqaError(
            f"figures need matplotlib, which is not installed: {INSTALL_MATPLOTLIB}"
            + (f", {alternative}" if alternative else "")
        ) from exc
    return matplotlib


#: What drawing a figure imports (matplotlib's object API on an Agg canvas).
FIGURE_MODULES = ("matplotlib.figure", "matplotlib.backends.backend_agg")


def preload_figures() -> threading.Thread:
    """Import matplotlib's figure modules in a background thread; join it before drawing.

    About 0.4 s of imports that a command about to draw can overlap with its
    computation (torch releases the interpreter lock in its kernels). Any import
    error is raised again, as usual, by the drawing code's own import.

    Example:
        >>> preload_figures().join()
    """

    def load() -> None:
        for name in FIGURE_MODULES:
            try:
                importlib.import_module(name)
            except ImportError:
                return

    thread = threading.Thread(target=load, name="friqa-preload-figures", daemon=True)
    thread.start()
    return thread


def __getattr__(name: str) -> object:
    if name == "scatter_plot":
        from friqa.plotting.scatter import scatter_plot

        return scatter_plot
    raise AttributeError(f"module 'friqa.plotting' has no attribute '{name}'")
