"""Tests of benchmarks/geometry.py against scipy.ndimage, numpy.pad, PIL and scikit-image."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
import torch
from bench_scripts import load_script
from PIL import Image
from scipy import ndimage

from friqa.exceptions import InputError

geometry = load_script("geometry")
affine = geometry.affine
elastic = geometry.elastic
elastic_displacement = geometry.elastic_displacement
homography_from_points = geometry.homography_from_points
identity_coords = geometry.identity_coords
perspective = geometry.perspective
rotate = geometry.rotate
scale = geometry.scale
translate = geometry.translate
warp = geometry.warp

H, W = 19, 26


def _rand(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _scipy_sample(img: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The spec: bilinear sampling with half-sample symmetric ('reflect') extension."""
    return ndimage.map_coordinates(img, [rows, cols], order=1, mode="reflect")


def _grid() -> tuple[np.ndarray, np.ndarray]:
    return np.meshgrid(np.arange(H, dtype=float), np.arange(W, dtype=float), indexing="ij")


def test_warp_identity_and_random_positions_match_scipy() -> None:
    x = _rand(2, 3, H, W)
    assert torch.allclose(warp(x, identity_coords(H, W, dtype=torch.float64)), x, atol=1e-12)
    g = torch.Generator().manual_seed(1)
    # positions well outside the image too (several reflections)
    cx = torch.rand(2, 7, 9, generator=g, dtype=torch.float64) * 4 * W - 1.5 * W
    cy = torch.rand(2, 7, 9, generator=g, dtype=torch.float64) * 4 * H - 1.5 * H
    out = warp(x, torch.stack([cx, cy], -1))
    assert out.shape == (2, 3, 7, 9)
    for n in range(2):
        for c in range(3):
            exp = _scipy_sample(x[n, c].numpy(), cy[n].numpy(), cx[n].numpy())
            np.testing.assert_allclose(out[n, c].numpy(), exp, atol=1e-12)


@pytest.mark.parametrize(("dx", "dy"), [(3, 0), (0, -5), (-7, 4), (2 * W + 3, -3 * H - 1)])
def test_translate_whole_pixels_is_exact_symmetric_padding(dx: int, dy: int) -> None:
    x = _rand(1, 2, H, W, seed=2)
    out = translate(x, dx=dx, dy=dy).numpy()
    k = max(abs(dx), abs(dy)) + 1
    padded = np.pad(x.numpy(), ((0, 0), (0, 0), (k, k), (k, k)), mode="symmetric")
    exp = padded[:, :, k - dy : k - dy + H, k - dx : k - dx + W]
    np.testing.assert_array_equal(out, exp)


def test_translate_fractional_matches_scipy_shift() -> None:
    x = _rand(1, 1, H, W, seed=3)
    out = translate(x, dx=2.3, dy=-1.6)[0, 0].numpy()
    exp = ndimage.shift(x[0, 0].numpy(), (-1.6, 2.3), order=1, mode="reflect")
    np.testing.assert_allclose(out, exp, atol=1e-12)


@pytest.mark.parametrize("degrees", [1.0, 2.5, -5.0, 30.0])
def test_rotate_matches_scipy_rotate(degrees: float) -> None:
    x = _rand(1, 3, H, W, seed=4)
    out = rotate(x, degrees)
    for c in range(3):
        exp = ndimage.rotate(x[0, c].numpy(), degrees, reshape=False, order=1, mode="reflect")
        np.testing.assert_allclose(out[0, c].numpy(), exp, atol=1e-12)


def test_rotate_is_counter_clockwise_as_pil() -> None:
    x = torch.zeros(1, 1, 41, 61, dtype=torch.float64)
    x[0, 0, 20, 50] = 1.0  # 20 px right of the centre (30, 20)
    ours = np.argwhere(rotate(x, 90.0)[0, 0].numpy() > 0.5)
    pil = Image.fromarray((x[0, 0].numpy() * 255).astype(np.uint8)).rotate(
        90, Image.Resampling.NEAREST
    )
    np.testing.assert_array_equal(ours, np.argwhere(np.asarray(pil) > 127))
    np.testing.assert_array_equal(ours, [[0, 30]])


