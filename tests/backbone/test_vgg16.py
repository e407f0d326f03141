"""The plain-torch VGG16: layout, taps, pooling, gradients, sharing, real weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from friqa.backbone import TAPS, VGG16, get_vgg16
from friqa.backbone.pooling import L2Pool
from friqa.backbone.weights import VGG16_CONV_SHAPES, load_vgg16_state_dict
from friqa.exceptions import InputError
from friqa.io import load_image


def _random_vgg(pooling: str) -> VGG16:
    g = torch.Generator().manual_seed(1)
    sd = {}
    for i, (o, c) in VGG16_CONV_SHAPES.items():
        sd[f"features.{i}.weight"] = torch.randn(o, c, 3, 3, generator=g) * (2.0 / (9 * c)) ** 0.5
        sd[f"features.{i}.bias"] = torch.zeros(o)
    return VGG16(sd, pooling=pooling)


@pytest.mark.parametrize(
    ("pooling", "expected"),
    [
        ("max", {"relu1_2": 37, "relu2_2": 18, "relu3_3": 9, "relu4_3": 4, "relu5_3": 2}),
        ("l2", {"relu1_2": 37, "relu2_2": 19, "relu3_3": 10, "relu4_3": 5, "relu5_3": 3}),
    ],
)
def test_tap_shapes(pooling: str, expected: dict[str, int]) -> None:
    net = _random_vgg(pooling)
    x = torch.rand(2, 3, 37, 45)
    out = net(x, ["image", *expected])
    channels = {"relu1_2": 64, "relu2_2": 128, "relu3_3": 256, "relu4_3": 512, "relu5_3": 512}
    assert out["image"] is x
    for tap, h in expected.items():
        assert out[tap].shape[:3] == (2, channels[tap], h), (tap, out[tap].shape)


def test_state_dict_keys_are_torchvisions() -> None:
    keys = set(_random_vgg("max").state_dict())
    assert keys == {f"features.{i}.{k}" for i in VGG16_CONV_SHAPES for k in ("weight", "bias")}


def test_l2_pool_matches_its_definition() -> None:
    x = torch.rand(1, 2, 6, 7, dtype=torch.float64)
    pool = L2Pool(2).double()
    got = pool(x)
    w = np.array([0.5, 1.0, 0.5])
    h = np.outer(w, w) / np.outer(w, w).sum()
    padded = np.pad(x.numpy() ** 2, ((0, 0), (0, 0), (1, 1), (1, 1)))
    want = np.zeros((1, 2, 3, 4))
    for c in range(2):
        for i in range(3):
            for j in range(4):
                want[0, c, i, j] = np.sqrt(
                    (padded[0, c, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3] * h).sum() + 1e-12
                )
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


def test_normalisation_and_conv1_1_mask() -> None:
    net = _random_vgg("max")
    x = torch.rand(1, 3, 16, 16)
    raw = net(x, ["conv1_1"], normalize=False)["conv1_1"]
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    normed = net((x - mean) / std, ["conv1_1"], normalize=False)["conv1_1"]
    torch.testing.assert_close(net(x, ["conv1_1"])["conv1_1"], normed)
    assert not torch.allclose(raw, normed)
    mask = torch.zeros(1, 1, 16, 16)
    mask[..., :8, :] = 1
    masked = net(x, ["conv1_1", "relu1_1"], conv1_1_mask=mask)
    assert torch.equal(masked["conv1_1"][..., 8:, :], torch.zeros(1, 64, 8, 16))
    torch.testing.assert_close(masked["relu1_1"], masked["conv1_1"].clamp_min(0))


def test_frozen_eval_and_gradient_reaches_input() -> None:
    net = _random_vgg("l2")
    net.train()
    assert not net.training
    assert all(not p.requires_grad for p in net.parameters())
    x = torch.rand(1, 3, 32, 32, requires_grad=True)
    net(x, ["relu3_3"])["relu3_3"].pow(2).mean().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in net.parameters())


def test_unknown_tap_is_an_error() -> None:
    with pytest.raises(InputError, match="relu6_1"):
        _random_vgg("max")(torch.rand(1, 3, 8, 8), ["relu6_1"])


def test_only_runs_as_deep_as_needed() -> None:
    net = _random_vgg("max")
    calls: list[int] = []
    for i, layer in enumerate(net.features):
        layer.register_forward_hook(lambda *_a, i=i: calls.append(i))
    net(torch.rand(1, 3, 16, 16), ["relu2_2"])
    assert max(calls) == TAPS["relu2_2"]


def test_in_place_relus_never_overwrite_a_tap_or_the_callers_tensor() -> None:
    net = _random_vgg("max")
    x = torch.rand(1, 3, 16, 16)
    feats = net(x, ["conv1_1", "relu1_1", "relu1_2"], normalize=False)
    conv = torch.nn.functional.conv2d(x, net.features[0].weight, net.features[0].bias, padding=1)
    assert (feats["conv1_1"] < 0).any()  # the tap before the ReLU keeps its negative values
    assert torch.equal(feats["conv1_1"], conv)
    assert torch.equal(feats["relu1_1"], conv.clamp_min(0))
    h = conv.clone()
    _, out = net.run_layers(h, 1, 3, [1, 3])  # a pass resumed at a ReLU
    assert torch.equal(h, conv) and torch.equal(out[3], feats["relu1_2"])


def test_real_weights_give_finite_features(vgg_weights_path: Path, shared_data: Path) -> None:
    img = Image.open(shared_data / "pairs" / "kadid" / "I07.png").convert("RGB")
    x = torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1)[None].float() / 255
    for pooling in ("max", "l2"):
        net = get_vgg16(vgg_weights_path, pooling)
        feats = net(x, ["relu1_2", "relu3_3", "relu5_1", "relu5_3"])
        for name, f in feats.items():
            assert torch.isfinite(f).all(), name
            assert (f > 0).float().mean() > 0.01, name  # real features are not all dead
    # a natural image and its noisy version stay close in relu3_3 relative to an unrelated image
    net = get_vgg16(vgg_weights_path, "max")
    noisy = (x + 0.02 * torch.randn_like(x)).clamp(0, 1)
    other = torch.flip(x, dims=[2, 3])
    f = net(torch.cat([x, noisy, other]), ["relu3_3"])["relu3_3"].flatten(1)
    assert (f[0] - f[1]).norm() < 0.5 * (f[0] - f[2]).norm()


def test_shared_instance(vgg_weights_path: Path) -> None:
    a = get_vgg16(vgg_weights_path, "max")
    b = get_vgg16(str(vgg_weights_path), "max")
    c = get_vgg16(vgg_weights_path, "l2")
    assert a is b
    assert a is not c and isinstance(c.features[4], L2Pool)
    from friqa.backbone import vgg16 as module

    same_file = [k for k in module._STATE_DICTS if k[0] == str(vgg_weights_path.resolve())]
    assert len(same_file) == 1  # the file was read once for both poolings


def _relative(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach().double(), b.detach().double()
    return float((a - b).norm() / b.norm())


@pytest.mark.parametrize("pooling", ["max", "l2"])
def test_channels_last_gives_the_contiguous_features(
    pooling: str, vgg_weights_path: Path, shared_data: Path
) -> None:
    """The opt-in channels_last pass equals the contiguous one to 1e-6 relative (float32).

    Input gradients of a ReLU/max-pool network move with any round-off (a max-pool
    near-tie picks another pixel): in float32 they may differ as much as the
    contiguous float32 gradient differs from the float64 one, no more.
    """
    sd = load_vgg16_state_dict(vgg_weights_path)
    kadid = shared_data / "pairs" / "kadid"
    x = torch.cat([load_image(kadid / f"{n}.png")[None] for n in ("I07", "I07_09_04")])
    x = x[..., 128:256, 192:320]  # a 128x128 crop keeps the test quick
    taps = [t for t in TAPS if t != "image"]
    assert not VGG16(sd, pooling).channels_last  # off unless asked for
    assert not get_vgg16(vgg_weights_path, pooling).channels_last
    feats: dict[tuple[bool, torch.dtype], dict[str, torch.Tensor]] = {}
    grads: dict[tuple[bool, torch.dtype], torch.Tensor] = {}
    for channels_last in (True, False):
        for dtype in (torch.float32, torch.float64):
            net = VGG16(sd, pooling, channels_last=channels_last).to(dtype)
            xi = x.to(dtype).clone().requires_grad_(True)
            out = net(xi, taps)
            sum(f.square().mean() for f in out.values()).backward()
            assert xi.grad is not None
            feats[channels_last, dtype], grads[channels_last, dtype] = out, xi.grad
    for dtype, tol in ((torch.float32, 1e-6), (torch.float64, 1e-12)):
        fast, plain = feats[True, dtype], feats[False, dtype]
        for tap in taps:
            assert fast[tap].is_contiguous() and fast[tap].dtype == dtype
            assert _relative(fast[tap], plain[tap]) <= tol, (dtype, tap)
    f64 = torch.float64
    assert _relative(grads[True, f64], grads[False, f64]) <= 1e-12
    own_error = _relative(grads[False, torch.float32], grads[False, f64])
    assert _relative(grads[True, torch.float32], grads[False, torch.float32]) <= 2 * own_error
