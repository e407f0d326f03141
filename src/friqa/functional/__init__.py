"""Functional kernels: the maps, layer terms and statistics that the metrics are made of.

Stateless functions on tensors (in the spirit of ``torch.nn.functional``), public
so that :mod:`friqa.metrics`, :mod:`friqa.smic` and :mod:`friqa.losses` share one
implementation of each piece. One module per metric family; import from it:

* :mod:`friqa.functional.ssim` -- SSIM / contrast-structure maps
  (``ssim_cs_maps``, ``ssim_map``), the MS-SSIM scale pyramid
  (``ms_ssim_scale_maps``, ``ms_ssim_terms``) and its combination
  (``ms_ssim_combine``);
* :mod:`friqa.functional.lpips` -- LPIPS' input scaling, features, linear layers,
  layer maps and spatial map;
* :mod:`friqa.functional.dists` -- DISTS' weights, features, structure/texture
  terms per layer and the distance over layers;
* :mod:`friqa.functional.deepwsd` -- POT's 1-D Wasserstein distance and DeepWSD's
  model input, pooling, padding and layer term;
* :mod:`friqa.functional.deepssim` -- VGG16 Gram matrices and DeepSSIM's block
  structure term.

The metric modules document the definitions and the reference code they follow.
"""
