"""Forward + backward time of every friqa loss on a batch of 8 images of 256x256.

Usage:
    PYTHONPATH=src python benchmarks/bench_losses.py \\
        --weights ../shared/weights/vgg16-imagenet-caffe-features.pth

For each name of ``friqa.losses.list_losses()`` (or ``--losses``): one warm-up
on a tiny batch (loads the weights), then ``--repeat`` training steps, each
with a *new* reference batch (so the reference side is computed, as in a real
step) and an output requiring a gradient: ``loss(ref, out).backward()``. Prints
the fastest wall and CPU time, then the time of a second call with the same
reference (its encoding reused from the loss's cache) and the load average,
since the project's machine is shared.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from friqa.losses import Loss, create_loss, list_losses, loss_needs_weights


def make(name: str, weights: str | None) -> Loss:
    return create_loss(name, **({"weights": weights} if loss_needs_weights(name) else {}))


def step(loss: Loss, ref: torch.Tensor, out: torch.Tensor) -> tuple[float, float]:
    """(wall, cpu) seconds of one forward + backward."""
    x = out.detach().clone().requires_grad_(True)
    w0, c0 = time.perf_counter(), time.process_time()
    loss(ref, x).backward()
    return time.perf_counter() - w0, time.process_time() - c0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--weights", default=None, help="VGG16 weights (default: friqa's resolution)")
    p.add_argument("--losses", nargs="*", default=None, help="names (default: every loss)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    shape = (args.batch, 3, args.size, args.size)
    print(
        f"batch {args.batch} x 3 x {args.size} x {args.size}, {args.threads} threads, "
        f"torch {torch.__version__}, fastest of {args.repeat}"
    )
    print(f"{'loss':<16}{'fwd+bwd wall s':>16}{'cpu s':>9}{'same ref s':>12}{'load':>7}")
    for name in args.losses or list_losses():
        loss = make(name, args.weights)
        tiny = torch.rand(1, 3, 168, 168, generator=g)
        step(loss, tiny, tiny)  # warm-up: weights read, kernels chosen
        best = (float("inf"), float("inf"))
        for _ in range(args.repeat):
            ref = torch.rand(shape, generator=g)
            out = (ref + 0.1 * torch.randn(shape, generator=g)).clamp(0, 1)
            best = min(best, step(loss, ref, out))
        cached = step(loss, ref, out)[0]  # the same reference tensor again
        loss.clear_reference_cache()
        load = os.getloadavg()[0]
        print(f"{name:<16}{best[0]:>16.2f}{best[1]:>9.2f}{cached:>12.2f}{load:>7.1f}", flush=True)


if __name__ == "__main__":
    main()
