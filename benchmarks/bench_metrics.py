"""Time per 512x384 pair of every friqa metric, the VGG16 backbone, and the reference packages.

Usage:
    python benchmarks/bench_metrics.py --weights ../shared/weights/vgg16-imagenet-caffe-features.pth

Prints, for each registered metric, the wall and CPU time of one 512x384 pair
(``torch.no_grad``, fastest of ``--repeat`` runs after one warm-up) and the
same with the reference encoded once (``encode_ref`` + ``compute_encoded``, as
the evaluation harness does). Then the backbone alone, and, when the packages
``lpips`` and ``DISTS_pytorch`` are installed (``pip install --no-deps``), their
own times on the same pair with a torchvision stand-in holding the same weights.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

import friqa
from friqa.backbone import get_vgg16
from friqa.cli.demo import sample_distorted, sample_reference
from friqa.io import load_image

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def best_of(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Fastest (wall, cpu) seconds of ``repeat`` runs after one warm-up."""
    fn()
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        best = min(best, (time.perf_counter() - w0, time.process_time() - c0))
    return best


def pair() -> tuple[torch.Tensor, torch.Tensor, str]:
    kadid = SHARED / "data" / "pairs" / "kadid"
    if (kadid / "I07.png").is_file():
        ref = load_image(kadid / "I07.png")[None]
        dist = load_image(kadid / "I07_09_04.png")[None]
        return ref, dist, "shared/data/pairs/kadid I07 / I07_09_04"
    r = sample_reference()
    ref = torch.from_numpy(r).permute(2, 0, 1)[None].float() / 255
    dist = torch.from_numpy(sample_distorted(r)).permute(2, 0, 1)[None].float() / 255
    return ref, dist, "friqa demo's generated pair"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--weights", default=None, help="VGG16 weights (default: friqa's resolution)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--metrics", default=None, help="comma-separated names (default: all)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    ref, dist, source = pair()
    print(f"torch {torch.__version__}, {args.threads} threads, 512x384 pair: {source}")
    names = args.metrics.split(",") if args.metrics else friqa.list_metrics()
    print(f"{'metric':14s} {'wall s':>8s} {'cpu s':>8s} {'cached-ref wall s':>18s}")
    with torch.no_grad():
        for name in names:
            info = friqa.metric_info(name)
            m = friqa.create_metric(
                name, **({"weights": args.weights} if info.needs_weights else {})
            )
            wall, cpu = best_of(lambda m=m: m(ref, dist), args.repeat)
            enc = m.encode_ref(ref)
            cached, _ = best_of(lambda m=m, enc=enc: m.compute_encoded(enc, dist), args.repeat)
            print(f"{name:14s} {wall:8.3f} {cpu:8.3f} {cached:18.3f}")
        for pooling in ("max", "l2"):
            net = get_vgg16(args.weights, pooling)
            wall, cpu = best_of(lambda net=net: net(ref, ["relu5_3"]), args.repeat)
            print(
                f"VGG16 backbone to relu5_3 ({pooling} pooling), one 512x384 image: "
                f"{wall:.3f} s wall, {cpu:.3f} s CPU"
            )
        reference_packages(args, ref, dist)


def reference_packages(args: argparse.Namespace, ref: torch.Tensor, dist: torch.Tensor) -> None:
    weights = Path(args.weights) if args.weights else None
    if weights is None or not weights.is_file():
        print("reference packages: skipped (pass --weights so their stand-in VGG16 matches)")
        return
    sys.path.insert(0, str(REPO / "tests" / "metrics"))
    from oracle_packages import stand_in_torchvision

    if importlib.util.find_spec("lpips") is not None:
        with stand_in_torchvision(weights, ("lpips",)):
            model = importlib.import_module("lpips").LPIPS(net="vgg", version="0.1", verbose=False)
            wall, cpu = best_of(lambda: model(ref, dist, normalize=True), args.repeat)
        print(f"lpips 0.1.4 package (same weights): {wall:.3f} s wall, {cpu:.3f} s CPU")
    else:
        print("lpips package not installed (pip install --no-deps lpips==0.1.4)")
    if importlib.util.find_spec("DISTS_pytorch") is not None:
        with stand_in_torchvision(weights, ("DISTS_pytorch",)):
            model = importlib.import_module("DISTS_pytorch").DISTS()
            wall, cpu = best_of(lambda: model(ref, dist), args.repeat)
        print(f"DISTS_pytorch 0.1 package (same weights): {wall:.3f} s wall, {cpu:.3f} s CPU")
    else:
        print("DISTS_pytorch package not installed (pip install --no-deps dists-pytorch==0.1)")


if __name__ == "__main__":
    main()
