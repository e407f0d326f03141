"""Whole-process time of ``friqa map`` (stride-1 SMIC panel of one pair), optionally under load.

Runs the command in fresh processes, alternating the MIC engine's compiled kernel
and its torch path (``FRIQA_MIC_NATIVE=0``), ``--repeats`` times each, and reports
the wall time of each process (fastest and median) and the phases of one
in-process run (imports, metric, score, stride-1 attention, panel). ``--load K``
keeps K CPU burners (``burners.py``) running beside the whole measurement. The
two variants' ``.npz`` outputs are compared.

Usage:
    python benchmarks/bench_map.py --weights ../shared/weights/vgg16-imagenet-caffe-features.pth
    python benchmarks/bench_map.py --weights ... --load 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from burners import cpu_burners  # benchmarks/, the script's directory

_PHASES = """
import sys, time
t0 = time.perf_counter()
import torch
t1 = time.perf_counter()
from friqa.io import load_image
from friqa.smic.maps import smic_maps
t2 = time.perf_counter()
ref = load_image(sys.argv[1]).unsqueeze(0)
dist = load_image(sys.argv[2]).unsqueeze(0)
maps = smic_maps(ref, dist, "psnr_smic", weights=sys.argv[3], stride=1)
t3 = time.perf_counter()
from friqa.plotting.maps import smic_panel
a = maps.arrays(0)
smic_panel(a["ref"], a["dist"], a["distortion"], a["attention"], a["rectified"], path=sys.argv[4])
t4 = time.perf_counter()
print(f"import torch {t1 - t0:.2f} s, friqa {t2 - t1:.2f} s, maps {t3 - t2:.2f} s, "
      f"panel {t4 - t3:.2f} s")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--ref", default="../shared/data/pairs/kadid/I07.png")
    parser.add_argument("--dist", default="../shared/data/pairs/kadid/I07_09_04.png")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--load", type=int, default=0, help="CPU burners beside the run")
    args = parser.parse_args()
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = dict(os.environ, PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""))
    print(f"load average {os.getloadavg()[0]:.1f} before the run, {args.load} burner(s)")
    times: dict[str, list[float]] = {"kernel": [], "torch": []}
    with tempfile.TemporaryDirectory() as tmp, cpu_burners(args.load):
        for _ in range(args.repeats):
            for name in times:
                cmd = [sys.executable, "-m", "friqa.cli.main", "map", args.ref, args.dist]
                cmd += ["--weights", args.weights, "-o", f"{tmp}/{name}.png"]
                cmd += ["--npy", f"{tmp}/{name}.npz"]
                run_env = dict(env, FRIQA_MIC_NATIVE="1" if name == "kernel" else "0")
                start = time.perf_counter()
                subprocess.run(cmd, env=run_env, check=True, capture_output=True)
                times[name].append(time.perf_counter() - start)
        import numpy as np

        a, b = np.load(f"{tmp}/kernel.npz"), np.load(f"{tmp}/torch.npz")
        same = all(np.array_equal(a[k], b[k]) for k in a.files)
        phases = subprocess.run(
            [sys.executable, "-c", _PHASES, args.ref, args.dist, args.weights, f"{tmp}/p.png"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    for name, ts in times.items():
        print(
            f"friqa map, MIC {name:>6}: fastest {min(ts):.2f} s, "
            f"median {statistics.median(ts):.2f} s"
        )
    print(f"outputs identical: {same}; phases (kernel): {phases}")
    print(f"load average {os.getloadavg()[0]:.1f} after the run")


if __name__ == "__main__":
    main()
