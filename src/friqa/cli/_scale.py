"""Scale-out options of ``friqa evaluate``: engine, Ray resources, shards (docs/scale-out.md)."""

from __future__ import annotations

import argparse
from typing import Any

from friqa.exceptions import InputError

__all__ = ["add_scale_arguments", "scale_settings"]


def add_scale_arguments(p: argparse.ArgumentParser) -> None:
    """``--engine``, ``--ray-address``, ``--workers``, ``--cpus-per-worker``,
    ``--gpus-per-worker``, ``--shard-rows`` and ``--shard``."""
    g = p.add_argument_group("scale-out (see docs/scale-out.md)")
    g.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="who scores: this process (local) or Ray actors (ray; pip install 'friqa[ray]')",
    )
    g.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="Ray cluster to join ('auto': the one this machine is in; default: start one)",
    )
    g.add_argument("--workers", type=int, metavar="N", help="Ray workers (default: CPUs or GPUs)")
    g.add_argument(
        "--cpus-per-worker", type=float, default=1.0, metavar="C", help="CPUs per Ray worker (1)"
    )
    g.add_argument(
        "--gpus-per-worker",
        type=float,
        default=0.0,
        metavar="G",
        help="GPUs per Ray worker (0; with --device cuda)",
    )
    g.add_argument(
        "--shard-rows", type=int, metavar="R", help="pairs per shard (256); whole references"
    )
    g.add_argument(
        "--shard",
        metavar="I/N",
        help="score only shard I (0-based) of N, e.g. a job array's task; a later run "
        "without --shard merges the parts and writes the report",
    )


def scale_settings(args: argparse.Namespace) -> dict[str, Any]:
    """``engine``, ``engine_options`` and ``shard`` for :func:`friqa.evaluation.evaluate`."""
    from friqa.evaluation.shards import parse_shard_spec

    ray_only = {
        "--ray-address": args.ray_address is not None,
        "--workers": args.workers is not None,
        "--cpus-per-worker": args.cpus_per_worker != 1.0,
        "--gpus-per-worker": args.gpus_per_worker != 0.0,
    }
    given = [name for name, set_ in ray_only.items() if set_]
    if args.engine != "ray" and given:
        raise InputError(f"{', '.join(given)} apply to the Ray engine: add --engine ray")
    options: dict[str, Any] = {}
    if args.shard_rows is not None:
        options["shard_rows"] = args.shard_rows
    if args.engine == "ray":
        options.update(
            address=args.ray_address,
            workers=args.workers,
            cpus_per_worker=args.cpus_per_worker,
            gpus_per_worker=args.gpus_per_worker,
        )
    return {
        "engine": args.engine,
        "engine_options": options,
        "shard": parse_shard_spec(args.shard) if args.shard else None,
    }
