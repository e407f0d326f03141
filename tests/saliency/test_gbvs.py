"""Tests of friqa.saliency.gbvs (Harel, Koch and Perona, NIPS 2006; Harel's toolbox).

Oracles: the GBVS maps that Harel's MATLAB toolbox produced for DeepSSIM's sample
pair (``../shared``), PIL's bicubic resize (interior), closed-form and numpy
equilibria of the Markov chains, a loop reference of the pyramid filter written
from its definition, and synthetic pop-out images whose answer is known.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from friqa.exceptions import InputError
from friqa.saliency import GBVSParams, gbvs, saliency_grid_size

G = sys.modules["friqa.saliency.gbvs"]  # the module (the package re-exports the function)

PAIR = ("pairs", "deepssim")
NAMES = ("butterfly.png", "butterfly_shif_0.50.png")


def _read_rgb(path: Path) -> torch.Tensor:
    arr = np.array(Image.open(path).convert("RGB"), dtype=np.float64) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous()


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


# ------------------------------------------------------------------ toolbox maps


@pytest.fixture(scope="module")
def toolbox_pair(shared_data: Path) -> list[tuple[str, torch.Tensor, np.ndarray, np.ndarray]]:
    """(name, image, toolbox map in [0, 1], our map) for the DeepSSIM sample pair."""
    folder = shared_data.joinpath(*PAIR)
    out = []
    for name in NAMES:
        img = _read_rgb(folder / name)
        ref = np.array(Image.open(folder / "saliency" / name), dtype=np.float64) / 255.0
        ours = gbvs(img).numpy()
        out.append((name, img, ref, ours))
    return out


def test_correlates_with_toolbox_maps(toolbox_pair: list) -> None:
    # The issue asks for Pearson >= 0.8. We hold 0.99 (measured ~0.998): simpler
    # variants (no final blur, one channel only, ...) land between 0.75 and 0.99.
    for name, img, ref, ours in toolbox_pair:
        assert ours.shape == ref.shape == tuple(img.shape[-2:]), name
        assert _pearson(ours, ref) >= 0.99, name
        grid = saliency_grid_size(*ours.shape)
        ours_g = G._imresize(torch.from_numpy(ours), grid).numpy()
        ref_g = G._imresize(torch.from_numpy(ref), grid).numpy()
        assert _pearson(ours_g, ref_g) >= 0.99, name


def test_threshold_masks_agree_with_toolbox(toolbox_pair: list) -> None:
    for name, _, ref, ours in toolbox_pair:
        # The toolbox maps were stored as 8-bit PNGs: their exact zeros are the
        # values below 0.5/255. Quantised the same way, ours has as many.
        quant = np.round(ours * 255.0) / 255.0
        assert abs((quant > 0).mean() - (ref > 0).mean()) < 0.01, name
        for t in (0.0, 0.01, 0.05):
            a, b = ref > t, quant > t
            iou = np.logical_and(a, b).sum() / np.logical_or(a, b).sum()
            assert iou > 0.95, (name, t)


# ------------------------------------------------------------------ API contract


def _textured(n: int, h: int = 136, w: int = 160, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(n, 3, h // 8, w // 8, generator=g)
    return torch.nn.functional.interpolate(base, size=(h, w), mode="bilinear").clamp(0, 1)


def test_shapes_range_dtype() -> None:
    x = _textured(2)
    out = gbvs(x)
    assert out.shape == (2, 136, 160) and out.dtype == torch.float32
    assert float(out.amin(dim=(1, 2)).max()) == 0.0
    assert float(out.amax(dim=(1, 2)).min()) == 1.0
    single = gbvs(x[0].double())
    assert single.shape == (136, 160) and single.dtype == torch.float64


def test_deterministic_and_batch_equals_loop() -> None:
    x = _textured(2, seed=1)
    batch = gbvs(x)
    again = gbvs(x)
    assert torch.equal(batch, again)
    loop = torch.stack([gbvs(img) for img in x])
    torch.testing.assert_close(batch, loop, rtol=0, atol=1e-6)


def test_overrides_match_params_object() -> None:
    x = _textured(1, seed=2)
    a = gbvs(x, blurfrac=0.0, channels="IO")
    b = gbvs(x, params=GBVSParams(blurfrac=0.0, channels="IO"))
    assert torch.equal(a, b)
    assert not torch.equal(a, gbvs(x))


def test_grayscale_single_channel() -> None:
    x = _textured(1, seed=3)[:, :1]
    out = gbvs(x)
    assert out.shape == (1, 136, 160) and torch.isfinite(out).all()


def test_path_input_uses_friqa_io(tmp_path: Path) -> None:
    from friqa.io import load_image

    arr = (_textured(1, seed=9)[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    path = tmp_path / "img.png"
    Image.fromarray(arr).save(path)
    torch.testing.assert_close(gbvs(path), gbvs(load_image(path)), rtol=0, atol=0)


def test_grid_size_rule() -> None:
    assert saliency_grid_size(700, 1024) == (22, 32)
    assert saliency_grid_size(700, 512) == (32, 23)
    assert saliency_grid_size(384, 512) == (24, 32)


@pytest.mark.parametrize(
    ("kwargs", "image"),
    [
        ({}, torch.rand(3, 100, 200)),  # below the toolbox's 128x128 minimum
        ({}, torch.rand(2, 4, 130, 130)),  # 4 channels
        ({}, torch.rand(1, 3, 130, 130) + 1.0),  # out of [0, 1]
        ({}, torch.randint(0, 255, (3, 130, 130), dtype=torch.uint8)),  # not floating
        ({"channels": "DIOX"}, torch.rand(3, 130, 130)),
        ({"levels": (1, 2)}, torch.rand(3, 130, 130)),
        ({"normalization_type": 3}, torch.rand(3, 130, 130)),
        ({"sigma_frac_act": 0.0}, torch.rand(3, 130, 130)),
        ({"no_such_parameter": 1}, torch.rand(3, 130, 130)),
    ],
)
def test_invalid_inputs_raise(kwargs: dict, image: torch.Tensor) -> None:
    with pytest.raises(InputError):
        gbvs(image, **kwargs)


# ------------------------------------------------------------------ pop-out


def test_odd_colour_patch_is_most_salient() -> None:
    h, w = 192, 256
    x = torch.zeros(3, h, w)
    x[1] = 0.6  # green field
    y0, x0, s = 40, 170, 24
    x[:, y0 : y0 + s, x0 : x0 + s] = torch.tensor([0.8, 0.1, 0.1]).view(3, 1, 1)
    sal = gbvs(x)
    r, c = divmod(int(sal.argmax()), w)
    assert y0 <= r < y0 + s and x0 <= c < x0 + s
    assert sal[y0 : y0 + s, x0 : x0 + s].mean() > 10 * sal.mean()


def test_odd_orientation_bar_is_most_salient() -> None:
    h, w, cell = 192, 256, 32
    x = torch.zeros(1, h, w)
    odd = (1, 5)
    for i in range(h // cell):
        for j in range(w // cell):
            cy, cx = cell // 2 + cell * i, cell // 2 + cell * j
            if (i, j) == odd:
                x[0, cy - 2 : cy + 2, cx - 8 : cx + 8] = 1.0
            else:
                x[0, cy - 8 : cy + 8, cx - 2 : cx + 2] = 1.0
    sal = gbvs(x.expand(3, h, w).contiguous())
    cells = sal.reshape(h // cell, cell, w // cell, cell).mean(dim=(1, 3))
    assert int(cells.argmax()) == odd[0] * (w // cell) + odd[1]


# ------------------------------------------------------------------ building blocks


def test_activation_equilibrium_is_degree_distribution() -> None:
    # The activation graph is symmetric, so its random walk's stationary
    # distribution is proportional to node degree (a closed form).
    grid = (6, 7)
    maps = torch.rand(3, 42, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    p = GBVSParams(tol=1e-13, max_iters=20000)
    got = G._graph_equilibrium(maps, grid, 0.15, 1, "difference", p).numpy()
    rr, cc = np.meshgrid(np.arange(6), np.arange(7), indexing="ij")
    pos = np.stack([rr.ravel(), cc.ravel()], 1).astype(float)
    d2 = ((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1)
    sigma = 0.15 * 6.5
    for k, m in enumerate(maps.numpy()):
        a = (m - m.min()) / (m.max() - m.min())
        wgt = np.abs(a[:, None] - a[None, :]) * np.exp(-d2 / (2 * sigma**2))
        deg = wgt.sum(0)
        np.testing.assert_allclose(got[k], deg / deg.sum(), rtol=1e-9, atol=1e-12)


def test_mass_equilibrium_is_principal_eigenvector() -> None:
    grid = (5, 6)
    maps = torch.rand(2, 30, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    p = GBVSParams(tol=1e-13, max_iters=20000)
    got = G._graph_equilibrium(maps, grid, 0.3, 1, "mass", p).numpy()
    rr, cc = np.meshgrid(np.arange(5), np.arange(6), indexing="ij")
    pos = np.stack([rr.ravel(), cc.ravel()], 1).astype(float)
    d2 = ((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1)
    sigma = 0.3 * 5.5
    for k, m in enumerate(maps.numpy()):
        a = (m - m.min()) / (m.max() - m.min())
        wgt = a[:, None] * np.exp(-d2 / (2 * sigma**2))  # move j -> i weighted by a_i
        markov = wgt / wgt.sum(0, keepdims=True)
        vals, vecs = np.linalg.eig(markov)
        v = np.real(vecs[:, np.argmax(np.real(vals))])
        np.testing.assert_allclose(got[k], v / v.sum(), rtol=1e-9, atol=1e-12)


def _subsample_reference(x: np.ndarray) -> np.ndarray:
    """[1 5 10 10 5 1] low-pass + decimation, output k centred at 2k + 0.5, from the definition."""
    taps = np.array([1.0, 5.0, 10.0, 10.0, 5.0, 1.0])

    def along(rows: np.ndarray) -> np.ndarray:
        n = rows.shape[1]
        out = np.zeros((rows.shape[0], n // 2))
        for k in range(n // 2):
            num, den = 0.0, 0.0
            for t in range(-2, 4):
                if 0 <= 2 * k + t < n:
                    num = num + taps[t + 2] * rows[:, 2 * k + t]
                    den += taps[t + 2]
            out[:, k] = num / den
        return out

    return along(along(x).T).T


@pytest.mark.parametrize("shape", [(37, 52), (40, 51), (11, 12)])
def test_pyramid_subsample_matches_reference(shape: tuple[int, int]) -> None:
    x = np.random.default_rng(6).random(shape)
    got = G._subsample(torch.from_numpy(x)[None, None])[0, 0].numpy()
    np.testing.assert_allclose(got, _subsample_reference(x), rtol=1e-12, atol=1e-12)


def test_pyramid_subsample_leaves_small_maps() -> None:
    x = torch.rand(1, 1, 10, 40, dtype=torch.float64)
    assert torch.equal(G._subsample(x), x)


@pytest.mark.parametrize(("src", "dst"), [((175, 256), (22, 32)), ((22, 32), (700, 1024))])
def test_bicubic_resize_matches_pil_inside(src: tuple[int, int], dst: tuple[int, int]) -> None:
    # PIL's antialiased bicubic uses the same a = -0.5 kernel; borders differ
    # (PIL renormalises, MATLAB mirrors), so compare away from them.
    a = np.random.default_rng(7).random(src).astype(np.float32)
    pil = np.array(Image.fromarray(a, mode="F").resize(dst[::-1], Image.Resampling.BICUBIC))
    ours = G._imresize(torch.from_numpy(a.astype(np.float64)), dst).numpy()
    mh = int(np.ceil(2 * max(1.0, src[0] / dst[0]) * dst[0] / src[0])) + 2
    mw = int(np.ceil(2 * max(1.0, src[1] / dst[1]) * dst[1] / src[1])) + 2
    inner = (slice(mh, dst[0] - mh), slice(mw, dst[1] - mw))
    np.testing.assert_allclose(ours[inner], pil[inner], atol=1e-5)


def test_bicubic_resize_mirrors_at_borders() -> None:
    # Mirror boundary: resizing x equals the left half of resizing [x | flip(x)].
    x = torch.rand(20, 30, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
    doubled = torch.cat([x, x.flip(1)], dim=1)
    for out_w in (12, 75):
        torch.testing.assert_close(
            G._imresize(x, (20, out_w)), G._imresize(doubled, (20, 2 * out_w))[:, :out_w]
        )
    const = torch.full((9, 13), 0.3, dtype=torch.float64)
    torch.testing.assert_close(
        G._imresize(const, (31, 5)), torch.full((31, 5), 0.3, dtype=torch.float64)
    )
