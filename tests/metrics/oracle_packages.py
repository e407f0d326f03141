"""Reference packages (lpips, DISTS_pytorch) as test oracles, without torchvision.

Both packages import torchvision only to build VGG16's ``features``. Installed
with ``pip install --no-deps``, they run here with a stand-in ``torchvision``
whose ``vgg16`` is a plain ``nn.Sequential`` in torchvision's layout, loaded
from a VGG16 weight file. Used by the metric tests and by benchmarks/bench_metrics.py.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

__all__ = ["torchvision_vgg16_features", "stand_in_torchvision"]


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


@contextmanager
def stand_in_torchvision(weights_path: Path, packages: tuple[str, ...]) -> Iterator[None]:
    """Put a minimal ``torchvision`` in ``sys.modules`` while the oracle is imported and built.

    Modules of ``packages`` imported inside are forgotten afterwards, so nothing
    else in the test session ever sees the stand-in.
    """
    tv = types.ModuleType("torchvision")
    models = types.ModuleType("torchvision.models")
    transforms = types.ModuleType("torchvision.transforms")

    def vgg16(*_args: Any, **_kwargs: Any) -> nn.Module:
        net = nn.Module()
        net.features = torchvision_vgg16_features(weights_path)
        return net

    models.vgg16 = vgg16  # type: ignore[attr-defined]
    tv.models = models  # type: ignore[attr-defined]
    tv.transforms = transforms  # type: ignore[attr-defined]
    before = set(sys.modules)
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(sys.modules, "torchvision", tv)
        mp.setitem(sys.modules, "torchvision.models", models)
        mp.setitem(sys.modules, "torchvision.transforms", transforms)
        try:
            yield
        finally:
            for name in set(sys.modules) - before:
                if name.split(".")[0] in packages:
                    del sys.modules[name]
