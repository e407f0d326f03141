"""``friqa doctor``: what a bug report needs: versions, weights, threads, device, extras.

Example::

    friqa doctor            # a short text report
    friqa doctor --json     # the same as JSON
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import sys
from typing import Any

#: Packages friqa can use when present (name -> what for).
EXTRAS = {
    "matplotlib": "figures: friqa map -o, scatter plots of friqa evaluate (core dependency)",
    "scikit-image": "tests (oracle)",
    "pot": "tests (oracle)",
    "lpips": "tests (oracle)",
    "dists-pytorch": "tests (oracle)",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "doctor",
        help="print versions, weights, threads, device and extras (for bug reports)",
        description="Print what a bug report needs: friqa, Python and library versions, the "
        "VGG16 weights found (path, SHA-256, whether they are torchvision's file), the "
        "threads, the devices and the optional packages installed. Downloads nothing.",
    )
    p.add_argument("--weights", metavar="PATH", help="VGG16 weights file to check")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def collect(weights: str | None = None) -> dict[str, Any]:
    """The report as a dict (imports torch)."""
    import torch

    from friqa import __version__
    from friqa.backbone.provenance import weights_identity
    from friqa.exceptions import WeightsError

    try:
        found: dict[str, Any] = weights_identity(weights).as_dict()
    except WeightsError as exc:
        found = {"error": str(exc).splitlines()[0]}
    cuda = torch.cuda.is_available()
    return {
        "friqa": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {p: _version(p) for p in ("torch", "numpy", "scipy", "pillow", "tqdm")},
        "weights": found,
        "threads": {
            "torch": torch.get_num_threads(),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
            "cpus": os.cpu_count(),
        },
        "devices": {
            "cuda": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
            if cuda
            else [],
            "mps": bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()),
        },
        "extras": {p: _version(p) for p in EXTRAS},
        "environment": {
            k: os.environ.get(k) for k in ("FRIQA_VGG16_WEIGHTS", "FRIQA_OFFLINE", "TORCH_HOME")
        },
    }


def _text(report: dict[str, Any]) -> str:
    w = report["weights"]
    if "error" in w:
        weights = f"not found ({w['error']})"
    else:
        origin = "torchvision's file" if w["torchvision"] else "NOT torchvision's file"
        weights = f"{w['path']}\n  sha256 {w['sha256']} ({origin})"
    versions = ", ".join(f"{k} {v or 'missing'}" for k, v in report["versions"].items())
    extras = ", ".join(f"{k} {v or 'not installed'}" for k, v in report["extras"].items())
    t = report["threads"]
    dev = report["devices"]
    devices = "cpu" + "".join(f", cuda:{i} {n}" for i, n in enumerate(dev["cuda"]))
    devices += ", mps" if dev["mps"] else ""
    env = ", ".join(f"{k}={v}" for k, v in report["environment"].items() if v is not None)
    lines = [
        f"friqa {report['friqa']} on Python {report['python']} ({report['platform']})",
        f"versions: {versions}",
        f"weights: {weights}",
        f"threads: torch {t['torch']}, OMP_NUM_THREADS={t['OMP_NUM_THREADS']}, {t['cpus']} CPUs",
        f"devices: {devices}",
        f"extras: {extras}",
        f"environment: {env or '-'}",
    ]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    report = collect(args.weights)
    if args.json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        sys.stdout.write(_text(report))
    return 0
