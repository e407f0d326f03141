"""SMIC's seeded random projections of VGG16 features.

The reference (KANGX99/SMIC, smic-pytorch, commit 6736abe) projects the relu3_3
features (256 channels) and the relu4_3 features (512 channels) each to 32
channels with a bias-free 1x1 convolution. Its weights come from torch's global
generator: ``torch.manual_seed(-3566)``, Xavier-uniform (gain 1) of the first
projection, then the second ``nn.Conv2d(512, 32, 1, bias=False)`` is constructed
(its default Kaiming-uniform initialisation draws numbers too) and is then
Xavier-uniform initialised. We draw the same numbers from a private
``torch.Generator``, so the weights are bit-identical while the caller's global
random state is untouched.

For stage lists other than the reference's, the same recipe continues: the
first stage is Xavier-initialised right after the seed; every later stage draws
a default Kaiming initialisation first, then its Xavier one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from friqa.backbone.vgg16 import TAPS
from friqa.exceptions import InputError

__all__ = ["SMIC_SEED", "STAGE_CHANNELS", "projection_weights"]

#: The seed of the SMIC reference.
SMIC_SEED = -3566

#: Channels of the VGG16 taps that can carry SMIC attention.
STAGE_CHANNELS: dict[str, int] = {
    "relu1_1": 64, "relu1_2": 64, "relu2_1": 128, "relu2_2": 128,
    "relu3_1": 256, "relu3_2": 256, "relu3_3": 256,
    "relu4_1": 512, "relu4_2": 512, "relu4_3": 512,
    "relu5_1": 512, "relu5_2": 512, "relu5_3": 512,
}  # fmt: skip


def projection_weights(
    stages: Sequence[str] = ("relu3_3", "relu4_3"),
    projections: int = 32,
    seed: int = SMIC_SEED,
) -> dict[str, Tensor]:
    """The random projection matrices, one ``(projections, channels)`` float32 tensor per stage.

    Args:
        stages: VGG16 taps, in the order the reference creates their projections.
        projections: output channels of each projection (the reference uses 32).
        seed: the seed (the reference's is -3566).

    Example:
        >>> w = projection_weights()
        >>> w["relu3_3"].shape, w["relu4_3"].shape
        (torch.Size([32, 256]), torch.Size([32, 512]))
    """
    if projections < 1:
        raise InputError(f"projections must be >= 1, got {projections}")
    unknown = [s for s in stages if s not in STAGE_CHANNELS]
    if unknown or not stages:
        raise InputError(
            f"SMIC stages must be VGG16 ReLU taps {sorted(STAGE_CHANNELS, key=TAPS.__getitem__)}, "
            f"got {list(stages)}"
        )
    gen = torch.Generator(device="cpu")
    gen.manual_seed(seed)
    out: dict[str, Tensor] = {}
    for i, stage in enumerate(stages):
        weight = torch.empty(projections, STAGE_CHANNELS[stage], 1, 1, dtype=torch.float32)
        if i > 0:  # nn.Conv2d's own initialisation, run when the module is constructed
            nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=gen)
        nn.init.xavier_uniform_(weight, gain=1.0, generator=gen)
        out[stage] = weight[:, :, 0, 0].contiguous()
    return out
