"""Opt-in reduced precision of the backbone passes (``precision="bf16"``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import friqa
from friqa.backbone import TAPS, get_vgg16
from friqa.backbone.precision import active_precision, check_precision, reduced_precision
from friqa.cli._common import precision_options
from friqa.exceptions import InputError
from friqa.io import load_image

DEEP = [n for n in friqa.list_metrics() if friqa.metric_info(n).needs_weights]


def test_check_precision() -> None:
    assert check_precision("BF16") == "bf16"
    with pytest.raises(InputError, match="precision must be one of fp32, bf16"):
        check_precision("fp16")


def test_fp32_block_keeps_an_outer_bf16() -> None:
    assert active_precision() == "fp32"
    with reduced_precision("bf16"):
        with reduced_precision("fp32"):
            assert active_precision() == "bf16"
    assert active_precision() == "fp32"


def test_bf16_features_come_back_in_the_input_dtype(vgg_weights_path: Path) -> None:
    net = get_vgg16(vgg_weights_path, "l2")
    x = torch.rand(1, 3, 40, 48, generator=torch.Generator().manual_seed(0))
    exact = net(x, ("relu2_2", "relu4_3"))
    with reduced_precision("bf16"):
        low = net(x, ("relu2_2", "relu4_3"))
    for k, v in low.items():
        assert v.dtype == torch.float32 and v.is_contiguous()
        assert not torch.equal(v, exact[k])
        assert torch.allclose(v, exact[k], rtol=0.1, atol=0.1 * float(exact[k].abs().max()))


def test_bf16_runs_on_a_bfloat16_copy_of_the_weights_made_once(vgg_weights_path: Path) -> None:
    net = get_vgg16(vgg_weights_path, "max")
    twin = net.layers_for(torch.bfloat16)
    assert twin is net.layers_for(torch.bfloat16) and net.layers_for(torch.float32) is net.features
    assert twin[0].weight.dtype == torch.bfloat16
    assert torch.equal(twin[0].weight, net.features[0].weight.to(torch.bfloat16))
    x = torch.rand(1, 3, 40, 48, generator=torch.Generator().manual_seed(1))
    with reduced_precision("bf16"):
        got = net(x, ("relu2_2",))["relu2_2"]
    h = ((x - net.mean) / net.std).to(torch.bfloat16, memory_format=torch.channels_last)
    for layer in twin[: TAPS["relu2_2"] + 1]:
        h = layer(h)
    assert torch.equal(got, h.float())


def test_every_deep_metric_takes_bf16(vgg_weights_path: Path, shared_data: Path) -> None:
    kadid = shared_data / "pairs" / "kadid"
    crop = (slice(None), slice(None), slice(0, 192), slice(0, 256))
    ref = load_image(kadid / "I07.png").unsqueeze(0)[crop]
    dist = load_image(kadid / "I07_09_04.png").unsqueeze(0)[crop]
    with torch.no_grad():
        for name in DEEP:
            fp32 = friqa.create_metric(name, weights=vgg_weights_path)
            bf16 = friqa.create_metric(name, weights=vgg_weights_path, precision="bf16")
            assert fp32.precision == "fp32" and bf16.precision == "bf16", name
            a, b = fp32(ref, dist), bf16(ref, dist)
            assert b.dtype == a.dtype and torch.isfinite(b).all(), name
            assert not torch.equal(a, b), name  # the option does something ...
            assert torch.allclose(a, b, rtol=5e-2, atol=0), (name, a, b)  # ... and little


def test_cli_precision_goes_to_the_deep_metrics() -> None:
    assert precision_options(["psnr", "lpips"], "fp32") == {}
    assert precision_options(["psnr", "LPIPS"], "bf16", {"lpips": {"weights": "w"}}) == {
        "lpips": {"weights": "w", "precision": "bf16"}
    }
