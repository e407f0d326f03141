"""The SMIC interface shared by the faithful metrics and the consistent variants.

Both families weight a distortion by the SMIC attention (Xiao et al., arXiv
2408.09920; KANGX99/SMIC 6736abe) but see the images differently: the faithful
metrics (:class:`friqa.smic._faithful.FaithfulSMICMetric`) resize them as the
reference does and run one backbone for the metric and the attention; the
consistent ones (:class:`friqa.smic.consistent.SMICWrapper`) run the base
metric at full size and the attention backbone on images at the SMIC working
size. :class:`SMICMetric` is what code that draws or re-weights the attention
(:mod:`friqa.smic.maps`, user code) may rely on, whatever the family:

* :meth:`~SMICMetric.attention_input`: the images as the attention backbone sees them;
* :meth:`~SMICMetric.map_input`: the images the distortion map refers to;
* :meth:`~SMICMetric.pair_grids`: the attention grids of a pair batch at the
  metric's patches or any other stride (no gradient);
* :meth:`~SMICMetric.compute_with_grids`: the score and maps with given grids.

It is an abstract base class rather than a ``typing.Protocol``: both families
are :class:`~friqa.metrics.base.Metric` subclasses anyway, the checks of
:meth:`~SMICMetric.compute_with_grids` and the attention combination are shared
code, an ``isinstance`` test then means "implements all of it" (a runtime
protocol only sees that attributes exist), and a family that misses a method
fails when instantiated instead of when a map is drawn.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor

from friqa.exceptions import InputError
from friqa.metrics.base import Metric, MetricResult
from friqa.smic.attention import combine_grids
from friqa.validation import check_pair

__all__ = ["SMICMetric", "check_patches"]


def check_patches(patch_size: int, stride: int) -> tuple[int, int]:
    """``(patch_size, stride)``, or an InputError unless they are integers >= 2 and >= 1."""
    ok = all(isinstance(v, int) and not isinstance(v, bool) for v in (patch_size, stride))
    if not ok or patch_size < 2 or stride < 1:
        raise InputError(
            f"need integers patch_size >= 2 and stride >= 1, got {patch_size!r} and {stride!r}"
        )
    return patch_size, stride


class SMICMetric(Metric, ABC):
    """A metric whose score weights a distortion by SMIC attention (both families).

    Subclasses implement :attr:`attention_stages`, :meth:`attention_input`,
    :meth:`map_input`, :meth:`_pair_grids` and :meth:`_compute_with_grids`;
    :meth:`pair_grids` and :meth:`compute_with_grids` check the inputs first.
    """

    @property
    @abstractmethod
    def attention_stages(self) -> tuple[str, ...]:
        """The VGG16 taps carrying attention, in the order :func:`combine_grids` takes them."""

    @abstractmethod
    def attention_input(self, x: Tensor) -> Tensor:
        """The images ``x`` (in ``[0, data_range]``) as the attention backbone sees them."""

    @abstractmethod
    def map_input(self, x: Tensor) -> Tensor:
        """The images ``x`` in [0, 1] at the size and scale the distortion map refers to."""

    def pair_grids(
        self,
        ref: Tensor,
        dist: Tensor,
        *,
        stride: int | None = None,
        patch_size: int | None = None,
    ) -> dict[str, Tensor]:
        """Attention grids of a pair batch: stage -> ``(N, gh, gw)`` ``1 - mean MIC``, no gradient.

        Args:
            ref, dist: ``(N, 3, H, W)`` in ``[0, data_range]``.
            stride, patch_size: of the attention patches; ``None`` keeps the metric's
                (a stride of 1 gives the reference's display maps).
        """
        ref, dist = check_pair(ref, dist, data_range=self.data_range)
        if stride is not None or patch_size is not None:
            check_patches(2 if patch_size is None else patch_size, 1 if stride is None else stride)
        with torch.no_grad():
            return self._pair_grids(ref, dist, stride, patch_size)

    def compute_with_grids(
        self,
        ref: Tensor,
        dist: Tensor,
        grids: Mapping[str, Tensor],
        *,
        return_map: bool = False,
    ) -> MetricResult:
        """Score with given attention grids (stage -> ``(N, gh, gw)``) instead of computing them.

        For example grids of another stride (a stride-1 map), or grids of ones. Grids
        of batch size 1 apply to every pair. Metrics that zoom the attention to their
        distortion map take grids of any size; metrics that weight per-patch terms
        need them on their own patch grid.
        """
        if return_map and not self.info.returns_map:
            raise InputError(f"metric '{self.info.name}' does not produce a distortion map")
        ref, dist = check_pair(ref, dist, data_range=self.data_range, aligned=self.info.aligned)
        missing = [s for s in self.attention_stages if s not in grids]
        if missing:
            raise InputError(f"grids for the stages {missing} are missing")
        n = dist.shape[0]
        chosen: dict[str, Tensor] = {}
        for stage in self.attention_stages:
            g = grids[stage]
            if not isinstance(g, Tensor) or g.ndim != 3 or g.shape[0] not in (1, n):
                shape = tuple(g.shape) if isinstance(g, Tensor) else type(g).__name__
                raise InputError(
                    f"the {stage} grid must be a tensor (N, gh, gw) with N = {n} or 1, got {shape}"
                )
            chosen[stage] = g
        return self._compute_with_grids(ref, dist, chosen, return_map)

    def combined_attention(self, grids: Mapping[str, Tensor], size: Sequence[int]) -> Tensor:
        """The stage grids combined as the reference does, zoomed to ``size``: ``(N, 1, *size)``."""
        return combine_grids([grids[s] for s in self.attention_stages], size=tuple(size))

    # --- to implement -----------------------------------------------------------------
    @abstractmethod
    def _pair_grids(
        self, ref: Tensor, dist: Tensor, stride: int | None, patch_size: int | None
    ) -> dict[str, Tensor]:
        """:meth:`pair_grids` on checked inputs, inside ``torch.no_grad()``."""

    @abstractmethod
    def _compute_with_grids(
        self, ref: Tensor, dist: Tensor, grids: dict[str, Tensor], return_map: bool
    ) -> MetricResult:
        """:meth:`compute_with_grids` on checked inputs and grids (the attention stages only)."""
