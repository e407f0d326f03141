"""The exceptions friqa raises.

Every error a user can cause derives from :class:`FriqaError`, so a caller (and
the CLI) can catch one type. Input errors also derive from :class:`ValueError`
so that code written against the usual Python conventions keeps working.
"""

from __future__ import annotations

__all__ = [
    "FriqaError",
    "InputError",
    "NotDifferentiableError",
    "MemoryLimitError",
    "ImageLoadError",
    "WeightsError",
    "UnknownMetricError",
    "DatasetError",
]


class FriqaError(Exception):
    """Base class of all friqa errors."""


class InputError(FriqaError, ValueError):
    """A tensor, array or option has the wrong shape, dtype, range or value."""


class NotDifferentiableError(InputError):
    """A gradient was asked of a metric whose score has none (``differentiable=False``).

    Raised by ``backward`` through such a metric's score, not by the forward pass.
    """


class MemoryLimitError(InputError):
    """A metric would need more memory than the limit for these images
    (:mod:`friqa.metrics.memory`)."""


class ImageLoadError(FriqaError, OSError):
    """An image could not be read: missing file, not an image, unsupported mode, ..."""


class WeightsError(FriqaError, RuntimeError):
    """Pretrained weights could not be found, downloaded or verified."""


class UnknownMetricError(FriqaError, KeyError):
    """A metric name is not in the registry."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DatasetError(FriqaError, ValueError):
    """A manifest or dataset release file is malformed."""
