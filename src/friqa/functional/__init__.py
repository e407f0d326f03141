"""Functional kernels: the maps, layer terms and statistics that the metrics are made of.

Stateless functions on tensors (in the spirit of ``torch.nn.functional``), public
so that :mod:`friqa.metrics`, :mod:`friqa.smic` and :mod:`friqa.losses` share one
implementation of each piece. One module per metric family:

* :mod:`friqa.functional.ssim` -- SSIM / contrast-structure maps, the MS-SSIM scale
  pyramid (:func:`ms_ssim_scale_maps`) and its combination;
* :mod:`friqa.functional.lpips` -- LPIPS' input scaling, features, linear layers
  and layer maps;
* :mod:`friqa.functional.dists` -- DISTS' weights, features and structure/texture
  terms;
* :mod:`friqa.functional.deepwsd` -- POT's 1-D Wasserstein distance and DeepWSD's
  pooling, padding and layer term;
* :mod:`friqa.functional.deepssim` -- VGG16 Gram matrices and DeepSSIM's block
  structure term.

The metric modules document the definitions and the reference code they follow.
"""

from friqa.functional.deepssim import (
    DEEPSSIM_BLOCK,
    DEEPSSIM_C,
    DEEPSSIM_LAYER,
    DEEPSSIM_MIN_SIZE,
    block_structure,
    deepssim_gram,
    gram_matrix,
)
from friqa.functional.deepwsd import (
    DEEPWSD_TAPS,
    deepwsd_downsample,
    deepwsd_features,
    deepwsd_layer_term,
    deepwsd_model_input,
    deepwsd_output,
    deepwsd_pad,
    deepwsd_pool_factor,
    deepwsd_window,
    wasserstein_1d,
)
from friqa.functional.dists import (
    DISTS_C1,
    DISTS_C2,
    DISTS_CHANNELS,
    DISTS_LAYERS,
    DISTS_WEIGHTS_FILE,
    DISTSLayerTerms,
    dists_alpha_beta,
    dists_distance,
    dists_features,
    dists_layer_terms,
    dists_structure_texture,
)
from friqa.functional.lpips import (
    LPIPS_CHANNELS,
    LPIPS_EPS,
    LPIPS_LAYERS,
    LPIPS_MIN_SIZE,
    LPIPS_SCALE,
    LPIPS_SHIFT,
    LPIPS_WEIGHTS_FILE,
    apply_lpips_linear,
    lpips_features,
    lpips_layer_maps,
    lpips_linear_weights,
    lpips_scale_input,
    lpips_spatial_map,
    normalize_channels,
)
from friqa.functional.ssim import (
    ScaleMaps,
    check_image_size,
    check_ssim_params,
    downsample2x,
    ms_ssim_combine,
    ms_ssim_scale_maps,
    ms_ssim_terms,
    ssim_cs_maps,
    ssim_map,
)

__all__ = [
    # SSIM / MS-SSIM
    "ssim_cs_maps",
    "ssim_map",
    "check_ssim_params",
    "check_image_size",
    "downsample2x",
    "ScaleMaps",
    "ms_ssim_scale_maps",
    "ms_ssim_terms",
    "ms_ssim_combine",
    # LPIPS
    "LPIPS_LAYERS",
    "LPIPS_CHANNELS",
    "LPIPS_SHIFT",
    "LPIPS_SCALE",
    "LPIPS_EPS",
    "LPIPS_MIN_SIZE",
    "LPIPS_WEIGHTS_FILE",
    "lpips_linear_weights",
    "lpips_scale_input",
    "normalize_channels",
    "lpips_features",
    "apply_lpips_linear",
    "lpips_layer_maps",
    "lpips_spatial_map",
    # DISTS
    "DISTS_LAYERS",
    "DISTS_CHANNELS",
    "DISTS_C1",
    "DISTS_C2",
    "DISTS_WEIGHTS_FILE",
    "dists_alpha_beta",
    "dists_features",
    "dists_structure_texture",
    "DISTSLayerTerms",
    "dists_layer_terms",
    "dists_distance",
    # DeepWSD
    "DEEPWSD_TAPS",
    "wasserstein_1d",
    "deepwsd_pool_factor",
    "deepwsd_window",
    "deepwsd_downsample",
    "deepwsd_model_input",
    "deepwsd_features",
    "deepwsd_pad",
    "deepwsd_layer_term",
    "deepwsd_output",
    # DeepSSIM
    "DEEPSSIM_LAYER",
    "DEEPSSIM_C",
    "DEEPSSIM_BLOCK",
    "DEEPSSIM_MIN_SIZE",
    "gram_matrix",
    "block_structure",
    "deepssim_gram",
]
