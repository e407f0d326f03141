"""A scoped cache of VGG16 passes, so that metrics run together share them.

Several deep metrics often feed the same prepared image to the same shared
backbone (:func:`friqa.backbone.get_vgg16`): ``psnr_smic``, ``ssim_smic`` and
``dists_smic`` all run the L2-pooled VGG16 on the same SMIC-resized, un-normalised
image. Inside ``with feature_cache():`` every :meth:`VGG16.forward
<friqa.backbone.vgg16.VGG16.forward>` looks its input up first:

* the key is the backbone's weights (file, device, dtype) and pooling, ImageNet
  normalisation on or off, the ``channels_last`` choice, the input's shape,
  strides, dtype and device, the dtype the pass runs in and the autocast state;
  the input's *content* must then be equal (``torch.equal``; the same tensor
  object, unchanged since, is taken without comparing), because each metric
  prepares its own copy;
* a hit hands back the recorded layer outputs; a request for deeper taps resumes
  the pass from the last layer output it kept (:meth:`VGG16.run_layers
  <friqa.backbone.vgg16.VGG16.run_layers>`); a request for a shallower tap that
  was not recorded runs the layers again from the deepest recorded output before
  it (from the input if there is none). A pass records the taps asked for plus
  LPIPS'/DISTS' five taps, so the usual requests never re-run;
* a pass of the *other* pooling on the same input (same weights) starts from the
  recorded ``relu1_2``: the layers before the first pooling do not depend on it
  (DISTS and DeepSSIM share their full-resolution ``conv1_x``, and so do
  ``lpips_smic`` and ``dists_smic``);
* inputs that require gradients, DeepSSIM's ``conv1_1`` mask, and calls outside a
  scope bypass the cache.

Every feature handed out is the output of the very operations an uncached pass
runs on the same values, so scores are bit-identical to running the metrics one
by one (``tests/metrics/test_metric_set.py``). :meth:`FeatureCache.memoize`
shares a result computed from shared features in the same way (SMIC's attention
grids: ``psnr_smic`` and ``ssim_smic`` compute the same ones).

Entries are kept in least-recently-used order within a byte budget (evicting
only costs a recomputation) and are dropped when the scope ends. The scope is a
context variable, so threads and async tasks do not see each other's cache.
:class:`friqa.metrics.metric_set.MetricSet` opens one per batch.

Callers must not modify returned features in place (no friqa metric does).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

import torch
from torch import Tensor

if TYPE_CHECKING:
    from friqa.backbone.vgg16 import VGG16

T = TypeVar("T")

__all__ = ["FeatureCache", "feature_cache", "active_feature_cache", "DEFAULT_CACHE_BYTES"]

#: Default byte budget of a :class:`FeatureCache` (features of a few 512x384 batches).
DEFAULT_CACHE_BYTES = 2 * 1024**3

#: Results kept by :meth:`FeatureCache.memoize` (the oldest is dropped beyond it).
MAX_MEMOS = 8

_ACTIVE: ContextVar[FeatureCache | None] = ContextVar("friqa_feature_cache", default=None)


def _autocast_state(device: torch.device) -> tuple[bool, torch.dtype | None]:
    kind = device.type
    if not torch.is_autocast_enabled(kind):
        return (False, None)
    return (True, torch.get_autocast_dtype(kind))


def _pass_key(net: VGG16, x: Tensor, normalize: bool) -> tuple[Any, ...]:
    """(weights, pooling, channels_last, what enters the backbone): what makes a pass."""
    return (
        net.weights_key,
        net.pooling if net.weights_key is not None else net,
        net.uses_channels_last(x),
        normalize,
        tuple(x.shape),
        x.stride(),
        x.dtype,
        x.device,
        net.pass_dtype(x),
        _autocast_state(x.device),
    )


@dataclass
class _Memo:
    """A result computed in this scope and what it was computed from."""

    name: str
    same: list[Tensor]
    versions: list[int]
    equal: list[Tensor]
    params: tuple[Any, ...]
    value: Any

    def matches(
        self, name: str, same: Sequence[Tensor], equal: Sequence[Tensor], params: tuple[Any, ...]
    ) -> bool:
        if name != self.name or params != self.params or len(same) != len(self.same):
            return False
        if len(equal) != len(self.equal):
            return False
        for a, b, v in zip(self.same, same, self.versions, strict=True):
            if a is not b or b._version != v:
                return False
        return all(
            a.shape == b.shape
            and a.dtype == b.dtype
            and a.device == b.device
            and bool(torch.equal(a, b))
            for a, b in zip(self.equal, equal, strict=True)
        )


@dataclass
class _Entry:
    """One input's pass: the layer outputs recorded so far and where it stopped."""

    key: tuple[Any, ...]
    x: Tensor
    version: int
    h: Tensor  # output of features[depth] (the prepared input when depth == -1)
    depth: int
    taps: dict[int, Tensor] = field(default_factory=dict)

    def nbytes(self) -> int:
        seen: dict[int, int] = {}
        for t in (self.h, *self.taps.values()):
            seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return sum(seen.values())

    def matches(self, key: tuple[Any, ...], x: Tensor) -> bool:
        if key != self.key or self.x._version != self.version:
            return False
        return self.x is x or bool(torch.equal(self.x, x))


