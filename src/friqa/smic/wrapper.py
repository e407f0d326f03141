"""SMIC attention for any metric with a distortion map, and the "consistent" SMIC variants.

The faithful metrics (``psnr_smic`` ... ``deepwsd_smic``) reproduce the SMIC
reference, quirks included (no LPIPS normalisation, dropped linear weights,
un-normalised DISTS input, ...). This module applies the *idea* of SMIC to the
real base metrics instead:

    score = pool(attention * distortion map)

where the distortion map is the base metric's own (larger = more distorted) and
the attention is the SMIC attention of the pair (``1 - mean MIC`` per patch of
the L2-pooled VGG16 relu3_3 and relu4_3 features, the two stage grids combined
as in the reference and zoomed to the map with ``scipy.ndimage.zoom`` order-1
semantics). With an attention of 1 everywhere every consistent variant gives
its base metric's score exactly; that is what "consistent" means.

* :class:`SMICWrapper` wraps any :class:`~friqa.metrics.base.Metric` that
  returns a map, or any callable ``(ref, dist) -> map``; its score is the mean of
  the rectified map (optionally passed through ``reduce``).
* Registered variants (family ``"smic-consistent"``): ``"psnr+smic"``
  (``10 log10(L^2 / mean(att * squared error))``), ``"ssim+smic"`` (the MATLAB
  SSIM of ``"ssim"``: ``1 - mean(att * (1 - SSIM map))``), ``"ms_ssim+smic"``
  (attention applied to the map of every scale) and ``"lpips+smic"`` (LPIPS with
  its input scaling, unit normalisation and linear weights at every layer, each
  layer's map weighted by the attention zoomed to that layer).

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

from friqa.exceptions import InputError
from friqa.metrics.base import EncodedRef, Metric, MetricInfo, MetricResult
from friqa.metrics.lpips import LPIPS, LPIPS_LAYERS, lpips_layer_maps
from friqa.metrics.ms_ssim import MSSSIM, downsample2x
from friqa.metrics.psnr import PSNR, psnr_from_mse
from friqa.metrics.registry import create_metric, metric_info, register_metric
from friqa.metrics.ssim import SSIM, _ssim_cs_maps
from friqa.ops.filters import gaussian_kernel1d
from friqa.ops.resize import smic_prepare_shape
from friqa.smic._faithful import SMIC_REFERENCE, SMIC_STAGES
from friqa.smic.attention import SMICAttention, combine_grids
from friqa.smic.projections import SMIC_SEED
from friqa.validation import check_pair

__all__ = [
    "SMICWrapper",
    "smic_wrap",
    "attention_input",
    "PSNRPlusSMIC",
    "SSIMPlusSMIC",
    "MSSSIMPlusSMIC",
    "LPIPSPlusSMIC",
    "AttentionScale",
]

AttentionScale = Literal["smic", "native"]
MapFunction = Callable[[Tensor, Tensor], Tensor]

_CONSISTENT_REFERENCE = (
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


class SMICWrapper(Metric):
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
        reference=_CONSISTENT_REFERENCE,
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
        _info: MetricInfo | None = None,
    ) -> None:
        if isinstance(metric, str):
            options = {"weights": weights} if metric_info(metric).needs_weights else {}
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
        if _info is None:
            base_name = base_info.name if base_info is not None else "custom"
            _info = MetricInfo(
                name=name or f"{base_name}+smic",
                lower_better=lower_better if reduce is not None else True,
                score_range=(-math.inf, math.inf) if reduce is not None else (0.0, math.inf),
                needs_weights=True,
                returns_map=True,
                differentiable=bool(base_info is not None and base_info.differentiable),
                aligned=True,
                family="smic-consistent",
                reference=_CONSISTENT_REFERENCE,
                description=f"SMIC attention on the distortion map of {base_name}",
                gradient_note=base_info.gradient_note if base_info is not None else "",
            )
        object.__setattr__(self, "info", _info)

    @property
    def differentiable(self) -> bool:
        """As the wrapped metric (the attention is a constant weight); True for a callable,
        whose own autograd decides."""
        return self.base.differentiable if isinstance(self.base, Metric) else True

    # --- attention ----------------------------------------------------------------------
    def attention_input(self, x: Tensor) -> Tensor:
        """The images the attention backbone sees (see :func:`attention_input`)."""
        x = x / self.data_range if self.data_range != 1.0 else x
        return attention_input(x, self.attention_scale)

    def attention_grids(self, ref: Tensor, dist: Tensor) -> dict[str, Tensor]:
        """Per-stage attention grids ``(N, gh, gw)`` of a pair batch (no gradient)."""
        ref, dist = check_pair(ref, dist, data_range=self.data_range)
        return self.attention.grids_from_features(
            self.attention.features(self.attention_input(ref)),
            self.attention.features(self.attention_input(dist)),
        )

    # --- Metric API ---------------------------------------------------------------------
    def _encode_ref(self, ref: Tensor) -> dict[str, Any]:
        base = self.base.encode_ref(ref, validate=False) if isinstance(self.base, Metric) else ref
        return {"base": base, "att": self.attention.features(self.attention_input(ref))}

    def _compute(self, ref: EncodedRef, dist: Tensor, return_map: bool) -> MetricResult:
        data: dict[str, Any] = ref.data
        dist_att = self.attention.features(self.attention_input(dist))
        grids = self.attention.grids_from_features(data["att"], dist_att)
        return self._rectify(data["base"], dist, grids, return_map)

    def compute_with_grids(
        self,
        ref: Tensor,
        dist: Tensor,
        grids: Mapping[str, Tensor],
        *,
        return_map: bool = False,
    ) -> MetricResult:
        """Score with given attention grids (stage -> ``(N, gh, gw)``) instead of computing them.

        For example grids of another stride (a stride-1 map), or grids of ones, with
        which every consistent variant returns its base metric's score.
        """
        ref, dist = check_pair(ref, dist, data_range=self.data_range)
        missing = [s for s in self.attention.stages if s not in grids]
        if missing:
            raise InputError(f"grids for the stages {missing} are missing")
        base = self.base.encode_ref(ref, validate=False) if isinstance(self.base, Metric) else ref
        return self._rectify(base, dist, grids, return_map)

    def combined_attention(self, grids: Mapping[str, Tensor], size: Sequence[int]) -> Tensor:
        """The stage grids combined as the reference does, zoomed to ``size``: ``(N, 1, *size)``."""
        return combine_grids([grids[s] for s in self.attention.stages], size=tuple(size))

    def _base_map(self, base: Any, dist: Tensor) -> tuple[Tensor, dict[str, Any]]:
        if isinstance(self.base, Metric):
            res = self.base.compute_encoded(base, dist, return_map=True)
            return _as_map(cast(Tensor, res.map), dist.shape[0], self.base.info.name), res.extras
        fn = self.base
        ref = base.expand(dist.shape[0], *base.shape[1:]) if base.shape[0] == 1 else base
        return _as_map(fn(ref, dist), dist.shape[0], "the map function"), {}

    def _rectify(
        self, base: Any, dist: Tensor, grids: Mapping[str, Tensor], return_map: bool
    ) -> MetricResult:
        dmap, base_extras = self._base_map(base, dist)
        att = self.combined_attention(grids, dmap.shape[-2:])
        rectified = dmap * att.to(dmap.dtype)
        pooled = rectified.mean(dim=(1, 2, 3))
        score = self.reduce(pooled) if self.reduce is not None else pooled
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
            f"base={base}, attention_scale={self.attention_scale!r}, data_range={self.data_range:g}"
        )


def smic_wrap(
    metric: Metric | str | MapFunction,
    *,
    weights: str | os.PathLike[str] | None = None,
    **options: Any,
) -> SMICWrapper:
    """SMIC attention for ``metric`` (a Metric with a map, a registry name or a map callable).

    Returns the registered consistent variant when one exists for a name
    (``"lpips"`` -> ``"lpips+smic"``, ...), else a :class:`SMICWrapper`.

    Example:
        >>> smic_wrap("lpips", weights=path)  # doctest: +SKIP
        LPIPSPlusSMIC(...)
    """
    if isinstance(metric, str):
        key = metric.lower()
        variant = key if key.endswith("+smic") else f"{key}+smic"
        if variant in _VARIANTS:
            return _VARIANTS[variant](weights=weights, **options)
    return SMICWrapper(metric, weights=weights, **options)


# --- the registered consistent variants ---------------------------------------------------
PSNR_PLUS_SMIC_INFO = MetricInfo(
    name="psnr+smic",
    lower_better=False,
    score_range=(0.0, math.inf),
    needs_weights=True,
    returns_map=True,
    differentiable=True,
    family="smic-consistent",
    reference=_CONSISTENT_REFERENCE + " (PSNR's per-pixel squared error, full size)",
    description="PSNR of the attention-weighted squared error (consistent SMIC; = psnr at att 1)",
)


@register_metric(PSNR_PLUS_SMIC_INFO)
class PSNRPlusSMIC(SMICWrapper):
    """PSNR of the SMIC-weighted squared error, ``10 log10(L^2 / mean(att * e^2))``; higher better.

    The map is PSNR's own (squared error averaged over channels, full size, no 7x7
    window); identical images give ``+inf`` as PSNR does. Compare ``"psnr_smic"``, the
    reference's variant (7x7 local MSE, resized images, ``1e-10`` offset).
    Differentiable with respect to ``dist`` (attention constant).
    """

    info = PSNR_PLUS_SMIC_INFO

    def __init__(
        self,
        weights: str | os.PathLike[str] | None = None,
        *,
        data_range: float = 1.0,
        stride: int = 7,
        attention_scale: AttentionScale = "smic",
    ) -> None:
        dr = float(data_range)
        super().__init__(
            PSNR(data_range),
            weights=weights,
            stride=stride,
            attention_scale=attention_scale,
            reduce=lambda m: psnr_from_mse(m, dr),
            _info=PSNR_PLUS_SMIC_INFO,
        )


SSIM_PLUS_SMIC_INFO = MetricInfo(
    name="ssim+smic",
    lower_better=False,
    score_range=(-1.0, 1.0),
    needs_weights=True,
    returns_map=True,
    differentiable=False,
    family="smic-consistent",
    reference=_CONSISTENT_REFERENCE + " (the MATLAB ssim_index.m SSIM of 'ssim')",
    description="1 - mean(att x (1 - SSIM map)) with the classic SSIM (consistent SMIC)",
    gradient_note=(
        "the 8-bit quantisation of its SSIM ('ssim') has no gradient; use quantize=False "
        "for training"
    ),
)


@register_metric(SSIM_PLUS_SMIC_INFO)
class SSIMPlusSMIC(SMICWrapper):
    """Classic SSIM (``"ssim"``) with SMIC attention: ``1 - mean(att * (1 - SSIM map))``.

    Higher is better, 1 for identical images; the SSIM map is the MATLAB
    ``ssim_index.m`` map of ``"ssim"`` (luminance, 11x11 Gaussian). Compare
    ``"ssim_smic"``, the reference's variant (per-channel 7-tap SSIM, resized images,
    a weighted dissimilarity). ``quantize=False`` makes it differentiable (as for
    ``"ssim"``).
    """

    info = SSIM_PLUS_SMIC_INFO

    def __init__(
        self,
        weights: str | os.PathLike[str] | None = None,
        *,
        data_range: float = 1.0,
        quantize: bool = True,
        stride: int = 7,
        attention_scale: AttentionScale = "smic",
    ) -> None:
        super().__init__(
            SSIM(data_range, quantize=quantize),
            weights=weights,
            stride=stride,
            attention_scale=attention_scale,
            reduce=lambda m: 1.0 - m,
            _info=SSIM_PLUS_SMIC_INFO,
        )


MS_SSIM_PLUS_SMIC_INFO = MetricInfo(
    name="ms_ssim+smic",
    lower_better=False,
    score_range=(0.0, 1.0),
    needs_weights=True,
    returns_map=True,
    differentiable=True,
    family="smic-consistent",
    reference=_CONSISTENT_REFERENCE + " (MS-SSIM of 'ms_ssim', attention at every scale)",
    description="MS-SSIM with each scale's map weighted by SMIC attention (consistent SMIC)",
)


@register_metric(MS_SSIM_PLUS_SMIC_INFO)
class MSSSIMPlusSMIC(SMICWrapper):
    """MS-SSIM (``"ms_ssim"``) with SMIC attention at every scale; higher is better.

    At each scale the term MS-SSIM averages (``cs`` at the finer scales, SSIM at the
    coarsest) becomes ``1 - mean(att_j * (1 - map_j))`` per channel, with the
    attention zoomed to that scale's map; the terms are clipped at 0 and combined
    with MS-SSIM's exponents as usual. Map: the rectified finest-scale
    ``1 - SSIM`` map (as MS-SSIM's map). Differentiable (attention constant).
    """

    info = MS_SSIM_PLUS_SMIC_INFO
    base: MSSSIM

    def __init__(
        self,
        weights: str | os.PathLike[str] | None = None,
        *,
        data_range: float = 1.0,
        stride: int = 7,
        attention_scale: AttentionScale = "smic",
    ) -> None:
        super().__init__(
            MSSSIM(data_range),
            weights=weights,
            stride=stride,
            attention_scale=attention_scale,
            _info=MS_SSIM_PLUS_SMIC_INFO,
        )

    def _rectify(
        self, base: Any, dist: Tensor, grids: Mapping[str, Tensor], return_map: bool
    ) -> MetricResult:
        m = self.base
        n = dist.shape[0]
        if min(dist.shape[-2:]) < m.min_size:
            raise InputError(
                f"'{self.info.name}' needs images of at least {m.min_size}x{m.min_size} pixels"
            )
        x: Tensor = base.data if base.shape[0] == n else base.data.expand(n, *dist.shape[1:])
        y = dist
        kernel = gaussian_kernel1d(m.window_size, m.sigma, device=y.device, dtype=y.dtype)
        c1, c2 = (m.k1 * m.data_range) ** 2, (m.k2 * m.data_range) ** 2
        levels = len(m.weights)
        values: list[Tensor] = []
        fine_map: Tensor | None = None
        fine_att: Tensor | None = None
        for level in range(levels):
            if level > 0:
                x, y = downsample2x(x), downsample2x(y)
            s, cs = _ssim_cs_maps(x, y, kernel, c1, c2)
            att = self.combined_attention(grids, s.shape[-2:]).to(s.dtype)
            term = s if level == levels - 1 else cs
            values.append(1.0 - (att * (1.0 - term)).mean(dim=(2, 3)))
            if level == 0:
                fine_map, fine_att = 1.0 - s.mean(dim=1, keepdim=True), att
        clipped = torch.relu(torch.stack(values))  # (levels, N, C)
        w = torch.tensor(m.weights, device=dist.device, dtype=clipped.dtype).view(-1, 1, 1)
        score = (clipped**w).prod(dim=0).mean(dim=1)
        extras: dict[str, Any] = {
            "grids": dict(grids),
            "attention": fine_att,
            "distortion_map": fine_map,
            "scale_values": clipped,
        }
        rectified = cast(Tensor, fine_map) * cast(Tensor, fine_att) if return_map else None
        return MetricResult(score=score, map=rectified, extras=extras)


LPIPS_PLUS_SMIC_INFO = MetricInfo(
    name="lpips+smic",
    lower_better=True,
    score_range=(0.0, math.inf),
    needs_weights=True,
    returns_map=True,
    differentiable=True,
    family="smic-consistent",
    reference=_CONSISTENT_REFERENCE + " (LPIPS v0.1 VGG, every layer kept as in LPIPS)",
    description="LPIPS with every layer's map weighted by SMIC attention (consistent SMIC)",
)


@register_metric(LPIPS_PLUS_SMIC_INFO)
class LPIPSPlusSMIC(SMICWrapper):
    """LPIPS (v0.1, VGG) with SMIC attention at every layer; lower is better.

    Everything of LPIPS is kept (input scaling, unit normalisation of the features,
    the learned linear weights at all five layers); each layer's map
    ``lin((f_R - f_D)^2)`` is multiplied by the attention zoomed to that layer's
    size before the spatial mean. Map: the rectified layer maps upsampled to the
    input size (bilinear, as LPIPS' ``spatial=True``) and summed (``extras``:
    ``"layers"`` always; ``"distortion_map"`` and ``"layer_maps"`` with a map). Compare
    ``"lpips_smic"``, the reference's variant (no normalisation, no linear weights
    at relu3_3/relu4_3, raw patch sums). Differentiable (attention constant).
    """

    info = LPIPS_PLUS_SMIC_INFO
    base: LPIPS

    def __init__(
        self,
        weights: str | os.PathLike[str] | None = None,
        *,
        data_range: float = 1.0,
        stride: int = 7,
        attention_scale: AttentionScale = "smic",
    ) -> None:
        super().__init__(
            LPIPS(weights, data_range),
            weights=weights,
            stride=stride,
            attention_scale=attention_scale,
            _info=LPIPS_PLUS_SMIC_INFO,
        )

    def _rectify(
        self, base: Any, dist: Tensor, grids: Mapping[str, Tensor], return_map: bool
    ) -> MetricResult:
        n = dist.shape[0]
        feats_ref: dict[str, Tensor] = base.data if base.shape[0] == n else _expand(base.data, n)
        feats_dist = self.base.features(dist)
        maps = lpips_layer_maps(feats_ref, feats_dist, self.base.linear_weights())
        rect: dict[str, Tensor] = {}
        layers: dict[str, Tensor] = {}
        for k in LPIPS_LAYERS:
            att = self.combined_attention(grids, maps[k].shape[-2:]).to(maps[k].dtype)
            rect[k] = maps[k] * att
            layers[k] = rect[k].mean(dim=(1, 2, 3))
        total = layers[LPIPS_LAYERS[0]]
        for k in LPIPS_LAYERS[1:]:
            total = total + layers[k]
        size = (dist.shape[-2], dist.shape[-1])
        extras: dict[str, Any] = {
            "grids": dict(grids),
            "attention": self.combined_attention(grids, size),
            "layers": layers,
        }
        rectified: Tensor | None = None
        if return_map:

            def spatial(ms: Mapping[str, Tensor]) -> Tensor:
                ups = [
                    F.interpolate(ms[k], size=size, mode="bilinear", align_corners=False)
                    for k in LPIPS_LAYERS
                ]
                return torch.stack(ups).sum(dim=0)

            rectified = spatial(rect)
            extras["distortion_map"] = spatial(maps)
            extras["layer_maps"] = rect
        return MetricResult(score=total, map=rectified, extras=extras)


def _expand(feats: Mapping[str, Tensor], n: int) -> dict[str, Tensor]:
    return {k: v.expand(n, *v.shape[1:]) for k, v in feats.items()}


_VARIANTS: dict[str, Callable[..., SMICWrapper]] = {
    "psnr+smic": PSNRPlusSMIC,
    "ssim+smic": SSIMPlusSMIC,
    "ms_ssim+smic": MSSSIMPlusSMIC,
    "lpips+smic": LPIPSPlusSMIC,
}
