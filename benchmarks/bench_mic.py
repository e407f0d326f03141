"""Throughput of the batched MIC engine (friqa.mic.mic) against minepy, optionally under load.

For n = 49 and n = 16 (SMIC's 7x7 and 4x4 patches, alpha = 0.5, c = 10) the
engine and minepy's MINE (if importable) are timed in the same run, alternating,
``--repeats`` times each; the table gives pairs/s from the fastest and from the
median repeat, and their ratios. ``--load K`` keeps K bounded CPU-burning
processes running beside the whole measurement (see ``burners.py``), as on a
machine busy with other work. minepy is timed as a user calls it, one
``compute_score`` per pair from Python, on ``--minepy-pairs`` of the pairs.

Usage:
    python benchmarks/bench_mic.py                         # idle, 2 threads
    python benchmarks/bench_mic.py --load 2                # one burner per core (2 cores)
    python benchmarks/bench_mic.py --data gauss            # tie-free pairs
    python benchmarks/bench_mic.py --memory --pairs 10000000 --n 49   # peak extra memory
    python benchmarks/bench_mic.py --reference-pairs 300   # + the slow scalar reference

``--memory`` measures the engine's peak extra memory in a fresh subprocess: the
growth of the peak resident set (VmHWM in /proc/self/status) over the state just
before the call (inputs allocated, engine warmed up; the peak is reset through
/proc/self/clear_refs where the kernel allows it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import torch

from burners import cpu_burners  # benchmarks/, the script's directory
from friqa.mic import mic, mic_reference

ALPHA, C = 0.5, 10.0


def make_pairs(
    npairs: int, n: int, seed: int = 0, kind: str = "relu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Benchmark pairs ``(x, y)``, float32, shape ``(npairs, n)``.

    ``relu``: what SMIC's inputs look like where a network's features die out. Each
    point carries 8 ReLU channels, ``relu(z + level)`` with a per-pair activation
    level (uniform in [-2.5, 0.5]); ``y``'s channels are correlated with ``x``'s; both
    are projected on one random signed direction, so a point whose channels are all
    zero becomes an exact 0 and the others are distinct. On average 36% of the
    values are 0 and 70% of the rows hold ties (a run of zeros), as the ReLU rows of
    the minepy fixture (``ties49``). ``gauss``: dependent Gaussian pairs without
    ties; the projected VGG features of real images that SMIC scores have none
    either (checked on the six shared image pairs).
    """
    g = torch.Generator().manual_seed(seed)
    if kind == "gauss":
        x = torch.randn(npairs, n, generator=g)
        return x, 0.6 * x + torch.randn(npairs, n, generator=g)
    channels = 8
    level = torch.rand(npairs, 1, 1, generator=g) * 3.0 - 2.5
    z = torch.randn(npairs, n, channels, generator=g)
    zd = 0.7 * z + 0.7 * torch.randn(npairs, n, channels, generator=g)
    direction = torch.randn(channels, generator=g)
    return (z + level).clamp(min=0.0) @ direction, (zd + level).clamp(min=0.0) @ direction


def tie_summary(x: torch.Tensor) -> str:
    rows = x[:2000]
    zeros = float((rows == 0).float().mean())
    sorted_rows = rows.sort(dim=1).values
    tied = float((sorted_rows[:, 1:] == sorted_rows[:, :-1]).any(dim=1).float().mean())
    return f"{100 * zeros:.0f}% zeros, ties in {100 * tied:.0f}% of the rows"


def minepy_loop() -> Callable[[object, object], None] | None:
    """One MINE call per pair, as a user would write it; None without minepy."""
    try:
        from minepy import MINE
    except ImportError:
        return None
    mine = MINE(alpha=ALPHA, c=C)

    def run(xs: object, ys: object) -> None:
        for a, b in zip(xs, ys, strict=True):  # type: ignore[call-overload]
            mine.compute_score(a, b)
            mine.mic()

    return run


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare(
    n: int, args: argparse.Namespace, minepy: Callable[[object, object], None] | None
) -> dict[str, list[float]]:
    """Alternate the engine (all pairs) and minepy (a subset); pairs/s of every repeat."""
    x, y = make_pairs(args.pairs, n, kind=args.data)
    k = min(args.minepy_pairs, args.pairs)
    xs, ys = x[:k].double().numpy(), y[:k].double().numpy()
    ours = mic(
        x, y, alpha=ALPHA, c=C, chunk_size=args.chunk_size, backend=args.backend
    )  # warm-up, and the check
    if minepy is not None:
        from minepy import MINE

        mine = MINE(alpha=ALPHA, c=C)
        worst = 0.0
        for i in range(min(k, 2000)):
            mine.compute_score(xs[i], ys[i])
            worst = max(worst, abs(mine.mic() - float(ours[i])))
        print(f"n={n}: largest |friqa - minepy| over {min(k, 2000)} pairs: {worst:.1e}")
    rates: dict[str, list[float]] = {"friqa": [], "minepy": []}
    for _ in range(args.repeats):
        rates["friqa"].append(
            args.pairs
            / timed(
                lambda: mic(
                    x, y, alpha=ALPHA, c=C, chunk_size=args.chunk_size, backend=args.backend
                )
            )
        )
        if minepy is not None:
            rates["minepy"].append(k / timed(lambda: minepy(xs, ys)))
    return rates


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


