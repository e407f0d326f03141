"""Which VGG16 weights are in use: their path, SHA-256 and whether they are torchvision's.

For reports of a run (``run_config.json``, ``friqa doctor``) and for the reprs of
the deep metrics, which show the file a ``weights=None`` resolves to. The hash
is computed once per file and process (:func:`friqa.backbone.weights.file_sha256`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from friqa.backbone.weights import file_sha256, is_torchvision_file, resolve_vgg16_weights
from friqa.exceptions import WeightsError

__all__ = ["WeightsIdentity", "weights_identity", "weights_repr"]


@dataclass(frozen=True)
class WeightsIdentity:
    """A weights file: absolute path, SHA-256 and whether it is torchvision's file."""

    path: Path
    sha256: str
    torchvision: bool

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "sha256": self.sha256, "torchvision": self.torchvision}


def weights_identity(
    weights: str | os.PathLike[str] | None = None, *, download: bool = False
) -> WeightsIdentity:
    """The identity of the weights ``weights`` resolves to (see
    :func:`~friqa.backbone.weights.resolve_vgg16_weights`).

    Raises:
        WeightsError: none found.
    """
    path = resolve_vgg16_weights(weights, download=download).absolute()
    return WeightsIdentity(path, file_sha256(path), is_torchvision_file(path))


def weights_repr(weights: str | os.PathLike[str] | None) -> str:
    """``weights=...`` for a metric's repr: the resolved file, or what was given and why
    it does not resolve (no download is attempted)."""
    try:
        return f"weights='{resolve_vgg16_weights(weights, download=False)}'"
    except WeightsError:
        return f"weights={None if weights is None else os.fspath(weights)!r} (not found)"
