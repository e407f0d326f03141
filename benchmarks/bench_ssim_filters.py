"""SSIM-family speed with the CPU filter as shifted sums (now) vs depthwise convolutions (before).

``friqa.ops.filters.separable_filter`` filters on the CPU as sums of shifted slices
(:func:`friqa.ops.filters.shifted_sum`); before, it ran two grouped convolutions.
Both give the same numbers. This script times ``ssim``, ``ssim_rgb`` and
``ms_ssim`` on a batch of real 512x384 pairs both ways in one process
(the convolution path patched in for "before"), alternating, and prints min and
median wall and CPU seconds, the ratio before / now and whether the scores are equal.

Usage::

    PYTHONPATH=src python benchmarks/bench_ssim_filters.py --batch 8 --repeats 5 --threads 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

import friqa
import friqa.functional.ssim as fssim
from friqa.io import load_image

ROOT = Path(__file__).resolve().parents[1]


def conv_filter(x: torch.Tensor, kernel: torch.Tensor, kernel_w: torch.Tensor | None = None):
    """The previous CPU path: two grouped (depthwise) convolutions, 'valid'."""
    kw_t = kernel if kernel_w is None else kernel_w
    c = x.shape[1]
    col = kernel.to(dtype=x.dtype).view(1, 1, -1, 1).expand(c, 1, kernel.numel(), 1)
    row = kw_t.to(dtype=x.dtype).view(1, 1, 1, -1).expand(c, 1, 1, kw_t.numel())
    return F.conv2d(F.conv2d(x, col, groups=c), row, groups=c)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--metrics", default="ssim,ssim_rgb,ms_ssim")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    folder = ROOT.parent / "shared/data/pairs/kadid"
    rows = [r.split(",")[:2] for r in (folder / "manifest.csv").read_text().splitlines()[1:]]
    pairs = [(load_image(folder / ref), load_image(folder / dist)) for dist, ref in rows]
    pairs = (pairs * args.batch)[: args.batch]
    ref = torch.stack([r for r, _ in pairs])
    dist = torch.stack([d for _, d in pairs])
    now = fssim.separable_filter
    print(f"batch {args.batch}, {args.threads} threads, load average {os.getloadavg()}")
    print("| metric | before min / median s | now min / median s | before / now (median) |")
    print("| --- | ---: | ---: | ---: |")
    for name in args.metrics.split(","):
        metric = friqa.create_metric(name)
        times: dict[str, list[float]] = {"before": [], "now": []}
        scores = {}
        for rep in range(args.repeats + 1):
            for way in ("before", "now") if rep % 2 == 0 else ("now", "before"):
                fssim.separable_filter = conv_filter if way == "before" else now  # type: ignore[assignment]
                t0 = time.perf_counter()
                scores[way] = metric(ref, dist)
                if rep:  # the first round warms up
                    times[way].append(time.perf_counter() - t0)
        fssim.separable_filter = now
        b, n = times["before"], times["now"]
        same = torch.equal(scores["before"], scores["now"])
        print(
            f"| {name} | {min(b):.3f} / {statistics.median(b):.3f} | {min(n):.3f} / "
            f"{statistics.median(n):.3f} | {statistics.median(b) / statistics.median(n):.2f} "
            f"(equal scores: {same}) |"
        )
    print(f"load average after {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