def child(npairs: int, n: int, threads: int, chunk_size: int | None, kind: str) -> None:
    """Run one batched call and print its time and peak extra memory as JSON."""
    torch.set_num_threads(threads)
    x, y = make_pairs(npairs, n, kind=kind)
    mic(x[:4096], y[:4096], alpha=ALPHA, c=C, chunk_size=chunk_size)  # warm-up (plan, workers)
    base = reset_peak()
    wall, cpu = time.perf_counter(), time.process_time()
    out = mic(x, y, alpha=ALPHA, c=C, chunk_size=chunk_size)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        json.dumps(
            {
                "n": n,
                "pairs": npairs,
                "wall_s": wall,
                "cpu_s": cpu,
                "extra_peak_mb": status_mb("VmHWM") - base,
                "mean_mic": float(out.mean()),
            }
        )
    )


def run_child(args: argparse.Namespace, n: int) -> dict[str, float]:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        "--pairs",
        str(args.pairs),
        "--n",
        str(n),
        "--threads",
        str(args.threads),
        "--data",
        args.data,
    ]
    if args.chunk_size:
        cmd += ["--chunk-size", str(args.chunk_size)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def reference_rate(n: int, npairs: int, kind: str) -> float:
    x, y = make_pairs(npairs, n, seed=1, kind=kind)
    xs, ys = x.double().numpy(), y.double().numpy()
    start = time.perf_counter()
    for a, b in zip(xs, ys, strict=True):
        mic_reference(a, b, ALPHA, C)
    return npairs / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100_000, help="pairs per engine call")
    parser.add_argument("--n", type=int, default=None, help="only this n (default: 49 and 16)")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--load", type=int, default=0, help="CPU burners beside the run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--minepy-pairs", type=int, default=20_000)
    parser.add_argument("--data", choices=["relu", "gauss"], default="relu")
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument(
        "--backend",
        choices=["auto", "native", "torch"],
        default="auto",
        help="friqa.mic.mic backend (auto: the compiled kernel where it builds)",
    )
    parser.add_argument("--memory", action="store_true", help="peak extra memory (subprocess)")
    parser.add_argument("--reference-pairs", type=int, default=0)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.pairs, args.n, args.threads, args.chunk_size, args.data)
        return

    torch.set_num_threads(args.threads)
    ns = [args.n] if args.n else [49, 16]
    minepy = minepy_loop()
    print(
        f"torch {torch.__version__}, {args.threads} threads, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} before the run, {args.load} burner(s), "
        f"float32, alpha={ALPHA}, c={C}, chunk_size={args.chunk_size or 'auto'}, "
        f"backend {args.backend}"
    )
    print(
        f"data {args.data!r}: {tie_summary(make_pairs(2000, 49, kind=args.data)[0])} (n=49); "
        f"friqa on {args.pairs:,} pairs, minepy on {min(args.minepy_pairs, args.pairs):,}, "
        f"{args.repeats} repeats, alternating"
        + ("" if minepy else "; minepy is not importable, friqa only")
    )
    results = {}
    with cpu_burners(args.load):
        for n in ns:
            results[n] = compare(n, args, minepy)
    print(
        f"{'n':>3} | {'friqa pairs/s best':>18} {'median':>10} | {'minepy best':>11} "
        f"{'median':>8} | {'ratio best':>10} {'median':>6}"
    )
    for n, rates in results.items():
        f_best, f_med = max(rates["friqa"]), statistics.median(rates["friqa"])
        line = f"{n:>3} | {f_best:>18,.0f} {f_med:>10,.0f} |"
        if rates["minepy"]:
            m_best, m_med = max(rates["minepy"]), statistics.median(rates["minepy"])
            line += (
                f" {m_best:>11,.0f} {m_med:>8,.0f} | {f_best / m_best:>9.1f}x "
                f"{f_med / m_med:>5.1f}x"
            )
        print(line)
    if args.memory:
        for n in ns:
            r = run_child(args, n)
            print(
                f"memory n={n}: {r['pairs']:,} pairs in {r['wall_s']:.2f} s wall, "
                f"{r['cpu_s']:.2f} s CPU, peak extra memory {r['extra_peak_mb']:.0f} MiB"
            )
    if args.reference_pairs:
        for n in ns:
            rate = reference_rate(n, args.reference_pairs, args.data)
            print(f"slow reference n={n}: {rate:,.0f} pairs/s ({args.reference_pairs} pairs)")


if __name__ == "__main__":
    main()
