"""The compiled CPU kernel (friqa.mic.native) against the torch path, the reference and minepy.

With a C compiler, ``mic`` uses the kernel by default, so the engine tests of
``test_engine.py`` check it; here the torch path gets the same checks by
``backend="torch"``, and the two are compared.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import torch

import friqa.mic.native as native
import friqa.native
from friqa.exceptions import InputError
from friqa.mic import mic, mic_reference

needs_kernel = pytest.mark.skipif(native.kernel() is None, reason="no C compiler for the kernel")


@pytest.fixture
def restore_threads():  # type: ignore[no-untyped-def]
    saved = torch.get_num_threads()
    yield
    torch.set_num_threads(saved)


def _groups(fx: dict[str, np.ndarray]) -> dict[tuple[int, float, float], tuple[torch.Tensor, ...]]:
    idx: dict[tuple[int, float, float], list[int]] = defaultdict(list)
    for i, (n, a, c) in enumerate(zip(fx["length"], fx["alpha"], fx["c"], strict=True)):
        idx[(int(n), float(a), float(c))].append(i)
    offsets = np.concatenate([[0], np.cumsum(fx["length"])])
    out = {}
    for key, ids in idx.items():
        xs = np.stack([fx["x"][offsets[i] : offsets[i + 1]] for i in ids])
        ys = np.stack([fx["y"][offsets[i] : offsets[i + 1]] for i in ids])
        out[key] = (torch.from_numpy(xs), torch.from_numpy(ys), torch.from_numpy(fx["mic"][ids]))
    return out


@pytest.mark.parametrize("backend", ["torch", pytest.param("native", marks=needs_kernel)])
def test_every_fixture_pair_matches_minepy(
    fixture_pairs: dict[str, np.ndarray], backend: str
) -> None:
    worst = 0.0
    for (_n, alpha, c), (x, y, want) in _groups(fixture_pairs).items():
        got = mic(x, y, alpha=alpha, c=c, backend=backend)
        worst = max(worst, float((got - want).abs().max()))
    assert worst < 1e-12


@needs_kernel
def test_kernel_equals_the_torch_path(fixture_pairs: dict[str, np.ndarray]) -> None:
    """Bit for bit on SMIC's grids (n = 49 and 16), to round-off on the larger ones."""
    for (n, alpha, c), (x, y, _want) in _groups(fixture_pairs).items():
        for dtype in (torch.float64, torch.float32):
            a = mic(x.to(dtype), y.to(dtype), alpha=alpha, c=c, backend="native")
            b = mic(x.to(dtype), y.to(dtype), alpha=alpha, c=c, backend="torch")
            if n in (16, 49):
                assert torch.equal(a, b), (n, dtype)
            else:
                torch.testing.assert_close(a, b, rtol=0, atol=1e-14)


@needs_kernel
def test_kernel_on_ties_constants_and_half_precision() -> None:
    g = torch.Generator().manual_seed(5)
    x = torch.randn(300, 49, generator=g, dtype=torch.float64).round(decimals=0)
    y = torch.where(torch.rand(300, 49, generator=g) < 0.5, 0.0, x + torch.randn(300, 49))
    x[:10] = 1.5  # constants
    y[10:20] = -0.0
    y[20:30] = x[20:30] ** 3  # monotone
    got = mic(x, y, alpha=0.5, c=10.0, backend="native")
    want = [mic_reference(a.numpy(), b.numpy(), 0.5, 10.0) for a, b in zip(x, y, strict=True)]
    np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-12)
    assert bool((got[:20] == 0).all())
    half = mic(x.half(), y.half(), alpha=0.5, c=10.0, backend="native")
    assert torch.equal(half, mic(x.half(), y.half(), alpha=0.5, c=10.0, backend="torch"))
    big = torch.randn(3, 400, generator=g, dtype=torch.float64)  # merge sort beyond 16 points
    other = big + torch.randn(3, 400, generator=g, dtype=torch.float64)
    torch.testing.assert_close(
        mic(big, other, backend="native"), mic(big, other, backend="torch"), rtol=0, atol=1e-14
    )


@pytest.mark.usefixtures("restore_threads")
@pytest.mark.parametrize("backend", ["torch", pytest.param("native", marks=needs_kernel)])
def test_bit_identical_across_threads_and_chunks(
    fixture_pairs: dict[str, np.ndarray], backend: str
) -> None:
    x, y, want = _groups(fixture_pairs)[(49, 0.5, 10.0)]
    x, y = x[::4], y[::4]
    torch.set_num_threads(1)
    first = mic(x, y, alpha=0.5, c=10.0, backend=backend)
    np.testing.assert_allclose(first.numpy(), want[::4].numpy(), rtol=0, atol=1e-9)
    for threads in (1, 2, 3):
        torch.set_num_threads(threads)
        for chunk in (None, 1, 7, 300):
            got = mic(x, y, alpha=0.5, c=10.0, chunk_size=chunk, backend=backend)
            assert torch.equal(got, first), (threads, chunk)


def test_backend_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    x = torch.randn(20, 16)
    y = torch.randn(20, 16)
    with pytest.raises(InputError, match="backend"):
        mic(x, y, backend="fast")
    monkeypatch.setenv("FRIQA_MIC_NATIVE", "0")
    assert native.kernel() is None
    with pytest.raises(InputError, match="C compiler"):
        mic(x, y, backend="native")
    assert torch.equal(mic(x, y), mic(x, y, backend="torch"))  # auto falls back


def test_kernel_builds_into_the_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRIQA_CACHE_DIR", str(tmp_path))
    for switch in ("FRIQA_NATIVE", "FRIQA_MIC_NATIVE"):  # this test builds the kernel itself
        monkeypatch.delenv(switch, raising=False)
    assert friqa.native.cache_dir() == tmp_path
    friqa.native.forget_libraries()
    monkeypatch.setattr(friqa.native, "compiler", lambda: None)
    assert native.kernel() is None  # no compiler: the torch path, no error
    if shutil.which("cc") is None:
        return
    friqa.native.forget_libraries()
    monkeypatch.setattr(friqa.native, "compiler", lambda: "cc")
    assert native.kernel() is not None
    assert [p.name.startswith("kernel-") and p.suffix for p in tmp_path.iterdir()] == [".so"]
    friqa.native.forget_libraries()  # the next test loads the usual cache's build again


@needs_kernel
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_kernel_finds_nan_and_inf(dtype: torch.dtype) -> None:
    """The kernel's own NaN/inf check gives the torch path's errors (x named first)."""
    g = torch.Generator().manual_seed(9)
    x = torch.randn(900, 49, generator=g).to(dtype)
    y = torch.randn(900, 49, generator=g).to(dtype)
    for bad_x, bad_y, name in (
        (float("nan"), None, "x"),
        (None, float("-inf"), "y"),
        (float("inf"), float("nan"), "x"),
    ):
        xb, yb = x.clone(), y.clone()
        if bad_x is not None:
            xb[700, 3] = bad_x
        if bad_y is not None:
            yb[10, 48] = bad_y
        for backend in ("native", "torch"):
            with pytest.raises(InputError, match=f"^{name} contains NaN or infinite"):
                mic(xb, yb, alpha=0.5, c=10.0, chunk_size=100, backend=backend)
