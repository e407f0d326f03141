"""Figures: scatter plots of metric scores against human scores, SMIC map panels.

matplotlib is a core dependency (the SMIC map figure is a main deliverable;
docs/cli.md says why) but it is imported only when a figure is drawn, and an
install without it (``pip install --no-deps``, a trimmed environment) gets a
:class:`~friqa.exceptions.FriqaError` with the install command *before* any
work starts (:func:`require_matplotlib`).
"""

from __future__ import annotations

from types import ModuleType

from friqa.exceptions import FriqaError

__all__ = ["INSTALL_MATPLOTLIB", "require_matplotlib", "scatter_plot"]

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


def __getattr__(name: str) -> object:
    if name == "scatter_plot":
        from friqa.plotting.scatter import scatter_plot

        return scatter_plot
    raise AttributeError(f"module 'friqa.plotting' has no attribute '{name}'")
