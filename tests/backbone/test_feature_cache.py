"""The scoped VGG16 feature cache: shared, resumed and re-run passes equal an uncached pass."""

from __future__ import annotations

from pathlib import Path

import torch

from friqa.backbone import TAPS, FeatureCache, active_feature_cache, feature_cache, get_vgg16

DEEP = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")


def _image(seed: int = 0, size: tuple[int, int] = (48, 40)) -> torch.Tensor:
    return torch.rand(1, 3, *size, generator=torch.Generator().manual_seed(seed))


def _plain(net: torch.nn.Module, x: torch.Tensor, taps: tuple[str, ...], **kw: bool) -> dict:
    assert active_feature_cache() is None
    return net(x, taps, **kw)


def _same(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_scope_is_entered_and_left() -> None:
    assert active_feature_cache() is None
    with feature_cache() as cache:
        assert active_feature_cache() is cache
        with feature_cache() as inner:
            assert inner is cache
    assert active_feature_cache() is None


def test_shallow_then_deep_resumes_bit_identically(vgg_weights_path: Path) -> None:
    net = get_vgg16(vgg_weights_path, "l2")
    x = _image()
    want_shallow = _plain(net, x, ("image", "relu3_3", "relu4_3"), normalize=False)
    want_deep = _plain(net, x, ("image", *DEEP), normalize=False)
    with feature_cache() as cache:
        got_shallow = net(x, ("image", "relu3_3", "relu4_3"), normalize=False)
        got_deep = net(x.clone(), ("image", *DEEP), normalize=False)  # equal content
        again = net(x, ("relu4_3",), normalize=False)
    _same(got_shallow, want_shallow)
    _same({k: v for k, v in got_deep.items() if k != "image"}, {k: want_deep[k] for k in DEEP})
    assert again["relu4_3"] is got_shallow["relu4_3"]
    assert (cache.passes, cache.resumed, cache.hits) == (1, 1, 1)
    assert len(cache) == 0  # dropped when the scope ends


def test_unrecorded_shallow_tap_reruns_the_pass(vgg_weights_path: Path) -> None:
    net = get_vgg16(vgg_weights_path, "max")
    x = _image(1)
    want = _plain(net, x, ("conv1_1", "pool2", "relu5_3"))
    with feature_cache() as cache:
        net(x, ("relu5_3",))
        got = net(x, ("conv1_1", "pool2", "relu5_3"))
    _same(got, want)
    assert cache.passes == 2


def test_passed_tap_runs_again_from_the_deepest_record_before_it(vgg_weights_path: Path) -> None:
    """A tap the pass went through without keeping it (DeepSSIM's relu5_1 after LPIPS'
    relu5_3) is recomputed from the recorded output just before it, not by a new pass."""
    net = get_vgg16(vgg_weights_path, "max")
    x = _image(2)
    want = _plain(net, x, ("conv1_1", "relu1_1", "pool2", "relu4_1", "relu5_1", "relu5_3"))
    with feature_cache() as cache:
        first = net(x, ("conv1_1", "relu5_3"))
        conv1_1 = first["conv1_1"].clone()
        got = net(x, ("conv1_1", "relu1_1", "pool2", "relu4_1", "relu5_1", "relu5_3"))
    _same(got, want)
    assert torch.equal(first["conv1_1"], conv1_1)  # the in-place ReLU after it ran on a copy
    assert got["relu5_3"] is first["relu5_3"]
    assert (cache.passes, cache.resumed, cache.hits) == (1, 1, 0)


def test_other_pooling_shares_the_first_block(vgg_weights_path: Path) -> None:
    x = _image(2)
    max_net, l2_net = get_vgg16(vgg_weights_path, "max"), get_vgg16(vgg_weights_path, "l2")
    want = _plain(l2_net, x, DEEP)
    with feature_cache() as cache:
        first = max_net(x, ("relu1_2", "relu3_3"))
        got = l2_net(x, DEEP)
    _same(got, want)
    assert got["relu1_2"] is first["relu1_2"]
    assert (cache.passes, cache.resumed) == (1, 1)


def test_what_differs_is_not_shared(vgg_weights_path: Path) -> None:
    net = get_vgg16(vgg_weights_path, "max")
    x, y = _image(3), _image(4)
    with feature_cache() as cache:
        a = net(x, ("relu2_2",))
        b = net(y, ("relu2_2",))  # other content
        c = net(x, ("relu2_2",), normalize=False)  # other preparation
        d = get_vgg16(vgg_weights_path, "max", dtype=torch.float64)(x.double(), ("relu2_2",))
    assert cache.passes == 4 and cache.hits == 0
    assert not torch.equal(a["relu2_2"], b["relu2_2"])
    assert not torch.equal(a["relu2_2"], c["relu2_2"])
    assert d["relu2_2"].dtype == torch.float64


def test_in_place_change_and_gradients_bypass(vgg_weights_path: Path) -> None:
    net = get_vgg16(vgg_weights_path, "max")
    x = _image(5)
    with feature_cache() as cache:
        before = net(x, ("relu1_2",))["relu1_2"].clone()
        x.mul_(0.5)  # the same tensor, changed: its recorded pass no longer applies
        after = net(x, ("relu1_2",))["relu1_2"]
        assert cache.passes == 2
        assert not torch.equal(before, after)
        g = x.clone().requires_grad_(True)
        net(g, ("relu1_2",))["relu1_2"].sum().backward()
        assert cache.passes == 2 and g.grad is not None


def test_budget_keeps_only_the_entry_in_use(vgg_weights_path: Path) -> None:
    net = get_vgg16(vgg_weights_path, "max")
    with feature_cache(max_bytes=0) as cache:
        net(_image(6), ("relu1_2",))
        net(_image(7), ("relu1_2",))
        assert len(cache) == 1


def test_memoize_needs_the_same_tensors_and_equal_contents() -> None:
    cache = FeatureCache()
    f, p = torch.rand(3), torch.rand(2)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.memoize("a", [f], [p], (1,), compute) == 1
    assert cache.memoize("a", [f], [p.clone()], (1,), compute) == 1
    assert cache.memoize("a", [f.clone()], [p], (1,), compute) == 2
    assert cache.memoize("a", [f], [p], (2,), compute) == 3
    assert cache.memoize("b", [f], [p], (1,), compute) == 4
    f.add_(1)
    assert cache.memoize("a", [f], [p], (1,), compute) == 5


def test_taps_are_known() -> None:
    assert max(TAPS.values()) == 29
