"""Shared machinery of the five faithful SMIC metrics (``psnr_smic`` ... ``deepwsd_smic``).

Each faithful metric reproduces one script of the SMIC reference (Xiao et al.,
arXiv 2408.09920; KANGX99/SMIC, ``smic-pytorch``, commit 6736abe). They share:

* **preprocessing** (``preprocess=True``, the default): the reference's
  ``prepare_image`` (:func:`friqa.ops.resize.smic_prepare`: shorter side
  ``s > 128`` -> ``max(int(s / 48) * 32, 128)`` with PIL bilinear on the
  8-bit quantised image; a 512x384 image becomes 341x256), or DeepWSD's
  ``wsd_prepare_image`` for ``deepwsd_smic``. It runs through PIL on the CPU,
  so it is exact for images read from 8-bit files but has no gradient.
  ``preprocess=False`` feeds the images as given;
* **the backbone**: VGG16 on the *un-normalised* [0, 1] image (the reference
  never applies ImageNet mean/std), with L2 pooling (max pooling for LPIPS),
  run once per image; the same features serve the metric's own terms and the
  attention;
* **the attention**: per SMIC stage (relu3_3 and relu4_3), the seeded random
  projections, ``k x k`` patches with stride ``s`` and ``1 - mean MIC`` per
  patch (:func:`friqa.smic.attention.attention_grids`, one batched MIC call for
  both stages). MIC depends on ranks only, so the attention is a constant weight
  without gradient;
* **the SMIC interface** (:class:`friqa.smic.protocol.SMICMetric`): the
  attention and map input are the prepared images; :meth:`pair_grids` runs the
  metric's own backbone (taps, pooling, DeepWSD's padding) on a pair batch;
  :meth:`compute_with_grids` runs the metric with given grids in place of the
  ones it would compute (:meth:`FaithfulSMICMetric.attention_grids` hands them
  to the subclass's ``_score``).

The reference scores one pair at a time; here every step is batched, and a
batch of N pairs gives the numbers of N single calls.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple

from torch import Tensor

from friqa.backbone import get_vgg16
from friqa.backbone.feature_cache import active_feature_cache
from friqa.backbone.precision import check_precision
from friqa.backbone.provenance import weights_repr
from friqa.exceptions import InputError
from friqa.metrics.base import EncodedRef, Family, MetricInfo, MetricResult
from friqa.ops.patches import grid_shape
from friqa.ops.resize import smic_prepare
from friqa.smic.attention import SMIC_REFERENCE, SMIC_STAGES, attention_grids
from friqa.smic.projections import projection_weights
from friqa.smic.protocol import SMICMetric, check_patches

__all__ = [
    "FaithfulSMICMetric",
    "PreparedPair",
    "SMIC_STAGES",
    "SMIC_REFERENCE",
    "SMIC_GRADIENT_NOTE",
    "faithful_info",
]

#: Why the faithful metrics have no gradient, and what to train with (``gradient_note``).
SMIC_GRADIENT_NOTE = (
    "the reference's 8-bit PIL resizing has no gradient; use preprocess=False, or a "
    "'smic-consistent' metric such as 'lpips+smic', for training"
)


def faithful_info(
    name: str,
    script: str,
    description: str,
    *,
    lower_better: bool,
    score_range: tuple[float, float],
    returns_map: bool,
) -> MetricInfo:
    """Metadata of a faithful SMIC metric reproducing the reference's ``script``.

    What the five share is filled in: VGG16 weights needed, family ``smic``, no
    gradient with the reference's preprocessing (:data:`SMIC_GRADIENT_NOTE`).

    Example:
        >>> faithful_info("x_smic", "X_SMIC.py", "...", lower_better=True,
        ...               score_range=(0.0, 1.0), returns_map=False).family
        <Family.SMIC: 'smic'>
    """
    return MetricInfo(
        name=name,
        lower_better=lower_better,
        score_range=score_range,
        needs_weights=True,
        returns_map=returns_map,
        differentiable=False,
        family=Family.SMIC,
        gradient_note=SMIC_GRADIENT_NOTE,
        reference=f"{SMIC_REFERENCE}, {script}",
        description=description,
    )


class PreparedPair(NamedTuple):
    """What a faithful metric scores: the prepared images and their VGG16 features."""

    ref: Tensor
    dist: Tensor
    ref_feats: Mapping[str, Tensor]
    dist_feats: Mapping[str, Tensor]


class FaithfulSMICMetric(SMICMetric):
    """Base of the faithful SMIC metrics: preprocessing, backbone once per image, attention.

    Subclasses set :attr:`taps`, :attr:`pooling`, :attr:`patch_size` and
    :attr:`stride`, return their fixed weights from :meth:`constants` (kept as
    buffers) and implement :meth:`_score`, which takes its attention from
    :meth:`attention_grids`. A subclass overriding :meth:`_encode_ref` keeps its
    ``"image"`` and ``"feats"`` entries (the prepared image and the features the
    attention uses).

    Args:
        weights: VGG16 weights file (see :func:`friqa.backbone.resolve_vgg16_weights`).
        preprocess: apply the reference's resizing (default, needed to reproduce its
            numbers); ``False`` uses the images as given.
        data_range: the value of white in the inputs (images are divided by it).
        precision: ``"fp32"`` (default) or ``"bf16"``: the backbone passes in bfloat16
            (CPU) / float16 (CUDA): faster, scores move slightly (see
            :mod:`friqa.backbone.precision`); never the default.
        patch_size, stride: the attention patches (default: the reference's, the
            class attributes); a smaller ``patch_size`` lets small images be scored
            (the scores then differ from the reference's, which uses the defaults).

    Gradients: with ``preprocess=False`` the score is differentiable with respect to
    ``dist``, the attention being a constant weight; the default PIL preprocessing
    has none.
    """

    #: VGG16 taps the metric needs (the SMIC stages included).
    taps: ClassVar[tuple[str, ...]] = SMIC_STAGES
    #: ``'l2'`` or ``'max'``.
    pooling: ClassVar[str] = "l2"
    #: Attention patch size and stride (the reference's; options of the constructor).
    patch_size: int = 7
    stride: int = 7

    proj_relu3_3: Tensor
    proj_relu4_3: Tensor
    #: Grids given to :meth:`compute_with_grids`, returned by :meth:`attention_grids` meanwhile.
    _given_grids: dict[str, Tensor] | None = None

    def __init__(
        self,
        weights: str | os.PathLike[str] | None = None,
        *,
        preprocess: bool = True,
        data_range: float = 1.0,
        patch_size: int | None = None,
        stride: int | None = None,
        precision: str = "fp32",
    ) -> None:
        super().__init__(data_range)
        self.weights = weights
        self.precision = check_precision(precision)
        self.preprocess = bool(preprocess)
        if patch_size is not None or stride is not None:
            self.patch_size, self.stride = check_patches(
                self.patch_size if patch_size is None else patch_size,
                self.stride if stride is None else stride,
            )
        for stage, w in projection_weights(SMIC_STAGES).items():
            self.register_buffer(f"proj_{stage}", w, persistent=False)
        for name, value in self.constants().items():
            self.register_buffer(name, value, persistent=False)

    def constants(self) -> dict[str, Tensor]:
        """The metric's fixed weights by buffer name (moved with the module); none here."""
        return {}

    @property
    def differentiable(self) -> bool:
        """True without the reference's PIL preprocessing (``preprocess=False``) only."""
        return not self.preprocess

    # --- pieces -------------------------------------------------------------------------
    def projection(self, stage: str) -> Tensor:
        """The ``(32, C)`` random projection of a SMIC stage."""
        proj: Tensor = getattr(self, f"proj_{stage}")
        return proj

    def prepare(self, x: Tensor) -> Tensor:
        """Scale to [0, 1] and, with ``preprocess=True``, resize as the reference does."""
        x = x / self.data_range if self.data_range != 1.0 else x
        if not self.preprocess:
            return x
        cache = active_feature_cache()
        if cache is None or x.requires_grad:
            return smic_prepare(x)
        # in a shared scope (MetricSet, friqa map) each image is resized once
        return cache.memoize("smic_prepare", [x], [], (), lambda: smic_prepare(x))

    def features(self, x: Tensor) -> dict[str, Tensor]:
        """VGG16 features of prepared images at :attr:`taps` (no ImageNet normalisation)."""
        net = get_vgg16(self.weights, self.pooling, device=x.device, dtype=x.dtype)
        return net(x, self.taps, normalize=False)

    def attention_grids(
        self,
        ref_feats: Mapping[str, Tensor],
        dist_feats: Mapping[str, Tensor],
        *,
        stride: int | None = None,
        patch_size: int | None = None,
    ) -> dict[str, Tensor]:
        """``1 - mean MIC`` per patch for each SMIC stage, ``(N, gh, gw)`` float64, no gradient.

        ``stride`` and ``patch_size`` default to the metric's. Inside
        :meth:`compute_with_grids` the given grids are returned instead.
        """
        if self._given_grids is not None:
            return self._check_given(self._given_grids, ref_feats)
        return attention_grids(
            ref_feats,
            dist_feats,
            {s: self.projection(s) for s in SMIC_STAGES},
            patch_size=self.patch_size if patch_size is None else patch_size,
            stride=self.stride if stride is None else stride,
            alpha=0.5,
            c=10.0,
        )

    def _check_given(
        self, grids: dict[str, Tensor], ref_feats: Mapping[str, Tensor]
    ) -> dict[str, Tensor]:
        """Given grids, checked against the patch grid when the metric pools per patch."""
        if not self.info.returns_map:  # a map takes any grid (zoomed); patch terms do not
            for stage, g in grids.items():
                h, w = ref_feats[stage].shape[-2:]
                want = grid_shape(h, w, self.patch_size, self.stride)
                if tuple(g.shape[-2:]) != want:
                    raise InputError(
                        f"'{self.info.name}' weights its {self.patch_size}x{self.patch_size} "
                        f"patch terms (stride {self.stride}) by the attention, so the {stage} "
                        f"grid must be {want}, got {tuple(g.shape[-2:])}"
                    )
        return dict(grids)

    # --- the SMIC interface -------------------------------------------------------------
    @property
    def attention_stages(self) -> tuple[str, ...]:
        return SMIC_STAGES

    def attention_input(self, x: Tensor) -> Tensor:
        return self.prepare(x)

    def map_input(self, x: Tensor) -> Tensor:
        return self.prepare(x)

    def _pair_grids(
        self, ref: Tensor, dist: Tensor, stride: int | None, patch_size: int | None
    ) -> dict[str, Tensor]:
        # Two passes, as the score runs them: inside a feature-cache scope they are shared.
        return self.attention_grids(
            self._encode_ref(ref)["feats"],
            self._encode_ref(dist)["feats"],
            stride=stride,
            patch_size=patch_size,
        )

    def _compute_with_grids(
        self, ref: Tensor, dist: Tensor, grids: dict[str, Tensor], return_map: bool
    ) -> MetricResult:
        self._given_grids = grids
        try:
            return self._compute(self.encode_ref(ref, validate=False), dist, return_map)
        finally:
            self._given_grids = None

    def _encode_ref(self, ref: Tensor) -> dict[str, Any]:
        x = self.prepare(ref)
        return {"image": x, "feats": self.features(x)}

    def _compute(self, ref: EncodedRef, dist: Tensor, return_map: bool) -> MetricResult:
        data: dict[str, Any] = ref.data
        y = self.prepare(dist)
        if tuple(y.shape[1:]) != tuple(data["image"].shape[1:]):
            raise InputError(
                f"'{self.info.name}': the prepared reference is {tuple(data['image'].shape)} "
                f"but the prepared distorted batch is {tuple(y.shape)}; give images of one size"
            )
        pair = PreparedPair(data["image"], y, data["feats"], self.features(y))
        return self._score(pair, return_map)

    def _score(self, pair: PreparedPair, return_map: bool) -> MetricResult:
        """The metric's result for a prepared pair batch (subclasses implement it)."""
        raise NotImplementedError

    def extra_repr(self) -> str:
        return (
            f"{weights_repr(self.weights)}, preprocess={self.preprocess}, "
            f"data_range={self.data_range:g}, patch_size={self.patch_size}, stride={self.stride}"
        )
