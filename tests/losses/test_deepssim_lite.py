"""DeepSSIM-Lite loss: fixtures of the authors' code, a numpy oracle, gradients, optimisation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from friqa.backbone import get_vgg16
from friqa.exceptions import InputError
from friqa.losses import DeepSSIMLiteLoss, deepssim_lite_loss, deepssim_lite_similarity

REL_TOL = 1e-5


def _load(path: Path, size: tuple[int, int] | None = None) -> torch.Tensor:
    img = Image.open(path).convert("RGB")
    if size is not None:
        img = img.resize(size, Image.Resampling.BICUBIC)
    arr = np.asarray(img, dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous()


def _smooth(n: int, h: int, w: int, seed: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 3, max(h // 8, 2), max(w // 8, 2), generator=g, dtype=dtype)
    return torch.nn.functional.interpolate(low, size=(h, w), mode="bilinear", align_corners=False)


def test_fixture_every_pair(
    official_scores: dict[str, Any], shared_data: Path, vgg_weights_path: Path
) -> None:
    pairs = official_scores["pairs"]
    small = [k for k in pairs if k != "butterfly_retarget"]  # all 512x384
    ref = torch.stack([_load(shared_data / pairs[k]["ref"]) for k in small])
    dist = torch.stack([_load(shared_data / pairs[k]["dist"]) for k in small])
    got = deepssim_lite_loss(ref, dist, weights=vgg_weights_path, reduction="none")
    expected = torch.tensor([pairs[k]["deepssim_lite_loss"] for k in small])
    torch.testing.assert_close(got, expected, rtol=REL_TOL, atol=0)
    # the retargeted pair: 1024x700 against 512x700
    pair = pairs["butterfly_retarget"]
    ref_b = _load(shared_data / pair["ref"]).unsqueeze(0)
    dist_b = _load(shared_data / pair["dist"]).unsqueeze(0)
    loss = DeepSSIMLiteLoss(weights=vgg_weights_path)(dist_b, ref_b).item()
    assert abs(loss / pair["deepssim_lite_loss"] - 1) <= REL_TOL


def _lite_oracle(ref: torch.Tensor, dist: torch.Tensor, weights: Path) -> np.ndarray:
    """From the description, in float64 numpy: features -> G / (C h w) -> one structure term."""
    vgg = get_vgg16(weights, dtype=torch.float64)
    out = []
    for x, y in zip(ref.double(), dist.double(), strict=True):
        grams = []
        for img in (x, y):
            f = vgg(img[None], ("relu5_1",))["relu5_1"][0].numpy()
            c, h, w = f.shape
            m = f.reshape(c, h * w)
            grams.append((m @ m.T / (c * h * w)).ravel())
        gx, gy = grams
        cov = np.mean((gx - gx.mean()) * (gy - gy.mean()))
        out.append(1 - (2 * cov + 1e-6) / (gx.var() + gy.var() + 1e-6))
    return np.array(out)


def test_matches_numpy_oracle_and_reductions(vgg_weights_path: Path) -> None:
    w = vgg_weights_path
    ref = _smooth(3, 48, 64, seed=1, dtype=torch.float64)
    dist = _smooth(3, 64, 32, seed=2, dtype=torch.float64)
    none = deepssim_lite_loss(ref, dist, weights=w, reduction="none")
    assert none.shape == (3,) and none.dtype == torch.float64
    np.testing.assert_allclose(none.numpy(), _lite_oracle(ref, dist, w), rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(deepssim_lite_loss(ref, dist, weights=w), none.mean())
    torch.testing.assert_close(
        deepssim_lite_loss(ref, dist, weights=w, reduction="sum"), none.sum()
    )
    torch.testing.assert_close(
        deepssim_lite_similarity(ref, dist, weights=w), 1 - none, rtol=1e-12, atol=1e-12
    )
    # module convention: (output, target) = (dist, ref); the value is symmetric
    module = DeepSSIMLiteLoss(weights=w, reduction="none")
    torch.testing.assert_close(module(dist, ref), none)
    torch.testing.assert_close(module(ref, dist), none, rtol=1e-10, atol=1e-12)
    assert bool((none >= 0).all()) and bool((none <= 2).all())


def test_gradients_finite_random_and_identical(vgg_weights_path: Path) -> None:
    w = vgg_weights_path
    ref = torch.rand(2, 3, 48, 48, generator=torch.Generator().manual_seed(3))
    for start in (torch.rand(2, 3, 48, 48, generator=torch.Generator().manual_seed(4)), ref):
        x = start.clone().requires_grad_(True)
        loss = deepssim_lite_loss(ref, x, weights=w)
        loss.backward()
        assert x.grad is not None and bool(torch.isfinite(x.grad).all())
        if start is ref:
            assert abs(loss.item()) < 1e-5
            assert float(x.grad.abs().max()) < 1e-4  # a minimum: (nearly) zero gradient
        else:
            assert loss.item() > 0.01 and float(x.grad.abs().max()) > 0


def test_gradcheck_float64(vgg_weights_path: Path) -> None:
    w = vgg_weights_path
    ref = _smooth(1, 32, 32, seed=5, dtype=torch.float64).requires_grad_(True)
    dist = _smooth(1, 32, 48, seed=6, dtype=torch.float64).requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda r, d: deepssim_lite_loss(r, d, weights=w), (ref, dist), fast_mode=True
    )


def test_optimising_toward_reference_lowers_the_loss(
    shared_data: Path, vgg_weights_path: Path
) -> None:
    torch.manual_seed(0)
    target = _load(shared_data / "pairs" / "kadid" / "I07.png", size=(64, 48)).unsqueeze(0)
    x = (target + 0.3 * torch.randn_like(target)).clamp(0, 1).requires_grad_(True)
    criterion = DeepSSIMLiteLoss(weights=vgg_weights_path)
    optimizer = torch.optim.Adam([x], lr=0.01)
    losses = []
    for _ in range(8):
        loss = criterion(x, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            x.clamp_(0, 1)
        losses.append(loss.item())
    with torch.no_grad():
        losses.append(criterion(x, target).item())
    assert losses[-1] < 0.7 * losses[0], losses
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False)), losses


def test_inputs(vgg_weights_path: Path) -> None:
    w = vgg_weights_path
    x = torch.rand(2, 3, 32, 32)
    # no range check: optimised images may step outside [0, 1]
    assert torch.isfinite(deepssim_lite_loss(x, x * 1.2 - 0.1, weights=w))
    with pytest.raises(InputError, match="reduction"):
        DeepSSIMLiteLoss(reduction="max")
    with pytest.raises(InputError, match="reduction"):
        deepssim_lite_loss(x, x, weights=w, reduction="avg")
    with pytest.raises(InputError, match="batch size"):
        deepssim_lite_loss(x, x[:1], weights=w)
    with pytest.raises(InputError, match="dtype"):
        deepssim_lite_loss(x, x.double(), weights=w)
    with pytest.raises(InputError, match="at least 16x16"):
        deepssim_lite_loss(x, x[..., :8], weights=w)
    with pytest.raises(InputError, match="3 channels"):
        deepssim_lite_loss(x, x[:, :1], weights=w)
