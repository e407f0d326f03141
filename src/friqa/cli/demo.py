"""``friqa demo``: write a sample reference/distorted pair and score it with every metric."""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from friqa.cli._common import add_metric_arguments, pick_device, score_line, weights_available

if TYPE_CHECKING:
    import numpy as np


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="write a sample pair and print every available metric's score",
        description="Generate a 384x512 reference image and a JPEG-compressed, blurred "
        "version of it, save both, and score the pair with every metric that can run here "
        "(the deep metrics need VGG16 weights: see --weights).",
    )
    p.add_argument("--out", default="friqa-demo", metavar="DIR", help="folder for the two PNGs")
    add_metric_arguments(p, many=False)
    p.set_defaults(func=run)


def sample_reference(height: int = 384, width: int = 512, seed: int = 0) -> np.ndarray:
    """A synthetic RGB scene (sky, hills, disks, textures) as uint8 ``(H, W, 3)``."""
    import numpy as np

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    img = np.empty((height, width, 3))
    sky = y / height
    img[..., 0] = 0.35 + 0.3 * sky
    img[..., 1] = 0.55 + 0.25 * sky
    img[..., 2] = 0.95 - 0.2 * sky
    hill = height * (0.55 + 0.08 * np.sin(x / 45.0) + 0.04 * np.sin(x / 13.0 + 1.0))
    ground = y > hill
    grass = 0.5 + 0.25 * np.sin(x / 3.1 + 2 * np.sin(y / 7.0)) * np.cos(y / 2.3)
    img[ground] = np.stack([0.25 * grass, 0.45 + 0.3 * grass, 0.15 * grass], -1)[ground]
    for _ in range(6):
        cy, cx = rng.uniform(0.1, 0.9) * height, rng.uniform(0.1, 0.9) * width
        r = rng.uniform(15, 45)
        colour = rng.uniform(0.1, 1.0, size=3)
        disk = (y - cy) ** 2 + (x - cx) ** 2 < r**2
        img[disk] = colour
    stripes = (x > 0.7 * width) & (y < 0.3 * height)
    img[stripes] = (0.5 + 0.5 * np.sign(np.sin((x + y)[stripes] / 4.0)))[:, None] * 0.9
    img += rng.normal(0, 0.01, img.shape)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


def sample_distorted(ref: np.ndarray, quality: int = 15, blur: float = 1.0) -> np.ndarray:
    """JPEG at ``quality`` and a Gaussian blur of ``blur`` pixels."""
    import numpy as np
    from PIL import Image, ImageFilter

    buf = io.BytesIO()
    Image.fromarray(ref).filter(ImageFilter.GaussianBlur(blur)).save(buf, "JPEG", quality=quality)
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("RGB")).copy()


def run(args: argparse.Namespace) -> int:
    import torch

    from friqa.io import load_image, save_image
    from friqa.metrics.factory import build_metrics
    from friqa.metrics.registry import list_metrics, metric_info

    device = pick_device(args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ref_np = sample_reference()
    ref_path, dist_path = out / "reference.png", out / "distorted.png"
    save_image(torch.from_numpy(ref_np).permute(2, 0, 1).float() / 255, ref_path)
    save_image(torch.from_numpy(sample_distorted(ref_np)).permute(2, 0, 1).float() / 255, dist_path)
    sys.stdout.write(f"wrote {ref_path} and {dist_path} (JPEG quality 15 after a 1 px blur)\n\n")

    ref = load_image(ref_path).unsqueeze(0).to(device)
    dist = load_image(dist_path).unsqueeze(0).to(device)
    have_weights = weights_available(args.weights)
    names = list_metrics()
    width = max((len(n) for n in names), default=0)
    skipped: list[str] = []
    for name in names:
        info = metric_info(name)
        if info.needs_weights and not have_weights:
            skipped.append(name)
            continue
        metric = build_metrics([name], weights=args.weights, device=device)[name]
        with torch.no_grad():
            value = float(metric(ref, dist)[0])
        sys.stdout.write(score_line(name, width, value, info.lower_better))
    if skipped:
        sys.stdout.write(
            f"\nskipped (no VGG16 weights found): {', '.join(skipped)}\n"
            "  to run them, pass --weights PATH, set FRIQA_VGG16_WEIGHTS, or put torchvision's "
            "vgg16-397923af.pth in torch's cache (friqa downloads it there when a deep metric "
            "is first created online).\n"
        )
    return 0
