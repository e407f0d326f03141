"""``friqa score --ref-dir GT/ --dist-dir outputs/``: the folder mode of ``friqa score``.

Kept apart from :mod:`friqa.cli.score` (which only registers these options and
hands over to :func:`run_folders`); the work is :func:`friqa.folders.score_folders`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from friqa.exceptions import InputError
from friqa.formatting import format_float, json_safe

__all__ = ["add_folder_arguments", "wants_folders", "run_folders"]

#: How many unmatched names are printed per side (all are in the --out file).
_SHOW_UNMATCHED = 20


def add_folder_arguments(p: argparse.ArgumentParser) -> None:
    """``--ref-dir``, ``--dist-dir``, ``--pattern`` and the SR conventions."""
    g = p.add_argument_group("folders (score every output of a folder against its reference)")
    g.add_argument(
        "--ref-dir", metavar="DIR", help="references (ground truth), searched recursively"
    )
    g.add_argument("--dist-dir", metavar="DIR", help="outputs to score, searched recursively")
    g.add_argument(
        "--pattern",
        metavar="PATTERN",
        help="output file name for a reference stem, e.g. '{stem}_x4_SR.png' ('*' matches "
        "anything; default: the same stem)",
    )
    g.add_argument(
        "--y-channel",
        nargs="?",
        const="float",
        choices=("float", "matlab"),
        help="psnr/ssim on BT.601 luma, as super-resolution papers (float: BasicSR; matlab: "
        "rounded rgb2ycbcr); see docs/super-resolution.md",
    )
    g.add_argument(
        "--crop-border", type=int, default=0, metavar="N", help="psnr/ssim: drop N border pixels"
    )


def wants_folders(args: argparse.Namespace) -> bool:
    """True when the folder options were given (and then both folders are required)."""
    given = args.ref_dir is not None or args.dist_dir is not None
    if given and (args.ref_dir is None or args.dist_dir is None):
        raise InputError("give both --ref-dir and --dist-dir")
    if given and (args.ref is not None or getattr(args, "pairs", None) is not None):
        raise InputError("give either --ref-dir/--dist-dir, REF DIST, or --pairs, not several")
    return given


def _sr_options(names: list[str], y_channel: str | None, crop: int) -> dict[str, dict[str, Any]]:
    """The SR options for the metrics that take them (others keep their definition)."""
    from friqa.metrics.registry import create_metric

    wanted: dict[str, Any] = {}
    if y_channel:
        wanted["y_channel"] = y_channel
    if crop:
        wanted["crop_border"] = crop
    options: dict[str, dict[str, Any]] = {}
    for name in names:
        kept = {}
        for key, value in wanted.items():
            try:
                create_metric(name, **{key: value})
            except InputError:
                continue
            kept[key] = value
        if kept:
            options[name] = kept
    if wanted and not options:
        raise InputError("--y-channel/--crop-border apply to psnr and ssim; none was asked for")
    return options


def run_folders(args: argparse.Namespace, names: list[str]) -> int:
    """Score the folders, write ``--out``, print the unmatched files and the summary."""
    from friqa.folders import score_folders

    if args.crop_border < 0:
        raise InputError("--crop-border must be 0 or more")
    result = score_folders(
        args.ref_dir,
        args.dist_dir,
        names,
        pattern=args.pattern,
        options=_sr_options(names, args.y_channel, args.crop_border),
        weights=args.weights,
        device=args.device,
        progress=True,
    )
    if args.out:
        result.write(Path(args.out))
    match = result.match
    for label, items in (
        ("reference(s) without an output", match.unmatched_refs),
        ("output(s) without a reference", match.unmatched_dists),
    ):
        if items:
            shown = ", ".join(items[:_SHOW_UNMATCHED])
            more = (
                f" and {len(items) - _SHOW_UNMATCHED} more" if len(items) > _SHOW_UNMATCHED else ""
            )
            sys.stderr.write(f"friqa score: {len(items)} {label}: {shown}{more}\n")
    if args.json:
        summary = {k: vars(v) for k, v in result.summary.items()}
        payload = {"rows": result.rows, "summary": summary}
        sys.stdout.write(json.dumps(json_safe(payload), indent=2) + "\n")
    else:
        _print_table(result.rows if not args.out else [], result.metrics, result.summary)
    if not match.pairs:
        raise InputError(f"no output of {args.dist_dir} matches a reference of {args.ref_dir}")
    if result.failures:
        sys.stderr.write(f"friqa score: {result.failures} pair(s) failed; see 'error'\n")
        return 1
    return 0


def _print_table(rows: list[dict[str, Any]], names: list[str], summary: dict[str, Any]) -> None:
    """Per-image rows (when not written to a file), then mean / std / count per metric."""
    out = sys.stdout
    scored = [r for r in rows if r["ref"] and r["dist"]]
    if scored:
        width = max(len(r["dist"]) for r in scored)
        out.write(f"{'dist'.ljust(width)}  " + "  ".join(f"{n:>12}" for n in names) + "\n")
        for r in scored:
            cells = [format_float(r[n], ".6g") if r[n] is not None else "-" for n in names]
            out.write(f"{r['dist'].ljust(width)}  " + "  ".join(f"{c:>12}" for c in cells) + "\n")
        out.write("\n")
    width = max(len(n) for n in names)
    out.write(f"{'metric'.ljust(width)}  {'mean':>12}  {'std':>12}  {'count':>6}\n")
    for name in names:
        s = summary[name]
        out.write(
            f"{name.ljust(width)}  {format_float(s.mean, '.6g'):>12}  "
            f"{format_float(s.std, '.6g'):>12}  {s.count:>6}\n"
        )
