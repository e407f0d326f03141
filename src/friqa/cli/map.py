"""``friqa map``: SMIC attention and distortion maps of a pair, as a Figure-5-style panel.

Example::

    friqa map ref.png dist.png --metric psnr_smic -o panel.png --npy maps.npz
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from friqa.cli._common import (
    SCORE_FORMAT,
    add_metric_arguments,
    add_precision_argument,
    metric_options_for,
    pick_device,
    precision_options,
)
from friqa.exceptions import InputError
from friqa.formatting import format_float


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "map",
        help="draw SMIC attention, distortion and rectified maps of a pair",
        description="Compute a metric's distortion map, the SMIC attention map (stride 1, "
        "min-max normalised per stage, as in the SMIC paper's figures) and the rectified "
        "map, and save them as a five-panel PNG (-o) and/or as raw arrays (--npy, a .npz "
        "file). METRIC is a SMIC metric with a map (psnr_smic, ssim_smic, psnr+smic, "
        "ssim+smic, ms_ssim+smic, lpips+smic) or a base metric with a map (wrapped).",
    )
    p.add_argument("ref", help="reference image")
    p.add_argument("dist", help="distorted image")
    p.add_argument("-m", "--metric", default="psnr_smic", help="metric (default psnr_smic)")
    p.add_argument("-o", "--out", metavar="PNG", help="write the panel to this PNG file")
    p.add_argument(
        "--npy",
        metavar="NPZ",
        help="write the raw arrays (images, stage grids raw and normalised, attention, "
        "distortion and rectified maps, score) to this .npz file",
    )
    p.add_argument("--stride", type=int, default=1, help="attention stride (default 1)")
    p.add_argument("--cmap", default="magma", help="colour map of the maps (default magma)")
    add_metric_arguments(p, many=False)
    add_precision_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from friqa.backbone.precision import reduced_precision
    from friqa.io import load_image
    from friqa.metrics.factory import build_metrics
    from friqa.metrics.memory import check_memory, memory_limit
    from friqa.smic.maps import smic_maps

    if not args.out and not args.npy:
        raise InputError("nothing to write: give -o PANEL.png and/or --npy ARRAYS.npz")
    if args.stride < 1:
        raise InputError(f"--stride must be >= 1, got {args.stride}")
    if args.out:
        from friqa.plotting import require_matplotlib

        require_matplotlib("or write the arrays only (--npy, without -o)")  # before the work
    device = pick_device(args.device)
    memory_limit(args.memory_limit)  # a bad --memory-limit is a user error, before any work
    ref = load_image(args.ref).unsqueeze(0).to(device)
    dist = load_image(args.dist).unsqueeze(0).to(device)
    if ref.shape != dist.shape:
        raise InputError(
            f"{args.dist} is {dist.shape[-1]}x{dist.shape[-2]} but {args.ref} is "
            f"{ref.shape[-1]}x{ref.shape[-2]} (width x height); SMIC maps need aligned images"
        )
    name = args.metric.lower()
    options = precision_options(
        [name], args.precision, metric_options_for(args.metric_option, [name])
    )
    metric = build_metrics([name], weights=args.weights, options=options, device=device)
    (m,) = metric.values()
    check_memory(m, dist, args.memory_limit, tiles=False)  # maps are not tiled
    patch = getattr(m, "patch_size", 7)
    with reduced_precision(args.precision):
        maps = smic_maps(ref, dist, m, weights=args.weights, stride=args.stride, patch_size=patch)
    arrays = maps.arrays(0)
    score = float(arrays["score"])
    written = []
    # The .npz is compressed on a second thread while the panel is drawn (zlib releases
    # the interpreter lock); its errors are raised here as usual.
    with ThreadPoolExecutor(max_workers=1) as pool:
        saved = None
        if args.npy:
            path = Path(args.npy)
            path.parent.mkdir(parents=True, exist_ok=True)
            saved = pool.submit(np.savez_compressed, path, **arrays)  # type: ignore[arg-type]
            written.append(
                str(path if path.suffix == ".npz" else path.with_name(path.name + ".npz"))
            )
        if args.out:
            from friqa.plotting.maps import smic_panel

            smic_panel(
                arrays["ref"],
                arrays["dist"],
                arrays["distortion"],
                arrays["attention"],
                arrays["rectified"],
                suptitle=f"{maps.metric} = {format_float(score, SCORE_FORMAT)}   (attention: "
                f"stride {maps.stride}, {maps.patch_size}x{maps.patch_size} patches, min-max "
                "per stage)",
                cmap=args.cmap,
                path=args.out,
            )
            written.append(str(args.out))
        if saved is not None:
            saved.result()
    sys.stdout.write(f"{maps.metric}\t{format_float(score, SCORE_FORMAT)}\t{' '.join(written)}\n")
    return 0
