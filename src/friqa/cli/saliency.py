"""``friqa saliency``: a GBVS saliency map of an image."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from friqa.exceptions import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "saliency",
        help="write the GBVS saliency map of an image",
        description="Graph-Based Visual Saliency (Harel, Koch and Perona 2006) with the "
        "defaults of Harel's toolbox, the map DeepSSIM's saliency calibration uses. Writes an "
        "8-bit grayscale PNG at the image's size (255 = most salient).",
    )
    p.add_argument("image", help="input image")
    p.add_argument("-o", "--out", required=True, metavar="PNG", help="output map (.png)")
    p.add_argument("--npy", metavar="FILE", help="also save the float map in [0, 1] as .npy")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np
    from PIL import Image

    from friqa.io import load_image
    from friqa.saliency import gbvs

    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise InputError(f"-o {out}: the map is written as PNG; use a .png file name")
    if Path(args.image).resolve() == out.resolve():
        raise InputError(f"-o {out} would overwrite the input image; choose another name")
    sal = gbvs(load_image(args.image)).numpy()
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.round(sal * 255).astype(np.uint8), mode="L").save(out)
    if args.npy:
        np.save(args.npy, sal.astype(np.float32))
    sys.stdout.write(f"wrote {out} ({sal.shape[1]}x{sal.shape[0]})\n")
    return 0
