"""MS-SSIM against a numpy oracle written from the paper and the MATLAB msssim.m procedure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import signal

from friqa.exceptions import InputError
from friqa.functional.ssim import downsample2x
from friqa.metrics import create_metric, metric_info
from friqa.metrics.ms_ssim import MS_SSIM_WEIGHTS, MSSSIM, ms_ssim
from friqa.metrics.ssim import ssim_rgb

# --- oracle ----------------------------------------------------------------------------------


def fspecial_gaussian(size: int, sigma: float) -> np.ndarray:
    r = (size - 1) / 2
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    h = np.exp(-(xx**2 + yy**2) / (2 * sigma**2))
    return h / h.sum()


def matlab_downsample(x: np.ndarray) -> np.ndarray:
    """imfilter(x, ones(2)/4, 'symmetric', 'same') then x(1:2:end, 1:2:end).

    A 2x2 kernel's centre is its (1, 1) element in MATLAB, so output (i, j) is the mean
    of x(i:i+1, j:j+1), reading past the last row/column symmetrically.
    """
    xp = np.pad(x, ((0, 1), (0, 1)), mode="symmetric")
    f = (xp[:-1, :-1] + xp[1:, :-1] + xp[:-1, 1:] + xp[1:, 1:]) / 4
    return f[::2, ::2]


def ssim_cs_means(
    x: np.ndarray, y: np.ndarray, window: np.ndarray, big_l: float
) -> tuple[float, float]:
    c1, c2 = (0.01 * big_l) ** 2, (0.03 * big_l) ** 2

    def f(a: np.ndarray) -> np.ndarray:
        return signal.correlate2d(a, window, mode="valid")

    mx, my = f(x), f(y)
    vx, vy, cxy = f(x * x) - mx**2, f(y * y) - my**2, f(x * y) - mx * my
    cs = (2 * cxy + c2) / (vx + vy + c2)
    lum = (2 * mx * my + c1) / (mx**2 + my**2 + c1)
    return float((lum * cs).mean()), float(cs.mean())


def msssim_oracle(
    r: np.ndarray,
    d: np.ndarray,
    weights: tuple[float, ...] = MS_SSIM_WEIGHTS,
    win: int = 11,
    sigma: float = 1.5,
    big_l: float = 1.0,
) -> float:
    """Per channel (HxWxC inputs): prod_j max(cs_j, 0)^w_j * max(ssim_M, 0)^w_M, then mean."""
    window = fspecial_gaussian(win, sigma)
    per_channel = []
    for c in range(r.shape[-1]):
        x, y = r[..., c], d[..., c]
        value = 1.0
        for j, w in enumerate(weights):
            if j:
                x, y = matlab_downsample(x), matlab_downsample(y)
            s, cs = ssim_cs_means(x, y, window, big_l)
            value *= max(s if j == len(weights) - 1 else cs, 0.0) ** w
        per_channel.append(value)
    return float(np.mean(per_channel))


def _rand(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _related(shape: tuple[int, ...], seed: int, mix: float = 0.7) -> tuple[torch.Tensor, ...]:
    ref = _rand(*shape, seed=seed)
    return ref, (mix * ref + (1 - mix) * _rand(*shape, seed=seed + 100)).clamp(0, 1)


def _hwc(t: torch.Tensor) -> np.ndarray:
    return t.permute(1, 2, 0).numpy()


# --- tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(8, 8), (7, 9), (1, 5), (6, 1)])
def test_downsample_matches_matlab_procedure(shape: tuple[int, int]) -> None:
    x = _rand(1, 1, *shape, seed=1)
    out = downsample2x(x)
    np.testing.assert_allclose(out[0, 0].numpy(), matlab_downsample(x[0, 0].numpy()), atol=1e-15)


@pytest.mark.parametrize("shape", [(161, 161), (176, 200)])
def test_matches_oracle_random(shape: tuple[int, int]) -> None:
    ref, dist = _related((2, 3, *shape), seed=2)
    score = ms_ssim(ref, dist)
    assert score.shape == (2,) and score.dtype == torch.float64
    for i in range(2):
        assert abs(float(score[i]) - msssim_oracle(_hwc(ref[i]), _hwc(dist[i]))) < 1e-12


def test_matches_oracle_on_real_image_crop(shared_data: Path) -> None:
    def load(name: str) -> np.ndarray:
        with Image.open(shared_data / "pairs" / "kadid" / name) as im:
            return np.asarray(im.convert("RGB"))[50:243, 100:350].astype(np.float64) / 255

    r, d = load("I47.png"), load("I47_03_05.png")  # 193x250: odd and even sides
    ref = torch.from_numpy(r).permute(2, 0, 1)[None]
    dist = torch.from_numpy(d).permute(2, 0, 1)[None]
    expected = msssim_oracle(r, d)
    assert abs(float(ms_ssim(ref, dist)[0]) - expected) < 1e-12
    assert abs(float(ms_ssim(ref.float(), dist.float())[0]) - expected) < 1e-5
    torch.testing.assert_close(ms_ssim(ref * 255, dist * 255, data_range=255), ms_ssim(ref, dist))


def test_custom_weights_and_window_match_oracle() -> None:
    weights = (0.2, 0.3, 0.5)
    ref, dist = _related((1, 3, 23, 30), seed=3)
    m = MSSSIM(window_size=5, sigma=1.0, weights=weights)
    assert m.min_size == 17
    expected = msssim_oracle(_hwc(ref[0]), _hwc(dist[0]), weights, win=5, sigma=1.0)
    assert abs(float(m(ref, dist)[0]) - expected) < 1e-12


def test_negative_contrast_structure_is_clipped() -> None:
    ref = _rand(1, 3, 161, 170, seed=4)
    result = MSSSIM().compute(ref, 1 - ref)  # anti-correlated: cs < 0 at the finest scale
    values = result.extras["scale_values"]
    assert values.shape == (5, 1, 3) and bool((values >= 0).all()) and float(values.min()) == 0
    assert float(result.score[0]) == msssim_oracle(_hwc(ref[0]), _hwc(1 - ref[0])) == 0.0
    dist = (1 - ref).requires_grad_(True)
    (g,) = torch.autograd.grad(ms_ssim(ref, dist).sum(), dist)
    assert torch.isfinite(g).all()


def test_identical_and_gradients() -> None:
    x = _rand(2, 3, 161, 165, seed=5).float()
    torch.testing.assert_close(ms_ssim(x, x), torch.ones(2))
    same = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(ms_ssim(x, same).sum(), same)
    assert torch.isfinite(g).all()
    # gradcheck on a tiny configuration (2 scales, 3-tap window)
    ref, dist = _related((1, 3, 7, 6), seed=6)
    metric = MSSSIM(window_size=3, sigma=1.0, weights=(0.4, 0.6))
    assert torch.autograd.gradcheck(lambda t: metric(ref, t), (dist.requires_grad_(True),))


def test_map_is_finest_scale_ssim_map() -> None:
    ref, dist = _related((2, 3, 161, 170), seed=7)
    score, dmap = ms_ssim(ref, dist, return_map=True)
    assert dmap.shape == (2, 1, 151, 160)
    _, rgb_map = ssim_rgb(ref, dist, return_map=True)
    torch.testing.assert_close(dmap, rgb_map)


def test_batch_equals_loop_and_encoded() -> None:
    ref, dist = _related((3, 3, 161, 161), seed=8)
    metric = MSSSIM()
    batched = metric(ref, dist)
    for i in range(3):
        torch.testing.assert_close(batched[i : i + 1], metric(ref[i : i + 1], dist[i : i + 1]))
    encoded = metric.compute_encoded(metric.encode_ref(ref[:1]), dist).score
    torch.testing.assert_close(encoded, metric(ref[:1].expand(3, -1, -1, -1), dist))


def test_minimum_size() -> None:
    ok = _rand(1, 3, 161, 161)
    ms_ssim(ok, ok)
    for shape in ((160, 200), (200, 160)):
        x = _rand(1, 3, *shape)
        with pytest.raises(InputError, match="at least 161x161"):
            ms_ssim(x, x)
    x = _rand(1, 3, 40, 41)
    with pytest.raises(InputError, match="at least 41x41"):
        ms_ssim(x, x, weights=(0.3, 0.3, 0.4))


def test_metadata_registry_and_options() -> None:
    info = metric_info("ms_ssim")
    assert info is MSSSIM.info
    assert (info.lower_better, info.score_range, info.returns_map, info.differentiable) == (
        False,
        (0.0, 1.0),
        True,
        True,
    )
    assert "2003" in info.reference
    assert isinstance(create_metric("ms_ssim", window_size=7), MSSSIM)
    with pytest.raises(InputError, match="weights"):
        MSSSIM(weights=())
    with pytest.raises(InputError, match="weights"):
        MSSSIM(weights=(0.5, -0.1))
    with pytest.raises(InputError, match="odd"):
        MSSSIM(window_size=10)
