"""Throughput of ``friqa evaluate``: the local engine against the Ray engine, and Ray's fixed cost.

One synthetic manifest (``--refs`` references x 2 distortions x ``--levels``
levels, ``--size`` pixels) is scored with the same metrics by

* the local engine (the streamed run in this process) with 1 torch thread and
  with ``--workers`` threads;
* the Ray engine with ``--workers`` single-thread actors (``cpus_per_worker=1``),
  on a local cluster of ``--workers`` CPUs started here.

Ray's fixed costs: ``ray.init`` (starting the local cluster), a first
one-pair run (Ray Data's one-off start plus the actors: a Python process each,
importing torch and friqa, building the metrics, loading VGG16) and a second
one (the actors and the plan, paid by every run). A second manifest with twice
the references gives each engine's marginal rate (extra pairs / extra seconds),
free of every fixed cost. Each engine
runs ``--repeats`` times (alternating, fastest counts: the machine may be
shared). Prints JSON; docs/scale-out.md quotes it.

Usage::

    python benchmarks/bench_scale.py --metrics psnr,ssim,lpips \\
        --weights ../shared/weights/vgg16-imagenet-caffe-features.pth
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from friqa.evaluation.manifest import Manifest
from friqa.evaluation.runner import score_manifest
from friqa.evaluation.synthetic import make_synthetic_dataset


def run(
    manifest: Manifest, metrics: list[str], out: Path, settings: dict[str, Any]
) -> dict[str, float]:
    """Score ``manifest`` into a fresh folder; wall seconds and pairs/s."""
    t0 = time.perf_counter()
    res = score_manifest(manifest, metrics, out, progress=False, **settings)
    wall = time.perf_counter() - t0
    assert res.failed == 0, "a pair failed"
    return {"seconds": round(wall, 2), "pairs_per_s": round(len(manifest) / wall, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--metrics", default="psnr,ssim,lpips")
    ap.add_argument("--weights", default=os.environ.get("FRIQA_VGG16_WEIGHTS"))
    ap.add_argument("--refs", type=int, default=8)
    ap.add_argument("--levels", type=int, default=5)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--shard-rows", type=int, default=15)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()

    import ray

    metrics = args.metrics.split(",")
    options = {m: {"weights": args.weights} for m in metrics if m in ("lpips", "dists", "deepwsd")}
    tmp = Path(tempfile.mkdtemp(prefix="bench_scale_"))
    manifest = make_synthetic_dataset(
        tmp / "data", n_refs=args.refs, levels=args.levels, size=args.size, seed=0
    )
    big = make_synthetic_dataset(
        tmp / "big", n_refs=2 * args.refs, levels=args.levels, size=args.size, seed=1
    )
    tiny = Manifest(manifest.rows[:1], manifest.higher_better, manifest.root, "tiny")
    common = {"metric_options": options or None}
    ray_settings = {
        **common,
        "engine": "ray",
        "engine_options": {"workers": args.workers, "shard_rows": args.shard_rows},
    }

    t0 = time.perf_counter()
    ray.init(num_cpus=args.workers, include_dashboard=False, logging_level="WARNING")
    init_s = time.perf_counter() - t0
    torch.set_num_threads(1)
    first_s = run(tiny, metrics, tmp / "tiny_first", ray_settings)["seconds"]
    per_run_s = run(tiny, metrics, tmp / "tiny_again", ray_settings)["seconds"]

    threads0 = torch.get_num_threads()
    best: dict[str, dict[str, float]] = {}
    for k in range(args.repeats):
        for label, threads, settings in (
            ("local_1_thread", 1, common),
            (f"local_{args.workers}_threads", args.workers, common),
            (f"ray_{args.workers}x1", 1, ray_settings),
        ):
            torch.set_num_threads(threads)
            for name, m in (("", manifest), ("_big", big)):
                r = run(m, metrics, tmp / f"{label}{name}_{k}", settings)
                key = label + name
                if key not in best or r["seconds"] < best[key]["seconds"]:
                    best[key] = r
    torch.set_num_threads(threads0)
    # Marginal rate: the extra pairs of the big set over the extra time, which cancels
    # every fixed cost (actor start, Ray Data's plan, reference encoding of a run).
    marginal = {
        label: round(
            (len(big) - len(manifest))
            / max(best[label + "_big"]["seconds"] - best[label]["seconds"], 1e-9),
            2,
        )
        for label in ("local_1_thread", f"local_{args.workers}_threads", f"ray_{args.workers}x1")
    }
    print(
        json.dumps(
            {
                "pairs": len(manifest),
                "pairs_big": len(big),
                "metrics": metrics,
                "size": args.size,
                "shard_rows": args.shard_rows,
                "ray_init_s": round(init_s, 2),
                "ray_first_one_pair_run_s (Ray Data's one-off start + actors)": first_s,
                "ray_one_pair_run_s (actors and plan, per run)": per_run_s,
                "load_average": os.getloadavg(),
                **best,
                "marginal_pairs_per_s": marginal,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