@pytest.mark.parametrize("factor", [0.9, 0.95, 1.05, 1.1, 2.0])
def test_scale_matches_scipy_affine_transform(factor: float) -> None:
    x = _rand(1, 1, H, W, seed=5)
    centre = np.array([(H - 1) / 2, (W - 1) / 2])
    # scipy maps output (row, col) to input: o / f + c (1 - 1 / f)
    exp = ndimage.affine_transform(
        x[0, 0].numpy(),
        np.eye(2) / factor,
        offset=centre * (1 - 1 / factor),
        order=1,
        mode="reflect",
    )
    np.testing.assert_allclose(scale(x, factor)[0, 0].numpy(), exp, atol=1e-12)


def test_affine_per_image_matrices_and_offset() -> None:
    x = _rand(2, 3, H, W, seed=6)
    m = torch.tensor([[[1.1, 0.1], [-0.05, 0.9]], [[0.95, 0.0], [0.0, 1.02]]], dtype=torch.float64)
    out = affine(x, m, offset=(1.5, -2.0))
    rows, cols = _grid()
    c = np.array([(W - 1) / 2, (H - 1) / 2])
    for n in range(2):
        inv = np.linalg.inv(m[n].numpy())
        p = np.stack([cols, rows], -1) - c - np.array([1.5, -2.0])
        src = p @ inv.T + c
        for ch in range(3):
            exp = _scipy_sample(x[n, ch].numpy(), src[..., 1], src[..., 0])
            np.testing.assert_allclose(out[n, ch].numpy(), exp, atol=1e-12)
    # one matrix per image equals the single-image calls
    single = torch.cat([affine(x[i : i + 1], m[i], offset=(1.5, -2.0)) for i in range(2)])
    assert torch.allclose(out, single, atol=1e-12)


def test_scale_and_rotate_accept_one_value_per_image() -> None:
    x = _rand(2, 3, H, W, seed=7)
    out = rotate(x, [1.0, -3.0])
    assert torch.allclose(out[1:], rotate(x[1:], -3.0), atol=1e-12)
    assert torch.allclose(scale(x, [0.9, 1.1])[:1], scale(x[:1], 0.9), atol=1e-12)


def test_homography_maps_the_points() -> None:
    src = torch.tensor([[0.0, 0.0], [10.0, 0.0], [10.0, 8.0], [0.0, 8.0]])
    dst = torch.tensor([[1.0, 0.5], [9.0, 1.0], [11.0, 9.0], [-1.0, 7.0]])
    h = homography_from_points(src, dst)
    q = torch.cat([src.double(), torch.ones(4, 1, dtype=torch.float64)], 1) @ h.T
    torch.testing.assert_close(q[:, :2] / q[:, 2:], dst.double(), atol=1e-10, rtol=0)
    with pytest.raises(InputError, match="degenerate"):
        homography_from_points([[0, 0], [1, 1], [2, 2], [0, 1]], dst)


def test_perspective_matches_scikit_image_warp() -> None:
    transform = pytest.importorskip("skimage.transform")
    x = _rand(1, 3, H, W, seed=8)
    off = np.array([[1.0, 0.8], [-0.8, 0.5], [0.5, -1.0], [-0.7, -0.5]])
    corners = np.array([[0, 0], [W - 1, 0], [W - 1, H - 1], [0, H - 1]], dtype=float)
    # output position -> input position
    if hasattr(transform.ProjectiveTransform, "from_estimate"):  # scikit-image >= 0.26
        tf = transform.ProjectiveTransform.from_estimate(corners + off, corners)
    else:  # pragma: no cover
        tf = transform.ProjectiveTransform()
        assert tf.estimate(corners + off, corners)
    out = perspective(x, off.tolist())
    for c in range(3):
        exp = transform.warp(x[0, c].numpy(), tf, order=1, mode="symmetric", preserve_range=True)
        np.testing.assert_allclose(out[0, c].numpy(), exp, atol=1e-10)


