"""``friqa score``: scores of one pair, or of many pairs listed in a CSV file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from friqa.cli._common import (
    add_metric_arguments,
    add_precision_argument,
    default_metrics,
    metric_options_for,
    pairs_table,
    pick_device,
    precision_options,
    score_line,
    split_names,
    write_rows,
)
from friqa.cli._folders import add_folder_arguments, run_folders, wants_folders
from friqa.cli._status import failure_status
from friqa.exceptions import FriqaError, InputError
from friqa.formatting import json_safe

if TYPE_CHECKING:
    import torch

    from friqa.metrics.base import Metric


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score",
        help="score a reference/distorted pair (or many, with --pairs)",
        description="Score REF against DIST with one or more metrics. With --pairs, score "
        "every row of a CSV file with 'ref' and 'dist' columns (paths relative to the CSV's "
        "folder, or to --root when given; other columns are copied to the results), printed "
        "as a table (or JSON with --json) or written to --out.",
    )
    p.add_argument("ref", nargs="?", help="reference image")
    p.add_argument("dist", nargs="?", help="distorted image")
    p.add_argument("--pairs", metavar="CSV", help="CSV file with columns ref,dist (and any others)")
    p.add_argument("--root", metavar="DIR", help="folder the paths in --pairs are relative to")
    p.add_argument(
        "--out", metavar="FILE", help="write results to FILE (.csv or .json; folders: .parquet too)"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_metric_arguments(p)
    add_folder_arguments(p)
    add_precision_argument(p)
    p.set_defaults(func=run)


def _score_pair(
    metrics: dict[str, Metric],
    ref_path: str,
    dist_path: str,
    device: torch.device,
    memory_limit: str | None = None,
) -> tuple[dict[str, float | None], dict[str, str]]:
    """Every metric's score of one pair (None when it failed) and, per failed metric, why.

    An image that cannot be read fails the pair (raised); a metric that cannot score it
    (a size mismatch, an error in the metric) fails that metric only.
    """
    import torch

    from friqa.io import load_image
    from friqa.metrics.memory import score_within_memory

    ref = load_image(ref_path).unsqueeze(0).to(device)
    dist = load_image(dist_path).unsqueeze(0).to(device)
    scores: dict[str, float | None] = {}
    errors: dict[str, str] = {}
    for name, metric in metrics.items():
        scores[name] = None
        if metric.info.aligned and ref.shape != dist.shape:
            errors[name] = (
                f"{dist_path}: {metric.info.name} compares aligned pixels, but the reference "
                f"{ref_path} is {ref.shape[-1]}x{ref.shape[-2]} and the distorted image is "
                f"{dist.shape[-1]}x{dist.shape[-2]} (width x height); resize it, or use a "
                "metric that accepts unaligned pairs (deepssim)"
            )
            continue
        try:
            with torch.no_grad():
                scores[name] = float(score_within_memory(metric, ref, dist, memory_limit)[0])
        except (FriqaError, RuntimeError) as exc:  # RuntimeError: out of memory, ...
            reason = str(exc).splitlines()[0]
            errors[name] = reason if reason.startswith(name) else f"{name}: {reason}"
    return scores, errors


def _read_pairs(csv_path: Path, root: Path | None) -> list[dict[str, str]]:
    from friqa.io.csvfile import read_csv_table

    table = read_csv_table(csv_path, required=("ref", "dist"), what="--pairs")
    base = root if root is not None else csv_path.parent
    for row in table.rows:
        row["ref_path"] = str(base / row["ref"])
        row["dist_path"] = str(base / row["dist"])
    return table.rows


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from friqa.metrics.factory import build_metrics
    from friqa.metrics.memory import memory_limit
    from friqa.metrics.metric_set import MetricSet

    device = pick_device(args.device)
    memory_limit(args.memory_limit)  # a bad --memory-limit is a user error, before any work
    names = split_names(args.metric) or default_metrics(args.weights)
    if wants_folders(args):
        return run_folders(args, names)
    if args.pairs is None and (args.ref is None or args.dist is None):
        raise InputError("give REF and DIST, or --pairs CSV")
    if args.pairs is not None and args.ref is not None:
        raise InputError("give either REF DIST or --pairs CSV, not both")
    options = precision_options(
        names, args.precision, metric_options_for(args.metric_option, names)
    )
    metrics = build_metrics(names, weights=args.weights, options=options, device=device)
    shared = MetricSet(metrics).shared  # the metrics of a pair share their VGG16 passes

    if args.pairs is None:
        with shared():
            scores, errors = _score_pair(metrics, args.ref, args.dist, device, args.memory_limit)
        row: dict[str, Any] = {"ref": args.ref, "dist": args.dist, **scores}
        if errors:
            row["errors"] = errors
        if args.out:
            write_rows([row], Path(args.out))
        if args.json:
            sys.stdout.write(json.dumps(json_safe(row), indent=2, ensure_ascii=False) + "\n")
        else:
            width = max(len(n) for n in scores)
            for name, value in scores.items():
                if value is not None:
                    lower = metrics[name].info.lower_better
                    sys.stdout.write(score_line(name, width, value, lower))
        for reason in errors.values():
            sys.stderr.write(f"friqa score: {reason}\n")
        return failure_status("score", len(errors), len(metrics), "metrics")

    rows = _read_pairs(Path(args.pairs), Path(args.root) if args.root else None)
    results: list[dict[str, Any]] = []
    failures = 0
    for row in tqdm(rows, desc="scoring", unit="pair", file=sys.stderr, disable=None):
        out: dict[str, Any] = {k: v for k, v in row.items() if k not in ("ref_path", "dist_path")}
        try:
            with shared():
                scores, errors = _score_pair(
                    metrics, row["ref_path"], row["dist_path"], device, args.memory_limit
                )
            out.update(scores)
            out["error"] = "; ".join(errors.values())
        except FriqaError as exc:
            out["error"] = str(exc)
        failures += bool(out["error"])
        results.append(out)
    if args.out:
        write_rows(results, Path(args.out))
    if args.json:
        sys.stdout.write(json.dumps(json_safe(results), indent=2, ensure_ascii=False) + "\n")
    elif args.out:
        sys.stdout.write(f"{len(results)} pairs, {len(metrics)} metrics: {args.out}\n")
    else:
        sys.stdout.write(pairs_table(results, list(metrics)))
    first = next((r["error"] for r in results if r["error"]), "")
    return failure_status("score", failures, len(rows), "pairs", first)
