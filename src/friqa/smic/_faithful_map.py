"""The faithful SMIC metrics that re-weight a pixel distortion map: PSNR-SMIC and SSIM-SMIC.

Both reproduce scripts of the SMIC reference (KANGX99/SMIC 6736abe,
``PSNR_SMIC.py`` and ``SSIM_SMIC.py``) that compute a distortion map, multiply
it by the attention (the relu3_3 and relu4_3 grids combined and zoomed to the
map, :func:`friqa.smic.attention.combine_grids`) and reduce its mean to a score.
"""

from __future__ import annotations

from torch import Tensor

from friqa.metrics.base import MetricResult
from friqa.smic._faithful import SMIC_STAGES, FaithfulSMICMetric, PreparedPair
from friqa.smic.attention import combine_grids

__all__ = ["FaithfulMapSMICMetric"]


class FaithfulMapSMICMetric(FaithfulSMICMetric):
    """A faithful SMIC metric scored from ``mean(distortion map * attention)``.

    Subclasses implement :meth:`distortion_map` and, when the score is not that mean
    itself, :meth:`reduce`. ``compute(..., return_map=True)`` gives the rectified
    map; ``extras`` (always): ``"grids"``, ``"attention"`` (at the map size) and
    ``"distortion_map"``. The attention multiplies in float64, the reference's numpy
    precision; the score is returned in the inputs' dtype.
    """

    def distortion_map(self, ref: Tensor, dist: Tensor) -> Tensor:
        """The metric's distortion map ``(N, 1, h, w)`` of prepared images."""
        raise NotImplementedError

    def reduce(self, mean: Tensor) -> Tensor:
        """The score from the mean of the rectified map, ``(N,)``; the mean by default."""
        return mean

    def _score(self, pair: PreparedPair, return_map: bool) -> MetricResult:
        dmap = self.distortion_map(pair.ref, pair.dist)
        grids = self.attention_grids(pair.ref_feats, pair.dist_feats)
        att = combine_grids([grids[s] for s in SMIC_STAGES], size=tuple(dmap.shape[-2:]))
        rectified = dmap.to(att.dtype) * att
        score = self.reduce(rectified.mean(dim=(1, 2, 3)))
        extras: dict[str, object] = {"grids": grids, "attention": att, "distortion_map": dmap}
        return MetricResult(
            score=score.to(pair.dist.dtype), map=rectified if return_map else None, extras=extras
        )
