"""Throughput and memory of the batched MIC engine (friqa.mic.mic) and its slow reference.

Prints pairs/s for batches of 100,000 pairs at n = 49 and n = 16 (SMIC's 7x7 and
4x4 patches, alpha = 0.5, c = 10), the reference's pairs/s on a few hundred pairs,
and the peak extra memory of each batched call, measured in a fresh subprocess
as the growth of the peak resident set (VmHWM in /proc/self/status) over the
state just before the call (inputs already allocated, engine warmed up; the
peak is reset through /proc/self/clear_refs where the kernel allows it).

Usage:
    python benchmarks/bench_mic.py                      # the standard report
    python benchmarks/bench_mic.py --pairs 10000000     # memory claim for 10M pairs (n=49)

Timings are wall-clock with torch.set_num_threads(--threads); the CPU time of the
process is printed as well, because wall time is noisy on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import torch

from friqa.mic import mic, mic_reference


def make_pairs(npairs: int, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """SMIC-like float32 data: dependent Gaussian pairs, a third with ReLU-style exact zeros."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(npairs, n, generator=g)
    y = 0.6 * x + torch.randn(npairs, n, generator=g)
    relu = torch.arange(npairs) % 3 == 0
    x[relu] = x[relu].clamp(min=0.0)
    y[relu] = y[relu].clamp(min=0.0)
    return x, y


def status_mb(field: str) -> float:
    """A memory field of /proc/self/status (VmRSS: resident now, VmHWM: peak), in MiB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not found in /proc/self/status")


def reset_peak() -> float:
    """Reset the peak RSS to the current RSS if the kernel allows; return the baseline."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return status_mb("VmRSS")
    except OSError:  # no reset: the peak so far is the (conservative) baseline
        return status_mb("VmHWM")


def child(npairs: int, n: int, threads: int, chunk_size: int | None) -> None:
    """Run one batched call and print its time and peak extra memory as JSON."""
    torch.set_num_threads(threads)
    x, y = make_pairs(npairs, n)
    mic(x[:256], y[:256], alpha=0.5, c=10.0, chunk_size=chunk_size)  # warm-up (plan, tables)
    base = reset_peak()
    wall, cpu = time.perf_counter(), time.process_time()
    out = mic(x, y, alpha=0.5, c=10.0, chunk_size=chunk_size)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({
        "n": n, "pairs": npairs, "wall_s": wall, "cpu_s": cpu,
        "extra_peak_mb": status_mb("VmHWM") - base, "mean_mic": float(out.mean()),
    }))


def run_child(npairs: int, n: int, threads: int, chunk_size: int | None) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", "--pairs", str(npairs), "--n", str(n),
           "--threads", str(threads)]
    if chunk_size:
        cmd += ["--chunk-size", str(chunk_size)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def reference_rate(n: int, npairs: int) -> float:
    x, y = make_pairs(npairs, n, seed=1)
    xs, ys = x.double().numpy(), y.double().numpy()
    start = time.perf_counter()
    for a, b in zip(xs, ys, strict=True):
        mic_reference(a, b, 0.5, 10.0)
    return npairs / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--n", type=int, default=None, help="only this n (default: 49 and 16)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--reference-pairs", type=int, default=300)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.pairs, args.n, args.threads, args.chunk_size)
        return

    print(f"torch {torch.__version__}, {args.threads} threads, float32 inputs, "
          f"alpha=0.5, c=10, chunk_size={args.chunk_size or 'auto'}")
    for n in [args.n] if args.n else [49, 16]:
        r = run_child(args.pairs, n, args.threads, args.chunk_size)
        print(f"engine    n={n:3d}: {r['pairs'] / r['wall_s']:>10,.0f} pairs/s "
              f"({r['pairs']:,} pairs in {r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU; "
              f"{r['pairs'] / r['cpu_s']:,.0f} pairs per CPU-second), "
              f"peak extra memory {r['extra_peak_mb']:.0f} MiB")
    if args.reference_pairs:
        for n in [args.n] if args.n else [49, 16]:
            rate = reference_rate(n, args.reference_pairs)
            print(f"reference n={n:3d}: {rate:>10,.0f} pairs/s ({args.reference_pairs} pairs)")
    print("for scale: a scalar C implementation takes ~58 us per n=49 pair (~17,000 pairs/s)")


if __name__ == "__main__":
    main()
