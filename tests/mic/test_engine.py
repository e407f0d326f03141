"""The batched MIC engine: the minepy fixture, the slow reference, properties, validation."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import friqa.mic.engine as engine
import friqa.mic.workers as workers
from friqa.exceptions import InputError
from friqa.mic import clear_workspace, grid_plan, mic, mic_reference


def _grouped(fx: dict[str, np.ndarray]) -> dict[tuple[int, float, float], list[int]]:
    groups: dict[tuple[int, float, float], list[int]] = defaultdict(list)
    for i, (n, a, c) in enumerate(zip(fx["length"], fx["alpha"], fx["c"], strict=True)):
        groups[(int(n), float(a), float(c))].append(i)
    return groups


def _stack(fx: dict[str, np.ndarray], idx: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    offsets = np.concatenate([[0], np.cumsum(fx["length"])])
    xs = np.stack([fx["x"][offsets[i] : offsets[i + 1]] for i in idx])
    ys = np.stack([fx["y"][offsets[i] : offsets[i + 1]] for i in idx])
    return torch.from_numpy(xs), torch.from_numpy(ys)


def test_fixture_every_pair(fixture_pairs: dict[str, np.ndarray]) -> None:
    """All 3,688 pairs (ties, constants, n = 16/49, VGG data, alpha = 0.6) to 1e-9."""
    fx = fixture_pairs
    worst = 0.0
    checked = 0
    for (n, alpha, c), idx in _grouped(fx).items():
        x, y = _stack(fx, idx)
        got = mic(x, y, alpha=alpha, c=c)
        assert got.dtype == torch.float64 and got.shape == (len(idx),)
        err = np.abs(got.numpy() - fx["mic"][idx])
        bad = np.flatnonzero(err > 1e-9)
        assert bad.size == 0, [(idx[j], fx["kind"][idx[j]], n, float(got[j])) for j in bad[:5]]
        worst = max(worst, float(err.max()))
        checked += len(idx)
    assert checked == len(fx["mic"]) == 3688
    assert worst < 1e-12


def test_fixture_float32_pairs_as_float32(fixture_pairs: dict[str, np.ndarray]) -> None:
    """The *_f32 pairs hold float32 values: a float32 tensor gives the same numbers."""
    fx = fixture_pairs
    idx = [i for i, k in enumerate(fx["kind"]) if str(k).endswith("_f32")]
    assert idx
    x, y = _stack(fx, idx)
    assert torch.equal(x.float().double(), x) and torch.equal(y.float().double(), y)
    got = mic(x.float(), y.float(), alpha=0.5, c=10.0)
    np.testing.assert_allclose(got.numpy(), fx["mic"][idx], rtol=0, atol=1e-9)


def test_fixture_results_do_not_depend_on_chunking_or_point_order(
    fixture_pairs: dict[str, np.ndarray],
) -> None:
    fx = fixture_pairs
    idx = [i for i, k in enumerate(fx["kind"]) if k in ("ties49", "vgg_stage4")][:300]
    x, y = _stack(fx, idx)
    whole = mic(x, y, alpha=0.5, c=10.0)
    for chunk in (1, 7, 128):
        assert torch.equal(mic(x, y, alpha=0.5, c=10.0, chunk_size=chunk), whole)
    # the same pairs in another batch order, and with their points permuted jointly
    # (which reorders tied values): bit-identical results
    g = torch.Generator().manual_seed(0)
    rows = torch.randperm(len(idx), generator=g)
    cols = torch.randperm(x.shape[1], generator=g)
    shuffled = mic(x[rows][:, cols], y[rows][:, cols], alpha=0.5, c=10.0)
    assert torch.equal(shuffled, whole[rows])
    # any batch shape
    assert torch.equal(
        mic(x[:300].view(3, 100, -1), y[:300].view(3, 100, -1), alpha=0.5, c=10.0),
        whole[:300].view(3, 100),
    )


@pytest.fixture
def restore_threads():  # type: ignore[no-untyped-def]
    saved = torch.get_num_threads()
    yield
    torch.set_num_threads(saved)


@pytest.mark.usefixtures("restore_threads")
def test_results_are_bit_identical_across_thread_counts_and_chunk_sizes(
    fixture_pairs: dict[str, np.ndarray],
) -> None:
    """Worker threads, chunk sizes and the thread that runs a chunk never change a bit.

    With several torch threads the chunks run on the engine's worker threads
    (each with intra-op parallelism 1), with one thread in the calling thread.
    """
    fx = fixture_pairs
    groups = _grouped(fx)
    smic = [
        i
        for i in groups[(49, 0.5, 10.0)]
        if fx["kind"][i] in ("ties49", "vgg_stage3", "vgg_stage4", "gauss49")
    ]
    cases = [
        (smic[::25], 0.5, 10.0, (None, 1, 7, 50)),
        (groups[(16, 0.5, 10.0)][::8], 0.5, 10.0, (None, 1, 7, 50)),
        (groups[(81, 0.6, 15.0)], 0.6, 15.0, (None, 1)),  # larger grids, m up to 5
        (groups[(102, 0.6, 15.0)], 0.6, 15.0, (None, 1)),
    ]
    for idx, alpha, c, chunks in cases:
        x, y = _stack(fx, idx)
        torch.set_num_threads(1)
        want = mic(x, y, alpha=alpha, c=c)
        np.testing.assert_allclose(want.numpy(), fx["mic"][idx], rtol=0, atol=1e-9)
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            for chunk in chunks:
                got = mic(x, y, alpha=alpha, c=c, chunk_size=chunk)
                assert torch.equal(got, want), (threads, chunk, len(idx), alpha, c)
            assert torch.get_num_threads() == threads  # the caller's setting is left alone
    assert workers.worker_count() >= 3


def test_kept_workspace_never_changes_results(fixture_pairs: dict[str, np.ndarray]) -> None:
    """Scratch memory kept between calls of other sizes, n and dtypes leaves no trace."""
    fx = fixture_pairs
    idx = [i for i, k in enumerate(fx["kind"]) if k == "vgg_stage3"][:400]
    x, y = _stack(fx, idx)
    clear_workspace()
    fresh = mic(x, y, alpha=0.5, c=10.0)
    g = torch.Generator().manual_seed(3)
    mic(torch.randn(1000, 16, generator=g), torch.randn(1000, 16, generator=g))
    mic(torch.randn(3000, 49, generator=g), torch.randn(3000, 49, generator=g), alpha=0.5, c=10.0)
    assert torch.equal(mic(x[:50].float(), y[:50].float(), alpha=0.5, c=10.0), fresh[:50])
    assert torch.equal(mic(x, y, alpha=0.5, c=10.0), fresh)
    clear_workspace()
    assert torch.equal(mic(x, y, alpha=0.5, c=10.0), fresh)


def test_row_buckets_of_the_column_search_do_not_change_results(
    fixture_pairs: dict[str, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Searching rows in buckets of similar superclump counts = one search over all rows."""
    fx = fixture_pairs
    for kinds, alpha, c in ((("vgg_stage3", "vgg_stage4"), 0.5, 10.0), (("gauss49",), 0.6, 15.0)):
        idx = [i for i, k in enumerate(fx["kind"]) if k in kinds and fx["length"][i] == 49]
        x, y = _stack(fx, idx)
        assert len(engine._bucket_caps(min(49, grid_plan(49, alpha, c)[0][2]), 3)) == 3
        bucketed = mic(x, y, alpha=alpha, c=c)
        with monkeypatch.context() as mp:
            mp.setattr(engine, "_bucket_caps", lambda n_groups, m: [n_groups])
            single = mic(x, y, alpha=alpha, c=c)
        torch.testing.assert_close(bucketed, single, rtol=0, atol=1e-15)


