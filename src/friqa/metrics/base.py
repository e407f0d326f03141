"""The :class:`Metric` base class and the metadata every metric carries.

A metric is a ``torch.nn.Module``. Calling it on a reference batch and a
distorted batch returns one score per image; :meth:`Metric.compute` also
returns the distortion map when asked. Metrics that run a backbone on the
reference can reuse its features across many distorted images
(:meth:`Metric.encode_ref` + :meth:`Metric.compute_encoded`), which the
evaluation harness does for datasets with many distortions per reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import torch
from torch import Tensor, nn

from friqa.backbone.precision import reduced_precision
from friqa.exceptions import InputError
from friqa.formatting import json_number
from friqa.metrics.gradients import refuse_gradients
from friqa.validation import check_batch, check_data_range, check_pair

__all__ = ["Family", "MetricInfo", "MetricResult", "EncodedRef", "Metric", "expand_batch"]


class Family(str, Enum):
    """The metric families of the registry; members are their (JSON) string values.

    ``Family.SMIC == "smic"`` holds, and ``str()``/formatting give the bare value.
    """

    BASE = "base"
    #: faithful to the SMIC reference (its preprocessing and quirks)
    SMIC = "smic"
    #: SMIC attention applied to the real base metric
    SMIC_CONSISTENT = "smic-consistent"
    DEEPSSIM = "deepssim"

    def __str__(self) -> str:
        return str.__str__(self)


_FAMILY_VALUES = frozenset(f.value for f in Family)


@dataclass(frozen=True)
class MetricInfo:
    """Metadata of a registered metric.

    Attributes:
        name: registry name (lower case, for example ``"lpips"`` or ``"psnr_smic"``).
        lower_better: True when a smaller score means better quality (a distance).
        score_range: the theoretical range of the score (``math.inf`` for unbounded).
        needs_weights: True when the metric needs the VGG16 backbone weights.
        returns_map: True when ``compute(..., return_map=True)`` gives a spatial map.
        differentiable: True when the score can be back-propagated to ``dist``.
        aligned: True when ``ref`` and ``dist`` must have the same size.
        family: a :class:`Family` (a known family given as its string becomes the
            member); metrics registered by users may name their own family.
        reference: paper and reference code (with commit) the metric reproduces.
        description: one line for ``friqa list``.
        gradient_note: when not differentiable, why and what to train with instead (the
            error raised by ``backward`` through the score; see :mod:`friqa.metrics.gradients`).
    """

    name: str
    lower_better: bool
    score_range: tuple[float, float]
    needs_weights: bool
    returns_map: bool
    differentiable: bool
    aligned: bool = True
    family: Family | str = Family.BASE
    reference: str = ""
    description: str = ""
    gradient_note: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.family, Family) and self.family in _FAMILY_VALUES:
            object.__setattr__(self, "family", Family(self.family))

    def as_dict(self) -> dict[str, Any]:
        """The metadata as JSON-friendly values (infinite bounds become strings)."""

        def bound(v: float) -> float | str:
            return json_number(v)

        return {
            "name": self.name,
            "lower_better": self.lower_better,
            "score_range": [bound(self.score_range[0]), bound(self.score_range[1])],
            "needs_weights": self.needs_weights,
            "returns_map": self.returns_map,
            "differentiable": self.differentiable,
            "aligned": self.aligned,
            "family": self.family,
            "reference": self.reference,
            "description": self.description,
            "gradient_note": self.gradient_note,
        }


@dataclass
class MetricResult:
    """What :meth:`Metric.compute` returns.

    Attributes:
        score: one score per image, shape ``(N,)``.
        map: the distortion map ``(N, 1, h, w)`` (larger = more distorted) when asked
            for and available, else ``None``. Its size is documented by each metric.
        extras: metric-specific intermediate results (per-layer terms, attention grids).
    """

    score: Tensor
    map: Tensor | None = None
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class EncodedRef:
    """A reference batch prepared once for many comparisons.

    Attributes:
        shape: shape of the reference batch as given (before any preprocessing).
        data: whatever the metric needs (features, the prepared image, ...).
    """

    shape: tuple[int, ...]
    data: Any


def expand_batch(obj: Any, n: int) -> Any:
    """Expand every tensor with batch size 1 inside ``obj`` (nested dict/list/tuple) to ``n``.

    Used to compare one encoded reference with a batch of distorted images.
    Tensors whose batch size already equals ``n`` are returned unchanged.
    """
    if isinstance(obj, Tensor):
        if obj.ndim == 0 or obj.shape[0] == n:
            return obj
        if obj.shape[0] == 1:
            return obj.expand(n, *obj.shape[1:])
        raise InputError(f"cannot expand a batch of {obj.shape[0]} to {n}")
    if isinstance(obj, Mapping):
        return {k: expand_batch(v, n) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return tuple(expand_batch(v, n) for v in obj)
    if isinstance(obj, list):
        return [expand_batch(v, n) for v in obj]
    return obj


class Metric(nn.Module):
    """Base class of friqa metrics.

    Subclasses set the class attribute :attr:`info` and implement
    :meth:`_compute` (and, when they run a backbone on the reference,
    :meth:`_encode_ref`). Inputs are ``(N, 3, H, W)`` floats in
    ``[0, data_range]``; ``ref`` comes first.

    Args:
        data_range: the value of white in the inputs (1.0 for images in [0, 1]).
    """

    info: MetricInfo
    #: Precision of the backbone passes (``"fp32"`` or ``"bf16"``; see
    #: :mod:`friqa.backbone.precision`). Deep metrics take it as a constructor option.
    precision: str = "fp32"

    def __init__(self, data_range: float = 1.0) -> None:
        super().__init__()
        self.data_range = check_data_range(data_range)

    # --- public API -----------------------------------------------------------------
    def forward(self, ref: Tensor, dist: Tensor, *, clamp: bool = False) -> Tensor:
        """Score a batch of pairs: one score per image, shape ``(N,)``.

        Values up to ``1e-3 * data_range`` outside ``[0, data_range]`` are clamped
        (:data:`friqa.validation.RANGE_TOLERANCE`); ``clamp=True`` clamps any value
        (for network outputs) instead of refusing the input.
        """
        return self.compute(ref, dist, clamp=clamp).score

    def compute(
        self, ref: Tensor, dist: Tensor, *, return_map: bool = False, clamp: bool = False
    ) -> MetricResult:
        """Score a batch of pairs and, with ``return_map=True``, give the distortion map
        (``clamp``: see :meth:`forward`)."""
        if return_map and not self.info.returns_map:
            raise InputError(f"metric '{self.info.name}' does not produce a distortion map")
        ref, dist = check_pair(
            ref, dist, data_range=self.data_range, aligned=self.info.aligned, clamp=clamp
        )
        with reduced_precision(self.precision):
            result = self._compute(self.encode_ref(ref, validate=False), dist, return_map)
        if not self.differentiable and torch.is_grad_enabled():
            result = refuse_gradients(self, result, ref, dist)
        return result

    def encode_ref(self, ref: Tensor, *, validate: bool = True) -> EncodedRef:
        """Prepare a reference batch once, to compare it with many distorted batches."""
        if validate:
            ref = check_batch(ref, "ref", data_range=self.data_range)
        with reduced_precision(self.precision):
            return EncodedRef(shape=tuple(ref.shape), data=self._encode_ref(ref))

    def compute_encoded(
        self, ref: EncodedRef, dist: Tensor, *, return_map: bool = False
    ) -> MetricResult:
        """Score ``dist`` against an encoded reference.

        An encoded reference of batch size 1 is compared with every image of ``dist``.
        """
        if return_map and not self.info.returns_map:
            raise InputError(f"metric '{self.info.name}' does not produce a distortion map")
        dist = check_batch(dist, "dist", data_range=self.data_range)
        n = dist.shape[0]
        if ref.shape[0] not in (1, n):
            raise InputError(
                f"encoded ref has batch size {ref.shape[0]}, dist has {n}; they must match "
                "or the reference must be a single image"
            )
        if self.info.aligned and tuple(ref.shape[1:]) != tuple(dist.shape[1:]):
            raise InputError(
                f"ref and dist must have the same shape for '{self.info.name}', got ref "
                f"{tuple(ref.shape)} and dist {tuple(dist.shape)}"
            )
        data = ref.data if ref.shape[0] == n else expand_batch(ref.data, n)
        with reduced_precision(self.precision):
            result = self._compute(EncodedRef((n, *ref.shape[1:]), data), dist, return_map)
        if not self.differentiable and torch.is_grad_enabled():
            result = refuse_gradients(self, result, ref.data, dist)
        return result

    @property
    def differentiable(self) -> bool:
        """Whether this instance's score has a gradient: ``info.differentiable`` unless an
        option changes it (``quantize=False``, ``preprocess=False``, ...). When False,
        ``backward`` through the score raises :class:`~friqa.exceptions.NotDifferentiableError`.
        """
        return self.info.differentiable

    # --- to implement -----------------------------------------------------------------
    def _encode_ref(self, ref: Tensor) -> Any:
        """Work done on the reference alone; the default keeps the image itself."""
        return ref

    def _compute(self, ref: EncodedRef, dist: Tensor, return_map: bool) -> MetricResult:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"data_range={self.data_range:g}"
