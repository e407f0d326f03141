"""Figures: scatter plots of metric scores against human scores.

Needs the ``plot`` extra (``pip install "friqa[plot]"``, i.e. matplotlib).
matplotlib is imported only when a figure is drawn; without it a
:class:`~friqa.exceptions.FriqaError` says how to install it.
"""

from __future__ import annotations

from types import ModuleType

from friqa.exceptions import FriqaError

__all__ = ["require_matplotlib", "scatter_plot"]


def require_matplotlib() -> ModuleType:
    """Import matplotlib (headless) or raise a :class:`FriqaError` that says how to get it."""
    try:
        import matplotlib
    except ImportError as exc:
        raise FriqaError(
            "plots need matplotlib, which is not installed: pip install 'friqa[plot]' "
            "(or pip install matplotlib), or turn plots off (--no-plots / plots=False)"
        ) from exc
    return matplotlib


def __getattr__(name: str) -> object:
    if name == "scatter_plot":
        from friqa.plotting.scatter import scatter_plot

        return scatter_plot
    raise AttributeError(f"module 'friqa.plotting' has no attribute '{name}'")
