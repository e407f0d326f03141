"""SMIC attention on the distortion map of any metric: the generic consistent wrapper.

The faithful metrics (``psnr_smic`` ... ``deepwsd_smic``) reproduce the SMIC
reference, quirks included (no LPIPS normalisation, dropped linear weights,
un-normalised DISTS input, ...). The consistent family applies the *idea* of
SMIC to the real base metrics instead:

    score = pool(attention * distortion map)

where the distortion map is the base metric's own (larger = more distorted) and
the attention is the SMIC attention of the pair (``1 - mean MIC`` per patch of
the L2-pooled VGG16 relu3_3 and relu4_3 features, the two stage grids combined
as in the reference and zoomed to the map with ``scipy.ndimage.zoom`` order-1
semantics). With an attention of 1 everywhere every consistent variant gives
its base metric's score exactly; that is what "consistent" means.

:class:`SMICWrapper` wraps any :class:`~friqa.metrics.base.Metric` that returns
a map, or any callable ``(ref, dist) -> map``; its score is the mean of the
rectified map (optionally passed through ``reduce``). The registered variants
(family ``"smic-consistent"``, one module each in this package) subclass it and
override :meth:`SMICWrapper._rectify` where the base metric pools its map in
another way; :func:`smic_wrap` finds them through the registry.

Attention input (``attention_scale``): ``"smic"`` (default) resizes the images
for the attention backbone only to the size the reference works at
(:func:`friqa.ops.resize.smic_prepare_shape`: shorter side ``max(int(s/48)*32,
128)``) with torch's antialiased bilinear filter (on the inputs' device, no 8-bit
quantisation), so the 7x7 patches cover the image regions the paper tuned them
for, while the base metric runs on the full-size images; ``"native"`` feeds the
images as given. The attention is a constant weight: MIC is rank-based and has
no gradient, so gradients flow through the base metric's map only.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, cast

import torch
import torch.nn.functional as F
from torch import Tensor

from friqa.backbone.precision import check_precision
from friqa.backbone.provenance import weights_repr
from friqa.exceptions import InputError
from friqa.metrics.base import EncodedRef, Metric, MetricInfo, MetricResult, expand_batch
from friqa.metrics.registry import create_metric, list_metrics, metric_info
from friqa.ops.resize import smic_prepare_shape
from friqa.smic.attention import SMIC_REFERENCE, SMIC_STAGES, SMICAttention
from friqa.smic.projections import SMIC_SEED
from friqa.smic.protocol import SMICMetric

__all__ = [
    "SMICWrapper",
    "smic_wrap",
    "attention_input",
    "AttentionScale",
    "MapFunction",
    "CONSISTENT_REFERENCE",
]

AttentionScale = Literal["smic", "native"]
MapFunction = Callable[[Tensor, Tensor], Tensor]

#: Citation in the metadata of the consistent variants (each adds its base metric).
CONSISTENT_REFERENCE = (
    f"SMIC attention ({SMIC_REFERENCE}) applied to the real base metric's distortion map"
)


def attention_input(x: Tensor, scale: AttentionScale = "smic") -> Tensor:
    """The images the attention backbone sees: resized to the SMIC working size, or as given.

    ``"smic"``: shorter side to ``max(int(s / 48) * 32, 128)`` when ``s > 128`` (the
    reference's ``prepare_image`` size), torch antialiased bilinear, clamped to [0, 1];
    ``"native"``: ``x`` itself.
    """
    if scale == "native":
        return x
    if scale != "smic":
        raise InputError(f"attention_scale must be 'smic' or 'native', got {scale!r}")
    h, w = x.shape[-2:]
    size = smic_prepare_shape(h, w)
    if size == (h, w):
        return x
    with torch.no_grad():
        out = F.interpolate(x.detach(), size=size, mode="bilinear", antialias=True)
    return out.clamp(0, 1)


def _as_map(value: Tensor, n: int, what: str) -> Tensor:
    if not isinstance(value, Tensor) or not value.is_floating_point():
        raise InputError(f"{what} must return a floating-point map tensor, got {type(value)}")
    if value.ndim == 3:
        value = value[:, None]
    if value.ndim != 4 or value.shape[0] != n or value.shape[1] != 1:
        raise InputError(
            f"{what} must return a distortion map of shape (N, 1, h, w) or (N, h, w) with "
            f"N = {n}, got {tuple(value.shape)}"
        )
    return value


class SMICWrapper(SMICMetric):
    """SMIC attention on the distortion map of any metric (ours or a user's callable).

    ``score = mean(attention * map)`` per image (``reduce(...)`` of it when given),
    where ``map`` is the base metric's distortion map (larger = more distorted) and
    the attention is zoomed to the map's size. See the module docstring.

    Args:
        metric: a :class:`~friqa.metrics.base.Metric` with ``returns_map=True``, a
            registry name, or a callable ``(ref, dist) -> (N, 1, h, w)`` map.
        weights: VGG16 weights for the attention (and for a named deep metric).
        data_range: the value of white (taken from ``metric`` when it is a Metric).
        patch_size, stride: attention patches (the reference: 7 and 7; any stride works).
        stages: VGG16 taps carrying attention (relu3_3, relu4_3).
        attention_scale: ``"smic"`` (default) or ``"native"`` (see :func:`attention_input`).
        reduce: maps the pooled rectified distortion ``(N,)`` to the score (for example
            ``lambda m: 10 * torch.log10(1 / m)``); ``None`` keeps it.
        lower_better: direction of the score after ``reduce`` (a distortion without it).
        name: registry-style name in :attr:`info` (default ``"<metric>+smic"``).
        info: the metadata of this instance; default derived from the base metric,
            ``name``, ``reduce`` and ``lower_better`` (the registered variants pass theirs).
        precision: ``"fp32"`` (default) or ``"bf16"``: the backbone passes in bfloat16
            (CPU) / float16 (CUDA): faster, scores move slightly (see
            :mod:`friqa.backbone.precision`); never the default.

    ``compute(..., return_map=True)`` gives the rectified map; ``extras`` holds
    ``"grids"``, ``"attention"`` (at the map size), ``"distortion_map"`` and
    ``"base"`` (the base metric's extras) whether or not the map is asked for.

    Example:
        >>> def abs_map(ref, dist):
        ...     return (ref - dist).abs().mean(1, keepdim=True)
        >>> m = SMICWrapper(abs_map, weights=path)  # doctest: +SKIP
        >>> m(ref, dist)  # doctest: +SKIP
    """

    info = MetricInfo(
        name="smic_wrapper",
        lower_better=True,
        score_range=(0.0, math.inf),
        needs_weights=True,
        returns_map=True,
        differentiable=False,
        family="smic-consistent",
        reference=CONSISTENT_REFERENCE,
        description="SMIC attention applied to a metric's distortion map",
    )

    def __init__(
        self,
        metric: Metric | str | MapFunction,
        *,
        weights: str | os.PathLike[str] | None = None,
        data_range: float = 1.0,
        patch_size: int = 7,
        stride: int = 7,
        stages: Sequence[str] = SMIC_STAGES,
        attention_scale: AttentionScale = "smic",
        reduce: Callable[[Tensor], Tensor] | None = None,
        lower_better: bool = True,
        name: str | None = None,
        info: MetricInfo | None = None,
        precision: str = "fp32",
    ) -> None:
        if isinstance(metric, str):
            options: dict[str, object] = {}
            if metric_info(metric).needs_weights:
                options = {"weights": weights, "precision": precision}
            metric = create_metric(metric, **options)
        base_info: MetricInfo | None = None
        if isinstance(metric, Metric):
            base_info = metric.info
            if base_info.family in ("smic", "smic-consistent"):
                raise InputError(
                    f"metric '{base_info.name}' already carries SMIC attention; wrap its base "
                    "metric instead"
                )
            if not base_info.returns_map:
                raise InputError(
                    f"metric '{base_info.name}' has no distortion map, so SMIC attention has "
                    "nothing to weight; wrap a metric with returns_map=True or a callable "
                    "returning a map"
                )
            data_range = metric.data_range
        elif not callable(metric):
            raise InputError(f"metric must be a Metric, a name or a callable, got {metric!r}")
        super().__init__(data_range)
        self.precision = check_precision(precision)
        if attention_scale not in ("smic", "native"):
            raise InputError(f"attention_scale must be 'smic' or 'native', got {attention_scale!r}")
        self.base = metric
        self.weights = weights
        self.attention_scale = attention_scale
        self.reduce = reduce
        self.attention = SMICAttention(
            weights,
            pooling="l2",
            normalize=False,
            patch_size=patch_size,
            stride=stride,
            projections=32,
            seed=SMIC_SEED,
            stages=stages,
        )
        if info is None:
            base_name = base_info.name if base_info is not None else "custom"
            info = MetricInfo(
                name=name or f"{base_name}+smic",
                lower_better=lower_better if reduce is not None else True,
                score_range=(-math.inf, math.inf) if reduce is not None else (0.0, math.inf),
                needs_weights=True,
                returns_map=True,
                differentiable=bool(base_info is not None and base_info.differentiable),
                aligned=True,
                family="smic-consistent",
                reference=CONSISTENT_REFERENCE,
                description=f"SMIC attention on the distortion map of {base_name}",
                gradient_note=base_info.gradient_note if base_info is not None else "",
            )
        self.info = info  # per instance: the metadata follows the wrapped metric

    @property
    def differentiable(self) -> bool:
        """As the wrapped metric (the attention is a constant weight); True for a callable,
        whose own autograd decides."""
        return self.base.differentiable if isinstance(self.base, Metric) else True

    # --- the SMIC interface -------------------------------------------------------------
    @property
    def attention_stages(self) -> tuple[str, ...]:
        return self.attention.stages

    def attention_input(self, x: Tensor) -> Tensor:
        """The images the attention backbone sees (see :func:`attention_input`)."""
        x = x / self.data_range if self.data_range != 1.0 else x
        return attention_input(x, self.attention_scale)

    def map_input(self, x: Tensor) -> Tensor:
        """The images as given, scaled to [0, 1]: the base metric's maps are full size."""
        return x / self.data_range if self.data_range != 1.0 else x

    def attention_grids(self, ref: Tensor, dist: Tensor) -> dict[str, Tensor]:
        """Per-stage attention grids ``(N, gh, gw)`` of a pair batch (:meth:`pair_grids`)."""
        return self.pair_grids(ref, dist)

    def _pair_grids(
        self, ref: Tensor, dist: Tensor, stride: int | None, patch_size: int | None
    ) -> dict[str, Tensor]:
        return self.attention.pair_grids(
            self.attention_input(ref),
            self.attention_input(dist),
            stride=stride,
            patch_size=patch_size,
        )

    def _compute_with_grids(
        self, ref: Tensor, dist: Tensor, grids: dict[str, Tensor], return_map: bool
    ) -> MetricResult:
        return self._rectify(self._encode_base(ref), dist, grids, return_map)

    # --- Metric API ---------------------------------------------------------------------
    def _encode_base(self, ref: Tensor) -> EncodedRef | Tensor:
        return self.base.encode_ref(ref, validate=False) if isinstance(self.base, Metric) else ref

    def _encode_ref(self, ref: Tensor) -> dict[str, Any]:
        return {
            "base": self._encode_base(ref),
            "att": self.attention.features(self.attention_input(ref)),
        }

    def _compute(self, ref: EncodedRef, dist: Tensor, return_map: bool) -> MetricResult:
        data: dict[str, Any] = ref.data
        dist_att = self.attention.features(self.attention_input(dist))
        grids = self.attention.grids_from_features(data["att"], dist_att)
        return self._rectify(data["base"], dist, grids, return_map)

    def _base_map(self, base: Any, dist: Tensor) -> tuple[Tensor, dict[str, Any]]:
        n = dist.shape[0]
        if isinstance(self.base, Metric):
            res = self.base.compute_encoded(base, dist, return_map=True)
            return _as_map(cast(Tensor, res.map), n, self.base.info.name), res.extras
        return _as_map(self.base(expand_batch(base, n), dist), n, "the map function"), {}

    def reduce_score(self, pooled: Tensor) -> Tensor:
        """The score from the mean of the rectified map, ``(N,)``: ``reduce`` if given."""
        return self.reduce(pooled) if self.reduce is not None else pooled

    def _rectify(
        self, base: Any, dist: Tensor, grids: Mapping[str, Tensor], return_map: bool
    ) -> MetricResult:
        """Score ``dist`` against the encoded base reference with the attention ``grids``.

        ``base`` is the base metric's :class:`~friqa.metrics.base.EncodedRef` (the
        reference image for a callable). Variants whose base metric pools its map
        otherwise override this.
        """
        dmap, base_extras = self._base_map(base, dist)
        att = self.combined_attention(grids, dmap.shape[-2:])
        rectified = dmap * att.to(dmap.dtype)
        pooled = rectified.mean(dim=(1, 2, 3))
        score = self.reduce_score(pooled)
        extras: dict[str, Any] = {
            "grids": dict(grids),
            "attention": att,
            "distortion_map": dmap,
            "base": base_extras,
        }
        return MetricResult(score=score, map=rectified if return_map else None, extras=extras)

    def extra_repr(self) -> str:
        base = self.base.info.name if isinstance(self.base, Metric) else repr(self.base)
        return (
            f"base={base}, {weights_repr(self.weights)}, attention_scale={self.attention_scale!r}, "
            f"data_range={self.data_range:g}"
        )


def smic_wrap(
    metric: Metric | str | MapFunction,
    *,
    weights: str | os.PathLike[str] | None = None,
    **options: Any,
) -> SMICWrapper:
    """SMIC attention for ``metric`` (a Metric with a map, a registry name or a map callable).

    Returns the registered consistent variant when one exists for a name
    (``"lpips"`` -> ``"lpips+smic"``, ...: any metric of family ``"smic-consistent"``
    registered as ``"<name>+smic"``), else a :class:`SMICWrapper`.

    Example:
        >>> smic_wrap("lpips", weights=path)  # doctest: +SKIP
        LPIPSPlusSMIC(...)
    """
    if isinstance(metric, str):
        key = metric.lower()
        variant = key if key.endswith("+smic") else f"{key}+smic"
        if variant in list_metrics("smic-consistent"):
            wrapped = create_metric(variant, weights=weights, **options)
            if not isinstance(wrapped, SMICWrapper):
                raise InputError(
                    f"'{variant}' is registered as a consistent SMIC variant but is not an "
                    "SMICWrapper; register it with family='smic-consistent' only if it is"
                )
            return wrapped
    return SMICWrapper(metric, weights=weights, **options)
