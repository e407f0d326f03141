"""Saliency maps as inputs: map files, arrays and tensors give the same binary masks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from friqa.saliency.masks import load_saliency_map, saliency_mask


def test_saliency_map_inputs_agree(shared_data: Path) -> None:
    path = shared_data / "pairs" / "deepssim" / "saliency" / "butterfly.png"
    raw = np.asarray(Image.open(path))  # 8-bit grayscale
    as_file = load_saliency_map(path)
    assert as_file.shape == raw.shape
    np.testing.assert_array_equal(as_file.numpy(), raw.astype(np.float32) / 255.0)
    size = raw.shape
    expected = torch.from_numpy(raw > 0).float().reshape(1, 1, *size)
    for maps in (
        path,
        str(path),
        [path],
        raw,
        torch.tensor(raw),
        torch.tensor(raw / 255.0),
    ):
        got = saliency_mask(maps, 1, size)  # type: ignore[arg-type]
        torch.testing.assert_close(got, expected, rtol=0, atol=0)
    # threshold is strict and on the [0, 1] scale: 0.05 * 255 = 12.75
    got = saliency_mask(raw, 1, size, threshold=0.05)
    torch.testing.assert_close(got, torch.from_numpy(raw > 12).float().reshape(1, 1, *size))


def test_gbvs_mask_thresholds_the_8bit_gbvs_map() -> None:
    from friqa.saliency import gbvs, gbvs_mask

    g = torch.Generator().manual_seed(0)
    low = torch.rand(2, 3, 6, 8, generator=g)
    x = torch.nn.functional.interpolate(low, size=(128, 144), mode="bilinear", align_corners=False)
    maps = torch.round(gbvs(x).to(torch.float64) * 255) / 255
    for t in (0.0, 0.3):
        mask = gbvs_mask(x, t)
        assert mask.shape == (2, 1, 128, 144) and mask.dtype == x.dtype
        torch.testing.assert_close(mask, (maps > t).to(x.dtype).reshape(2, 1, 128, 144))
