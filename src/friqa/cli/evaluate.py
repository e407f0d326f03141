"""``friqa evaluate``: agreement of metrics with human scores on IQA datasets.

A thin layer over :func:`friqa.evaluation.evaluate`: parses the options, runs
it, prints the metrics x datasets table and where the files are.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from friqa.cli._common import (
    add_metric_option_argument,
    add_precision_argument,
    default_metrics,
    parse_metric_options,
    pick_device,
    precision_options,
    split_names,
)
from friqa.cli._scale import add_scale_arguments, scale_settings
from friqa.cli._status import evaluation_status
from friqa.exceptions import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="correlate metrics with human scores on datasets (SRCC, PLCC, ... and plots)",
        description="Score every pair of one or more dataset manifests (CSV: dist,ref,mos|dmos"
        "[,distortion]) with every metric, streaming per-image results to OUT/<dataset>/"
        "scores.csv (a killed run resumes where it stopped), then write OUT/report.md (the "
        "metrics x datasets table with bootstrap CIs, per-distortion SRCC and significance "
        "tests), OUT/summary.json and scatter plots. See docs/evaluation.md.",
    )
    p.add_argument(
        "--manifest",
        action="append",
        required=True,
        metavar="CSV",
        help="dataset manifest (repeat for several datasets); see friqa import-dataset",
    )
    p.add_argument(
        "--root",
        action="append",
        metavar="DIR",
        help="folder the manifest's paths are relative to (default: the manifest's folder); "
        "give one per --manifest",
    )
    p.add_argument(
        "--name",
        action="append",
        metavar="NAME",
        help="dataset name in the report (default: the manifest's folder name); one per --manifest",
    )
    p.add_argument(
        "-m",
        "--metrics",
        "--metric",
        dest="metrics",
        action="append",
        metavar="NAMES",
        help="comma-separated metric names (default: every base metric whose weights are "
        "available); see friqa list",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument(
        "--weights",
        metavar="PATH",
        help="VGG16 weights for the deep metrics (default: "
        "FRIQA_VGG16_WEIGHTS, then torch's cache)",
    )
    add_metric_option_argument(p)
    p.add_argument("--batch-size", type=int, default=8, help="distorted images per call (8)")
    p.add_argument(
        "--no-ref-cache",
        action="store_true",
        help="recompute reference features for every pair (slower; for comparison)",
    )
    p.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    add_precision_argument(p)
    p.add_argument(
        "--dtype", choices=("float32", "float64"), default="float32", help="precision (float32)"
    )
    p.add_argument(
        "--format",
        choices=("csv", "jsonl", "parquet"),
        default="csv",
        help="per-image results file format (parquet needs pyarrow: pip install 'friqa[ray]')",
    )
    p.add_argument("--overwrite", action="store_true", help="discard a previous run in --out")
    p.add_argument(
        "--retry-failed", action="store_true", help="when resuming, score failed rows again"
    )
    p.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        metavar="N",
        help="bootstrap resamples for the CIs and tests (1000; 0 = no intervals)",
    )
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (0)")
    p.add_argument("--no-plots", action="store_true", help="skip the scatter plots")
    p.add_argument(
        "--maps",
        type=int,
        default=0,
        metavar="K",
        help="report.html: the K pairs per metric that disagree most with the subjective "
        "scores, with SMIC attention panels (0)",
    )
    p.add_argument("--latex-ci", action="store_true", help="confidence intervals in table.tex")
    p.add_argument(
        "--no-compare", action="store_true", help="skip the metric-vs-metric significance tests"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the summary JSON, not the table")
    add_scale_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from friqa.evaluation.api import evaluate
    from friqa.evaluation.manifest import read_manifest
    from friqa.evaluation.markdown import main_table

    scale = scale_settings(args)
    manifests = args.manifest
    roots = args.root or []
    names = args.name or []
    if roots and len(roots) != len(manifests):
        raise InputError(f"give one --root per --manifest ({len(manifests)}), got {len(roots)}")
    if names and len(names) != len(manifests):
        raise InputError(f"give one --name per --manifest ({len(manifests)}), got {len(names)}")
    if args.batch_size < 1:
        raise InputError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.maps < 0:
        raise InputError(f"--maps must be >= 0, got {args.maps}")
    if args.bootstrap < 0:
        raise InputError(f"--bootstrap must be >= 0, got {args.bootstrap}")
    datasets = []
    for k, path in enumerate(manifests):
        datasets.append(
            read_manifest(
                path,
                root=roots[k] if roots else None,
                name=names[k] if names else None,
            )
        )
    metrics = split_names(args.metrics) or default_metrics(args.weights)
    result = evaluate(
        datasets,
        metrics,
        Path(args.out),
        metric_options=precision_options(
            metrics, args.precision, parse_metric_options(args.metric_option)
        ),
        weights=args.weights,
        batch_size=args.batch_size,
        ref_cache=not args.no_ref_cache,
        device=pick_device(args.device),
        dtype=torch.float64 if args.dtype == "float64" else torch.float32,
        fmt=args.format,
        overwrite=args.overwrite,
        retry_failed=args.retry_failed,
        progress=False if args.no_progress else None,
        n_boot=args.bootstrap,
        seed=args.seed,
        compare=not args.no_compare,
        plots=not args.no_plots,
        maps=args.maps,
        latex_ci=args.latex_ci,
        **scale,
    )
    if args.shard:
        for name, r in result.runs.items():
            sys.stdout.write(
                f"{name}: shard {args.shard}: {r.scored} scored, {r.failed} failed, "
                f"{r.seconds:.1f} s; parts in {r.out_dir / 'parts'}\n"
            )
        sys.stdout.write("run again without --shard to merge the parts and write the report\n")
        return 0
    if args.json:
        sys.stdout.write(result.files["summary"].read_text(encoding="utf-8"))
    else:
        sys.stdout.write("\n".join(main_table(result.summaries)) + "\n\n")
        for name, r in result.runs.items():
            sys.stdout.write(
                f"{name}: {r.scored} scored, {r.skipped} already done, {r.failed} failed in this "
                f"run ({r.failed_total} failed in total), {r.seconds:.1f} s"
                + (f", {r.pairs_per_second:.2f} pairs/s" if r.scored else "")
                + f"; per-image results: {r.scores_path}\n"
            )
        sys.stdout.write(f"report: {result.files['report']}\nsummary: {result.files['summary']}\n")
        if "html" in result.files:
            sys.stdout.write(f"html: {result.files['html']}\nlatex: {result.files['latex']}\n")
    return evaluation_status(result)
