"""The contract every registered metric keeps (issues 13 and 14).

The tests are parametrised over :func:`friqa.list_metrics` (the metrics friqa
defines; test doubles registered by other test modules are left out), so a newly
registered metric is checked without being listed here, and they use only the public API
(the registry, ``MetricInfo``, ``Metric.compute`` / ``encode_ref`` /
``compute_encoded``). What a check expects of a metric comes from its metadata,
never from its name: ``differentiable``, ``returns_map``, ``aligned``,
``lower_better``, ``score_range``, ``needs_weights``.

Inputs are real images: crops of two KADID-10k references and of their JP2K,
motion-blur and pixelation versions (``../shared/data/pairs/kadid``), and for
metrics that need not be aligned a crop of the DeepSSIM retargeting pair. The
crops are as small as the metric accepts (see :data:`CROP_SIZES`) so that the
whole file stays fast. Without ``../shared`` the tests skip, saying why.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import torch
from torch import Tensor

import friqa
from friqa.exceptions import InputError, NotDifferentiableError
from metric_checks import (
    check_batch_equals_loop,
    check_deterministic,
    check_encoded_reference,
    check_float64_follows_input_dtype,
    check_gradients_finite,
    library_metrics,
    load_rgb,
)

if TYPE_CHECKING:
    from friqa.metrics import Metric, MetricInfo, MetricResult

#: Every family a registered metric may belong to (see ``MetricInfo.family``).
KNOWN_FAMILIES = ("base", "smic", "smic-consistent", "deepssim")

#: Square crop sides tried in turn (a metric raising ``InputError`` on one gets the
#: next); a metric is checked at the first it accepts. 40 fits most metrics (DeepWSD's
#: 4x4 windows need it); 56 is the smallest image whose VGG16 relu4_3 map (1/8 of the
#: image) holds one 7x7 SMIC attention patch (and below 129, so no SMIC resizing
#: happens); 168 covers MS-SSIM's five scales of an 11-tap window (161 pixels).
CROP_SIZES = (40, 56, 168)

#: Top-left corner of the crops in the 512x384 KADID-10k images (a textured region).
CROP_AT = (150, 200)

#: Batch-size and encoded-reference effects: float32 round-off of batched convolutions.
RTOL, ATOL = 1e-5, 1e-7

#: float32 against float64 inputs.
RTOL_DTYPE, ATOL_DTYPE = 1e-4, 1e-6

#: Metrics found to break the contract, with the reason; each entry is a bug to fix (the
#: xfail is strict, so a fixed metric fails here until its entry is removed).
KNOWN_FAILURES: dict[tuple[str, str], str] = {
    ("test_map_follows_input_dtype", "psnr_smic"): (
        "the rectified map is float64 for float32 inputs (the attention multiplies in "
        "float64 and the map is not cast back; tests/smic/test_faithful.py asserts float64)"
    ),
    ("test_map_follows_input_dtype", "ssim_smic"): (
        "the rectified map is float64 for float32 inputs (the attention multiplies in "
        "float64 and the map is not cast back)"
    ),
}


METRICS = library_metrics()


def _known_failure(request: pytest.FixtureRequest, name: str) -> None:
    reason = KNOWN_FAILURES.get((request.node.originalname, name))
    if reason is not None:
        request.applymarker(pytest.mark.xfail(reason=f"{name}: {reason}", strict=True))


@dataclass
class Case:
    """One metric, created with its default options, and the real pairs it is checked on."""

    name: str
    info: MetricInfo
    metric: Metric
    ref: Tensor  # (2, 3, s, s): two references
    dist: Tensor  # (2, 3, s, s): a distorted version of each
    one_ref: Tensor  # (1, 3, s, s): the first reference
    its_dists: Tensor  # (2, 3, s, s): two distorted versions of it
    result: MetricResult  # compute(ref, dist, return_map=info.returns_map), no gradient
    _result64: MetricResult | None = None

    def result64(self) -> MetricResult:
        """The result of the first pair in float64 (computed once, no gradient)."""
        if self._result64 is None:
            with torch.no_grad():
                self._result64 = self.metric.compute(
                    self.ref[:1].double(), self.dist[:1].double(), return_map=self.info.returns_map
                )
        return self._result64


@pytest.fixture(scope="module")
def kadid(shared_data: Path) -> dict[str, Tensor]:
    folder = shared_data / "pairs" / "kadid"
    names = ("I07", "I07_09_04", "I07_21_05", "I47", "I47_03_05")
    return {n: load_rgb(folder / f"{n}.png") for n in names}


def _crop(image: Tensor, size: int) -> Tensor:
    y, x = CROP_AT
    return image[..., y : y + size, x : x + size].contiguous()


@pytest.fixture(scope="module", params=METRICS)
def case(request: pytest.FixtureRequest, kadid: dict[str, Tensor]) -> Case:
    """The metric ``request.param`` at the first crop size it accepts."""
    name: str = request.param
    info = friqa.metric_info(name)
    options: dict[str, Any] = {}
    if info.needs_weights:
        options["weights"] = request.getfixturevalue("vgg_weights_path")
    metric = friqa.create_metric(name, **options)
    for size in CROP_SIZES:
        ref = torch.cat([_crop(kadid["I07"], size), _crop(kadid["I47"], size)])
        dist = torch.cat([_crop(kadid["I07_09_04"], size), _crop(kadid["I47_03_05"], size)])
        try:
            with torch.no_grad():
                result = metric.compute(ref, dist, return_map=info.returns_map)
        except InputError:
            continue
        its_dists = torch.cat([dist[:1], _crop(kadid["I07_21_05"], size)])
        return Case(name, info, metric, ref, dist, ref[:1], its_dists, result)
    pytest.fail(f"'{name}' accepts none of the crop sizes {CROP_SIZES}")


def _better(a: Tensor, b: Tensor, lower_better: bool) -> Tensor:
    return a < b if lower_better else a > b


def _in_range(score: Tensor, score_range: tuple[float, float]) -> bool:
    """``score`` within ``score_range`` up to float32 round-off of the bounds."""
    lo, hi = score_range
    slack_lo = 1e-5 * max(1.0, abs(lo)) if math.isfinite(lo) else 0.0
    slack_hi = 1e-5 * max(1.0, abs(hi)) if math.isfinite(hi) else 0.0
    s = score.double()
    return bool(((s >= lo - slack_lo) & (s <= hi + slack_hi)).all())


# --- metadata ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", METRICS)
def test_metadata_is_sane(name: str) -> None:
    info = friqa.metric_info(name)
    assert info.name == name and name == name.lower()
    lo, hi = info.score_range
    assert lo < hi
    assert info.family in KNOWN_FAMILIES, info.family
    assert info.reference.strip() and info.description.strip()
    if not info.differentiable:
        # the error a backward pass raises must say why and what to train with instead
        assert info.gradient_note.strip()


def test_metric_carries_its_registry_metadata(case: Case) -> None:
    assert case.metric.info == case.info
    assert case.metric.differentiable == case.info.differentiable  # default options


def test_identical_images_score_best(case: Case) -> None:
    """Identical images score no worse than a real distortion, in the direction of
    ``lower_better``, and inside ``score_range``."""
    with torch.no_grad():
        same = case.metric(case.ref, case.ref)
    distorted = case.result.score
    assert _in_range(same, case.info.score_range), same
    assert _in_range(distorted, case.info.score_range), distorted
    assert bool(_better(same, distorted, case.info.lower_better).all()), (same, distorted)


# --- shape, batching, determinism, dtype and device ---------------------------------------
def test_score_shape(case: Case) -> None:
    score = case.result.score
    assert score.shape == (case.ref.shape[0],)
    assert bool(torch.isfinite(score).all())


def test_batch_equals_one_by_one(case: Case) -> None:
    with torch.no_grad():
        check_batch_equals_loop(
            case.metric,
            case.ref,
            case.dist,
            RTOL,
            ATOL,
            with_map=case.info.returns_map,
            batch=case.result,
        )


def test_deterministic(case: Case) -> None:
    with torch.no_grad():
        check_deterministic(
            case.metric, case.ref, case.dist, with_map=case.info.returns_map, first=case.result
        )


def test_score_follows_input_dtype(case: Case) -> None:
    check_float64_follows_input_dtype(
        case.metric,
        case.ref[:1],
        case.dist[:1],
        RTOL_DTYPE,
        ATOL_DTYPE,
        s32=case.result.score[:1],
        s64=case.result64().score,
    )


def test_map_follows_input_dtype(case: Case, request: pytest.FixtureRequest) -> None:
    if not case.info.returns_map:
        assert case.result.map is None and case.result64().map is None
        return
    _known_failure(request, case.name)
    assert case.result.map is not None and case.result.map.dtype == torch.float32
    map64 = case.result64().map
    assert map64 is not None and map64.dtype == torch.float64


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU; none here")
def test_output_follows_input_device(case: Case) -> None:
    metric = case.metric.to("cuda")
    try:
        for dtype in (torch.float32, torch.float64):
            ref, dist = case.ref.to("cuda", dtype), case.dist.to("cuda", dtype)
            with torch.no_grad():
                res = metric.compute(ref, dist, return_map=case.info.returns_map)
            assert res.score.device.type == "cuda" and res.score.dtype == dtype
            if res.map is not None:
                assert res.map.device.type == "cuda" and res.map.dtype == dtype
        with torch.no_grad():
            want = case.metric.to("cpu")(case.ref.double(), case.dist.double())
        torch.testing.assert_close(res.score.cpu(), want, rtol=1e-6, atol=1e-9)
    finally:
        case.metric.to("cpu")


# --- the encoded reference -----------------------------------------------------------------
def test_encoded_reference_equals_direct(case: Case) -> None:
    m = case.metric
    with torch.no_grad():
        enc = m.compute_encoded(m.encode_ref(case.ref), case.dist, return_map=case.info.returns_map)
        torch.testing.assert_close(enc.score, case.result.score, rtol=RTOL, atol=ATOL)
        if case.info.returns_map:
            assert enc.map is not None and case.result.map is not None
            torch.testing.assert_close(enc.map, case.result.map, rtol=RTOL, atol=ATOL)
        # one encoded reference (batch 1) against a batch of its distorted versions
        check_encoded_reference(m, case.one_ref, case.its_dists, RTOL, ATOL)


# --- the distortion map --------------------------------------------------------------------
def test_map_or_clear_error(case: Case) -> None:
    n = case.ref.shape[0]
    if case.info.returns_map:
        dmap = case.result.map
        assert dmap is not None and dmap.ndim == 4 and dmap.shape[:2] == (n, 1)
        assert dmap.shape[2] > 0 and dmap.shape[3] > 0
        assert bool(torch.isfinite(dmap).all())
        return
    assert case.result.map is None
    with pytest.raises(InputError, match=f"'{case.name}' does not produce a distortion map"):
        case.metric.compute(case.ref, case.dist, return_map=True)
    enc = case.metric.encode_ref(case.ref)
    with pytest.raises(InputError, match=f"'{case.name}' does not produce a distortion map"):
        case.metric.compute_encoded(enc, case.dist, return_map=True)


# --- gradients -----------------------------------------------------------------------------
def _check_backward_refused(case: Case, ref: Tensor, dist: Tensor) -> None:
    """The forward values are those without a gradient; backward raises a friqa error
    naming the metric and its ``gradient_note`` (one line), not zeros."""
    m, info = case.metric, case.info
    message = re.escape(f"metric '{case.name}' is not differentiable")
    x = dist.clone().requires_grad_(True)
    res = m.compute(ref, x, return_map=info.returns_map)
    with torch.no_grad():
        plain = m.compute(ref, dist, return_map=info.returns_map)
    assert torch.equal(res.score.detach(), plain.score)
    with pytest.raises(NotDifferentiableError, match=message) as err:
        res.score.sum().backward()
    assert info.gradient_note in str(err.value) and "\n" not in str(err.value)
    if res.map is not None:
        with pytest.raises(NotDifferentiableError, match=message):
            torch.autograd.grad(res.map.sum(), x)
    # an encoded reference that requires the gradient
    r = ref[:1].clone().requires_grad_(True)
    enc = m.compute_encoded(m.encode_ref(r), dist)
    with pytest.raises(NotDifferentiableError, match=message):
        torch.autograd.grad(enc.score.sum(), r)


def _check_gradients(case: Case, ref: Tensor, dist: Tensor) -> None:
    """``differentiable``: finite, not all-zero gradients w.r.t. ``dist`` at a real
    distortion and finite ones at ``dist == ref`` (one pair); otherwise a clear refusal."""
    if case.info.differentiable:
        check_gradients_finite(case.metric, ref[:1], dist[:1])
    else:
        _check_backward_refused(case, ref[:1], dist[:1])


def test_gradients_or_clear_refusal(case: Case) -> None:
    _check_gradients(case, case.ref, case.dist)


# --- size handling -------------------------------------------------------------------------
def test_pairs_of_different_sizes(case: Case, shared_data: Path) -> None:
    """Aligned metrics reject a pair of different sizes; the others score it like any pair.

    The unaligned pair is real: crops of the DeepSSIM reference and of its version
    retargeted to half the width, the distorted crop half as wide as the reference crop.
    """
    m, info = case.metric, case.info
    s = case.ref.shape[-1]
    if info.aligned:
        with pytest.raises(InputError):
            m(case.ref, case.dist[..., : s - 8])
        return
    folder = shared_data / "pairs" / "deepssim"
    full_ref, full_dist = (
        load_rgb(folder / "butterfly.png"),
        load_rgb(folder / "butterfly_shif_0.50.png"),
    )
    ref = torch.cat(
        [full_ref[..., y : y + s, 2 * x : 2 * x + 2 * s] for y, x in ((200, 100), (400, 200))]
    )
    dist = torch.cat([full_dist[..., y : y + s, x : x + s] for y, x in ((200, 100), (400, 200))])
    with torch.no_grad():
        score = m(ref, dist)
        assert score.shape == (2,) and _in_range(score, info.score_range)
        check_batch_equals_loop(m, ref, dist, RTOL, ATOL)
        enc = m.compute_encoded(m.encode_ref(ref), dist).score
        torch.testing.assert_close(enc, score, rtol=RTOL, atol=ATOL)
        check_encoded_reference(m, ref[:1], dist, RTOL, ATOL)
    _check_gradients(case, ref, dist)
