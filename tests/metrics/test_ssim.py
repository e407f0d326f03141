"""SSIM ("ssim" and "ssim_rgb") against hand-computed values, a numpy oracle written from
the paper / ssim_index.m, and scikit-image's structural_similarity."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import signal
from skimage.metrics import structural_similarity

from friqa.exceptions import InputError
from friqa.functional.ssim import ssim_map
from friqa.metrics import create_metric, metric_info
from friqa.metrics.ssim import SSIM, SSIMRGB, ssim, ssim_rgb

# --- independent oracles ---------------------------------------------------------------------


def fspecial_gaussian(size: int, sigma: float) -> np.ndarray:
    """MATLAB fspecial('gaussian', size, sigma)."""
    r = (size - 1) / 2
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    h = np.exp(-(xx**2 + yy**2) / (2 * sigma**2))
    h[h < np.finfo(float).eps * h.max()] = 0
    return h / h.sum()


def ssim_index_map(
    img1: np.ndarray,
    img2: np.ndarray,
    window: np.ndarray,
    big_l: float,
    k: tuple[float, float] = (0.01, 0.03),
) -> np.ndarray:
    """The SSIM map of ssim_index.m (Wang et al. 2004, eq. 13 with Gaussian weights)."""
    c1, c2 = (k[0] * big_l) ** 2, (k[1] * big_l) ** 2

    def f(a: np.ndarray) -> np.ndarray:
        return signal.correlate2d(a, window, mode="valid")

    mu1, mu2 = f(img1), f(img2)
    s11 = f(img1 * img1) - mu1**2
    s22 = f(img2 * img2) - mu2**2
    s12 = f(img1 * img2) - mu1 * mu2
    return ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1**2 + mu2**2 + c1) * (s11 + s22 + c2))


def rgb2gray_uint8(a: np.ndarray) -> np.ndarray:
    """MATLAB rgb2gray of an HxWx3 uint8 image: weighted sum rounded half away from zero."""
    a = a.astype(np.float64)
    v = 0.298936021293775 * a[..., 0] + 0.587043074451121 * a[..., 1]
    v = v + 0.114020904255103 * a[..., 2]
    return np.floor(v + 0.5)


def _hwc(t: torch.Tensor) -> np.ndarray:
    return t.permute(1, 2, 0).numpy()


def _to_tensor(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1).to(torch.float64) / 255.0


def _rand_u8(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def _rand(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _load_u8(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")).copy()


def _kadid_pairs(shared_data: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    base = shared_data / "pairs" / "kadid"
    with open(base / "manifest.csv") as fh:
        return [(_load_u8(base / r["ref"]), _load_u8(base / r["dist"])) for r in csv.DictReader(fh)]


# --- "ssim": the MATLAB reference ------------------------------------------------------------

C1_255 = (0.01 * 255) ** 2


def test_constant_images_by_hand() -> None:
    # flat images: all variances vanish and SSIM is the luminance term alone
    ref = torch.full((1, 3, 12, 13), 100 / 255, dtype=torch.float64)
    dist = torch.full((1, 3, 12, 13), 150 / 255, dtype=torch.float64)
    expected = (2 * 100 * 150 + C1_255) / (100**2 + 150**2 + C1_255)
    score, dmap = ssim(ref, dist, return_map=True)
    assert abs(float(score[0]) - expected) < 1e-12
    assert dmap.shape == (1, 1, 2, 3)
    np.testing.assert_allclose(dmap.numpy(), 1 - expected, rtol=0, atol=1e-12)


def test_rgb2gray_weights_and_rounding_by_hand() -> None:
    # pure red, green, blue become 76, 150 and 29 in MATLAB's uint8 rgb2gray
    red = torch.zeros(1, 3, 11, 11, dtype=torch.float64)
    red[:, 0] = 1.0
    green = torch.zeros_like(red)
    green[:, 1] = 1.0
    blue = torch.zeros_like(red)
    blue[:, 2] = 1.0
    for a, b, ga, gb in ((red, green, 76, 150), (green, blue, 150, 29), (red, blue, 76, 29)):
        expected = (2 * ga * gb + C1_255) / (ga**2 + gb**2 + C1_255)
        assert abs(float(ssim(a, b)[0]) - expected) < 1e-12


def test_single_window_by_hand() -> None:
    # an 11x11 image has one window: SSIM from weighted sums written out directly
    a, b = _rand_u8(11, 11, 3, seed=1), _rand_u8(11, 11, 3, seed=2)
    x, y = rgb2gray_uint8(a), rgb2gray_uint8(b)
    w = fspecial_gaussian(11, 1.5)
    mx, my = np.sum(w * x), np.sum(w * y)
    vx, vy = np.sum(w * (x - mx) ** 2), np.sum(w * (y - my) ** 2)
    cxy = np.sum(w * (x - mx) * (y - my))
    c2 = (0.03 * 255) ** 2
    expected = ((2 * mx * my + C1_255) * (2 * cxy + c2)) / (
        (mx**2 + my**2 + C1_255) * (vx + vy + c2)
    )
    score = ssim(_to_tensor(a)[None], _to_tensor(b)[None])
    assert abs(float(score[0]) - expected) < 1e-12


@pytest.mark.parametrize("shape", [(16, 16), (21, 34), (40, 27)])
def test_matches_ssim_index_oracle(shape: tuple[int, int]) -> None:
    a = _rand_u8(2, *shape, 3, seed=3)
    b = np.clip(a.astype(int) + np.random.default_rng(4).integers(-40, 41, a.shape), 0, 255)
    b = b.astype(np.uint8)
    ref = torch.stack([_to_tensor(i) for i in a])
    dist = torch.stack([_to_tensor(i) for i in b])
    score, dmap = ssim(ref, dist, return_map=True)
    assert dmap.shape == (2, 1, shape[0] - 10, shape[1] - 10)
    for i in range(2):
        smap = ssim_index_map(
            rgb2gray_uint8(a[i]), rgb2gray_uint8(b[i]), fspecial_gaussian(11, 1.5), 255
        )
        np.testing.assert_allclose(1 - dmap[i, 0].numpy(), smap, rtol=0, atol=1e-12)
        assert abs(float(score[i]) - smap.mean()) < 1e-12


def test_matches_skimage_on_real_images(shared_data: Path) -> None:
    pairs = _kadid_pairs(shared_data)
    ref = torch.stack([_to_tensor(r) for r, _ in pairs]).float()  # the usual float32 input
    dist = torch.stack([_to_tensor(d) for _, d in pairs]).float()
    score, dmap = ssim(ref, dist, return_map=True)
    assert score.dtype == torch.float32 and dmap.shape == (4, 1, 374, 502)
    for i, (r, d) in enumerate(pairs):
        mssim, full = structural_similarity(
            rgb2gray_uint8(r),
            rgb2gray_uint8(d),
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=255,
            full=True,
        )
        # skimage filters with reflected borders and averages the map without a border of
        # (win_size - 1) // 2 = 5 pixels: that crop is exactly our 'valid' map.
        np.testing.assert_allclose(1 - dmap[i, 0].double().numpy(), full[5:-5, 5:-5], atol=1e-6)
        assert abs(float(score[i]) - mssim) < 1e-6


def test_crop_of_real_image_matches_oracle(shared_data: Path) -> None:
    r, d = _kadid_pairs(shared_data)[3]
    r, d = r[100:160, 200:290], d[100:160, 200:290]
    smap = ssim_index_map(rgb2gray_uint8(r), rgb2gray_uint8(d), fspecial_gaussian(11, 1.5), 255)
    score = ssim(_to_tensor(r)[None], _to_tensor(d)[None])
    assert abs(float(score[0]) - smap.mean()) < 1e-12


def test_quantize_reads_the_8bit_image() -> None:
    a, b = _rand_u8(1, 20, 20, 3, seed=5), _rand_u8(1, 20, 20, 3, seed=6)
    ref, dist = _to_tensor(a[0])[None], _to_tensor(b[0])[None]
    noise = (_rand(1, 3, 20, 20, seed=7) - 0.5) * (0.9 / 255)  # less than half a grey level
    jittered = (dist + noise).clamp(0, 1)
    assert float(ssim(ref, jittered)[0]) == float(ssim(ref, dist)[0])
    assert float(ssim(ref, jittered, quantize=False)[0]) != float(
        ssim(ref, dist, quantize=False)[0]
    )
    # data_range only rescales the input
    torch.testing.assert_close(ssim(ref * 255, dist * 255, data_range=255), ssim(ref, dist))


def test_float_path_matches_oracle_and_is_differentiable() -> None:
    ref, dist = _rand(2, 3, 14, 17, seed=8), _rand(2, 3, 14, 17, seed=9)
    w = np.array([0.298936021293775, 0.587043074451121, 0.114020904255103])
    score = ssim(ref, dist, quantize=False)
    for i in range(2):
        gx = np.tensordot(w, ref[i].numpy(), axes=1)
        gy = np.tensordot(w, dist[i].numpy(), axes=1)
        expected = ssim_index_map(gx, gy, fspecial_gaussian(11, 1.5), 1.0).mean()
        assert abs(float(score[i]) - expected) < 1e-12
    d = dist[:1, :, :12, :12].clone().requires_grad_(True)
    r = ref[:1, :, :12, :12]
    assert torch.autograd.gradcheck(lambda t: ssim(r, t, quantize=False), (d,))
    same = r.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(ssim(r, same, quantize=False).sum(), same)
    assert torch.isfinite(g).all()


def test_ssim_float_path_close_to_faithful_on_real_images(shared_data: Path) -> None:
    r, d = _kadid_pairs(shared_data)[0]
    ref, dist = _to_tensor(r)[None], _to_tensor(d)[None]
    gap = abs(float(ssim(ref, dist)[0] - ssim(ref, dist, quantize=False)[0]))
    assert 0 < gap < 5e-3


def test_ssim_metadata_module_and_encoded_reference() -> None:
    info = metric_info("ssim")
    assert info is SSIM.info
    assert (info.lower_better, info.score_range, info.returns_map, info.differentiable) == (
        False,
        (-1.0, 1.0),
        True,
        False,
    )
    assert "ssim_index.m" in info.reference and "2004" in info.reference
    metric = create_metric("ssim", quantize=False)
    assert isinstance(metric, SSIM) and not metric.quantize
    ref, dist = _rand(1, 3, 16, 18, seed=10), _rand(3, 3, 16, 18, seed=11)
    m = SSIM()
    encoded = m.compute_encoded(m.encode_ref(ref), dist, return_map=True)
    direct = m.compute(ref.expand(3, -1, -1, -1), dist, return_map=True)
    torch.testing.assert_close(encoded.score, direct.score)
    assert encoded.map is not None and direct.map is not None
    torch.testing.assert_close(encoded.map, direct.map)
    torch.testing.assert_close(m(ref.expand(3, -1, -1, -1), dist), direct.score)


def test_ssim_batch_equals_loop() -> None:
    ref, dist = _rand(4, 3, 15, 13, seed=12), _rand(4, 3, 15, 13, seed=13)
    batched = ssim(ref, dist)
    for i in range(4):
        torch.testing.assert_close(batched[i : i + 1], ssim(ref[i : i + 1], dist[i : i + 1]))


def test_ssim_too_small() -> None:
    small = _rand(1, 3, 10, 30)
    with pytest.raises(InputError, match="at least 11x11"):
        ssim(small, small)
    m = SSIM()
    with pytest.raises(InputError, match="at least 11x11"):
        m.compute_encoded(m.encode_ref(small), small)


# --- "ssim_rgb": per-channel Gaussian SSIM ---------------------------------------------------


def _skimage_rgb(r: np.ndarray, d: np.ndarray, sigma: float, win: int) -> tuple[float, np.ndarray]:
    m, full = structural_similarity(
        r,
        d,
        channel_axis=-1,
        gaussian_weights=True,
        sigma=sigma,
        use_sample_covariance=False,
        win_size=win,
        data_range=1.0,
        full=True,
    )
    return float(m), full.mean(axis=-1)


# skimage's Gaussian is truncated at 3.5 sigma whatever win_size says: (window, sigma) pairs
# with 2 * int(3.5 * sigma + 0.5) + 1 == window are the ones it can check exactly.
@pytest.mark.parametrize(("window", "sigma"), [(11, 1.5), (9, 1.0)])
def test_rgb_matches_skimage_random(window: int, sigma: float) -> None:
    ref, dist = _rand(3, 3, 24, 31, seed=14), _rand(3, 3, 24, 31, seed=15)
    dist[1] = (0.8 * ref[1] + 0.2 * dist[1]).clamp(0, 1)
    score, dmap = ssim_rgb(ref, dist, window_size=window, sigma=sigma, return_map=True)
    pad = (window - 1) // 2
    assert dmap.shape == (3, 1, 24 - window + 1, 31 - window + 1)
    for i in range(3):
        m, full = _skimage_rgb(_hwc(ref[i]), _hwc(dist[i]), sigma, window)
        assert abs(float(score[i]) - m) < 1e-12
        np.testing.assert_allclose(1 - dmap[i, 0].numpy(), full[pad:-pad, pad:-pad], atol=1e-12)


def test_rgb_matches_skimage_on_real_images_float32(shared_data: Path) -> None:
    pairs = _kadid_pairs(shared_data)[:2]
    ref = torch.stack([_to_tensor(r) for r, _ in pairs]).float()
    dist = torch.stack([_to_tensor(d) for _, d in pairs]).float()
    score = ssim_rgb(ref, dist)
    assert score.dtype == torch.float32
    for i, (r, d) in enumerate(pairs):
        m, _ = _skimage_rgb(r / 255.0, d / 255.0, 1.5, 11)
        assert abs(float(score[i]) - m) < 1e-5


def test_rgb_window7_matches_oracle() -> None:
    # SMIC's setting; skimage cannot truncate its Gaussian at 7 taps with sigma 1.5
    ref, dist = _rand(2, 3, 19, 22, seed=16), _rand(2, 3, 19, 22, seed=17)
    per_channel = ssim_map(ref, dist, window_size=7, channel_average=False)
    averaged = ssim_map(ref, dist, window_size=7)
    assert per_channel.shape == (2, 3, 13, 16) and averaged.shape == (2, 1, 13, 16)
    window = fspecial_gaussian(7, 1.5)
    for i in range(2):
        for c in range(3):
            expected = ssim_index_map(ref[i, c].numpy(), dist[i, c].numpy(), window, 1.0)
            np.testing.assert_allclose(per_channel[i, c].numpy(), expected, atol=1e-12)
    torch.testing.assert_close(averaged, per_channel.mean(dim=1, keepdim=True))
    score, dmap = ssim_rgb(ref, dist, window_size=7, return_map=True)
    torch.testing.assert_close(dmap, 1 - averaged)
    torch.testing.assert_close(score, averaged.mean(dim=(1, 2, 3)))


def test_ssim_map_options() -> None:
    ref, dist = _rand(1, 2, 12, 12, seed=18), _rand(1, 2, 12, 12, seed=19)  # any channel count
    k = (0.05, 0.1)
    out = ssim_map(ref * 4, dist * 4, window_size=5, sigma=0.8, data_range=4, k1=k[0], k2=k[1])
    assert out.shape == (1, 1, 8, 8)
    window = fspecial_gaussian(5, 0.8)
    per_channel = [
        ssim_index_map(4 * ref[0, c].numpy(), 4 * dist[0, c].numpy(), window, 4.0, k)
        for c in range(2)
    ]
    np.testing.assert_allclose(out[0, 0].numpy(), np.mean(per_channel, axis=0), atol=1e-12)


def test_rgb_gradients() -> None:
    ref = _rand(1, 3, 9, 9, seed=20)
    dist = _rand(1, 3, 9, 9, seed=21).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: ssim_rgb(ref, t, window_size=7), (dist,))
    same = ref.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(ssim_rgb(ref, same, window_size=7).sum(), same)
    assert torch.isfinite(g).all()
    flat = torch.full((1, 3, 9, 9), 0.5, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(ssim_rgb(flat.detach(), flat, window_size=7).sum(), flat)
    assert torch.isfinite(g).all()


def test_rgb_metadata_module_batch_and_encoded() -> None:
    info = metric_info("ssim_rgb")
    assert info is SSIMRGB.info
    assert (info.lower_better, info.score_range, info.returns_map, info.differentiable) == (
        False,
        (-1.0, 1.0),
        True,
        True,
    )
    metric = create_metric("ssim_rgb", window_size=7)
    assert isinstance(metric, SSIMRGB) and metric.window_size == 7
    ref, dist = _rand(4, 3, 12, 14, seed=22), _rand(4, 3, 12, 14, seed=23)
    batched = metric(ref, dist)
    for i in range(4):
        torch.testing.assert_close(batched[i : i + 1], metric(ref[i : i + 1], dist[i : i + 1]))
    encoded = metric.compute_encoded(metric.encode_ref(ref[:1]), dist).score
    torch.testing.assert_close(encoded, metric(ref[:1].expand(4, -1, -1, -1), dist))


def test_rgb_identical_is_one_and_float32() -> None:
    x = _rand(2, 3, 16, 16, seed=24).float()
    score = ssim_rgb(x, x)
    assert score.dtype == torch.float32
    torch.testing.assert_close(score, torch.ones(2))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"window_size": 8}, "odd"),
        ({"window_size": 0}, "odd"),
        ({"sigma": 0.0}, "sigma"),
        ({"k1": 0.0}, "k1"),
        ({"k2": -0.1}, "k2"),
    ],
)
def test_rgb_bad_options(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(InputError, match=match):
        SSIMRGB(**kwargs)  # type: ignore[arg-type]
    x = _rand(1, 3, 16, 16)
    with pytest.raises(InputError, match=match):
        ssim_map(x, x, **kwargs)  # type: ignore[arg-type]


def test_rgb_and_map_input_errors() -> None:
    x = _rand(1, 3, 6, 20)
    with pytest.raises(InputError, match="at least 7x7"):
        ssim_rgb(x, x, window_size=7)
    with pytest.raises(InputError, match="at least 7x7"):
        ssim_map(x, x, window_size=7)
    y = _rand(1, 3, 16, 16)
    with pytest.raises(InputError, match="same shape"):
        ssim_map(y, y[:, :, :, :15])
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        ssim_map(y, y + 2)
    assert math.isclose(float(ssim_map(y, y, data_range=3.0).mean()), 1.0)
