"""Train a small x2 super-resolution network with four losses and compare them on held-out images.

Usage (the run reported in docs/losses.md):

    PYTHONPATH=src python examples/train_sr.py \\
        --weights ../shared/weights/vgg16-imagenet-caffe-features.pth --out /tmp/train_sr

    python examples/train_sr.py --fast --out /tmp/sr_smoke   # two steps on tiny sizes (CI)

What it does:

1. Images: 12 real natural photographs, 7 from ``../shared/data`` (KADID-10k,
   SMIC, TID2013 references and the DeepSSIM butterfly) and 5 of scikit-image's
   sample images (``skimage.data``). Three are held out (``HELD_OUT``) and never
   used in training; the other nine give the training patches.
2. Degradation: the low-resolution input is the high-resolution image shrunk by
   2 with antialiased bicubic interpolation (torch ``interpolate``).
3. Network (:class:`SmallSR`): bicubic x2 upsampling plus a residual predicted by
   four 3x3 convolutions (32 channels) and a pixel shuffle: 23 k parameters,
   so it starts as bicubic upsampling.
4. Training: ``--steps`` Adam steps (lr 1e-3) on batches of ``--batch`` random
   ``--patch`` x ``--patch`` high-resolution patches, once per loss: L1,
   L1 + w DeepSSIM-Lite, L1 + w LPIPS, L1 + w DISTS (``w = --perceptual-weight``),
   with the same seed: the same initial network and the same patches for each.
   Losses come from ``friqa.losses.create_loss``.
5. Evaluation on the held-out images (whole, cropped to even sizes; outputs
   clamped to [0, 1]): PSNR, SSIM, LPIPS, DISTS and DeepSSIM of each model and of
   plain bicubic upsampling, written to ``<out>/results.md`` and ``results.json``,
   and a picture grid ``<out>/grid.png`` (one crop per held-out image: bicubic,
   the four models, the ground truth).

``--fast`` shrinks everything (2 steps, 32-pixel patches, 64-pixel evaluation
crops) to check that the script runs; its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw
from torch import Tensor, nn

import friqa
from friqa.io import load_image
from friqa.losses import Loss, create_loss

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

#: (source, name): ``shared`` paths are relative to ../shared/data, ``skimage`` names
#: are functions of ``skimage.data``.
IMAGES = [
    ("shared", "pairs/kadid/I07.png"),
    ("shared", "pairs/kadid/I47.png"),
    ("shared", "pairs/smic/Img1_ref.png"),
    ("shared", "pairs/smic/Img2_ref.png"),
    ("shared", "pairs/deepssim/butterfly.png"),
    ("shared", "tid2013-mini/reference_images/i02.bmp"),
    ("shared", "tid2013-mini/reference_images/i06.bmp"),
    ("skimage", "astronaut"),
    ("skimage", "chelsea"),
    ("skimage", "coffee"),
    ("skimage", "rocket"),
    ("skimage", "stereo_motorcycle"),
]
#: Never seen in training.
HELD_OUT = {"pairs/kadid/I47.png", "pairs/smic/Img2_ref.png", "coffee"}

#: Training runs: name -> (perceptual loss name or None).
RUNS = {
    "L1": None,
    "L1 + DeepSSIM-Lite": "deepssim_lite",
    "L1 + LPIPS": "lpips",
    "L1 + DISTS": "dists",
}

#: Evaluation metrics: column -> registry name.
EVAL_METRICS = {
    "PSNR": "psnr",
    "SSIM": "ssim",
    "LPIPS": "lpips",
    "DISTS": "dists",
    "DeepSSIM": "deepssim",
}


def load_images(fast: bool) -> tuple[list[Tensor], list[tuple[str, Tensor]]]:
    """(training images, [(name, held-out image)]) as ``(3, H, W)`` tensors in [0, 1]."""
    import skimage.data

    train, held = [], []
    for source, name in IMAGES:
        if source == "shared":
            path = SHARED_DATA / name
            if not path.is_file():
                sys.exit(f"missing {path}: this example needs the project's ../shared/data")
            img = load_image(path)
        else:
            arr = getattr(skimage.data, name)()
            arr = arr[0] if isinstance(arr, tuple) else arr  # stereo_motorcycle: (left, right, ...)
            img = torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1).float() / 255
        img = img[:, : img.shape[1] // 2 * 2, : img.shape[2] // 2 * 2]
        if name in HELD_OUT:
            if fast:  # a centre crop: the smoke test only checks that the code runs
                h, w = img.shape[1] // 2 - 32, img.shape[2] // 2 - 32
                img = img[:, h : h + 64, w : w + 64]
            held.append((Path(name).stem, img))
        else:
            train.append(img)
    return train, held


def downscale(hr: Tensor) -> Tensor:
    """The low-resolution input: ``hr`` shrunk by 2 (antialiased bicubic), clamped to [0, 1]."""
    return F.interpolate(hr, scale_factor=0.5, mode="bicubic", antialias=True).clamp(0, 1)


def bicubic_up(lr: Tensor) -> Tensor:
    return F.interpolate(lr, scale_factor=2, mode="bicubic", align_corners=False)


class SmallSR(nn.Module):
    """x2 super-resolution: bicubic upsampling plus a learnt residual (pixel shuffle)."""

    def __init__(self, channels: int = 32) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, channels, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(channels, 3 * 4, 3, padding=1),
            nn.PixelShuffle(2),
        )
        nn.init.zeros_(self.body[-2].weight)  # start exactly at bicubic
        nn.init.zeros_(self.body[-2].bias)

    def forward(self, lr: Tensor) -> Tensor:
        return bicubic_up(lr) + self.body(lr)


def sample_patches(images: list[Tensor], batch: int, patch: int, g: torch.Generator) -> Tensor:
    """``batch`` random ``patch`` x ``patch`` crops (even offsets) of random training images."""
    out = []
    for _ in range(batch):
        img = images[int(torch.randint(len(images), (1,), generator=g))]
        top = 2 * int(torch.randint((img.shape[1] - patch) // 2 + 1, (1,), generator=g))
        left = 2 * int(torch.randint((img.shape[2] - patch) // 2 + 1, (1,), generator=g))
        out.append(img[:, top : top + patch, left : left + patch])
    return torch.stack(out)


def make_loss(perceptual: str | None, weight: float, weights: str | None) -> Loss:
    loss = create_loss("l1")
    if perceptual is not None:
        loss = loss + weight * create_loss(perceptual, weights=weights)
    return loss


def train(
    loss: Loss, images: list[Tensor], args: argparse.Namespace, log: list[str]
) -> tuple[SmallSR, float]:
    torch.manual_seed(args.seed)
    net = SmallSR()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(args.seed)
    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        hr = sample_patches(images, args.batch, args.patch, g)
        value = loss(hr, net(downscale(hr)))  # friqa order: reference first
        opt.zero_grad()
        value.backward()
        opt.step()
        if step == 1 or step % max(args.steps // 10, 1) == 0 or step == args.steps:
            line = f"  step {step:4d}/{args.steps}  loss {value.item():.5f}"
            line += f"  ({time.perf_counter() - t0:.0f} s)"
            print(line, flush=True)
            log.append(line)
    return net, time.perf_counter() - t0


@torch.no_grad()
def evaluate(
    outputs: dict[str, list[Tensor]], held: list[tuple[str, Tensor]], weights: str | None
) -> dict[str, dict[str, float]]:
    """Mean of each metric over the held-out images, for each model."""
    metrics = {
        col: friqa.create_metric(
            name, **({"weights": weights} if name in ("lpips", "dists", "deepssim") else {})
        )
        for col, name in EVAL_METRICS.items()
    }
    table: dict[str, dict[str, float]] = {}
    for model, images in outputs.items():
        row = {}
        for col, metric in metrics.items():
            scores = [
                float(metric(hr[None], sr[None])) for (_, hr), sr in zip(held, images, strict=True)
            ]
            row[col] = float(np.mean(scores))
        table[model] = row
    return table


def markdown_table(table: dict[str, dict[str, float]]) -> str:
    arrows = {"PSNR": "↑", "SSIM": "↑", "LPIPS": "↓", "DISTS": "↓", "DeepSSIM": "↑"}
    head = "| model | " + " | ".join(f"{c} {arrows[c]}" for c in EVAL_METRICS) + " |"
    lines = [head, "| --- |" + " ---: |" * len(EVAL_METRICS)]
    for model, row in table.items():
        fmt = [f"{row[c]:.2f}" if c == "PSNR" else f"{row[c]:.4f}" for c in EVAL_METRICS]
        lines.append(f"| {model} | " + " | ".join(fmt) + " |")
    return "\n".join(lines)


def to_pil(x: Tensor) -> Image.Image:
    arr = (x.clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    return Image.fromarray(arr)


def picture_grid(
    outputs: dict[str, list[Tensor]], held: list[tuple[str, Tensor]], crop: int, zoom: int
) -> Image.Image:
    """One row per held-out image (a ``crop`` square of its most textured region), one column
    per model, the ground truth last; each crop enlarged ``zoom`` times (nearest neighbour)."""
    columns = [*outputs, "ground truth"]
    side, label_h = crop * zoom, 16
    grid = Image.new("RGB", (side * len(columns), label_h + side * len(held)), "white")
    draw = ImageDraw.Draw(grid)
    for j, name in enumerate(columns):
        draw.text((j * side + 3, 2), name, fill="black")
    for i, (_, hr) in enumerate(held):
        top, left = _textured_corner(hr, crop)
        for j, name in enumerate(columns):
            img = hr if name == "ground truth" else outputs[name][i]
            tile = to_pil(img[:, top : top + crop, left : left + crop])
            grid.paste(
                tile.resize((side, side), Image.Resampling.NEAREST), (j * side, label_h + i * side)
            )
    return grid


def _textured_corner(img: Tensor, crop: int) -> tuple[int, int]:
    """Top-left corner of the ``crop`` square with the most gradient energy (half-crop stride)."""
    gray = img.mean(0)
    energy = (gray[1:, :-1] - gray[:-1, :-1]).abs() + (gray[:-1, 1:] - gray[:-1, :-1]).abs()
    best, corner = -1.0, (0, 0)
    step = max(crop // 2, 1)
    for top in range(0, energy.shape[0] - crop + 1, step):
        for left in range(0, energy.shape[1] - crop + 1, step):
            e = float(energy[top : top + crop, left : left + crop].sum())
            if e > best:
                best, corner = e, (top, left)
    return corner


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--weights", default=None, help="VGG16 weights (default: friqa's resolution)")
    p.add_argument("--out", type=Path, default=Path("train_sr_out"), help="output folder")
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--patch", type=int, default=48, help="high-resolution patch side")
    p.add_argument("--perceptual-weight", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--fast", action="store_true", help="2 steps on tiny sizes (smoke test)")
    p.add_argument("--runs", nargs="*", default=list(RUNS), choices=list(RUNS), metavar="RUN")
    args = p.parse_args(argv)
    if args.fast:
        args.steps, args.batch, args.patch = 2, 2, 32
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)

    train_images, held = load_images(args.fast)
    log = [f"command: {' '.join(sys.argv)}", f"args: {vars(args)}"]
    with torch.no_grad():
        lows = [downscale(hr[None]) for _, hr in held]
        outputs: dict[str, list[Tensor]] = {
            "bicubic": [bicubic_up(lr)[0].clamp(0, 1) for lr in lows]
        }
    times: dict[str, float] = {}
    for run in args.runs:
        print(f"{run}:", flush=True)
        log.append(f"{run}:")
        loss = make_loss(RUNS[run], args.perceptual_weight, args.weights)
        net, seconds = train(loss, train_images, args, log)
        times[run] = seconds
        with torch.no_grad():
            outputs[run] = [net(lr)[0].clamp(0, 1) for lr in lows]

    table = evaluate(outputs, held, args.weights)
    text = markdown_table(table)
    print(text)
    (args.out / "results.md").write_text(text + "\n")
    (args.out / "results.json").write_text(
        json.dumps(
            {
                "args": {k: str(v) for k, v in vars(args).items()},
                "held_out": [n for n, _ in held],
                "train_seconds": times,
                "table": table,
            },
            indent=2,
        )
    )
    (args.out / "log.txt").write_text("\n".join(log) + "\n")
    crop = 32 if args.fast else 80
    picture_grid(outputs, held, crop=crop, zoom=2).save(args.out / "grid.png", optimize=True)
    print(f"wrote {args.out}/results.md, results.json, grid.png", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
