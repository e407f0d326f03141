"""SMIC attention: how much of the reference's deep structure survives in the distorted image.

Xiao, Wang, He, Chen and Shen, "Sliced Maximal Information Coefficient: A
Training-Free Approach for Image Quality Assessment Enhancement", arXiv
2408.09920 (2024); reference code KANGX99/SMIC, smic-pytorch, commit 6736abe.

For each SMIC stage (VGG16 relu3_3 and relu4_3 by default) both feature maps
are projected to ``projections`` channels with the seeded random projections of
:mod:`friqa.smic.projections`, cut into ``k x k`` patches with stride ``s``
(patches that do not fit are dropped, so the grid is ``((h - k) // s + 1,
(w - k) // s + 1)``), and for every patch and projection the MIC between the
reference's and the distorted image's ``k * k`` values is computed (alpha 0.5,
c 10: the MINE settings of the reference). The attention of a patch is ``1 -``
the mean MIC over projections: high where the distortion destroyed the
dependence between the two images, low where it did not.

All patches and projections of all stages and images of a batch go to the MIC
engine in one call; nothing loops over patches.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from friqa.backbone.feature_cache import active_feature_cache
from friqa.backbone.vgg16 import get_vgg16
from friqa.exceptions import InputError
from friqa.mic import mic
from friqa.ops.patches import grid_shape, patch_vectors
from friqa.ops.resize import zoom_bilinear
from friqa.smic.projections import SMIC_SEED, projection_weights
from friqa.validation import check_pair

__all__ = [
    "SMIC_STAGES",
    "SMIC_REFERENCE",
    "SMICAttention",
    "attention_grid",
    "attention_grids",
    "patch_vectors",
    "combine_grids",
    "min_max_normalize",
    "grid_shape",
]

#: The VGG16 taps carrying SMIC attention in the reference.
SMIC_STAGES: tuple[str, ...] = ("relu3_3", "relu4_3")

#: Citation used in the metadata of the SMIC metrics.
SMIC_REFERENCE = (
    "Xiao, Wang, He, Chen, Shen, 'Sliced Maximal Information Coefficient: A Training-Free "
    "Approach for Image Quality Assessment Enhancement', arXiv 2408.09920; "
    "github.com/KANGX99/SMIC smic-pytorch @6736abe"
)


def _check_stage(ref_feat: Tensor, dist_feat: Tensor, projection: Tensor) -> None:
    if ref_feat.shape != dist_feat.shape:
        raise InputError(
            f"SMIC needs features of equal shape, got {tuple(ref_feat.shape)} and "
            f"{tuple(dist_feat.shape)}"
        )
    if ref_feat.ndim != 4:
        raise InputError(f"SMIC needs (N, C, h, w) features, got shape {tuple(ref_feat.shape)}")
    ch = ref_feat.shape[1]
    if projection.ndim != 2 or projection.shape[1] != ch:
        raise InputError(
            f"projection of shape {tuple(projection.shape)} does not fit {ch}-channel features"
        )


def attention_grids(
    ref_feats: Mapping[str, Tensor],
    dist_feats: Mapping[str, Tensor],
    projections: Mapping[str, Tensor],
    *,
    patch_size: int = 7,
    stride: int = 7,
    alpha: float = 0.5,
    c: float = 10.0,
) -> dict[str, Tensor]:
    """SMIC attention of several stages: ``1 - mean MIC`` per patch, ``(N, gh, gw)`` float64.

    The patches of every stage, projection and image go to the MIC engine in a
    single call (they all hold ``k * k`` values), so the engine's fixed cost per
    call is paid once per batch.

    Args:
        ref_feats, dist_feats: stage -> reference / distorted features ``(N, C, h, w)``.
        projections: stage -> ``(P, C)`` projection matrix (see :func:`projection_weights`);
            its keys are the stages computed, in order.
        patch_size: ``k``; the MIC sample size is ``k * k``.
        stride: ``s``.
        alpha, c: MIC parameters (the reference's MINE uses 0.5 and 10).

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> ref = {"a": torch.rand(2, 8, 12, 12, generator=g)}
        >>> dist = {"a": ref["a"] + 0.3 * torch.rand(2, 8, 12, 12, generator=g)}
        >>> out = attention_grids(ref, dist, {"a": torch.randn(4, 8, generator=g)}, patch_size=4,
        ...                       stride=4)
        >>> out["a"].shape, out["a"].dtype
        (torch.Size([2, 3, 3]), torch.float64)

    Inside a :func:`friqa.backbone.feature_cache` scope (a :class:`~friqa.MetricSet`),
    metrics handing in the same shared features, equal projections and the same
    parameters get the grids computed once (``psnr_smic``, ``ssim_smic`` and
    ``dists_smic`` do).
    """
    cache = active_feature_cache()
    if cache is None:
        return _attention_grids(ref_feats, dist_feats, projections, patch_size, stride, alpha, c)
    stages = tuple(projections)
    return dict(
        cache.memoize(
            "smic.attention_grids",
            [f[s] for f in (ref_feats, dist_feats) for s in stages],
            [projections[s] for s in stages],
            (stages, patch_size, stride, alpha, c),
            lambda: _attention_grids(
                ref_feats, dist_feats, projections, patch_size, stride, alpha, c
            ),
        )
    )


def _attention_grids(
    ref_feats: Mapping[str, Tensor],
    dist_feats: Mapping[str, Tensor],
    projections: Mapping[str, Tensor],
    patch_size: int,
    stride: int,
    alpha: float,
    c: float,
) -> dict[str, Tensor]:
    xs: list[Tensor] = []
    ys: list[Tensor] = []
    shapes: list[tuple[str, int, int, int, int]] = []
    with torch.no_grad():  # MIC depends on ranks only: no gradient exists
        for stage, projection in projections.items():
            ref_feat, dist_feat = ref_feats[stage].detach(), dist_feats[stage].detach()
            _check_stage(ref_feat, dist_feat, projection)
            n, _, h, w = ref_feat.shape
            gh, gw = grid_shape(h, w, patch_size, stride)
            weight = projection.to(device=ref_feat.device, dtype=ref_feat.dtype)[:, :, None, None]
            for feat, samples in ((dist_feat, xs), (ref_feat, ys)):  # no copy of the features
                patches = patch_vectors(F.conv2d(feat, weight), patch_size, stride)  # (N, L, P, kk)
                samples.append(patches.reshape(-1, patch_size * patch_size))
            shapes.append((stage, n, gh, gw, projection.shape[0]))
        if not shapes:
            return {}
        scores = mic(torch.cat(xs), torch.cat(ys), alpha=alpha, c=c)
    out: dict[str, Tensor] = {}
    lo = 0
    for stage, n, gh, gw, p in shapes:
        part = scores[lo : lo + n * gh * gw * p].view(n, gh * gw, p)
        lo += n * gh * gw * p
        out[stage] = (1.0 - part.mean(dim=-1)).view(n, gh, gw)
    return out


def attention_grid(
    ref_feat: Tensor,
    dist_feat: Tensor,
    projection: Tensor,
    *,
    patch_size: int = 7,
    stride: int = 7,
    alpha: float = 0.5,
    c: float = 10.0,
) -> Tensor:
    """SMIC attention of one stage: ``1 - mean MIC`` per patch, shape ``(N, gh, gw)``, float64.

    Args:
        ref_feat: reference features ``(N, C, h, w)``.
        dist_feat: distorted-image features, same shape.
        projection: ``(P, C)`` projection matrix (see :func:`projection_weights`).
        patch_size: ``k``; the MIC sample size is ``k * k``.
        stride: ``s``.
        alpha, c: MIC parameters (the reference's MINE uses 0.5 and 10).
    """
    return attention_grids(
        {"stage": ref_feat},
        {"stage": dist_feat},
        {"stage": projection},
        patch_size=patch_size,
        stride=stride,
        alpha=alpha,
        c=c,
    )["stage"]


def combine_grids(grids: Sequence[Tensor], size: Sequence[int] | None = None) -> Tensor:
    """The reference's combination: zoom every grid to the first one's, average, then zoom.

    Zooms follow ``scipy.ndimage.zoom(order=1)`` (:func:`friqa.ops.resize.zoom_bilinear`).

    Args:
        grids: ``(N, gh, gw)`` grids, the first one (relu3_3) setting the grid size.
        size: optional ``(height, width)`` of the final map.

    Returns:
        ``(N, 1, gh, gw)``, or ``(N, 1, *size)`` when ``size`` is given.
    """
    if not grids:
        raise InputError("no attention grids to combine")
    first = grids[0][:, None]
    target = tuple(first.shape[-2:])
    total = first
    for g in grids[1:]:
        total = total + zoom_bilinear(g[:, None], target)
    out = total / len(grids)
    if size is not None and tuple(size) != target:
        out = zoom_bilinear(out, tuple(size))
    return out


def min_max_normalize(grid: Tensor) -> Tensor:
    """Scale each image's map to [0, 1] (the reference's figures); a flat map becomes 0."""
    flat = grid.flatten(1)
    lo = flat.min(dim=1).values.view(-1, *([1] * (grid.ndim - 1)))
    hi = flat.max(dim=1).values.view(-1, *([1] * (grid.ndim - 1)))
    span = hi - lo
    return torch.where(span > 0, (grid - lo) / torch.where(span > 0, span, 1), 0)


class SMICAttention(nn.Module):
    """SMIC attention maps for batches of reference/distorted images.

    Args:
        weights: VGG16 weights file (see :func:`friqa.backbone.resolve_vgg16_weights`).
        pooling: VGG16 pooling, ``'l2'`` (the reference's PSNR/SSIM/DISTS/DeepWSD
            variants and its map tool) or ``'max'`` (its LPIPS variant).
        normalize: ImageNet-normalise the input first. The reference does not.
        patch_size, stride: patch grid (the reference: 7 and 7; the map tool: 7 and 1).
        projections, seed: random projections (32, -3566).
        stages: VGG16 taps carrying attention (relu3_3, relu4_3).
        alpha, c: MIC parameters (0.5, 10).

    Example:
        >>> att = SMICAttention(weights=path)  # doctest: +SKIP
        >>> out = att(ref, dist)               # dict with 'grids', 'combined'  # doctest: +SKIP
    """

    def __init__(
        self,
        weights: str | os.PathLike[str] | None = None,
        *,
        pooling: str = "l2",
        normalize: bool = False,
        patch_size: int = 7,
        stride: int = 7,
        projections: int = 32,
        seed: int = SMIC_SEED,
        stages: Sequence[str] = SMIC_STAGES,
        alpha: float = 0.5,
        c: float = 10.0,
    ) -> None:
        super().__init__()
        if patch_size < 2 or stride < 1:
            raise InputError(f"need patch_size >= 2 and stride >= 1, got {patch_size}, {stride}")
        if pooling not in ("l2", "max"):
            raise InputError(f"pooling must be 'l2' or 'max', got {pooling!r}")
        self.weights = weights
        self.pooling = pooling
        self.normalize = normalize
        self.patch_size = patch_size
        self.stride = stride
        self.alpha = alpha
        self.c = c
        self.stages = tuple(stages)
        self.seed = seed
        self.projections = projections
        self._proj = projection_weights(self.stages, projections, seed)

    def projection(self, stage: str) -> Tensor:
        """The ``(P, C)`` projection matrix of a stage."""
        return self._proj[stage]

    def features(self, x: Tensor) -> dict[str, Tensor]:
        """Backbone features of ``x`` at the SMIC stages (no gradient)."""
        net = get_vgg16(self.weights, self.pooling, device=x.device, dtype=x.dtype)
        with torch.no_grad():
            return net(x, self.stages, normalize=self.normalize)

    def grids_from_features(
        self,
        ref_feats: Mapping[str, Tensor],
        dist_feats: Mapping[str, Tensor],
        *,
        stride: int | None = None,
        patch_size: int | None = None,
    ) -> dict[str, Tensor]:
        """Per-stage attention grids ``(N, gh, gw)`` from precomputed features.

        ``stride`` and ``patch_size`` override the module's for this call.
        """
        return attention_grids(
            ref_feats,
            dist_feats,
            {s: self._proj[s] for s in self.stages},
            patch_size=self.patch_size if patch_size is None else patch_size,
            stride=self.stride if stride is None else stride,
            alpha=self.alpha,
            c=self.c,
        )

    def pair_grids(
        self,
        ref: Tensor,
        dist: Tensor,
        *,
        stride: int | None = None,
        patch_size: int | None = None,
    ) -> dict[str, Tensor]:
        """Per-stage attention grids ``(N, gh, gw)`` of images in [0, 1].

        ``ref`` and ``dist`` go through the backbone as two batches, as a score
        computes them, so that inside a :func:`~friqa.backbone.feature_cache.feature_cache`
        scope (``friqa map``) the passes of the score are reused; ``stride`` and
        ``patch_size`` override the module's for this call.
        """
        ref, dist = check_pair(ref, dist)
        return self.grids_from_features(
            self.features(ref), self.features(dist), stride=stride, patch_size=patch_size
        )

    def forward(
        self, ref: Tensor, dist: Tensor, size: Sequence[int] | None = None
    ) -> dict[str, Tensor | dict[str, Tensor]]:
        """Attention of a batch.

        Args:
            ref, dist: ``(N, 3, H, W)`` images in [0, 1].
            size: size of the resized combined map; default the image size.

        Returns:
            ``{"grids": {stage: (N, gh, gw)}, "combined": (N, 1, gh, gw),
            "map": (N, 1, *size)}`` (float64).
        """
        grids = self.pair_grids(ref, dist)
        ordered = [grids[s] for s in self.stages]
        combined = combine_grids(ordered)
        target = tuple(size) if size is not None else tuple(ref.shape[-2:])
        return {"grids": grids, "combined": combined, "map": combine_grids(ordered, target)}

    def extra_repr(self) -> str:
        return (
            f"stages={self.stages}, patch_size={self.patch_size}, stride={self.stride}, "
            f"projections={self.projections}, pooling={self.pooling!r}, "
            f"normalize={self.normalize}, alpha={self.alpha}, c={self.c}"
        )
