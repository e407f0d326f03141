"""The consistent SMIC family: SMIC attention on the real base metric's distortion map.

:mod:`~friqa.smic.consistent.wrapper` holds :class:`SMICWrapper` (any metric with
a map, or a map callable) and :func:`smic_wrap`; each registered variant has its
own module: ``psnr+smic`` (:mod:`.psnr`), ``ssim+smic`` (:mod:`.ssim`),
``ms_ssim+smic`` (:mod:`.ms_ssim`) and ``lpips+smic`` (:mod:`.lpips`). Importing
this package registers them (the metric registry imports it with
:mod:`friqa.smic`). A new variant: a module here with a
:class:`~friqa.smic.consistent.variant.SMICVariant` subclass (its base metric in
``base_metric``, metadata from ``consistent_info``) registered as ``"<base>+smic"``
in family ``"smic-consistent"``, imported here; :func:`smic_wrap` then finds it
(see ``docs/smic.md``).
"""

from friqa.smic.consistent.lpips import LPIPS_PLUS_SMIC_INFO, LPIPSPlusSMIC
from friqa.smic.consistent.ms_ssim import MS_SSIM_PLUS_SMIC_INFO, MSSSIMPlusSMIC
from friqa.smic.consistent.psnr import PSNR_PLUS_SMIC_INFO, PSNRPlusSMIC
from friqa.smic.consistent.ssim import SSIM_PLUS_SMIC_INFO, SSIMPlusSMIC
from friqa.smic.consistent.variant import SMICVariant, consistent_info
from friqa.smic.consistent.wrapper import (
    CONSISTENT_REFERENCE,
    AttentionScale,
    MapFunction,
    SMICWrapper,
    attention_input,
    smic_wrap,
)

__all__ = [
    "SMICWrapper",
    "SMICVariant",
    "consistent_info",
    "smic_wrap",
    "attention_input",
    "AttentionScale",
    "MapFunction",
    "CONSISTENT_REFERENCE",
    "PSNRPlusSMIC",
    "PSNR_PLUS_SMIC_INFO",
    "SSIMPlusSMIC",
    "SSIM_PLUS_SMIC_INFO",
    "MSSSIMPlusSMIC",
    "MS_SSIM_PLUS_SMIC_INFO",
    "LPIPSPlusSMIC",
    "LPIPS_PLUS_SMIC_INFO",
]
