"""``friqa list``: the registered metrics and their metadata."""

from __future__ import annotations

import argparse
import json
import sys

from friqa.formatting import format_float

#: The note under the table: why the faithful SMIC scores look unlike their base metrics'.
SMIC_SCALES = (
    "smic: faithful reproductions of the SMIC reference code, which keep its score scales,",
    "  not the base metrics': lpips_smic adds raw VGG16 differences over patches (about",
    "  1e6-1e7), ssim_smic is a weighted dissimilarity mean((1 - SSIM) x attention), lower",
    "  is better, dists_smic gives 0.43 for identical images. Compare them with each other",
    "  or with published SMIC numbers; the smic-consistent metrics (psnr+smic, ...) keep the",
    "  base metric's scale and direction. See docs/smic.md.",
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list the metrics and their metadata")
    p.add_argument("--json", action="store_true", help="print the metadata as JSON")
    p.add_argument("--family", help="only metrics of this family (base, smic, ...)")
    p.set_defaults(func=run)


def _range(lo: float, hi: float) -> str:
    return f"[{format_float(lo, 'g')}, {format_float(hi, 'g')}]"


def run(args: argparse.Namespace) -> int:
    from friqa.metrics.registry import list_metrics, metric_info

    names = list_metrics(args.family)
    infos = [metric_info(n) for n in names]
    if args.json:
        sys.stdout.write(json.dumps([i.as_dict() for i in infos], indent=2) + "\n")
        return 0
    header = ("metric", "family", "better", "range", "weights", "map", "grad", "aligned")
    rows = [
        (
            i.name,
            i.family,
            "lower" if i.lower_better else "higher",
            _range(*i.score_range),
            "VGG16" if i.needs_weights else "-",
            "yes" if i.returns_map else "-",
            "yes" if i.differentiable else "-",
            "yes" if i.aligned else "no",
        )
        for i in infos
    ]
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if any(i.family == "smic" for i in infos):
        lines.extend(["", *SMIC_SCALES])
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
