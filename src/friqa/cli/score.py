"""``friqa score``: scores of one pair, or of many pairs listed in a CSV file."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from friqa.cli._common import (
    add_metric_arguments,
    add_precision_argument,
    default_metrics,
    pick_device,
    precision_options,
    score_line,
    split_names,
    write_rows,
)
from friqa.exceptions import DatasetError, FriqaError, InputError
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
        "folder or --root).",
    )
    p.add_argument("ref", nargs="?", help="reference image")
    p.add_argument("dist", nargs="?", help="distorted image")
    p.add_argument("--pairs", metavar="CSV", help="CSV file with columns ref,dist (and any others)")
    p.add_argument("--root", metavar="DIR", help="folder the paths in --pairs are relative to")
    p.add_argument("--out", metavar="FILE", help="write results to FILE (.csv or .json)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_metric_arguments(p)
    add_precision_argument(p)
    p.set_defaults(func=run)


def _score_pair(
    metrics: dict[str, Metric], ref_path: str, dist_path: str, device: torch.device
) -> dict[str, float]:
    import torch

    from friqa.io import load_image

    ref = load_image(ref_path).unsqueeze(0).to(device)
    dist = load_image(dist_path).unsqueeze(0).to(device)
    scores: dict[str, float] = {}
    for name, metric in metrics.items():
        if metric.info.aligned and ref.shape != dist.shape:
            raise InputError(
                f"{dist_path}: {metric.info.name} compares aligned pixels, but the reference "
                f"{ref_path} is {ref.shape[-1]}x{ref.shape[-2]} and the distorted image is "
                f"{dist.shape[-1]}x{dist.shape[-2]} (width x height); resize it, or use a "
                "metric that accepts unaligned pairs (deepssim)"
            )
        with torch.no_grad():
            scores[name] = float(metric(ref, dist)[0])
    return scores


def _read_pairs(csv_path: Path, root: Path | None) -> list[dict[str, str]]:
    if not csv_path.is_file():
        raise DatasetError(f"--pairs {csv_path}: no such file")
    with open(csv_path, newline="") as fh:
        reader = csv.DictReader(fh)
        fields = [f.strip() for f in reader.fieldnames or []]
        if "ref" not in fields or "dist" not in fields:
            raise DatasetError(
                f"{csv_path}: expected a header with 'ref' and 'dist' columns, got {fields}"
            )
        rows = [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in reader]
    base = root if root is not None else csv_path.parent
    for row in rows:
        row["ref_path"] = str(base / row["ref"])
        row["dist_path"] = str(base / row["dist"])
    return rows


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from friqa.metrics.factory import build_metrics
    from friqa.metrics.metric_set import MetricSet

    device = pick_device(args.device)
    names = split_names(args.metric) or default_metrics(args.weights)
    if args.pairs is None and (args.ref is None or args.dist is None):
        raise InputError("give REF and DIST, or --pairs CSV")
    if args.pairs is not None and args.ref is not None:
        raise InputError("give either REF DIST or --pairs CSV, not both")
    options = precision_options(names, args.precision)
    metrics = build_metrics(names, weights=args.weights, options=options, device=device)
    shared = MetricSet(metrics).shared  # the metrics of a pair share their VGG16 passes

    if args.pairs is None:
        with shared():
            scores = _score_pair(metrics, args.ref, args.dist, device)
        row: dict[str, Any] = {"ref": args.ref, "dist": args.dist, **scores}
        if args.out:
            write_rows([row], Path(args.out))
        if args.json:
            sys.stdout.write(json.dumps(json_safe(row), indent=2) + "\n")
        else:
            width = max(len(n) for n in scores)
            for name, value in scores.items():
                lower = metrics[name].info.lower_better
                sys.stdout.write(score_line(name, width, value, lower))
        return 0

    rows = _read_pairs(Path(args.pairs), Path(args.root) if args.root else None)
    results: list[dict[str, Any]] = []
    failures = 0
    for row in tqdm(rows, desc="scoring", unit="pair", file=sys.stderr, disable=None):
        out: dict[str, Any] = {"ref": row["ref"], "dist": row["dist"]}
        try:
            with shared():
                out.update(_score_pair(metrics, row["ref_path"], row["dist_path"], device))
            out["error"] = ""
        except FriqaError as exc:
            failures += 1
            out["error"] = str(exc)
        results.append(out)
    if args.out:
        write_rows(results, Path(args.out))
    if args.json or not args.out:
        sys.stdout.write(json.dumps(json_safe(results), indent=2) + "\n")
    if failures:
        sys.stderr.write(f"friqa score: {failures} of {len(rows)} pair(s) failed; see 'error'\n")
        return 1
    return 0
