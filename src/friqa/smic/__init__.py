"""SMIC: sliced maximal information coefficient attention and the SMIC-enhanced metrics."""

from friqa.smic.attention import SMICAttention, attention_grid, combine_grids, min_max_normalize
from friqa.smic.projections import SMIC_SEED, projection_weights

__all__ = [
    "SMICAttention",
    "attention_grid",
    "combine_grids",
    "min_max_normalize",
    "projection_weights",
    "SMIC_SEED",
]