# ---------------------------------------------------------------- cross-check vs the reference


@st.composite
def tied_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, float, float]:
    n = draw(st.integers(4, 40))
    levels_x = draw(st.integers(1, 8))
    levels_y = draw(st.integers(1, 8))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.integers(0, levels_x, size=n).astype(np.float64)
    y = rng.integers(0, levels_y, size=n).astype(np.float64)
    if draw(st.booleans()):  # many exact zeros plus a few distinct values, like ReLU features
        y = np.where(rng.random(n) < 0.5, 0.0, rng.normal(size=n))
    if draw(st.booleans()):
        y = y + 0.5 * x  # some dependence
    alpha, c = draw(st.sampled_from([(0.5, 10.0), (0.6, 15.0), (0.5, 1.0), (0.9, 2.0), (5.0, 3.0)]))
    return x, y, alpha, c


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tied_pairs())
def test_engine_matches_reference_with_heavy_ties(
    case: tuple[np.ndarray, np.ndarray, float, float],
) -> None:
    x, y, alpha, c = case
    expected = mic_reference(x, y, alpha, c)
    got = mic(torch.from_numpy(x), torch.from_numpy(y), alpha=alpha, c=c)
    assert abs(float(got) - expected) <= 1e-12


def test_engine_matches_reference_on_a_random_batch() -> None:
    """One batch mixing continuous, tied and dependent pairs, n = 49, SMIC parameters."""
    rng = np.random.default_rng(11)
    xs, ys = [], []
    for k in range(200):
        x = rng.normal(size=49)
        y = 0.3 * x + rng.normal(size=49) if k % 2 else rng.normal(size=49)
        if k % 3 == 0:
            x = np.round(x * 2) / 2
        if k % 5 == 0:
            y = np.maximum(y, 0.0)
        xs.append(x)
        ys.append(y)
    x_t, y_t = torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))
    got = mic(x_t, y_t, alpha=0.5, c=10.0, chunk_size=64)
    want = np.array([mic_reference(a, b, 0.5, 10.0) for a, b in zip(xs, ys, strict=True)])
    np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-12)


