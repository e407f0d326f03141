"""Time of the five faithful SMIC metrics on one 512x384 pair, split into backbone and attention.

For each metric (``psnr_smic``, ``ssim_smic``, ``lpips_smic``, ``dists_smic``,
``deepwsd_smic``) on one pair at the paper's settings (the reference's resizing:
341x256, or DeepWSD's 256x192 after pooling):

* backbone: preprocessing + VGG16 features of the reference and the distorted image;
* attention: the SMIC attention grids from those features (projections, patches,
  one batched MIC call per stage);
* total: one full metric call (``metric(ref, dist)``), the metric's own terms included.

Then the stride-1 attention map of the reference's map script
(:func:`friqa.smic.maps.attention_maps`, 4,640 + 962 patches x 32 projections at
341x256), in total and split the same way.

Each measurement runs ``--repeats`` times after a warm-up (weights loaded, plans
built), all measurements interleaved, and the fastest run is printed, as wall
time and as CPU time of the process (``time.process_time``): the machine may be
shared with other jobs, which only ever slow a run down. Reference figures (the
authors' code, one MINE call per patch and projection): about 0.25 s of MIC per
pair at paper settings and about 10 s for a stride-1 map.

Usage::

    OMP_NUM_THREADS=2 python benchmarks/bench_smic.py \\
        --weights ../shared/weights/vgg16-imagenet-caffe-features.pth
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from friqa.io import load_image
from friqa.metrics.registry import create_metric
from friqa.ops.resize import smic_prepare
from friqa.smic._faithful import FaithfulSMICMetric
from friqa.smic.attention import SMICAttention
from friqa.smic.deepwsd_smic import DeepWSDSMIC
from friqa.smic.maps import attention_maps

METRICS = ("psnr_smic", "ssim_smic", "lpips_smic", "dists_smic", "deepwsd_smic")
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "pairs" / "kadid"


def measure(fn: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Fastest wall and CPU seconds of ``fn()`` over ``repeats`` runs."""
    walls, cpus = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus)


def split_metric(
    metric: FaithfulSMICMetric, ref: torch.Tensor, dist: torch.Tensor
) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """Two closures: the backbone part, and the attention from precomputed features."""
    if isinstance(metric, DeepWSDSMIC):

        def backbone() -> Any:
            x, f = metric.prepare_pooled(ref)
            y, _ = metric.prepare_pooled(dist)
            return metric.padded_features(x, f), metric.padded_features(y, f)

    else:

        def backbone() -> Any:
            return metric.features(metric.prepare(ref)), metric.features(metric.prepare(dist))

    rf, df = backbone()
    return backbone, lambda: metric.attention_grids(rf, df)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--weights", help="VGG16 weights file")
    p.add_argument("--ref", default=str(SHARED / "I07.png"), help="reference image (512x384)")
    p.add_argument("--dist", default=str(SHARED / "I07_09_04.png"), help="distorted image")
    p.add_argument("--repeats", type=int, default=5, help="runs per measurement (fastest)")
    p.add_argument("--metrics", default=",".join(METRICS), help="comma-separated metrics")
    p.add_argument("--no-map", action="store_true", help="skip the stride-1 map")
    args = p.parse_args()

    ref = load_image(args.ref)[None]
    dist = load_image(args.dist)[None]
    print(
        f"pair {tuple(ref.shape[-2:])} | torch {torch.__version__} | threads "
        f"{torch.get_num_threads()} | fastest of {args.repeats} | seconds: wall (cpu)"
    )
    header = (
        f"{'metric':14s} {'backbone':>16s} {'attention':>16s} {'total':>16s} {'att/backbone':>13s}"
    )
    print(header)
    print("-" * len(header))

    def fmt(t: tuple[float, float]) -> str:
        return f"{t[0]:7.3f} ({t[1]:6.3f})"

    rows: dict[str, dict[str, Callable[[], Any]]] = {}
    with torch.no_grad():
        for name in args.metrics.split(","):
            metric = create_metric(name, weights=args.weights)
            if not isinstance(metric, FaithfulSMICMetric):
                raise SystemExit(f"{name} is not a faithful SMIC metric")
            metric(ref, dist)  # warm-up: weights, MIC plans
            backbone, attention = split_metric(metric, ref, dist)
            rows[name] = {
                "backbone": backbone,
                "attention": attention,
                "total": lambda m=metric: m(ref, dist),
            }
        if not args.no_map:
            att = SMICAttention(args.weights, stride=1)
            x, y = smic_prepare(ref), smic_prepare(dist)
            attention_maps(ref, dist, weights=args.weights)  # warm-up
            rf, df = att.features(x), att.features(y)
            rows["map stride 1"] = {
                "backbone": lambda: (att.features(x), att.features(y)),
                "attention": lambda: att.grids_from_features(rf, df),
                "total": lambda: attention_maps(ref, dist, weights=args.weights),
            }
        # interleaved: a burst of load from other jobs spreads over all measurements
        times: dict[str, dict[str, list[tuple[float, float]]]] = {
            n: {k: [] for k in parts} for n, parts in rows.items()
        }
        for _ in range(args.repeats):
            for name, parts in rows.items():
                for key, fn in parts.items():
                    times[name][key].append(measure(fn, 1))
    for name, parts in times.items():
        tb, ta, tt = (
            (min(w for w, _ in parts[k]), min(c for _, c in parts[k]))
            for k in ("backbone", "attention", "total")
        )
        print(f"{name:14s} {fmt(tb)} {fmt(ta)} {fmt(tt)} {100 * ta[0] / tb[0]:12.1f}%")


if __name__ == "__main__":
    main()
