"""SMIC: sliced maximal information coefficient attention and the SMIC-enhanced metrics.

Two families (see ``docs/smic.md``):

* faithful (``family="smic"``): ``psnr_smic``, ``ssim_smic``, ``lpips_smic``,
  ``dists_smic``, ``deepwsd_smic`` reproduce the reference (KANGX99/SMIC 6736abe)
  with its preprocessing and quirks;
* consistent (``family="smic-consistent"``): ``psnr+smic``, ``ssim+smic``,
  ``ms_ssim+smic``, ``lpips+smic`` and :func:`smic_wrap` for any metric with a map
  apply the attention to the real base metric (:mod:`friqa.smic.consistent`).

Both implement :class:`SMICMetric` (:mod:`friqa.smic.protocol`): attention input,
attention grids of a pair batch at any stride, scoring with given grids.
"""

from friqa.smic.attention import (
    SMIC_REFERENCE,
    SMIC_STAGES,
    SMICAttention,
    attention_grid,
    attention_grids,
    combine_grids,
    min_max_normalize,
)
from friqa.smic.consistent import (
    LPIPSPlusSMIC,
    MSSSIMPlusSMIC,
    PSNRPlusSMIC,
    SMICWrapper,
    SSIMPlusSMIC,
    attention_input,
    smic_wrap,
)
from friqa.smic.deepwsd_smic import DeepWSDSMIC, deepwsd_smic
from friqa.smic.dists_smic import DISTSSMIC, dists_smic
from friqa.smic.lpips_smic import LPIPSSMIC, lpips_smic
from friqa.smic.maps import SMICMaps, attention_maps, smic_maps
from friqa.smic.projections import SMIC_SEED, projection_weights
from friqa.smic.protocol import SMICMetric
from friqa.smic.psnr_smic import PSNRSMIC, psnr_smic
from friqa.smic.ssim_smic import SSIMSMIC, ssim_smic

__all__ = [
    "SMICMetric",
    "SMIC_STAGES",
    "SMIC_REFERENCE",
    "SMICAttention",
    "attention_grid",
    "attention_grids",
    "combine_grids",
    "min_max_normalize",
    "projection_weights",
    "SMIC_SEED",
    "PSNRSMIC",
    "psnr_smic",
    "SSIMSMIC",
    "ssim_smic",
    "LPIPSSMIC",
    "lpips_smic",
    "DISTSSMIC",
    "dists_smic",
    "DeepWSDSMIC",
    "deepwsd_smic",
    "SMICWrapper",
    "smic_wrap",
    "attention_input",
    "PSNRPlusSMIC",
    "SSIMPlusSMIC",
    "MSSSIMPlusSMIC",
    "LPIPSPlusSMIC",
    "SMICMaps",
    "attention_maps",
    "smic_maps",
]
