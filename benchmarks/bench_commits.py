"""Whole-process ``friqa`` commands from two source trees, alternating, in one run.

Each command runs in a fresh interpreter (``friqa.cli.main:entry``, what the
``friqa`` script runs) once per tree per repeat, the order of the trees swapped
every other repeat. It prints min and median wall seconds per tree and the ratio
``before / after`` (above 1: ``after`` is faster), and checks that both trees
printed the same output. A tree is a ``src`` folder (``PYTHONPATH``), for
example of a ``git worktree`` at an older commit.

Usage::

    git worktree add /tmp/before 38f19aa
    python benchmarks/bench_commits.py --before /tmp/before/src --after src \\
        --weights ../shared/weights/vgg16-imagenet-caffe-features.pth --repeats 3 \\
        -- score ../shared/data/pairs/kadid/I07.png ../shared/data/pairs/kadid/I07_09_04.png \\
        -m psnr,lpips,dists
    #   --load K: K CPU burners beside the runs
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from burners import cpu_burners  # noqa: E402

ENTRY = "from friqa.cli.main import entry; entry()"


def run_once(tree: str, command: Sequence[str], weights: str | None) -> tuple[float, str]:
    """Wall seconds and standard output of one ``friqa <command>`` with ``tree`` first."""
    env = dict(os.environ, PYTHONPATH=str(Path(tree).resolve()))
    if weights:
        env["FRIQA_VGG16_WEIGHTS"] = str(Path(weights).resolve())
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", ENTRY, *command], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{tree}: friqa {' '.join(command)} exited {done.returncode}: "
                         f"{done.stderr.strip().splitlines()[-1:]}")  # fmt: skip
    return seconds, done.stdout


def compare(
    trees: dict[str, str], command: Sequence[str], repeats: int, weights: str | None
) -> dict[str, list[float]]:
    """Seconds per tree, alternating the order of the trees each repeat."""
    times: dict[str, list[float]] = {name: [] for name in trees}
    outputs: dict[str, str] = {}
    names = list(trees)
    for r in range(repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            seconds, outputs[name] = run_once(trees[name], command, weights)
            times[name].append(seconds)
    if len(set(outputs.values())) > 1:
        print("note: the trees printed different outputs")
    return times


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="src folder of the older tree")
    parser.add_argument("--after", required=True, help="src folder of the newer tree")
    parser.add_argument("--weights", default=None, help="FRIQA_VGG16_WEIGHTS for both")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--load", type=int, default=0, help="CPU burners beside the runs")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then friqa's arguments")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the friqa command after --")
    trees = {"before": args.before, "after": args.after}
    with cpu_burners(args.load):
        times = compare(trees, command, args.repeats, args.weights)
    b, a = times["before"], times["after"]
    print(f"friqa {' '.join(command)}  ({args.repeats} repeats, {args.load} burner(s))")
    print(f"before: {min(b):.2f} / {statistics.median(b):.2f} s (min / median)")
    print(f"after:  {min(a):.2f} / {statistics.median(a):.2f} s")
    print(
        f"before / after: min {min(b) / min(a):.2f}x, "
        f"median {statistics.median(b) / statistics.median(a):.2f}x"
    )


if __name__ == "__main__":
    main()