def test_perspective_special_cases() -> None:
    x = _rand(1, 3, H, W, seed=9)
    assert torch.allclose(perspective(x, [[0.0, 0.0]] * 4), x, atol=1e-10)
    assert torch.allclose(perspective(x, [[2.0, -3.0]] * 4), translate(x, 2, -3), atol=1e-10)
    z = torch.zeros(1, 1, 30, 40, dtype=torch.float64)
    z[0, 0, 0, 0] = 1.0
    moved = perspective(z, [[3.0, 2.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    assert moved[0, 0, 2, 3].item() == pytest.approx(1.0, abs=1e-9)
    with pytest.raises(InputError, match="folds"):
        perspective(x, [[W - 1, 0], [1 - W, 0], [0, 0], [0, 0]])  # the top edge crosses itself


def test_elastic_field_properties() -> None:
    d = elastic_displacement(40, 50, 3.0, 5.0, seed=1, dtype=torch.float64)
    assert d.shape == (1, 40, 50, 2) and d.dtype == torch.float64
    assert d.norm(dim=-1).max().item() == pytest.approx(3.0, rel=1e-12)
    assert torch.equal(d, elastic_displacement(40, 50, 3.0, 5.0, seed=1, dtype=torch.float64))
    assert not torch.allclose(
        d, elastic_displacement(40, 50, 3.0, 5.0, seed=2, dtype=torch.float64)
    )
    # smooth: neighbouring displacements differ by much less than the amplitude
    assert (d[:, 1:] - d[:, :-1]).abs().max().item() < 0.3 * 3.0
    assert (d[:, :, 1:] - d[:, :, :-1]).abs().max().item() < 0.3 * 3.0
    # both components used, not a constant field
    assert d[..., 0].std().item() > 0.2 and d[..., 1].std().item() > 0.2


def test_elastic_is_warp_with_the_field() -> None:
    x = _rand(2, 3, H, W, seed=10)
    d = elastic_displacement(H, W, 2.0, 3.0, seed=4, dtype=torch.float64)
    exp = warp(x, identity_coords(H, W, dtype=torch.float64) + d)
    assert torch.equal(elastic(x, 2.0, 3.0, seed=4), exp)
    assert torch.allclose(elastic(x, 0.0, 3.0), x, atol=1e-12)
    rows, cols = _grid()
    src_r, src_c = rows + d[0, ..., 1].numpy(), cols + d[0, ..., 0].numpy()
    np.testing.assert_allclose(
        exp[1, 2].numpy(), _scipy_sample(x[1, 2].numpy(), src_r, src_c), atol=1e-12
    )


def test_dtype_shape_and_gradient() -> None:
    x = torch.rand(2, 3, 16, 20)
    for out in (translate(x, 1.5, 0), scale(x, 1.05), rotate(x, 2.5), elastic(x, 1.0, 2.0),
                perspective(x, [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [-1.0, 0.0]])):  # fmt: skip
        assert out.shape == x.shape and out.dtype == torch.float32
    xd = _rand(1, 1, 6, 7, seed=11).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: rotate(t, 7.0), (xd,))


def test_bad_inputs() -> None:
    x = torch.rand(1, 3, 8, 8)
    with pytest.raises(InputError, match="floating"):
        translate(torch.zeros(1, 3, 8, 8, dtype=torch.uint8), 1, 0)
    with pytest.raises(InputError, match="finite"):
        translate(x, math.inf, 0)
    with pytest.raises(InputError, match="positive"):
        scale(x, 0.0)
    with pytest.raises(InputError, match="one per image"):
        rotate(x, [1.0, 2.0])
    with pytest.raises(InputError, match="invertible"):
        affine(x, [[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(InputError, match=r"\(4, 2\)"):
        perspective(x, [[0.0, 0.0]] * 3)
    with pytest.raises(InputError, match="sigma"):
        elastic(x, 1.0, 0.0)
    with pytest.raises(InputError, match="coords"):
        warp(x, torch.zeros(1, 8, 8, 3))


def test_module_docstring_example() -> None:
    # the docstring example, a doctest while the module lived in src/friqa/ops
    result = doctest.testmod(geometry, raise_on_error=False)
    assert result.attempted > 0 and result.failed == 0
