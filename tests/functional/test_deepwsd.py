"""DeepWSD kernels: POT-exact Wasserstein, the reference's layer term, padding and pooling."""

from __future__ import annotations

import numpy as np
import ot
import pytest
import torch

from friqa.exceptions import InputError
from friqa.functional.deepwsd import (
    deepwsd_downsample,
    deepwsd_layer_term,
    deepwsd_output,
    deepwsd_pad,
    deepwsd_pool_factor,
    deepwsd_window,
    wasserstein_1d,
)


# --- wasserstein_1d against POT -------------------------------------------------------
def _random_weights(rng: np.random.Generator, shape: tuple[int, ...], kind: str) -> np.ndarray:
    w = rng.random(shape) * rng.uniform(0.05, 4.0)  # unnormalised, different totals
    if kind in ("zeros", "ties"):
        w[rng.random(shape) < 0.4] = 0.0
    if kind == "ties":
        w = np.round(w * 2) / 2  # many equal cumulative weights within and across u, v
    return w


@pytest.mark.parametrize("kind", ["plain", "zeros", "ties"])
def test_wasserstein_1d_matches_pot_on_index_atoms(kind: str) -> None:
    rng = np.random.default_rng(10)
    worst = 0.0
    for _ in range(40):
        n, cols = int(rng.integers(1, 20)), int(rng.integers(1, 25))
        a = _random_weights(rng, (n, cols), kind)
        b = a.copy() if rng.random() < 0.2 else _random_weights(rng, (n, cols), kind)
        pos = np.repeat(np.arange(n, dtype=np.float64)[:, None], cols, axis=1)
        want = ot.lp.wasserstein_1d(pos, pos, a, b, p=2, require_sort=False)
        atoms = torch.arange(n, dtype=torch.float64)
        got = wasserstein_1d(
            atoms, atoms, torch.from_numpy(a.T), torch.from_numpy(b.T), 2, require_sort=False
        )
        worst = max(worst, float(np.abs(got.numpy() - want).max()))
    assert worst < 1e-9


@pytest.mark.parametrize("p", [1, 2, 3])
def test_wasserstein_1d_matches_pot_on_random_values(p: int) -> None:
    rng = np.random.default_rng(11 + p)
    for _ in range(30):
        n, m, cols = (int(v) for v in rng.integers(1, 15, size=3))
        u, v = rng.normal(size=(n, cols)), rng.normal(size=(m, cols))
        if rng.random() < 0.3:
            v[: min(n, m)] = u[: min(n, m)]  # shared positions (ties across u and v)
        a, b = _random_weights(rng, (n, cols), "zeros"), _random_weights(rng, (m, cols), "ties")
        a[0] += 0.1  # keep at least one positive weight
        want = ot.lp.wasserstein_1d(u, v, a, b, p=p)
        got = wasserstein_1d(*(torch.from_numpy(t.T) for t in (u, v, a, b)), p)
        np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-9)


def test_wasserstein_1d_uniform_default_broadcast_and_gradient() -> None:
    rng = np.random.default_rng(12)
    u, v = rng.normal(size=(7, 3)), rng.normal(size=(5, 3))
    want = ot.lp.wasserstein_1d(u, v, p=2)
    got = wasserstein_1d(torch.from_numpy(u.T), torch.from_numpy(v.T), p=2)
    np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-12)
    # shared atoms (n,) broadcast against batched weights (2, 4, n)
    w = torch.rand(2, 4, 6, dtype=torch.float64, requires_grad=True)
    z = torch.rand(2, 4, 6, dtype=torch.float64, requires_grad=True)
    atoms = torch.arange(6, dtype=torch.float64)
    assert wasserstein_1d(atoms, atoms, w, z, 2).shape == (2, 4)
    assert torch.autograd.gradcheck(lambda s, t: wasserstein_1d(atoms, atoms, s, t, 2), (w, z))
    with pytest.raises(InputError):
        wasserstein_1d(atoms, atoms, w, z, 0.5)
    with pytest.raises(InputError):
        wasserstein_1d(atoms, atoms, w[..., :3], z, 2)


# --- the layer term, written from the spec with numpy + POT ------------------------------
def _spec_term(
    x: np.ndarray, y: np.ndarray, win: int, xs: float | None = None, ys: float | None = None
) -> np.ndarray:
    """One item: reinterpret (C,H,W) memory as win*win rows, weights x^2/(sum+1e-6), POT p=2."""
    rows = win * win
    x1, y1 = x.reshape(rows, -1), y.reshape(rows, -1)  # row i = i-th chunk of the flat tensor
    xs = x.sum() if xs is None else xs
    ys = y.sum() if ys is None else ys
    pos = np.repeat(np.arange(rows, dtype=np.float64)[:, None], x1.shape[1], axis=1)
    d = ot.lp.wasserstein_1d(pos, pos, x1 * (x1 / (xs + 1e-6)), y1 * (y1 / (ys + 1e-6)), p=2)
    l2 = ((x1 - y1) ** 2).sum(axis=0)
    return np.asarray(d + l2 / (np.sqrt(np.exp(-1 / (d + 10))) * (d + 10) ** 2))


