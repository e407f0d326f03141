"""The base of the registered consistent SMIC variants and their metadata.

A registered variant (``psnr+smic``, ``lpips+smic``, ...) is an
:class:`~friqa.smic.consistent.wrapper.SMICWrapper` around one fixed base metric.
:class:`SMICVariant` gives them one constructor (``weights``, ``data_range``,
``patch_size``, ``stride``, ``attention_scale``, ``precision``); a subclass names its base metric in
:meth:`SMICVariant.base_metric` and, when its score is not the pooled rectified
map itself, overrides :meth:`SMICWrapper.reduce_score`. :func:`consistent_info`
fills in the metadata every variant shares.
"""

from __future__ import annotations

import os

from friqa.metrics.base import Family, Metric, MetricInfo
from friqa.smic.consistent.wrapper import CONSISTENT_REFERENCE, AttentionScale, SMICWrapper

__all__ = ["SMICVariant", "consistent_info"]


def consistent_info(
    name: str,
    detail: str,
    description: str,
    *,
    lower_better: bool,
    score_range: tuple[float, float],
    differentiable: bool = True,
    gradient_note: str = "",
) -> MetricInfo:
    """Metadata of a consistent variant: weights needed, a map, family ``smic-consistent``.

    ``detail`` says which base metric's map is weighted (appended to the reference).

    Example:
        >>> consistent_info("x+smic", "X's map", "...", lower_better=True,
        ...                 score_range=(0.0, 1.0)).family
        <Family.SMIC_CONSISTENT: 'smic-consistent'>
    """
    return MetricInfo(
        name=name,
        lower_better=lower_better,
        score_range=score_range,
        needs_weights=True,
        returns_map=True,
        differentiable=differentiable,
        family=Family.SMIC_CONSISTENT,
        reference=f"{CONSISTENT_REFERENCE} ({detail})",
        description=description,
        gradient_note=gradient_note,
    )


class SMICVariant(SMICWrapper):
    """A registered consistent variant: SMIC attention on the map of :meth:`base_metric`.

    Args:
        weights: VGG16 weights file (the attention's, and the base metric's if it has one).
        data_range: the value of white in the inputs.
        patch_size, stride: the attention patches (the reference: 7 and 7).
        attention_scale: ``"smic"`` or ``"native"`` (see :func:`attention_input`).
        precision: ``"fp32"`` (default) or ``"bf16"`` for the backbone passes (see
            :mod:`friqa.backbone.precision`).
    """

    def __init__(
        self,
        weights: str | os.PathLike[str] | None = None,
        *,
        data_range: float = 1.0,
        patch_size: int = 7,
        stride: int = 7,
        attention_scale: AttentionScale = "smic",
        precision: str = "fp32",
    ) -> None:
        super().__init__(
            self.base_metric(weights, data_range, precision),
            weights=weights,
            patch_size=patch_size,
            stride=stride,
            attention_scale=attention_scale,
            precision=precision,
            info=self.info,
        )

    @classmethod
    def base_metric(
        cls, weights: str | os.PathLike[str] | None, data_range: float, precision: str
    ) -> Metric:
        """The wrapped metric (subclasses implement it)."""
        raise NotImplementedError
