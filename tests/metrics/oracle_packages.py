"""Reference packages (lpips, DISTS_pytorch, ...) as oracles and peers, without torchvision.

These packages import torchvision only to build VGG16's ``features`` (and, in
some, to import helpers they never call for the metrics used here). Installed
with ``pip install --no-deps``, they run here with a stand-in ``torchvision``
whose ``vgg16`` is a plain ``nn.Sequential`` in torchvision's layout, loaded
from a VGG16 weight file. Used by the metric tests and by the benchmarks
(benchmarks/bench_metrics.py, benchmarks/bench_peers.py).
"""

from __future__ import annotations

import importlib.machinery
import sys
import types
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import nn

__all__ = ["torchvision_vgg16_features", "stand_in_torchvision", "placeholder_module"]

_SUBMODULES = ("models", "models.inception", "transforms", "transforms.functional", "utils")


def torchvision_vgg16_features(weights_path: Path) -> nn.Sequential:
    """torchvision's ``vgg16().features`` layout (31 modules), from the shared weights."""
    cfg: list[int | str] = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M"]
    cfg += [512, 512, 512, "M", 512, 512, 512, "M"]
    layers: list[nn.Module] = []
    channels = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            assert isinstance(v, int)
            layers += [nn.Conv2d(channels, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            channels = v
    features = nn.Sequential(*layers)
    sd = torch.load(weights_path, map_location="cpu", weights_only=True)
    features.load_state_dict(
        {k.removeprefix("features."): v for k, v in sd.items() if k.startswith("features.")}
    )
    return features


def _absent(qualname: str) -> type[nn.Module]:
    """A placeholder for a torchvision name that peers import (or subclass) but never use here."""

    def refuse(self: nn.Module, *_args: Any, **_kwargs: Any) -> None:
        raise NotImplementedError(f"{qualname} is not part of the VGG16 stand-in of torchvision")

    return type(qualname.rpartition(".")[2], (nn.Module,), {"__init__": refuse})


def placeholder_module(name: str) -> types.ModuleType:
    """A module that ``importlib.util.find_spec`` accepts and whose unknown names are placeholders.

    A placeholder can be imported, used as a base class or a default value; only
    calling it raises ``NotImplementedError``.
    """
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)

    def getattr_(attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _absent(f"{name}.{attr}")

    module.__getattr__ = getattr_  # type: ignore[method-assign]
    return module


def _stand_in(weights_path: Path) -> dict[str, types.ModuleType]:
    tv = placeholder_module("torchvision")
    tv.__version__ = "0.0+stand-in"  # type: ignore[attr-defined]
    mods = {"torchvision": tv}
    for sub in _SUBMODULES:
        mods[f"torchvision.{sub}"] = placeholder_module(f"torchvision.{sub}")
        parent, _, leaf = f"torchvision.{sub}".rpartition(".")
        setattr(mods[parent], leaf, mods[f"torchvision.{sub}"])

    def vgg16(*_args: Any, **_kwargs: Any) -> nn.Module:
        """Every ``weights=``/``pretrained=`` request gets the stand-in's one weight file."""
        net = nn.Module()
        net.features = torchvision_vgg16_features(weights_path)
        return net

    models = mods["torchvision.models"]
    models.vgg16 = vgg16  # type: ignore[attr-defined]
    # torchvision's weight enums: only ``.DEFAULT`` / ``.IMAGENET1K_V1`` are read, then passed back
    models.VGG16_Weights = types.SimpleNamespace(DEFAULT="stand-in", IMAGENET1K_V1="stand-in")  # type: ignore[attr-defined]
    return mods


@contextmanager
def stand_in_torchvision(
    weights_path: Path,
    packages: tuple[str, ...],
    extra_modules: Mapping[str, types.ModuleType] | None = None,
) -> Iterator[None]:
    """Put a minimal ``torchvision`` in ``sys.modules`` while the oracle is imported and built.

    ``extra_modules`` (name -> module, e.g. from :func:`placeholder_module`)
    stand in for further imports of the same kind. Modules of ``packages``
    imported inside are forgotten afterwards, and so are the stand-ins, so
    nothing else in the process ever sees them.
    """
    mods = {**_stand_in(weights_path), **(extra_modules or {})}
    saved = {name: sys.modules.get(name) for name in mods}
    before = set(sys.modules)
    sys.modules.update(mods)
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        for name in set(sys.modules) - before:
            if name.split(".")[0] in packages:
                del sys.modules[name]