@pytest.mark.parametrize(("shape", "win"), [((3, 8, 12), 4), ((64, 8, 4), 4), ((5, 16, 16), 16)])
def test_layer_term_matches_spec(shape: tuple[int, int, int], win: int) -> None:
    rng = np.random.default_rng(13)
    x = np.maximum(rng.normal(size=(2, *shape)), 0)  # ReLU-like: zeros and ties
    y = np.maximum(x + 0.3 * rng.normal(size=x.shape), 0)
    got = deepwsd_layer_term(torch.from_numpy(x), torch.from_numpy(y), win)
    cols = deepwsd_layer_term(torch.from_numpy(x), torch.from_numpy(y), win, reduction="none")
    for i in range(2):
        want = _spec_term(x[i], y[i], win)
        np.testing.assert_allclose(cols[i].numpy(), want, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(got[i].item(), want.sum(), rtol=1e-10)


def test_layer_term_external_sums_and_identity() -> None:
    rng = np.random.default_rng(14)
    x = np.maximum(rng.normal(size=(3, 8, 4, 4)), 0)  # e.g. three 4x4 patches
    y = np.maximum(x + 0.2 * rng.normal(size=x.shape), 0)
    xs, ys = np.array([50.0, 60.0, 70.0]), np.array([55.0, 65.0, 75.0])
    got = deepwsd_layer_term(
        torch.from_numpy(x),
        torch.from_numpy(y),
        4,
        ref_sum=torch.from_numpy(xs),
        dist_sum=torch.from_numpy(ys),
    )
    want = [_spec_term(x[i], y[i], 4, xs[i], ys[i]).sum() for i in range(3)]
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10)
    same = deepwsd_layer_term(torch.from_numpy(x), torch.from_numpy(x), 4)
    assert torch.all(same == 0)
    with pytest.raises(InputError):
        deepwsd_layer_term(torch.from_numpy(x), torch.from_numpy(y), 16)  # 4x4 not a multiple
    with pytest.raises(InputError):
        deepwsd_layer_term(torch.from_numpy(x), torch.from_numpy(y), 4, reduction="mean")


# --- padding, pooling, window, output ---------------------------------------------------
@pytest.mark.parametrize(
    ("hw", "win", "want_hw"),
    [
        ((10, 14), 4, (8, 16)),  # round(2.5) = 2 crops 2 rows; round(3.5) = 4 pads 2 columns
        ((6, 7), 4, (8, 8)),
        ((3, 9), 4, (4, 8)),
        ((12, 16), 4, (12, 16)),
        ((24, 40), 16, (32, 32)),  # round(1.5) = 2; round(2.5) = 2
    ],
)
def test_pad_rounds_half_to_even_left_and_bottom(
    hw: tuple[int, int], win: int, want_hw: tuple[int, int]
) -> None:
    x = torch.rand(1, 2, *hw, dtype=torch.float64) + 1  # positive, so zeros mark the padding
    got = deepwsd_pad(x, win)
    assert got.shape[-2:] == want_hw
    a = x.numpy()
    rows, cols = want_hw[0] - hw[0], want_hw[1] - hw[1]
    a = a[:, :, : hw[0] + rows, :] if rows < 0 else np.pad(a, ((0, 0), (0, 0), (0, rows), (0, 0)))
    a = a[:, :, :, -cols:] if cols < 0 else np.pad(a, ((0, 0), (0, 0), (0, 0), (cols, 0)))
    np.testing.assert_array_equal(got.numpy(), a)


def test_pad_rejects_layers_that_round_to_nothing() -> None:
    with pytest.raises(InputError, match="too small"):
        deepwsd_pad(torch.rand(1, 3, 2, 8), 4)


def test_pool_factor_window_downsample_output() -> None:
    assert deepwsd_pool_factor(384, 512) == 2
    assert deepwsd_pool_factor(300, 383) == 1 and deepwsd_pool_factor(300, 384) == 2
    assert deepwsd_pool_factor(100, 640) == 2  # round(2.5) = 2
    assert deepwsd_pool_factor(100, 1153) == 5 and deepwsd_pool_factor(100, 1152) == 4
    assert deepwsd_window(4) == 4 and deepwsd_window(5) == 16
    x = torch.rand(1, 3, 7, 9, dtype=torch.float64)
    got = deepwsd_downsample(x, 3)
    want = x[..., :6, :9].reshape(1, 3, 2, 3, 3, 3).mean(dim=(3, 5))
    torch.testing.assert_close(got, want)
    assert deepwsd_downsample(x, 1) is x
    s = torch.tensor([0.0, 3.0])
    torch.testing.assert_close(deepwsd_output(s, 1), torch.log(s + 1))
    torch.testing.assert_close(deepwsd_output(s, 2), torch.log(s + 1) ** 2)
