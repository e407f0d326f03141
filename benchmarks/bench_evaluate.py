"""Throughput of the evaluation runner, with and without the reference-feature cache.

A synthetic manifest of 200 pairs over 8 references (25 noise levels each, as
datasets have 25 to 125 distortions per reference) is scored by each metric
with the cache (each reference encoded once, then ``compute_encoded`` on
batches of distorted images) and without it (``compute`` on the reference
repeated to the batch). Image loading is included, as in a real run. After a
warm-up on one reference, each mode runs ``--repeats`` times, alternating, and
the fastest run counts (the machine may be shared: timings are noisy). Prints
pairs/s and the speed-up.

Usage::

    OMP_NUM_THREADS=2 python benchmarks/bench_evaluate.py --metrics psnr,ssim,lpips \\
        --weights ../shared/weights/vgg16-imagenet-caffe-features.pth
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from friqa.evaluation.manifest import Manifest
from friqa.evaluation.runner import RunResult, score_manifest
from friqa.evaluation.synthetic import make_synthetic_dataset
from friqa.metrics.registry import metric_info


def timed_run(
    manifest: Manifest, name: str, opts: dict[str, Any], out: Path, batch_size: int, cache: bool
) -> tuple[float, RunResult]:
    """Score ``manifest`` with one metric into a fresh folder; wall time and result."""
    t0 = time.perf_counter()
    res = score_manifest(
        manifest,
        [name],
        out,
        metric_options={name: opts} if opts else None,
        batch_size=batch_size,
        ref_cache=cache,
        progress=False,
    )
    wall = time.perf_counter() - t0
    if res.failed:
        raise SystemExit(f"{name}: {res.failed} pairs failed; see {res.scores_path}")
    return wall, res


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--metrics", default="psnr,ssim,lpips", help="comma-separated metric names")
    p.add_argument("--weights", help="VGG16 weights for the deep metrics")
    p.add_argument("--size", type=int, default=192, help="image side in pixels (192)")
    p.add_argument("--refs", type=int, default=8, help="references (8)")
    p.add_argument("--per-ref", type=int, default=25, help="distorted images per reference (25)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--repeats", type=int, default=2, help="timed runs per mode; best kept (2)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: leave as is)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        manifest = make_synthetic_dataset(
            Path(tmp) / "data",
            n_refs=args.refs,
            levels=args.per_ref,
            distortions=("noise",),
            size=args.size,
        )
        warm = Manifest(manifest.rows[: args.per_ref], True, manifest.root, "warm-up")
        n = len(manifest)
        print(
            f"{n} pairs over {args.refs} references, {args.size}x{args.size}, batch "
            f"{args.batch_size}, torch threads {torch.get_num_threads()}, best of {args.repeats}"
        )
        print(f"{'metric':<10} {'cache pairs/s':>14} {'no cache pairs/s':>17} {'speed-up':>9}")
        runs = 0
        for name in [m.strip() for m in args.metrics.split(",") if m.strip()]:
            opts = {"weights": args.weights} if metric_info(name).needs_weights else {}
            row: dict[str, Any] = {"metric": name, "pairs": n, "size": args.size}
            for cache in (True, False):  # warm-up: imports, weights, allocations, file cache
                runs += 1
                timed_run(warm, name, opts, Path(tmp) / f"run{runs}", args.batch_size, cache)
            best: dict[bool, tuple[float, RunResult]] = {}
            for _ in range(args.repeats):
                for cache in (True, False):  # alternate so that load changes hit both modes
                    runs += 1
                    wall, res = timed_run(
                        manifest, name, opts, Path(tmp) / f"run{runs}", args.batch_size, cache
                    )
                    if cache not in best or wall < best[cache][0]:
                        best[cache] = (wall, res)
            for cache, (wall, res) in best.items():
                key = "cache" if cache else "no_cache"
                row[f"{key}_pairs_per_s"] = n / wall
                row[f"{key}_seconds"] = wall
                row[f"{key}_encode_seconds"] = res.timings[name].encode_seconds
                row[f"{key}_compute_seconds"] = res.timings[name].compute_seconds
            row["speedup"] = row["cache_pairs_per_s"] / row["no_cache_pairs_per_s"]
            results.append(row)
            print(
                f"{name:<10} {row['cache_pairs_per_s']:>14.2f} "
                f"{row['no_cache_pairs_per_s']:>17.2f} {row['speedup']:>8.2f}x"
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
