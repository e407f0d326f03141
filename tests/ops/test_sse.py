"""The compiled checked sum of squares (friqa.ops.sse) against torch, and PSNR's use of it.

The oracle is torch in float64 on the clamped inputs; the input errors are those
of friqa.validation's torch path, word for word.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

import friqa.native
from friqa.exceptions import InputError
from friqa.io import load_image
from friqa.metrics.psnr import PSNR
from friqa.ops.sse import SOURCE, checked_sse
from friqa.validation import RANGE_TOLERANCE

needs_kernel = pytest.mark.skipif(
    friqa.native.load_library(SOURCE) is None,
    reason="friqa's compiled kernels are unavailable (no C compiler, or FRIQA_NATIVE=0)",
)


def _oracle(ref: torch.Tensor, dist: torch.Tensor, data_range: float) -> torch.Tensor:
    r = ref.double().clamp(0, data_range)
    d = dist.double().clamp(0, data_range)
    return ((r - d) ** 2).sum(dim=(1, 2, 3))


def _pair(n: int, h: int, w: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, h, w, generator=g), torch.rand(n, 3, h, w, generator=g)


def _torch_psnr(ref: torch.Tensor, dist: torch.Tensor, *, clamp: bool = False) -> torch.Tensor:
    """PSNR through the torch path: a gradient is tracked, so the kernel is not used."""
    with torch.enable_grad():
        return PSNR()(ref.clone().requires_grad_(), dist, clamp=clamp).detach()


@needs_kernel
@pytest.mark.parametrize("shape", [(1, 3, 1, 1), (2, 3, 5, 7), (3, 3, 40, 29), (2, 3, 384, 512)])
def test_sums_equal_float64(shape: tuple[int, ...]) -> None:
    """Sizes below one block of 1024, with a ragged tail, and of a whole image."""
    ref, dist = _pair(*shape[:1], *shape[2:])
    got = checked_sse(ref, dist, 1.0)
    assert got is not None and got.dtype == torch.float64 and got.shape == (shape[0],)
    torch.testing.assert_close(got, _oracle(ref, dist, 1.0), rtol=2e-7, atol=0)


@needs_kernel
def test_channels_last_and_data_range() -> None:
    ref, dist = _pair(2, 33, 65, seed=1)
    ref, dist = ref * 255, dist * 255
    cl = (
        ref.contiguous(memory_format=torch.channels_last),
        dist.contiguous(memory_format=torch.channels_last),
    )
    got = checked_sse(*cl, 255.0)
    assert got is not None
    torch.testing.assert_close(got, _oracle(ref, dist, 255.0), rtol=2e-7, atol=0)


def test_declines_what_it_does_not_cover() -> None:
    ref, dist = _pair(2, 8, 8)
    assert checked_sse(ref.double(), dist.double(), 1.0) is None
    assert checked_sse(ref, dist.contiguous(memory_format=torch.channels_last), 1.0) is None
    assert checked_sse(ref[:, :, :, :4], dist[:, :, :, :4], 1.0) is None  # not dense
    with torch.enable_grad():
        assert checked_sse(ref.requires_grad_(), dist, 1.0) is None


def test_friqa_native_0_turns_every_kernel_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRIQA_NATIVE", "0")
    ref, dist = _pair(1, 8, 8)
    assert friqa.native.load_library(SOURCE) is None
    assert checked_sse(ref, dist, 1.0) is None
    torch.testing.assert_close(PSNR()(ref, dist), _torch_psnr(ref, dist), rtol=0, atol=0)


@needs_kernel
@pytest.mark.parametrize("data_range", [1.0, 255.0])
def test_range_edges_as_check_batch(data_range: float) -> None:
    """The last float32 inside the tolerance passes and is clamped; the next one is refused."""
    tol = RANGE_TOLERANCE * data_range
    ref, dist = _pair(1, 4, 6, seed=2)
    ref, dist = ref * data_range, dist * data_range
    top = torch.tensor(data_range + tol, dtype=torch.float32)
    if float(top) > data_range + tol:
        top = torch.nextafter(top, torch.tensor(0.0))
    beyond = torch.nextafter(top, torch.tensor(2 * data_range))
    bottom = torch.tensor(-tol, dtype=torch.float32)
    if float(bottom) < -tol:
        bottom = torch.nextafter(bottom, torch.tensor(0.0))
    for name, value in (("ref", top), ("dist", bottom)):
        r, d = ref.clone(), dist.clone()
        (r if name == "ref" else d)[0, 1, 2, 3] = value
        got = checked_sse(r, d, data_range)
        assert got is not None
        torch.testing.assert_close(got, _oracle(r, d, data_range), rtol=2e-7, atol=0)
    r = ref.clone()
    r[0, 0, 0, 0] = beyond
    assert checked_sse(r, dist, data_range) is None
    assert checked_sse(r, dist, data_range, clamp=True) is not None


@needs_kernel
@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ref", float("nan"), "ref: contains 1 NaN or infinite value"),
        ("dist", float("inf"), "dist: contains 1 NaN or infinite value"),
        ("dist", -0.5, "dist: values must lie in [0, 1]"),
        ("ref", 1.2, "ref: values must lie in [0, 1]"),
    ],
)
def test_psnr_errors_are_the_torch_paths(name: str, value: float, message: str) -> None:
    ref, dist = _pair(2, 16, 16, seed=3)
    (ref if name == "ref" else dist)[1, 2, 3, 4] = value
    for run in (lambda: PSNR()(ref, dist), lambda: _torch_psnr(ref, dist)):
        with pytest.raises(InputError) as info:
            run()
        assert str(info.value).startswith(message)


@needs_kernel
def test_psnr_clamp_option_as_the_torch_path() -> None:
    ref, dist = _pair(2, 16, 16, seed=4)
    dist = dist * 1.5 - 0.2  # far outside [0, 1]
    fast = PSNR()(ref, dist, clamp=True)
    torch.testing.assert_close(fast, _torch_psnr(ref, dist, clamp=True), rtol=1e-6, atol=0)


@needs_kernel
def test_psnr_on_real_images_as_the_torch_path(shared_data: Path) -> None:
    folder = shared_data / "tid2013-mini"
    with open(folder / "manifest.csv") as fh:
        rows = list(csv.DictReader(fh))
    ref = torch.stack([load_image(folder / row["ref"]) for row in rows])
    dist = torch.stack([load_image(folder / row["dist"]) for row in rows])
    fast = PSNR()(ref, dist)
    torch.testing.assert_close(fast, _torch_psnr(ref, dist), rtol=1e-6, atol=0)
    identical = PSNR()(ref[:1], ref[:1].clone())
    assert identical.tolist() == [float("inf")]
