"""Fixed costs around the metrics: CLI start-up, input validation, weight checks, backbone.

Compares one or more friqa source trees (``--src``, default ``src``) on the same
machine in one run: every round runs each case once per tree, alternating, each
in a fresh Python process with ``PYTHONPATH`` set to that tree, and the table
gives, per case and tree, the fastest and the median of ``--rounds`` rounds and
the ratio of medians to the first tree (the machine may be shared: the ratio and
the minimum are what to read).

Cases:

* ``version``, ``help``: the whole ``python -m friqa.cli.main --version`` /
  ``--help`` process, and whether it imported torch.
* ``validate``: :func:`friqa.validation.check_pair` on a batch of 8 512x384 pairs.
* ``psnr``: PSNR of the same batch (its validation included).
* ``get_vgg16``: one :func:`friqa.backbone.get_vgg16` call after the first, weights
  found in torch's cache (``TORCH_HOME`` points at a temporary folder holding a
  link to ``--weights`` under torchvision's file name; the expected SHA-256 prefix
  is patched to that file's, as the tests do).
* ``lpips``: LPIPS of one 512x384 pair through the same torch-cache route.
* ``vgg16``: the backbone to ``relu5_3`` on one 512x384 image; ``vgg16_cl`` the same
  with ``channels_last = True`` set on it (a tree without that option ignores it).

The in-process cases take the fastest of ``--repeat`` calls after one warm-up.

Usage::

    git worktree add /tmp/base main   # or: git archive main | tar -x -C /tmp/base
    OMP_NUM_THREADS=2 python benchmarks/bench_overheads.py --src /tmp/base/src --src src \\
        --weights ../shared/weights/vgg16-imagenet-caffe-features.pth
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI_CASES = ("version", "help")
PY_CASES = ("validate", "psnr", "get_vgg16", "lpips", "vgg16", "vgg16_cl")

#: Runs in the child process: prints {case: seconds} for the in-process cases.
CHILD = r"""
import json, sys, time
import torch
cases, prefix = sys.argv[1].split(","), sys.argv[4]
repeat = int(sys.argv[2])
torch.set_num_threads(int(sys.argv[3]))
import friqa
from friqa.backbone import get_vgg16
from friqa.backbone import weights as W
from friqa.validation import check_pair
W.TORCHVISION_VGG16_SHA256_PREFIX = prefix

def best(fn):
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)

g = torch.Generator().manual_seed(0)
ref8 = torch.rand(8, 3, 384, 512, generator=g)
dist8 = (ref8 + 0.05 * torch.randn(ref8.shape, generator=g)).clamp(0, 1)
out = {}
with torch.no_grad():
    for case in cases:
        if case == "validate":
            out[case] = best(lambda: check_pair(ref8, dist8))
        elif case == "psnr":
            m = friqa.create_metric("psnr")
            out[case] = best(lambda: m(ref8, dist8))
        elif case == "get_vgg16":
            out[case] = best(lambda: get_vgg16(None, "max"))
        elif case == "lpips":
            m = friqa.create_metric("lpips")
            out[case] = best(lambda: m(ref8[:1], dist8[:1]))
        elif case in ("vgg16", "vgg16_cl"):
            net = get_vgg16(None, "max")
            net.channels_last = case == "vgg16_cl"
            out[case] = best(lambda: net(ref8[:1], ["relu5_3"]))
print(json.dumps(out))
"""


def torch_home_with(weights: Path, root: Path) -> Path:
    """A TORCH_HOME whose hub cache holds ``weights`` under torchvision's file name."""
    checkpoints = root / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True, exist_ok=True)
    link = checkpoints / "vgg16-397923af.pth"
    if not link.exists():
        link.symlink_to(weights.resolve())
    return root


def child_env(src: Path, torch_home: Path | None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(src.resolve()), "FRIQA_OFFLINE": "1"}
    env.pop("FRIQA_VGG16_WEIGHTS", None)
    if torch_home is not None:
        env["TORCH_HOME"] = str(torch_home)
    return env


def run_cli(src: Path, flag: str) -> tuple[float, bool]:
    """Wall seconds of a whole ``friqa <flag>`` process, and whether it imported torch."""
    code = (
        "import sys, runpy; sys.argv = ['friqa', sys.argv[1]]\n"
        "try:\n    runpy.run_module('friqa.cli.main', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "sys.stderr.write('TORCH=%d' % ('torch' in sys.modules))"
    )
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-c", code, flag],
        env=child_env(src, None),
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - t0, res.stderr.endswith("TORCH=1")


def run_python(
    src: Path, cases: list[str], args: argparse.Namespace, torch_home: Path | None, prefix: str
) -> dict[str, float]:
    res = subprocess.run(
        [sys.executable, "-c", CHILD, ",".join(cases), str(args.repeat), str(args.threads), prefix],
        env=child_env(src, torch_home),
        capture_output=True,
        text=True,
    )
    if res.returncode != 0:
        raise SystemExit(f"{src}: child failed:\n{res.stderr}")
    times: dict[str, float] = json.loads(res.stdout.strip().splitlines()[-1])
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--src", action="append", type=Path, help="friqa source tree (repeatable)")
    p.add_argument("--weights", type=Path, help="VGG16 weights (needed by get_vgg16, lpips, vgg16)")
    p.add_argument("--cases", default=",".join(CLI_CASES + PY_CASES), help="comma-separated")
    p.add_argument("--rounds", type=int, default=5, help="processes per case and tree (5)")
    p.add_argument("--repeat", type=int, default=3, help="timed calls per process (3)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (2)")
    args = p.parse_args()
    srcs: list[Path] = args.src or [Path("src")]
    cases = [c for c in args.cases.split(",") if c]
    py_cases = [c for c in cases if c in PY_CASES]
    needs_weights = [c for c in py_cases if c in ("get_vgg16", "lpips", "vgg16", "vgg16_cl")]
    if needs_weights and args.weights is None:
        raise SystemExit(f"--weights is needed for {needs_weights}")
    prefix = hashlib.sha256(args.weights.read_bytes()).hexdigest()[:8] if needs_weights else ""
    samples: dict[tuple[str, int], list[float]] = {}
    torch_flags: dict[tuple[str, int], set[bool]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        torch_home = torch_home_with(args.weights, Path(tmp)) if needs_weights else None
        for r in range(args.rounds):
            for k, src in enumerate(srcs):
                for case in cases:
                    if case in CLI_CASES:
                        wall, imported = run_cli(src, f"--{case}")
                        samples.setdefault((case, k), []).append(wall)
                        torch_flags.setdefault((case, k), set()).add(imported)
                if py_cases:
                    for case, t in run_python(src, py_cases, args, torch_home, prefix).items():
                        samples.setdefault((case, k), []).append(t)
            print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    print(f"python {sys.version.split()[0]}, {args.threads} torch threads, {args.rounds} rounds")
    for k, src in enumerate(srcs):
        print(f"tree {k}: {src}")
    print(f"{'case':10s} {'tree':>4s} {'min s':>9s} {'median s':>9s} {'median/tree 0':>14s}  note")
    for case in cases:
        base = statistics.median(samples[(case, 0)])
        for k in range(len(srcs)):
            xs = samples[(case, k)]
            med = statistics.median(xs)
            note = ""
            if (case, k) in torch_flags:
                note = "imports torch" if True in torch_flags[(case, k)] else "no torch"
            print(f"{case:10s} {k:4d} {min(xs):9.4f} {med:9.4f} {med / base:14.3f}  {note}")


if __name__ == "__main__":
    main()
