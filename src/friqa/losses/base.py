"""The :class:`Loss` base class: reduction, weight, composition and the reference cache.

Every friqa loss is called as ``loss(ref, dist)`` on ``(N, 3, H, W)`` batches in
[0, 1] (the reference first, as every friqa metric) and is oriented so that
lower is better. ``loss.per_image(ref, dist)`` gives the ``(N,)`` weighted
values before the reduction.

Composition is plain arithmetic: ``l1 + 0.1 * lpips`` is a :class:`CompositeLoss`
whose per-image value is the weighted sum of its terms' per-image values; the
terms must share one reduction, which the sum applies.

The reference is a constant. Each loss encodes it (for a deep loss: runs the
backbone on it) under ``torch.no_grad`` and keeps that encoding for the *same
tensor object*, unchanged in place (``ref._version``), on the same autocast
state; calling the loss again with that tensor in the same training step (a
second output, deep supervision, gradient accumulation over outputs) reuses it.
The cache holds one reference and a strong reference to its tensor, so the
identity cannot be recycled by a new batch allocated at the same address;
:meth:`Loss.clear_reference_cache` drops it.

Precision: under ``torch.autocast`` with bfloat16 a loss runs as autocast says.
Under float16 autocast it runs in float32 (autocast off, float16 inputs cast up):
VGG16 features, their squared norms and Gram sums exceed float16's largest value
(65504), which gave NaN values or gradients for most VGG-based losses (DISTS,
DeepWSD, DeepSSIM(-Lite), the SMIC variants) and for MS-SSIM on CPU; float32
costs time but no correctness.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import torch
from torch import Tensor, nn

from friqa.exceptions import InputError

__all__ = ["Loss", "CompositeLoss", "REDUCTIONS", "check_reduction", "reduce"]

#: The reductions every loss accepts.
REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction: str) -> str:
    """``reduction`` after checking it is one of :data:`REDUCTIONS`."""
    if reduction not in REDUCTIONS:
        raise InputError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def reduce(values: Tensor, reduction: str) -> Tensor:
    """Per-image values ``(N,)`` reduced: their mean, their sum, or themselves (``"none"``)."""
    if reduction == "mean":
        return values.mean()
    if reduction == "sum":
        return values.sum()
    return values


def _scaled(factor: float, text: str) -> str:
    if factor == 1.0:
        return text
    return f"{factor:g} * ({text})" if " " in text else f"{factor:g} * {text}"


def _check_weight(weight: float) -> float:
    try:
        value = float(weight)
    except (TypeError, ValueError) as exc:
        raise InputError(f"weight must be a finite number, got {weight!r}") from exc
    if not math.isfinite(value):
        raise InputError(f"weight must be a finite number, got {weight!r}")
    return value


@dataclass
class _CachedRef:
    ref: Tensor  # held so that its id cannot be reused by another tensor
    version: int
    autocast: tuple[bool, torch.dtype]
    encoded: Any


def _autocast_state(device: torch.device) -> tuple[bool, torch.dtype]:
    kind = device.type
    return torch.is_autocast_enabled(kind), torch.get_autocast_dtype(kind)


@contextlib.contextmanager
def _no_float16_autocast(device: torch.device) -> Iterator[bool]:
    """Autocast off when it is on with float16 (see the module docstring); yields whether."""
    enabled, dtype = _autocast_state(device)
    if enabled and dtype == torch.float16:
        with torch.autocast(device.type, enabled=False):
            yield True
    else:
        yield False


def _float32(x: Tensor, cast: bool) -> Tensor:
    return x.float() if cast and x.dtype == torch.float16 else x


class Loss(nn.Module):
    """``(N, 3, H, W)`` in [0, 1], ``ref`` first: base class of friqa losses, lower is better.

    Subclasses implement :meth:`_encode_ref` (work on the reference alone, run
    without gradient and cached) and :meth:`_loss` (unweighted per-image values
    ``(N,)`` of ``dist`` against the encoded reference).

    Args:
        reduction: ``"mean"`` (default), ``"sum"`` or ``"none"`` (shape ``(N,)``).
        weight: factor applied to every per-image value.
    """

    #: how the loss is named in descriptions (``"l1"``, ``"1 - ssim_rgb"``, ...)
    label: str = "loss"

    def __init__(self, reduction: str = "mean", weight: float = 1.0) -> None:
        super().__init__()
        self.reduction = check_reduction(reduction)
        self.weight = _check_weight(weight)
        self._cached: _CachedRef | None = None

    # --- public API -----------------------------------------------------------------
    def forward(self, ref: Tensor, dist: Tensor) -> Tensor:
        """The reduced loss of ``dist`` (the output being trained) against ``ref``."""
        return reduce(self.per_image(ref, dist), self.reduction)

    def per_image(self, ref: Tensor, dist: Tensor) -> Tensor:
        """Weighted per-image losses ``(N,)``; gradients reach ``dist`` only."""
        if not isinstance(dist, Tensor):
            raise InputError(
                f"dist: expected a torch.Tensor of shape (N, 3, H, W), got {type(dist)}"
            )
        with _no_float16_autocast(dist.device) as cast:
            encoded = self.encoded_reference(_float32(ref, cast))
            values = self._loss(encoded, _float32(dist, cast))
        return values if self.weight == 1.0 else self.weight * values

    def encoded_reference(self, ref: Tensor) -> Any:
        """``ref`` encoded without gradient, reused while ``ref`` is the same unchanged tensor."""
        if not isinstance(ref, Tensor):
            raise InputError(f"ref: expected a torch.Tensor of shape (N, 3, H, W), got {type(ref)}")
        state = _autocast_state(ref.device)
        hit = self._cached
        if hit is not None and hit.ref is ref and hit.version == ref._version:
            if hit.autocast == state:
                return hit.encoded
        self._cached = None  # free the old encoding before computing the new one
        with torch.no_grad():
            encoded = self._encode_ref(ref.detach())
        self._cached = _CachedRef(ref, ref._version, state, encoded)
        return encoded

    def clear_reference_cache(self) -> None:
        """Forget the cached reference (frees its features)."""
        self._cached = None

    def describe(self) -> str:
        """The loss as an expression, for example ``"l1 + 0.1 * lpips"``."""
        return _scaled(self.weight, self.label)

    # --- composition ------------------------------------------------------------------
    def __add__(self, other: object) -> CompositeLoss:
        if not isinstance(other, Loss):
            return NotImplemented
        return CompositeLoss([(1.0, self), (1.0, other)])

    def __radd__(self, other: object) -> Loss:
        if isinstance(other, (int, float)) and other == 0:  # sum([a, b, c]) starts at 0
            return self
        return NotImplemented

    def __mul__(self, factor: object) -> CompositeLoss:
        if not isinstance(factor, (int, float)) or isinstance(factor, bool):
            return NotImplemented
        return CompositeLoss([(float(factor), self)])

    __rmul__ = __mul__

    # --- to implement -----------------------------------------------------------------
    def _encode_ref(self, ref: Tensor) -> Any:
        """Work on the reference alone (run under ``torch.no_grad``); default: ``ref``."""
        return ref

    def _loss(self, ref: Any, dist: Tensor) -> Tensor:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, weight={self.weight:g}"


class CompositeLoss(Loss):
    """``(N, 3, H, W)`` in [0, 1], ``ref`` first: a weighted sum of losses (``l1 + 0.1 * lpips``).

    Its per-image value is ``sum(coefficient * term.per_image(ref, dist))``; each
    term keeps its own weight and reference cache. The terms must share one
    reduction, which the sum applies.

    Args:
        terms: ``(coefficient, loss)`` pairs; nested sums are flattened.
    """

    def __init__(self, terms: Iterable[tuple[float, Loss]]) -> None:
        flat: list[tuple[float, Loss]] = []
        for coef, term in terms:
            if isinstance(term, CompositeLoss):
                flat.extend((coef * c, t) for c, t in term.terms())
            else:
                flat.append((_check_weight(coef), term))
        reductions = {t.reduction for _, t in flat}
        if len(reductions) != 1:
            raise InputError(
                f"the terms of a sum of losses must share one reduction, got {sorted(reductions)}; "
                "create them with the same reduction="
            )
        super().__init__(reduction=reductions.pop())
        self.parts = nn.ModuleList(t for _, t in flat)
        self.coefficients = [c for c, _ in flat]

    def terms(self) -> list[tuple[float, Loss]]:
        """The ``(coefficient, loss)`` pairs of the sum."""
        return [(c, cast(Loss, t)) for c, t in zip(self.coefficients, self.parts, strict=True)]

    def per_image(self, ref: Tensor, dist: Tensor) -> Tensor:
        """Weighted sum of the terms' per-image losses ``(N,)``."""
        values = [
            value if coef == 1.0 else coef * value
            for coef, term in self.terms()
            for value in (term.per_image(ref, dist),)
        ]
        total = values[0]  # a sum has at least one term (built by + or *)
        for value in values[1:]:
            total = total + value
        return total

    def clear_reference_cache(self) -> None:
        for _, term in self.terms():
            term.clear_reference_cache()

    def describe(self) -> str:
        return " + ".join(_scaled(coef, term.describe()) for coef, term in self.terms())

    def extra_repr(self) -> str:
        return f"{self.describe()!r}, reduction={self.reduction!r}"