# ------------------------------------------------------------------------------- properties


def test_symmetry_and_range() -> None:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(300, 49, generator=g, dtype=torch.float64)
    noise = torch.randn(300, 49, generator=g, dtype=torch.float64)
    y = torch.where(torch.rand(300, 49, generator=g) < 0.3, 0.0, x + noise)
    a = mic(x, y, alpha=0.5, c=10.0)
    assert torch.equal(a, mic(y, x, alpha=0.5, c=10.0))
    assert bool((a >= 0).all()) and bool((a <= 1).all())
    assert float(a.max()) > 0.3  # not trivially zero


def test_constant_input_gives_zero_and_monotone_relation_gives_one() -> None:
    x = torch.linspace(-1, 1, 50, dtype=torch.float64).expand(4, 50)
    const = torch.full((4, 50), 3.0, dtype=torch.float64)
    zeros = torch.zeros(4, dtype=torch.float64)
    assert torch.equal(mic(x, const), zeros)
    assert torch.equal(mic(const, x), zeros)
    assert torch.equal(mic(const, const), zeros)
    for alpha, c in ((0.5, 10.0), (0.6, 15.0)):
        for f in (lambda t: t, lambda t: t**3, lambda t: -torch.exp(t), lambda t: 5 - 2 * t):
            got = mic(x, f(x), alpha=alpha, c=c)
            torch.testing.assert_close(got, torch.ones(4, dtype=torch.float64), rtol=0, atol=1e-12)


def test_monotone_relation_with_odd_n_follows_the_estimator() -> None:
    """With odd n no grid splits the points evenly, so MINE's value is just below 1."""
    x = torch.linspace(0, 1, 49, dtype=torch.float64)
    got = float(mic(x, x, alpha=0.5, c=10.0))
    # two rows of 24 and 25 points, two clumps: I = H(24/49, 25/49), normalised by ln 2
    p = 24 / 49
    expected = -(p * np.log(p) + (1 - p) * np.log(1 - p)) / np.log(2)
    assert got == pytest.approx(expected, abs=1e-14)
    assert got == pytest.approx(mic_reference(x.numpy(), x.numpy(), 0.5, 10.0), abs=1e-15)


def test_invariance_to_strictly_increasing_transforms() -> None:
    g = torch.Generator().manual_seed(2)
    # small integers: the transforms below are exact and keep every tie
    x = torch.randint(-6, 7, (200, 49), generator=g).double()
    y = (x + torch.randint(-3, 4, (200, 49), generator=g)).double()
    base = mic(x, y, alpha=0.5, c=10.0)
    for f in (lambda t: t**3, lambda t: 2 * t + 1, lambda t: torch.exp(t / 4), torch.atan):
        assert torch.equal(mic(f(x), y, alpha=0.5, c=10.0), base)
        assert torch.equal(mic(x, f(y), alpha=0.5, c=10.0), base)
    # dense ranks (ties kept) instead of values
    ranks = torch.from_numpy(np.stack([np.unique(r, return_inverse=True)[1] for r in x.numpy()]))
    assert torch.equal(mic(ranks.double(), y, alpha=0.5, c=10.0), base)


