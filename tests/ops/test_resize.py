"""Reference resizing: torchvision-on-PIL resize, SMIC/DeepWSD policies, scipy zoom."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch
from PIL import Image

from friqa.exceptions import InputError
from friqa.ops.resize import (
    deepwsd_prepare,
    deepwsd_prepare_shape,
    pil_resize_like_torchvision,
    smic_prepare,
    smic_prepare_shape,
    torchvision_resize_shape,
    zoom_bilinear,
    zoom_output_shape,
)


def _u8_to_tensor(arr: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).float() / 255


# --- torchvision's size rule ----------------------------------------------------------
@pytest.mark.parametrize(
    ("hw", "size", "want"),
    [
        ((384, 512), 256, (256, 341)),  # landscape: width = int(256 * 512 / 384)
        ((512, 384), 256, (341, 256)),  # portrait
        ((300, 300), 128, (128, 128)),
        ((700, 1024), 416, (416, 608)),
        ((384, 512), (256, 256), (256, 256)),
        ((384, 512), [100], (100, 133)),
    ],
)
def test_torchvision_resize_shape(hw: tuple[int, int], size: Any, want: tuple[int, int]) -> None:
    # int(t * long / short) written out independently of the implementation
    assert torchvision_resize_shape(*hw, size) == want


def test_bad_sizes_raise() -> None:
    with pytest.raises(InputError):
        torchvision_resize_shape(10, 10, 0)
    with pytest.raises(InputError):
        torchvision_resize_shape(10, 10, (1, 2, 3))
    with pytest.raises(InputError):
        pil_resize_like_torchvision(torch.rand(2, 3), 4)


# --- PIL resize ---------------------------------------------------------------------
def test_pil_resize_matches_pil_on_the_8bit_image() -> None:
    rng = np.random.default_rng(0)
    arrays = rng.integers(0, 256, size=(2, 37, 53, 3), dtype=np.uint8)
    x = torch.stack([_u8_to_tensor(a) for a in arrays])
    got = pil_resize_like_torchvision(x, 20)  # shorter side 37 -> 20, width int(20*53/37)=28
    assert got.shape == (2, 3, 20, 28)
    for a, g in zip(arrays, got, strict=True):
        want = np.asarray(Image.fromarray(a).resize((28, 20), Image.Resampling.BILINEAR))
        assert torch.equal(g, _u8_to_tensor(want))


def test_pil_resize_unbatched_gray_dtype_and_identity() -> None:
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, size=(16, 24), dtype=np.uint8)
    x = torch.from_numpy(a).double()[None] / 255  # (1, H, W) float64
    got = pil_resize_like_torchvision(x, (8, 9))
    want = np.asarray(Image.fromarray(a).resize((9, 8), Image.Resampling.BILINEAR))
    assert got.dtype == torch.float64 and got.shape == (1, 8, 9)
    assert torch.equal(got[0], torch.from_numpy(want.copy()).double() / 255)
    # same size: returned unchanged (no quantisation, gradients kept)
    y = torch.rand(1, 3, 8, 9, requires_grad=True)
    assert pil_resize_like_torchvision(y, (8, 9)) is y


def test_smic_prepare_on_real_pairs(shared_dir: Path, official_scores: dict[str, Any]) -> None:
    checked = 0
    for pair in official_scores["pairs"].values():
        if "prepared_shape" not in pair:
            continue
        img = Image.open(shared_dir / "data" / pair["ref"]).convert("RGB")
        x = _u8_to_tensor(np.asarray(img))[None]
        out = smic_prepare(x)
        assert list(out.shape) == pair["prepared_shape"]
        assert smic_prepare_shape(*x.shape[-2:]) == tuple(pair["prepared_shape"][-2:])
        # torchvision's F.resize(img, t) on PIL is PIL's bilinear resize to that size
        h, w = pair["prepared_shape"][-2:]
        want = np.asarray(img.resize((w, h), Image.Resampling.BILINEAR))
        assert torch.equal(out[0], _u8_to_tensor(want))
        checked += 1
    assert checked >= 4


def test_smic_prepare_policy() -> None:
    # shorter side s <= 128: unchanged; else t = max(int(s/48)*32, 128)
    assert smic_prepare_shape(128, 400) == (128, 400)
    assert smic_prepare_shape(129, 400) == (128, int(128 * 400 / 129))
    assert smic_prepare_shape(700, 1024) == (448, int(448 * 1024 / 700))
    x = torch.rand(1, 3, 100, 300)
    assert smic_prepare(x) is x


def test_deepwsd_prepare_policy() -> None:
    assert deepwsd_prepare_shape(384, 512) == (384, 512)  # max side 512 is not > 512
    assert deepwsd_prepare_shape(384, 513) == (256, 256)
    assert deepwsd_prepare_shape(999, 20) == (256, 256)
    assert deepwsd_prepare_shape(700, 1000) == (700, 1000)  # >= 1000: left alone
    x = torch.rand(2, 3, 384, 512, requires_grad=True)
    assert deepwsd_prepare(x) is x
    rng = np.random.default_rng(2)
    a = rng.integers(0, 256, size=(300, 600, 3), dtype=np.uint8)
    got = deepwsd_prepare(_u8_to_tensor(a)[None])
    want = np.asarray(Image.fromarray(a).resize((256, 256), Image.Resampling.BILINEAR))
    assert torch.equal(got[0], _u8_to_tensor(want))


# --- scipy.ndimage.zoom ---------------------------------------------------------------
def test_zoom_matches_scipy_on_random_maps() -> None:
    rng = np.random.default_rng(3)
    worst = 0.0
    for _ in range(300):
        h, w = (int(v) for v in rng.integers(1, 50, size=2))
        fh, fw = (float(v) for v in rng.uniform(0.15, 5.0, size=2))
        a = rng.random((h, w))
        want = ndi.zoom(a, (fh, fw), order=1)
        if want.size == 0:
            continue
        got = zoom_bilinear(torch.from_numpy(a), factors=(fh, fw))
        assert tuple(got.shape) == want.shape == zoom_output_shape(h, w, (fh, fw))
        worst = max(worst, float(np.abs(got.numpy() - want).max()))
    assert worst < 1e-12


def test_zoom_reproduces_scipys_constant_mode_edge() -> None:
    # 15 -> 26 columns: 25 * (14 / 25) lands just above 14 in float64, scipy reads cval=0
    a = np.random.default_rng(4).random((2, 15))
    want = ndi.zoom(a, (1, 26 / 15), order=1)
    got = zoom_bilinear(torch.from_numpy(a), (2, 26)).numpy()
    assert np.all(want[:, -1] == 0)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_zoom_batched_float32_and_smic_shapes() -> None:
    rng = np.random.default_rng(5)
    maps = rng.random((2, 3, 26, 37)).astype(np.float32)
    factors = (58 / 26, 80 / 37)  # SMIC: relu4_3 grid onto the relu3_3 grid
    got = zoom_bilinear(torch.from_numpy(maps), factors=factors)
    want = np.stack([[ndi.zoom(m, factors, order=1) for m in c] for c in maps])
    assert got.shape == (2, 3, 58, 80) and got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-6)


def test_zoom_identity_gradients_and_errors() -> None:
    x = torch.rand(1, 1, 5, 6, dtype=torch.float64, requires_grad=True)
    assert zoom_bilinear(x, factors=1.0) is x
    assert torch.autograd.gradcheck(lambda t: zoom_bilinear(t, (9, 4)), (x,))
    # a single input row maps to every output row (scipy's zoom = 0 on that axis)
    row = torch.rand(1, 7, dtype=torch.float64)
    np.testing.assert_allclose(
        zoom_bilinear(row, (3, 7)).numpy(), ndi.zoom(row.numpy(), (3, 1), order=1)
    )
    with pytest.raises(InputError):
        zoom_bilinear(x, (4, 4), factors=2.0)
    with pytest.raises(InputError):
        zoom_bilinear(x)
    with pytest.raises(InputError):
        zoom_bilinear(x, factors=0.01)
    with pytest.raises(InputError):
        zoom_bilinear(torch.zeros(3, 3, dtype=torch.long), (4, 4))
