"""Tests of friqa.io.load: source dispatch and load_batch.

Every image is written by the test itself (tmp_path). Expected values come from
the definitions (k / 255, k / 65535, c * a + 1 - a, the EXIF orientation table)
or from Pillow's own conversions, never from running the loader.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from io_helpers import chw
from PIL import Image

from friqa.exceptions import InputError
from friqa.io import load_batch, load_image

RNG = np.random.default_rng(20240611)


# --------------------------------------------------------------------------- torch tensors


@pytest.mark.parametrize("bad", [[[0.0, 1.0]], 3.0, b"\x89PNG"])
def test_unsupported_source_types_are_rejected(bad: object) -> None:
    with pytest.raises(InputError, match="expected a path .*got " + type(bad).__name__):
        load_image(bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- load_batch


def test_load_batch_stacks_mixed_sources_in_order(tmp_path: Path) -> None:
    a = RNG.integers(0, 256, size=(3, 4, 3), dtype=np.uint8)
    p = tmp_path / "a.png"
    Image.fromarray(a).save(p)
    t = torch.rand(3, 3, 4)
    out = load_batch([p, a.astype(np.float64) / 255, t, Image.fromarray(a)])
    assert out.shape == (4, 3, 3, 4)
    assert torch.equal(out[0], chw(a, 255))
    assert torch.equal(out[1], chw(a, 255))
    assert torch.equal(out[2], t)
    assert torch.equal(out[3], chw(a, 255))


def test_load_batch_names_items_of_another_size(tmp_path: Path) -> None:
    paths = []
    for name, size in [("a.png", (4, 5)), ("b.png", (4, 5)), ("c.png", (6, 5)), ("d.png", (4, 4))]:
        paths.append(tmp_path / name)
        Image.new("RGB", (size[1], size[0])).save(paths[-1])
    with pytest.raises(InputError) as info:
        load_batch(paths)
    msg = str(info.value)
    assert "a.png" in msg and "4x5" in msg
    assert "c.png' (item 2) is 6x5" in msg and "d.png' (item 3) is 4x4" in msg
    assert "b.png" not in msg


def test_load_batch_reports_the_failing_item() -> None:
    with pytest.raises(InputError, match=r"array \(item 1\): .*NaN"):
        load_batch([np.zeros((2, 2)), np.full((2, 2), np.nan)])


def test_load_batch_accepts_a_4d_tensor_and_rejects_single_sources(tmp_path: Path) -> None:
    t = torch.rand(2, 3, 4, 4)
    assert torch.equal(load_batch(t), t)
    with pytest.raises(InputError, match="expected at least one image"):
        load_batch([])
    with pytest.raises(InputError, match="got a single str"):
        load_batch(str(tmp_path / "x.png"))
    with pytest.raises(InputError, match=r"\(N, C, H, W\)"):
        load_batch(torch.rand(3, 4, 4))
