"""Deep metrics scored together (``friqa.MetricSet``, shared VGG16 passes) vs one by one.

One process, the same real 512x384 pairs (``../shared/data/pairs/kadid`` by
default), the same metric modules. Each repeat scores every pair both ways --
``alone``: each metric called in turn; ``set``: the :class:`friqa.MetricSet` --
with the order of the two ways swapped every other repeat, after one warm-up of
each. It prints min and median wall and process-CPU seconds per pass over the
pairs, the ratio alone / set (above 1: the set is faster), the load average
before and after, and whether every score was bit-identical (``torch.equal``)
between the two ways.

Usage::

    PYTHONPATH=src python benchmarks/bench_metricset.py \\
        --weights ../shared/weights/vgg16-imagenet-caffe-features.pth --repeats 5
    #   --metrics lpips,dists,...  --pairs N  --threads 2  --load K  --json out.json
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

import friqa  # noqa: E402
from burners import cpu_burners  # noqa: E402
from friqa.io import load_image  # noqa: E402

DEEP8 = "lpips,dists,deepwsd,deepssim,lpips_smic,dists_smic,psnr_smic,ssim_smic"
ROOT = Path(__file__).resolve().parents[1]


def _pairs(folder: Path, count: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    rows = (folder / "manifest.csv").read_text().splitlines()[1:]
    out = []
    for row in rows[:count]:
        cells = row.split(",")
        dist, ref = cells[0], cells[1]
        out.append(
            (
                load_image(folder / ref).unsqueeze(0),
                load_image(folder / dist).unsqueeze(0),
            )
        )
    return out


def _timed(fn: object) -> tuple[float, float, object]:
    w0, c0 = time.perf_counter(), time.process_time()
    value = fn()  # type: ignore[operator]
    return time.perf_counter() - w0, time.process_time() - c0, value


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--weights", default=str(ROOT.parent / "shared/weights/vgg16-imagenet-caffe-features.pth")
    )
    ap.add_argument("--data", default=str(ROOT.parent / "shared/data/pairs/kadid"))
    ap.add_argument("--metrics", default=DEEP8)
    ap.add_argument("--pairs", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--load", type=int, default=0, help="CPU burners beside the measurement")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    names = [n.strip() for n in args.metrics.split(",") if n.strip()]
    metric_set = friqa.MetricSet(names, weights=args.weights).eval()
    pairs = _pairs(Path(args.data), args.pairs)

    def alone() -> list[dict[str, torch.Tensor]]:
        return [{n: m(r, d) for n, m in metric_set.items()} for r, d in pairs]

    def together() -> list[dict[str, torch.Tensor]]:
        return [metric_set(r, d) for r, d in pairs]

    ways = {"alone": alone, "set": together}
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in ways}
    identical = True
    load_before = os.getloadavg()
    with cpu_burners(args.load):
        for fn in ways.values():  # warm-up
            fn()
        for rep in range(args.repeats):
            order = list(ways) if rep % 2 == 0 else list(reversed(ways))
            scores = {}
            for way in order:
                wall, cpu, scores[way] = _timed(ways[way])
                times[way].append((wall, cpu))
            for a, b in zip(scores["alone"], scores["set"], strict=True):
                identical &= all(torch.equal(a[n], b[n]) for n in names)
            last = {way: f"{times[way][-1][0]:.3f} s" for way in ways}
            print(f"repeat {rep}: {last}", file=sys.stderr)
    load_after = os.getloadavg()

    def stat(way: str, i: int) -> tuple[float, float]:
        vals = [t[i] for t in times[way]]
        return min(vals), statistics.median(vals)

    result = {
        "metrics": names,
        "pairs": len(pairs),
        "repeats": args.repeats,
        "threads": args.threads,
        "burners": args.load,
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "bit_identical": identical,
    }
    for way in ways:
        result[f"{way}_wall_min_median"] = stat(way, 0)
        result[f"{way}_cpu_min_median"] = stat(way, 1)
    for i, kind in ((0, "wall"), (1, "cpu")):
        a, s = stat("alone", i), stat("set", i)
        result[f"ratio_{kind}_min"] = a[0] / s[0]
        result[f"ratio_{kind}_median"] = a[1] / s[1]
    print(f"metrics: {','.join(names)}; {len(pairs)} pair(s), {args.threads} threads")
    print(f"load average before {load_before}, after {load_after}; burners {args.load}")
    print("| way | wall min / median s | CPU min / median s |")
    print("| --- | ---: | ---: |")
    for way in ways:
        w, c = result[f"{way}_wall_min_median"], result[f"{way}_cpu_min_median"]
        print(f"| {way} | {w[0]:.3f} / {w[1]:.3f} | {c[0]:.3f} / {c[1]:.3f} |")
    print(
        f"alone / set: wall min {result['ratio_wall_min']:.2f}, median "
        f"{result['ratio_wall_median']:.2f}; CPU min {result['ratio_cpu_min']:.2f}, median "
        f"{result['ratio_cpu_median']:.2f}; scores bit-identical: {identical}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