def test_negative_zero_ties_with_zero() -> None:
    x = torch.arange(20, dtype=torch.float64)
    y = torch.tensor([0.0, -0.0] * 5 + list(range(1, 11)), dtype=torch.float64)
    assert torch.equal(mic(x, y), mic(x, y.abs()))
    assert float(mic(x, y)) == pytest.approx(mic_reference(x.numpy(), y.numpy()), abs=1e-15)


def test_numpy_inputs_and_dtypes() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 30)), rng.normal(size=(5, 30))
    from_np = mic(x, y)
    assert isinstance(from_np, torch.Tensor) and from_np.dtype == torch.float64
    assert torch.equal(from_np, mic(torch.from_numpy(x), torch.from_numpy(y)))
    # float32 in, float64 out, same value as the float32 values in float64
    xf, yf = torch.from_numpy(x).float(), torch.from_numpy(y).float()
    assert torch.equal(mic(xf, yf), mic(xf.double(), yf.double()))
    # half precision and mixed dtypes: values are only compared, after exact promotion
    assert torch.equal(mic(xf.half(), yf.double()), mic(xf.half().double(), yf.double()))
    # a 1-D pair gives a 0-d result; an empty batch an empty result
    assert mic(xf[0], yf[0]).shape == ()
    assert mic(torch.empty(0, 30), torch.empty(0, 30)).shape == (0,)


def test_grid_plan() -> None:
    assert grid_plan(49, 0.5, 10.0) == [(2, 3, 30), (3, 2, 20)]
    assert grid_plan(16, 0.5, 10.0) == [(2, 2, 20)]
    assert grid_plan(200, 0.6, 15.0)[0] == (2, 12, 180)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu() -> None:
    g = torch.Generator().manual_seed(4)
    x = torch.randint(0, 5, (500, 49), generator=g).double()
    y = torch.randn(500, 49, generator=g, dtype=torch.float64)
    assert torch.equal(
        mic(x.cuda(), y.cuda(), alpha=0.5, c=10.0).cpu(), mic(x, y, alpha=0.5, c=10.0)
    )


# ------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("x", "y", "kwargs", "message"),
    [
        (torch.rand(3, 10), torch.rand(3, 11), {}, "same shape"),
        (torch.rand(3, 10), torch.rand(2, 10), {}, "same shape"),
        (torch.rand(3, 3), torch.rand(3, 3), {}, "at least 4"),
        (torch.tensor([1.0, float("nan"), 2.0, 3.0]), torch.rand(4), {}, "NaN or infinite"),
        (torch.rand(4), torch.tensor([1.0, float("inf"), 2.0, 3.0]), {}, "NaN or infinite"),
        (torch.arange(10), torch.rand(10), {}, "floating-point"),
        (torch.rand(10), np.arange(10), {}, "floating-point"),
        (torch.rand(10), [0.0] * 10, {}, "torch.Tensor or a numpy array"),
        (torch.tensor(1.0), torch.tensor(1.0), {}, "0-d"),
        (torch.rand(10), torch.rand(10), {"alpha": 0.0}, "alpha"),
        (torch.rand(10), torch.rand(10), {"alpha": 2.0}, "alpha"),
        (torch.rand(10), torch.rand(10), {"c": 0.0}, "c must be"),
        (torch.rand(10), torch.rand(10), {"chunk_size": 0}, "chunk_size"),
    ],
)
def test_invalid_inputs_raise_input_error(
    x: object, y: object, kwargs: dict[str, float], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        mic(x, y, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_sort_keys_keep_order_and_ties_of_the_floats(dtype: torch.dtype) -> None:
    """The integer sort keys compare exactly like the float values (``-0.0 == 0.0``)."""
    from friqa.mic.engine import _sort_keys

    g = torch.Generator().manual_seed(3)
    special = torch.tensor([0.0, -0.0, 1e-40, -1e-40, 1.0, -1.0, 3e38, -3e38, 2.5, -2.5])
    v = torch.cat(
        [special, torch.randn(200, generator=g) * 10.0 ** torch.randint(-8, 8, (200,), generator=g)]
    ).to(dtype)
    v = v[torch.isfinite(v)]
    k = _sort_keys(v)
    assert not k.is_floating_point()
    assert torch.equal(k[:, None] < k[None, :], v[:, None] < v[None, :])
    assert torch.equal(k[:, None] == k[None, :], v[:, None] == v[None, :])
