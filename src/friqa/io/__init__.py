"""Image input/output: paths, PIL images, numpy arrays and tensors to ``(3, H, W)`` in [0, 1].

See :mod:`friqa.io.load` for the conventions (channel order, value ranges,
alpha, grayscale, EXIF orientation, errors). Modules, one job each:

* :mod:`friqa.io.load`: ``load_image`` / ``load_batch``, dispatch on the source kind;
* :mod:`friqa.io.arrays`: numpy arrays and torch tensors;
* :mod:`friqa.io.files`: image files and PIL images, decoded with Pillow;
* :mod:`friqa.io.pillow16`: full-precision 16-bit colour decoding through Pillow;
* :mod:`friqa.io.values`: range checks, scaling and alpha compositing shared by the loaders;
* :mod:`friqa.io.write`: ``to_pil`` / ``save_image``;
* :mod:`friqa.io.png16`: the 16-bit RGB PNG encoder ``save_image`` needs (Pillow has none);
* :mod:`friqa.io.csvfile`: the one reader of users' CSV files (pairs lists, manifests).

The names are imported on first use, so that :mod:`friqa.io.csvfile` does not load torch.
"""

from friqa._lazy import lazy_exports

__all__ = ["ImageSource", "load_image", "load_batch", "save_image", "to_pil"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        **dict.fromkeys(("ImageSource", "load_image", "load_batch"), "friqa.io.load"),
        **dict.fromkeys(("save_image", "to_pil"), "friqa.io.write"),
    },
)
