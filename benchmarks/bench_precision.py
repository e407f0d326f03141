"""Score error and speed of ``precision="bf16"`` against float32, per deep metric.

For every metric the same module is built twice (``precision="fp32"`` and
``"bf16"``) and scores the real pairs of ``../shared/data/pairs/kadid`` and
``../shared/data/tid2013-mini`` (512x384) one at a time. It prints the largest
absolute and relative score difference over the pairs, and, with ``--repeats``
above 0, min and median seconds per pair of both (alternating order, after a
warm-up) with the ratio fp32 / bf16 and the load average.

Usage::

    PYTHONPATH=src python benchmarks/bench_precision.py --repeats 0   # errors only
    PYTHONPATH=src python benchmarks/bench_precision.py --metrics lpips,dists --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

import friqa
from friqa.io import load_image

ROOT = Path(__file__).resolve().parents[1]
DEEP = (
    "lpips,dists,deepwsd,deepssim,lpips_smic,dists_smic,psnr_smic,ssim_smic,deepwsd_smic,lpips+smic"
)


def _pairs(folders: list[Path], count: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    out = []
    for folder in folders:
        for row in (folder / "manifest.csv").read_text().splitlines()[1:]:
            dist, ref = row.split(",")[:2]
            out.append(
                (load_image(folder / ref).unsqueeze(0), load_image(folder / dist).unsqueeze(0))
            )
    return out[:count] if count else out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    shared = ROOT.parent / "shared"
    ap.add_argument("--weights", default=str(shared / "weights/vgg16-imagenet-caffe-features.pth"))
    ap.add_argument("--metrics", default=DEEP)
    ap.add_argument("--pairs", type=int, default=0, help="first N pairs only (0: all)")
    ap.add_argument("--repeats", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    pairs = _pairs([shared / "data/pairs/kadid", shared / "data/tid2013-mini"], args.pairs)
    results = {}
    print(f"{len(pairs)} pairs; load average {os.getloadavg()}")
    head = ["metric", "max abs diff", "max rel diff", "fp32 min / median s", "bf16 min / median s"]
    print("| " + " | ".join([*head, "fp32 / bf16 (median)"]) + " |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in [n.strip() for n in args.metrics.split(",") if n.strip()]:
        ms = {
            p: friqa.create_metric(name, weights=args.weights, precision=p).eval()
            for p in ("fp32", "bf16")
        }
        scores = {p: torch.cat([m(r, d) for r, d in pairs]).double() for p, m in ms.items()}
        diff = (scores["bf16"] - scores["fp32"]).abs()
        rel = diff / scores["fp32"].abs().clamp_min(1e-12)
        row: dict[str, object] = {"max_abs": float(diff.max()), "max_rel": float(rel.max())}
        times: dict[str, list[float]] = {"fp32": [], "bf16": []}
        r, d = pairs[0]
        for rep in range(args.repeats):
            for p in ("fp32", "bf16") if rep % 2 == 0 else ("bf16", "fp32"):
                t0 = time.perf_counter()
                ms[p](r, d)
                times[p].append(time.perf_counter() - t0)
        cells = ["-", "-", "-"]
        if args.repeats:
            f, b = times["fp32"], times["bf16"]
            row.update(fp32=[min(f), statistics.median(f)], bf16=[min(b), statistics.median(b)])
            cells = [
                f"{min(f):.3f} / {statistics.median(f):.3f}",
                f"{min(b):.3f} / {statistics.median(b):.3f}",
                f"{statistics.median(f) / statistics.median(b):.2f}",
            ]
        results[name] = row
        print(
            f"| {name} | {row['max_abs']:.2e} | {row['max_rel']:.2e} | " + " | ".join(cells) + " |"
        )
        sys.stdout.flush()
    print(f"load average after {os.getloadavg()}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