class FeatureCache:
    """VGG16 passes recorded during one scope (see the module docstring).

    Args:
        max_bytes: budget of the recorded features; the least recently used entries
            are dropped beyond it (the entry in use is always kept).

    Attributes:
        passes: layer runs started from an input (cache misses and re-runs).
        resumed: layer runs started from a recorded layer output (deeper taps, or
            taps a pass went through without keeping).
        hits: requests answered from recorded features alone.
    """

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.max_bytes = int(max_bytes)
        self._entries: list[_Entry] = []
        self._memos: list[_Memo] = []
        self.passes = 0
        self.resumed = 0
        self.hits = 0

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def accepts(x: Tensor) -> bool:
        """Whether a pass on ``x`` may be cached (no gradient is asked of it)."""
        return not x.requires_grad

    def clear(self) -> None:
        """Drop every entry."""
        self._entries.clear()
        self._memos.clear()

    def features(
        self,
        net: VGG16,
        x: Tensor,
        indices: Sequence[int],
        *,
        normalize: bool,
        keep: Collection[int] = (),
    ) -> dict[int, Tensor]:
        """Outputs of ``net.features[i]`` for ``i`` in ``indices`` on ``x``, shared when possible.

        Layer outputs in ``keep`` are recorded too when the pass runs through them
        (the taps other metrics are likely to ask for next).
        """
        key = _pass_key(net, x, normalize)
        entry = next((e for e in self._entries if e.matches(key, x)), None)
        if entry is None:
            entry = self._sibling_prefix(net, key, x) or _Entry(
                key, x, x._version, net.prepare_input(x, normalize=normalize), -1
            )
        else:
            self._entries.remove(entry)
        self._entries.append(entry)
        need = max(indices, default=-1)
        passed = [i for i in indices if i not in entry.taps and i <= entry.depth]
        if passed:
            self._record_passed(net, entry, passed, normalize, keep)
        if need > entry.depth:
            if entry.depth >= 0:
                self.resumed += 1
            else:
                self.passes += 1
            record = {*indices, *keep}
            entry.h, new = net.run_layers(entry.h, entry.depth + 1, need, record)
            entry.taps.update(new)
            entry.depth = need
        elif not passed:
            self.hits += 1
        self._evict(keep=entry)
        return {i: entry.taps[i] for i in indices}

    def _record_passed(
        self,
        net: VGG16,
        entry: _Entry,
        passed: Sequence[int],
        normalize: bool,
        keep: Collection[int],
    ) -> None:
        """Record the layers ``passed``, which the pass went through without keeping them.

        They run again from the deepest recorded output before them: the same layers on
        the very tensor the pass gave them, so the outputs are the pass's own. With no
        such output, or in a channels_last pass (whose records are copies), they run
        again from the input.
        """
        first, last = min(passed), max(passed)
        base = -1 if entry.key[2] else max((i for i in entry.taps if i < first), default=-1)
        if base < 0:
            h = net.prepare_input(entry.x, normalize=normalize)
            self.passes += 1
        else:
            h = entry.taps[base]
            self.resumed += 1
        record = {i for i in (*passed, *keep) if base < i <= last and i not in entry.taps}
        entry.taps.update(net.run_layers(h, base + 1, last, record)[1])

    def _sibling_prefix(self, net: VGG16, key: tuple[Any, ...], x: Tensor) -> _Entry | None:
        """A new entry starting from the pooling-free layers of the other pooling's pass."""
        if key[0] is None or key[2]:  # unknown weights, or channels_last (taps are copies)
            return None
        prefix = net.pooling_free_depth
        for e in self._entries:
            if e.key[1] != key[1] and e.key[2:] == key[2:] and e.key[0] == key[0]:
                if prefix in e.taps and e.matches(e.key, x):
                    taps = {i: t for i, t in e.taps.items() if i <= prefix}
                    return _Entry(key, x, x._version, e.taps[prefix], prefix, taps)
        return None

    def memoize(
        self,
        name: str,
        same: Sequence[Tensor],
        equal: Sequence[Tensor],
        params: tuple[Any, ...],
        compute: Callable[[], T],
    ) -> T:
        """``compute()``, or its result from an earlier call in this scope with the same inputs.

        Args:
            name: what is computed (keeps different computations apart).
            same: tensors that must be the very same objects, unchanged since (features
                handed out by this cache).
            equal: tensors that must be equal in content (small ones: projections).
            params: every other argument, hashable.
            compute: the computation; its result must not be modified by the callers.
        """
        for memo in self._memos:
            if memo.matches(name, same, equal, params):
                self.hits += 1
                return cast(T, memo.value)
        value = compute()
        if len(self._memos) >= MAX_MEMOS:
            del self._memos[0]
        self._memos.append(
            _Memo(name, list(same), [v._version for v in same], list(equal), params, value)
        )
        return value

    def _evict(self, keep: _Entry) -> None:
        total = sum(e.nbytes() for e in self._entries)
        for e in list(self._entries):
            if total <= self.max_bytes:
                break
            if e is not keep:
                total -= e.nbytes()
                self._entries.remove(e)


def active_feature_cache() -> FeatureCache | None:
    """The cache of the innermost :func:`feature_cache` scope, or ``None`` outside one."""
    return _ACTIVE.get()


@contextmanager
def feature_cache(max_bytes: int = DEFAULT_CACHE_BYTES) -> Iterator[FeatureCache]:
    """Share VGG16 passes among the deep metrics called inside this block.

    Nested scopes reuse the outer cache. Example::

        with feature_cache():
            a = friqa.create_metric("psnr_smic")(ref, dist)
            b = friqa.create_metric("dists_smic")(ref, dist)  # reuses psnr_smic's passes
    """
    outer = _ACTIVE.get()
    if outer is not None:
        yield outer
        return
    cache = FeatureCache(max_bytes)
    token = _ACTIVE.set(cache)
    try:
        yield cache
    finally:
        _ACTIVE.reset(token)
        cache.clear()
