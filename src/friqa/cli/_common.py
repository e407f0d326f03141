"""Pieces shared by the CLI commands: metric selection, weights, devices, output."""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from friqa.exceptions import InputError, WeightsError
from friqa.formatting import format_float

if TYPE_CHECKING:
    import torch

__all__ = [
    "add_metric_arguments",
    "add_metric_option_argument",
    "parse_metric_options",
    "metric_options_for",
    "add_precision_argument",
    "precision_options",
    "split_names",
    "weights_available",
    "default_metrics",
    "pick_device",
    "SCORE_FORMAT",
    "score_line",
    "pairs_table",
    "write_rows",
]

#: How the commands print a score (with :func:`friqa.formatting.format_float`).
SCORE_FORMAT = ".6g"


def add_metric_arguments(p: argparse.ArgumentParser, *, many: bool = True) -> None:
    """``--metric/-m``, ``--weights``, ``--device``, ``--memory-limit`` and
    ``--metric-option`` options."""
    if many:
        p.add_argument(
            "-m",
            "--metric",
            action="append",
            metavar="NAME",
            help="metric to compute (repeat or comma-separate; default: every base metric "
            "whose weights are available). See `friqa list`.",
        )
    p.add_argument(
        "--weights",
        metavar="PATH",
        help="VGG16 weights file (default: FRIQA_VGG16_WEIGHTS, then torch's cache, then download)",
    )
    p.add_argument("--device", default="cpu", help="torch device, for example cpu or cuda")
    p.add_argument(
        "--memory-limit",
        metavar="SIZE",
        help="memory a metric may use, e.g. 8G (default: FRIQA_MEMORY_LIMIT, else 80%% of the "
        "available RAM); above it psnr/ssim/ssim_rgb run in exact tiles, others refuse",
    )
    add_metric_option_argument(p)


def add_metric_option_argument(p: argparse.ArgumentParser) -> None:
    """``--metric-option NAME.KEY=VALUE`` (repeatable); see :func:`parse_metric_options`."""
    p.add_argument(
        "--metric-option",
        action="append",
        default=[],
        metavar="METRIC.KEY=VALUE",
        help="an option of one metric's constructor, e.g. psnr_smic.patch_size=5 or "
        "ssim.quantize=false (VALUE is read as JSON when it parses, else as text; the "
        "options are listed by help(friqa.create_metric)); repeatable",
    )


def parse_metric_options(items: list[str]) -> dict[str, dict[str, Any]]:
    """``["lpips.weights=a.pth", "ssim.quantize=false"]`` -> nested options.

    Raises:
        InputError: an item that is not ``METRIC.KEY=VALUE``.
    """
    options: dict[str, dict[str, Any]] = {}
    for item in items:
        head, sep, value = item.partition("=")
        metric, dot, key = head.partition(".")
        if not sep or not dot or not metric.strip() or not key.strip():
            raise InputError(f"--metric-option '{item}': expected METRIC.KEY=VALUE")
        try:
            parsed: Any = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        options.setdefault(metric.strip().lower(), {})[key.strip()] = parsed
    return options


def metric_options_for(items: list[str], names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """:func:`parse_metric_options` of ``items``, each naming one of ``names``.

    Raises:
        InputError: a malformed item, or options of a metric not in ``names``.
    """
    from friqa.metrics.registry import metric_info

    options = parse_metric_options(items)
    wanted = {metric_info(n).name for n in names}
    unknown = sorted(set(options) - wanted)
    if unknown:
        raise InputError(
            f"--metric-option given for {', '.join(unknown)}, which is not computed "
            f"(metrics: {', '.join(sorted(wanted))})"
        )
    return options


def add_precision_argument(p: argparse.ArgumentParser) -> None:
    """``--precision fp32|bf16`` (the deep metrics' backbone passes; fp32 by default)."""
    p.add_argument(
        "--precision",
        choices=("fp32", "bf16"),
        default="fp32",
        help="backbone precision of the deep metrics: fp32 (default, exact) or bf16 "
        "(bfloat16 autocast on CPU, float16 on CUDA: faster, scores move by ~1e-3)",
    )


def precision_options(
    names: Sequence[str], precision: str, options: dict[str, dict[str, Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """``options`` with ``precision`` set for every metric of ``names`` that runs VGG16."""
    from friqa.metrics.registry import metric_info

    out = {k: dict(v) for k, v in (options or {}).items()}
    if precision != "fp32":
        for name in names:
            info = metric_info(name)
            if info.needs_weights:
                out.setdefault(info.name, {}).setdefault("precision", precision)
    return out


def split_names(values: Sequence[str] | None) -> list[str]:
    """``["a,b", "c"]`` -> ``["a", "b", "c"]``."""
    names: list[str] = []
    for v in values or []:
        names.extend(n.strip().lower() for n in v.split(",") if n.strip())
    return list(dict.fromkeys(names))


def weights_available(weights: str | None, *, download: bool = False) -> bool:
    """True when VGG16 weights can be found (without downloading unless asked)."""
    from friqa.backbone.weights import resolve_vgg16_weights

    try:
        resolve_vgg16_weights(weights, download=download)
    except WeightsError:
        return False
    return True


def default_metrics(weights: str | None) -> list[str]:
    """Every base metric, the deep ones only when their weights are found locally."""
    from friqa.metrics.registry import list_metrics, metric_info

    have = weights_available(weights)
    return [n for n in list_metrics("base") if have or not metric_info(n).needs_weights]


def pick_device(name: str) -> torch.device:
    """Parse ``--device``; a CUDA device when none is present is a user error."""
    import torch

    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise InputError(f"unknown device {name!r}: {exc}") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError("--device cuda was asked for, but torch sees no CUDA device")
    return device


def score_line(name: str, width: int, value: float, lower_better: bool) -> str:
    """One line of a score table: ``psnr       21.7056  (higher is better)``."""
    better = "lower" if lower_better else "higher"
    return f"{name.ljust(width)}  {format_float(value, SCORE_FORMAT):>12}  ({better} is better)\n"


def pairs_table(rows: list[dict[str, Any]], metrics: list[str]) -> str:
    """Rows of ``score --pairs`` as an aligned text table, columns in the rows' order
    (the ``metrics`` columns with :data:`SCORE_FORMAT`, ``-`` for a failed score)."""
    header = list(dict.fromkeys(k for row in rows for k in row))

    def cell(row: dict[str, Any], key: str) -> str:
        value = row.get(key)
        if key in metrics:
            return "-" if value is None else format_float(value, SCORE_FORMAT)
        return str(value or "")

    table = [header] + [[cell(r, k) for k in header] for r in rows]
    widths = [max(len(line[k]) for line in table) for k in range(len(header))]
    return "".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() + "\n"
        for line in table
    )


def write_rows(rows: list[dict[str, Any]], path: Path) -> None:
    """Write result rows as CSV, JSON, Parquet (:func:`friqa.io.tables.write_table`) or TSV,
    chosen by the file extension; the columns are the union of the rows' keys."""
    from friqa.io.tables import write_table

    suffix = path.suffix.lower()
    if suffix not in (".csv", ".tsv", ".json", ".parquet"):
        raise InputError(f"--out {path}: use a .csv, .json, .parquet or .tsv file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix != ".tsv":
        write_table(rows, path)
        return
    fields = list(dict.fromkeys(k for row in rows for k in row))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, delimiter="\t")
        writer.writeheader()
        writer.writerows(rows)
