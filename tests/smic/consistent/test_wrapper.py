"""SMIC for any metric: the generic wrapper and the consistent variants."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.ndimage import zoom

from friqa.exceptions import InputError
from friqa.io import load_image
from friqa.metrics.lpips import LPIPS
from friqa.metrics.registry import create_metric, list_metrics, metric_info
from friqa.smic.consistent import (
    LPIPSPlusSMIC,
    SMICWrapper,
    attention_input,
    smic_wrap,
)

CONSISTENT = ("psnr+smic", "ssim+smic", "ms_ssim+smic", "lpips+smic")


def _scipy_attention(g3: np.ndarray, g4: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The reference's combination with scipy itself: zoom g4 to g3, average, zoom to size."""
    z4 = zoom(g4, (g3.shape[0] / g4.shape[0], g3.shape[1] / g4.shape[1]), order=1)
    both = (g3 + z4) / 2
    return zoom(both, (size[0] / g3.shape[0], size[1] / g3.shape[1]), order=1)


@pytest.fixture(scope="module")
def pair(shared_data: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """A real 176x208 crop of a KADID pair (large enough for MS-SSIM)."""
    d = shared_data / "pairs" / "kadid"
    ref = load_image(d / "I47.png")[None, :, 100:276, 150:358]
    dist = load_image(d / "I47_03_05.png")[None, :, 100:276, 150:358]
    return ref, dist


def _random_grids(n: int, seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "relu3_3": torch.rand(n, 5, 6, generator=g, dtype=torch.float64),
        "relu4_3": torch.rand(n, 2, 3, generator=g, dtype=torch.float64),
    }


def test_registered_variants() -> None:
    assert set(CONSISTENT) <= set(list_metrics("smic-consistent"))
    for name in CONSISTENT:
        info = metric_info(name)
        assert info.family == "smic-consistent" and info.returns_map and info.needs_weights
        base = metric_info(name.removesuffix("+smic"))
        assert info.lower_better == base.lower_better
    assert not set(CONSISTENT) & set(list_metrics("smic"))


@pytest.mark.parametrize("name", CONSISTENT)
def test_attention_of_one_gives_the_base_metric(
    name: str, pair: tuple[torch.Tensor, torch.Tensor], vgg_weights_path: Path
) -> None:
    """'Consistent': with attention 1 everywhere each variant is its base metric exactly."""
    ref, dist = pair
    base_name = name.removesuffix("+smic")
    options = {"weights": vgg_weights_path} if base_name == "lpips" else {}
    base = create_metric(base_name, **options)
    variant = create_metric(name, weights=vgg_weights_path)
    grids = {k: torch.ones_like(v) for k, v in _random_grids(1, 0).items()}
    got = variant.compute_with_grids(ref, dist, grids, return_map=True)
    torch.testing.assert_close(got.score.float(), base(ref, dist), rtol=1e-6, atol=1e-7)
    assert got.map is not None and got.map.shape[-2:] == got.extras["distortion_map"].shape[-2:]
    zero = variant.compute_with_grids(ref, dist, {k: 0 * v for k, v in grids.items()}).score
    want_zero = {"psnr": math.inf, "ssim": 1.0, "ms_ssim": 1.0, "lpips": 0.0}[base_name]
    assert float(zero) == want_zero


def test_psnr_plus_smic_against_scipy(pair: tuple[torch.Tensor, torch.Tensor]) -> None:
    ref, dist = pair
    grids = _random_grids(1, 1)
    res = create_metric("psnr+smic").compute_with_grids(ref, dist, grids, return_map=True)
    att = _scipy_attention(grids["relu3_3"][0].numpy(), grids["relu4_3"][0].numpy(), (176, 208))
    err = ((ref - dist) ** 2).mean(dim=1)[0].double().numpy()
    want = 10 * math.log10(1 / float((err * att).mean()))
    assert abs(float(res.score) - want) < 1e-4
    np.testing.assert_allclose(res.extras["attention"][0, 0].numpy(), att, rtol=0, atol=1e-12)


def test_lpips_plus_smic_against_scipy(
    pair: tuple[torch.Tensor, torch.Tensor], vgg_weights_path: Path
) -> None:
    """Every LPIPS layer map is weighted by the attention zoomed to that layer."""
    ref, dist = pair
    grids = _random_grids(1, 2)
    got = LPIPSPlusSMIC(vgg_weights_path).compute_with_grids(ref, dist, grids).score
    layer_maps = LPIPS(vgg_weights_path).compute(ref, dist, return_map=True).extras["layer_maps"]
    want = 0.0
    for m in layer_maps.values():
        mm = m[0, 0].double().numpy()
        att = _scipy_attention(grids["relu3_3"][0].numpy(), grids["relu4_3"][0].numpy(), mm.shape)
        want += float((mm * att).mean())
    assert abs(float(got) - want) < 1e-6 * want


def test_generic_wrapper_on_a_callable(
    pair: tuple[torch.Tensor, torch.Tensor], vgg_weights_path: Path
) -> None:
    """A user's map function, real attention, batch = single calls, the score = mean(att * map)."""
    ref, dist = pair[0][..., :128, :160], pair[1][..., :128, :160]

    def abs_map(r: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
        return (r - d).abs().mean(dim=1)  # (N, h, w) is accepted too

    m = SMICWrapper(abs_map, weights=vgg_weights_path)
    assert m.info.name == "custom+smic" and m.info.lower_better
    refs, dists = torch.cat([ref, dist]), torch.cat([dist, ref])
    batch = m.compute(refs, dists, return_map=True)
    for i in range(2):
        one = m(refs[i : i + 1], dists[i : i + 1])
        torch.testing.assert_close(one, batch.score[i : i + 1], rtol=1e-6, atol=0)
    grids = m.attention_grids(ref, dist)
    assert grids["relu3_3"].shape == (1, 4, 5)  # 128x160 is below the resizing threshold
    torch.testing.assert_close(grids["relu3_3"], batch.extras["grids"]["relu3_3"][:1])
    att = _scipy_attention(grids["relu3_3"][0].numpy(), grids["relu4_3"][0].numpy(), (128, 160))
    want = float((abs_map(ref, dist)[0].double().numpy() * att).mean())
    assert abs(float(batch.score[0]) - want) < 1e-6 * want
    # MIC is symmetric: swapping ref and dist gives the same attention
    torch.testing.assert_close(batch.extras["attention"][0], batch.extras["attention"][1])


def test_wrap_names_and_errors(vgg_weights_path: Path) -> None:
    assert isinstance(smic_wrap("lpips", weights=vgg_weights_path), LPIPSPlusSMIC)
    wrapped = smic_wrap("ssim_rgb", weights=vgg_weights_path)
    assert type(wrapped) is SMICWrapper and wrapped.info.name == "ssim_rgb+smic"
    assert wrapped.info.lower_better and wrapped.reduce is None  # a weighted distortion
    with pytest.raises(InputError, match="no distortion map"):
        SMICWrapper("dists", weights=vgg_weights_path)
    with pytest.raises(InputError, match="already carries SMIC"):
        smic_wrap("psnr_smic", weights=vgg_weights_path)
    with pytest.raises(InputError, match="attention_scale"):
        SMICWrapper("psnr", attention_scale="half")  # type: ignore[arg-type]
    bad = SMICWrapper(lambda r, d: r - d, weights=vgg_weights_path)
    with pytest.raises(InputError, match=r"\(N, 1, h, w\)"):
        bad.compute_with_grids(
            torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64), _random_grids(1, 3)
        )


def test_attention_input_sizes() -> None:
    x = torch.rand(2, 3, 384, 512)
    assert attention_input(x).shape == (2, 3, 256, 341)
    assert attention_input(x, "native") is x
    small = torch.rand(1, 3, 120, 200)
    assert attention_input(small) is small


def test_gradient_through_lpips_plus_smic(
    pair: tuple[torch.Tensor, torch.Tensor], vgg_weights_path: Path
) -> None:
    ref, dist = pair[0][..., :96, :112], pair[1][..., :96, :112].clone().requires_grad_(True)
    m = create_metric("lpips+smic", weights=vgg_weights_path)
    (grad,) = torch.autograd.grad(m(ref, dist).sum(), dist)
    assert torch.isfinite(grad).all() and float(grad.abs().sum()) > 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu(
    pair: tuple[torch.Tensor, torch.Tensor], vgg_weights_path: Path
) -> None:  # pragma: no cover - no GPU on the CI machines
    ref, dist = pair
    for name in ("psnr_smic", "lpips+smic"):
        m = create_metric(name, weights=vgg_weights_path)
        cpu = m(ref, dist)
        gpu = m.to("cuda")(ref.cuda(), dist.cuda()).cpu()
        torch.testing.assert_close(gpu, cpu, rtol=1e-3, atol=0)
