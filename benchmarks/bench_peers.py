"""friqa against other IQA libraries: time per batch and score agreement, metric by metric.

Usage (peers installed in a separate venv, see docs/benchmarks.md, "Peers"):
    /work/venv-peers/bin/python benchmarks/bench_peers.py \\
        --weights ../shared/weights/vgg16-imagenet-caffe-features.pth --json peers.json

For each metric (PSNR, SSIM in friqa's two flavours, MS-SSIM, LPIPS-VGG v0.1,
DISTS) it runs friqa and every peer that offers that metric (pyiqa, piq,
torchmetrics, and the authors' packages lpips and DISTS_pytorch) on the same
real 512x384 pairs (``../shared/data/pairs/kadid`` and
``../shared/data/tid2013-mini``), and reports:

- agreement: the largest absolute and relative difference of each peer's
  scores from friqa's over all pairs. A peer within ``--same-rtol`` computes
  the same definition as friqa; the others compute something else (each
  peer's line says what);
- time: one call on a batch of ``--batch`` pairs, ``torch.no_grad``, after one
  warm-up call per library; the libraries take turns, in reversed order every
  other repeat; min and median of ``--repeats`` calls;
- ratio: friqa's time / the fastest same-definition peer's time (below 1:
  friqa is faster), for the min and for the median.

Every peer's VGG16 is the one weight file given by ``--weights`` (the peers
get it through the torchvision stand-in of tests/metrics/oracle_packages.py;
pyiqa's unused heavy imports cv2 and huggingface_hub get placeholder modules
when absent). Their LPIPS/DISTS layer weights are friqa's shipped files (or
byte-identical copies the package ships itself); nothing is downloaded.
A peer that is not installed, or fails, is reported as such.

``--load K`` runs K CPU-burning processes beside the whole measurement
(benchmarks/burners.py).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib
import importlib.metadata
import importlib.util
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

import friqa
from friqa.evaluation.manifest import read_manifest
from friqa.io import load_image
from friqa.weights import load_shipped, shipped_file

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SHARED = Path(os.environ.get("FRIQA_SHARED_DIR", REPO.parent / "shared"))
DATASETS = ("pairs/kadid", "tid2013-mini")
#: Blocks of the report: friqa's metrics, timed and compared with one set of peers (PEERS).
BLOCKS = {
    "psnr": ("psnr",),
    "ssim": ("ssim", "ssim_rgb"),
    "ms_ssim": ("ms_ssim",),
    "lpips": ("lpips",),
    "dists": ("dists",),
}
METRICS = tuple(m for metrics in BLOCKS.values() for m in metrics)
#: Import names of the peers and what pip calls them.
DISTRIBUTIONS = {
    "pyiqa": "pyiqa",
    "piq": "piq",
    "torchmetrics": "torchmetrics",
    "lpips": "lpips",
    "DISTS_pytorch": "dists-pytorch",
}
#: Everything imported under the stand-ins, forgotten afterwards (see stand_in_torchvision).
_FORGET = (*DISTRIBUTIONS, "lightning_utilities")

for _path in (BENCH, REPO / "tests" / "metrics"):  # burners, oracle_packages
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from oracle_packages import placeholder_module, stand_in_torchvision  # noqa: E402

from burners import cpu_burners  # noqa: E402

ScoreFn = Callable[[Tensor, Tensor], Tensor]
"""``(ref, dist) -> scores``: one score per pair of the batch."""


@dataclass(frozen=True)
class Pair:
    name: str
    ref: Tensor  # (3, H, W) in [0, 1]
    dist: Tensor


@dataclass(frozen=True)
class Peer:
    """One library's version of a metric."""

    library: str  # import name; "not installed" when it cannot be found
    label: str  # unique within the metric, e.g. "piq ssim(downsample=False)"
    definition: str  # what it computes, in this project's words
    weights: str  # where its learned weights come from ("" when it has none)
    build: Callable[[], ScoreFn]


# --- the peers ---------------------------------------------------------------------------


def _shipped_path(name: str) -> Path:
    """Filesystem path of a weight file friqa ships (hash-checked)."""
    path = Path(str(shipped_file(name)))
    if not path.is_file():  # a zipped install; every peer here wants a real file
        raise FileNotFoundError(f"friqa's {name} is not a plain file here")
    return path


def _pyiqa(name: str, shipped: str | None = None) -> Callable[[], ScoreFn]:
    def build() -> ScoreFn:
        pyiqa = importlib.import_module("pyiqa")
        opts = {"pretrained_model_path": str(_shipped_path(shipped))} if shipped else {}
        with contextlib.redirect_stdout(io.StringIO()):  # it prints each weight file it loads
            model = pyiqa.create_metric(name, device="cpu", **opts)
        return lambda ref, dist: model(dist, ref)

    return build


def _function(module: str, name: str, **kwargs: Any) -> Callable[[], ScoreFn]:
    def build() -> ScoreFn:
        fn = getattr(importlib.import_module(module), name)
        return lambda ref, dist: fn(dist, ref, **kwargs)

    return build


def _piq_module(name: str) -> Callable[[], ScoreFn]:
    def build() -> ScoreFn:
        model = getattr(importlib.import_module("piq"), name)(reduction="none")
        return lambda ref, dist: model(dist, ref)

    return build


def _torchmetrics_lpips() -> ScoreFn:
    cls = importlib.import_module("torchmetrics.image").LearnedPerceptualImagePatchSimilarity
    metric = cls(net_type="vgg", reduction="none", normalize=True)

    def score(ref: Tensor, dist: Tensor) -> Tensor:
        metric.reset()  # forget the previous batches' scores
        return metric(dist, ref)

    return score


def _torchmetrics_dists() -> ScoreFn:
    # Its public functional and class APIs build this network anew on every call.
    net = importlib.import_module("torchmetrics.functional.image.dists").DISTSNetwork()
    return lambda ref, dist: net(dist, ref)


def _lpips_package() -> ScoreFn:
    model = importlib.import_module("lpips").LPIPS(net="vgg", version="0.1", verbose=False)
    return lambda ref, dist: model(ref, dist, normalize=True)


def _dists_package() -> ScoreFn:
    # DISTS_pytorch reads its alpha/beta from sys.prefix (absent in a venv): set them here.
    model = importlib.import_module("DISTS_pytorch").DISTS(load_weights=False)
    shipped = load_shipped("dists_alpha_beta.pt")
    model.alpha.data, model.beta.data = shipped["alpha"], shipped["beta"]
    return lambda ref, dist: model(ref, dist, batch_average=False)


_TM_IMAGE = "torchmetrics.functional.image"
_GAUSS = "11x11 Gaussian (sigma 1.5), K = (0.01, 0.03)"
_SSIM_PEERS = (  # compared with both of friqa's SSIM flavours
    Peer(
        "pyiqa",
        "pyiqa ssim",
        f"Y of YIQ (0.299, 0.587, 0.114) rounded to 8 bits, {_GAUSS}, "
        "'valid', float64, negative contrast-structure terms set to 0",
        "",
        _pyiqa("ssim"),
    ),
    Peer(
        "pyiqa",
        "pyiqa ssimc",
        f"per RGB channel x 255 rounded to 8 bits, {_GAUSS}, 'valid', "
        "float64, negative contrast-structure terms set to 0",
        "",
        _pyiqa("ssimc"),
    ),
    Peer(
        "piq",
        "piq ssim",
        f"per RGB channel, {_GAUSS}, 'valid', after average pooling by "
        "round(min(H, W) / 256) (2 at 512x384): piq's default",
        "",
        _function("piq", "ssim", data_range=1.0, reduction="none"),
    ),
    Peer(
        "piq",
        "piq ssim(downsample=False)",
        f"per RGB channel, {_GAUSS}, 'valid'",
        "",
        _function("piq", "ssim", data_range=1.0, reduction="none", downsample=False),
    ),
    Peer(
        "torchmetrics",
        "torchmetrics ssim",
        f"per RGB channel, {_GAUSS}, reflect-padded then border cropped ('valid')",
        "",
        _function(
            _TM_IMAGE, "structural_similarity_index_measure", data_range=1.0, reduction="none"
        ),
    ),
)
_LPIPS_FILE = "friqa's lpips_vgg_v0.1.pth"
_DISTS_FILE = "friqa's dists_alpha_beta.pt"

PEERS: dict[str, tuple[Peer, ...]] = {
    "psnr": (
        Peer("pyiqa", "pyiqa psnr", "all RGB channels, data range 1", "", _pyiqa("psnr")),
        Peer(
            "piq",
            "piq psnr",
            "all RGB channels, data range 1",
            "",
            _function("piq", "psnr", data_range=1.0, reduction="none"),
        ),
        Peer(
            "torchmetrics",
            "torchmetrics psnr",
            "all RGB channels per image, data range 1",
            "",
            _function(
                _TM_IMAGE,
                "peak_signal_noise_ratio",
                data_range=1.0,
                reduction="none",
                dim=(1, 2, 3),
            ),
        ),
    ),
    "ssim": _SSIM_PEERS,
    "ms_ssim": (
        Peer(
            "pyiqa",
            "pyiqa ms_ssim",
            "Y of YIQ rounded to 8 bits, float64, 5 scales, product of the scales' terms",
            "",
            _pyiqa("ms_ssim"),
        ),
        Peer(
            "piq",
            "piq multi_scale_ssim",
            f"per RGB channel, {_GAUSS}, 5 scales, 2x2 average pooling",
            "",
            _function("piq", "multi_scale_ssim", data_range=1.0, reduction="none"),
        ),
        Peer(
            "torchmetrics",
            "torchmetrics ms_ssim",
            f"per RGB channel, {_GAUSS}, 5 scales, terms clamped at 0 (normalize='relu')",
            "",
            _function(
                _TM_IMAGE,
                "multiscale_structural_similarity_index_measure",
                data_range=1.0,
                reduction="none",
            ),
        ),
    ),
    "lpips": (
        Peer(
            "lpips",
            "lpips 0.1.4 LPIPS(net='vgg')",
            "the authors' package, v0.1",
            "its own v0.1/vgg.pth (byte-identical to friqa's)",
            _lpips_package,
        ),
        Peer(
            "pyiqa",
            "pyiqa lpips-vgg",
            "LPIPS v0.1, VGG16",
            _LPIPS_FILE,
            _pyiqa("lpips-vgg", "lpips_vgg_v0.1.pth"),
        ),
        Peer(
            "piq",
            "piq LPIPS",
            "LPIPS on VGG16 (ImageNet mean/std instead of the scaling layer)",
            f"{_LPIPS_FILE}, converted to piq's list of 5 tensors in a temporary torch hub dir",
            _piq_module("LPIPS"),
        ),
        Peer(
            "torchmetrics",
            "torchmetrics LPIPS(net_type='vgg')",
            "LPIPS v0.1, VGG16 (a copy of the authors' code)",
            "its own lpips_models/vgg.pth (byte-identical to friqa's)",
            _torchmetrics_lpips,
        ),
    ),
    "dists": (
        Peer(
            "DISTS_pytorch",
            "DISTS_pytorch 0.1 DISTS()",
            "the authors' package",
            _DISTS_FILE,
            _dists_package,
        ),
        Peer(
            "pyiqa",
            "pyiqa dists",
            "DISTS (a copy of the authors' code)",
            _DISTS_FILE,
            _pyiqa("dists", "dists_alpha_beta.pt"),
        ),
        Peer(
            "piq",
            "piq DISTS",
            "DISTS after resizing so that the short side is 256 px (bilinear), Hann 3x3 L2 pooling",
            f"{_DISTS_FILE} as dists_weights.pt in a temporary torch hub dir",
            _piq_module("DISTS"),
        ),
        Peer(
            "torchmetrics",
            "torchmetrics DISTSNetwork",
            "DISTS (a copy of the authors' code); "
            "network built once here, while the public API builds it on every call",
            "its own dists_models/weights.pt (byte-identical to friqa's)",
            _torchmetrics_dists,
        ),
    ),
}


@contextlib.contextmanager
def peer_environment(vgg_weights: Path) -> Iterator[None]:
    """Stand-in torchvision (our VGG16), placeholder cv2/huggingface_hub, piq's weights placed."""
    extra = {
        name: placeholder_module(name)
        for name in ("cv2", "huggingface_hub")
        if importlib.util.find_spec(name) is None
    }
    if "huggingface_hub" in extra:  # pyiqa builds download URLs at import; never fetched here
        extra["huggingface_hub"].hf_hub_url = _not_downloaded  # type: ignore[attr-defined]
    old_hub = torch.hub.get_dir()
    with (
        tempfile.TemporaryDirectory(prefix="friqa-peers-hub-") as hub,
        stand_in_torchvision(vgg_weights, _FORGET, extra),
    ):
        _place_piq_weights(Path(hub) / "checkpoints")
        torch.hub.set_dir(hub)
        try:
            yield
        finally:
            torch.hub.set_dir(old_hub)


def _not_downloaded(repo_id: str, filename: str, **_kwargs: Any) -> str:
    return f"not-downloaded/{repo_id}/{filename}"


def _place_piq_weights(folder: Path) -> None:
    """piq's ``torch.hub.load_state_dict_from_url(url)`` reads the hub dir's file of that name."""
    folder.mkdir(parents=True, exist_ok=True)
    lin = load_shipped("lpips_vgg_v0.1.pth")
    torch.save([lin[f"lin{k}.model.1.weight"] for k in range(5)], folder / "lpips_weights.pt")
    torch.save(load_shipped("dists_alpha_beta.pt"), folder / "dists_weights.pt")


# --- measuring ---------------------------------------------------------------------------


def load_pairs(shared: Path = SHARED) -> list[Pair]:
    """Every pair of the shared kadid and tid2013-mini manifests."""
    pairs = []
    for folder in DATASETS:
        manifest = read_manifest(shared / "data" / folder / "manifest.csv")
        root = manifest.root or Path()
        for row in manifest:
            ref, dist = (load_image(root / p) for p in (row.ref, row.dist))
            pairs.append(Pair(f"{manifest.name}/{Path(row.dist).name}", ref, dist))
    return pairs


def _batch(pairs: Sequence[Pair], start: int, size: int) -> tuple[Tensor, Tensor]:
    chosen = [pairs[(start + i) % len(pairs)] for i in range(size)]
    return torch.stack([p.ref for p in chosen]), torch.stack([p.dist for p in chosen])


def _scores(fn: ScoreFn, pairs: Sequence[Pair], chunk: int) -> Tensor:
    out = []
    for start in range(0, len(pairs), chunk):
        ref, dist = _batch(pairs, start, min(chunk, len(pairs) - start))
        out.append(fn(ref, dist).detach().reshape(-1).double())
    return torch.cat(out)


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:200]


def _time(
    entries: dict[str, ScoreFn], status: dict[str, str], ref: Tensor, dist: Tensor, repeats: int
) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) seconds of ``repeats`` calls each after a warm-up, reversed each other repeat."""
    names = []
    for name, fn in entries.items():
        try:
            fn(ref, dist)  # warm-up
            names.append(name)
        except Exception as exc:  # a peer's own failure is a result, not a crash
            status[name] = f"failed at batch {ref.shape[0]}: {_error(exc)}"
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            w0, c0 = time.perf_counter(), time.process_time()
            entries[name](ref, dist)
            runs[name].append((time.perf_counter() - w0, time.process_time() - c0))
    return runs


def _agreement(ours: Tensor, theirs: Tensor, same_rtol: float) -> dict[str, Any]:
    diff = (theirs - ours).abs()
    rel = float((diff / ours.abs().clamp_min(1e-12)).max())
    return {"max_abs_diff": float(diff.max()), "max_rel_diff": rel, "same": rel <= same_rtol}


def run_block(
    block: str,
    metrics: Sequence[str],
    pairs: Sequence[Pair],
    batches: Sequence[int],
    repeats: int,
    vgg_weights: Path | None,
    same_rtol: float,
    precision: str = "fp32",
) -> dict[str, Any]:
    """Agreement and times of friqa's ``metrics`` and the block's peers (in peer_environment).

    ``precision`` is given to friqa's deep metrics (``"bf16"``: compare friqa in
    reduced precision with the peers' float32; pass a looser ``same_rtol``).
    """
    entries: dict[str, ScoreFn] = {}
    status: dict[str, str] = {}
    ours = []
    for metric in metrics:
        needs = friqa.metric_info(metric).needs_weights
        options: dict[str, str] = {"weights": str(vgg_weights)} if needs and vgg_weights else {}
        extra = ""
        if needs and precision != "fp32":
            options["precision"] = precision
            extra = f", precision={precision!r}"
        label = f"friqa {metric}"
        entries[label], status[label] = friqa.create_metric(metric, **options), "ok"
        call = f"friqa.create_metric({metric!r}{', weights=...' if options else ''}{extra})"
        ours.append({"metric": metric, "label": label, "call": call})
    peers = []
    for peer in PEERS[block]:
        record = {k: getattr(peer, k) for k in ("library", "label", "definition", "weights")}
        if importlib.util.find_spec(peer.library) is None:
            status[peer.label] = "not installed"
        else:
            try:
                entries[peer.label], status[peer.label] = peer.build(), "ok"
            except Exception as exc:
                status[peer.label] = f"failed to build: {_error(exc)}"
        peers.append(record)

    chunk = max(1, min(max(batches), len(pairs)))
    scores = {}
    for name, fn in entries.items():
        try:
            scores[name] = _scores(fn, pairs, chunk)
        except Exception as exc:
            status[name] = f"failed: {_error(exc)}"
            continue
        if scores[name].numel() != len(pairs):
            status[name] = f"failed: {scores.pop(name).numel()} scores for {len(pairs)} pairs"
    for record in ours:
        record["status"] = status[record["label"]]
        if record["label"] in scores:
            record["scores"] = scores[record["label"]].tolist()
    for record in peers:
        record["status"] = status[record["label"]]
        theirs = scores.get(record["label"])
        record["agreement"] = {
            o["metric"]: _agreement(scores[o["label"]], theirs, same_rtol)
            for o in ours
            if theirs is not None and o["label"] in scores
        }

    timed = {n: fn for n, fn in entries.items() if n in scores}
    per_batch = {}
    for b in batches:
        ref, dist = _batch(pairs, 0, b)
        runs = _time(timed, status, ref, dist, repeats)
        per_batch[str(b)] = _summarise(runs, ours, peers, status)
    return {"block": block, "friqa": ours, "peers": peers, "batches": per_batch}


def _summarise(
    runs: dict[str, list[tuple[float, float]]],
    ours: list[dict[str, Any]],
    peers: list[dict[str, Any]],
    status: dict[str, str],
) -> dict[str, Any]:
    times = {}
    for name, r in runs.items():
        wall, cpu = [w for w, _ in r], [c for _, c in r]
        times[name] = {
            "min_s": min(wall),
            "median_s": statistics.median(wall),
            "cpu_min_s": min(cpu),
            "cpu_median_s": statistics.median(cpu),
            "runs_s": wall,
            "cpu_runs_s": cpu,
        }
    ratios: dict[str, Any] = {}
    for o in ours:
        same = [
            p["label"]
            for p in peers
            if p["agreement"].get(o["metric"], {}).get("same") and p["label"] in times
        ]
        if o["label"] not in times or not same:
            ratios[o["metric"]] = None
            continue
        mine = times[o["label"]]
        ratios[o["metric"]] = {
            stat: {
                "peer": (best := min(same, key=lambda n, stat=stat: times[n][stat])),
                "value": mine[stat] / times[best][stat],
            }
            for stat in ("min_s", "median_s", "cpu_median_s")
        }
    failed = {name: s for name, s in status.items() if s.startswith("failed at batch")}
    return {"times": times, "failed": failed, "ratios": ratios}


def conditions(args: argparse.Namespace, pairs: Sequence[Pair]) -> dict[str, Any]:
    versions = {}
    for module, dist in DISTRIBUTIONS.items():
        try:
            versions[module] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[module] = "not installed"
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    weights = Path(args.weights) if args.weights else None
    return {
        "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "friqa_commit": commit,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_burners": args.load,
        "friqa_precision": getattr(args, "precision", "fp32"),
        "loadavg_at_start": list(os.getloadavg()),
        "repeats": args.repeats,
        "batches": args.batch,
        "same_definition_rtol": args.same_rtol,
        "pairs": [p.name for p in pairs],
        "image_size": list(pairs[0].ref.shape[1:]) if pairs else [],
        "vgg16_weights": str(weights) if weights else None,
        "vgg16_sha256": _sha256(weights) if weights and weights.is_file() else None,
        "versions": versions,
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(
    metrics: Sequence[str],
    pairs: Sequence[Pair],
    batches: Sequence[int],
    repeats: int,
    vgg_weights: Path | None,
    same_rtol: float = 1e-4,
    log: Callable[[str], None] = lambda _: None,
    precision: str = "fp32",
) -> list[dict[str, Any]]:
    """:func:`run_block` for each block holding one of ``metrics``, with the peers' stand-ins."""
    results = []
    with torch.no_grad(), peer_environment(vgg_weights or Path("no-vgg16-weights-given")):
        for block, members in BLOCKS.items():
            chosen = [m for m in members if m in metrics]
            if chosen:
                log(f"{block} ...")
                args = (pairs, batches, repeats, vgg_weights, same_rtol, precision)
                results.append(run_block(block, chosen, *args))
    return results


# --- reporting ---------------------------------------------------------------------------


def _ms(t: dict[str, Any] | None) -> str:
    return "" if t is None else f"{1e3 * t['min_s']:.1f} / {1e3 * t['median_s']:.1f}"


def format_report(results: Sequence[dict[str, Any]], cond: dict[str, Any]) -> str:
    """Per block: each library's agreement with friqa and its times; then the ratios."""
    batches = cond["batches"]
    lines = [
        f"{cond['date_utc']} UTC, friqa {cond['friqa_commit']}, torch {cond['torch']}, "
        f"{cond['torch_threads']} threads, {cond['cpu_count']} CPUs, {cond['load_burners']} "
        f"CPU burners, load average at start {cond['loadavg_at_start'][0]:.1f}",
        f"{len(cond['pairs'])} pairs {cond['image_size']}, {cond['repeats']} repeats after a "
        f"warm-up; '=' marks a peer within relative {cond['same_definition_rtol']:g} of friqa "
        "on every pair (same definition)",
        "versions: " + ", ".join(f"{k} {v}" for k, v in cond["versions"].items()),
    ]
    for res in results:
        metrics = [o["metric"] for o in res["friqa"]]
        lines += ["", f"== {res['block']} ==  (time per call: min / median ms)"]
        head = f"{'library':34s} {'status':13s}"
        head += "".join(f"  {'vs ' + m + ': max abs / rel':>28s}" for m in metrics)
        lines.append(head + "".join(f"  {f'batch {b}':>17s}" for b in batches))
        notes = []
        for row in [*res["friqa"], *res["peers"]]:
            label, status = row["label"], row["status"]
            shown = status if status in ("ok", "not installed") else "failed (below)"
            line = f"{label:34s} {shown:13s}"
            for m in metrics:
                a = row.get("agreement", {}).get(m)
                cell = ""
                if a:
                    same = "=" if a["same"] else " "
                    cell = f"{a['max_abs_diff']:.1e} / {a['max_rel_diff']:.1e} {same}"
                line += f"  {cell:>28s}"
            for b in batches:
                times = res["batches"].get(str(b), {}).get("times", {})
                line += f"  {_ms(times.get(label)):>17s}"
            lines.append(line.rstrip())
            if shown != status:
                notes.append(f"  {label}: {status}")
            elif "definition" in row and status == "ok":
                weights = f"; weights: {row['weights']}" if row["weights"] else ""
                notes.append(f"  {label}: {row['definition']}{weights}")
        for b in batches:
            for label, why in res["batches"].get(str(b), {}).get("failed", {}).items():
                notes.append(f"  {label}: {why}")
        lines += notes
    lines += ["", "friqa's time / the fastest same-definition peer's time (< 1: friqa is faster)"]
    lines.append(
        f"{'metric':9s} {'batch':>5s} {'wall min':>8s} {'median':>6s} {'CPU median':>10s}  "
        "fastest peer (wall median)"
    )
    for res in results:
        for metric in (o["metric"] for o in res["friqa"]):
            for b in batches:
                ratio = res["batches"].get(str(b), {}).get("ratios", {}).get(metric)
                if ratio is None:
                    lines.append(f"{metric:9s} {b:5d} {'-':>8s} {'-':>6s} {'-':>10s}  none")
                    continue
                v = {k: r["value"] for k, r in ratio.items()}
                lines.append(
                    f"{metric:9s} {b:5d} {v['min_s']:8.2f} {v['median_s']:6.2f} "
                    f"{v['cpu_median_s']:10.2f}  {ratio['median_s']['peer']}"
                )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    default_weights = SHARED / "weights" / "vgg16-imagenet-caffe-features.pth"
    p.add_argument("--weights", default=str(default_weights), help="VGG16 weights for all")
    p.add_argument("--metrics", default=",".join(METRICS), help="comma-separated friqa names")
    p.add_argument("--batch", default="1,8", help="comma-separated batch sizes (default 1,8)")
    p.add_argument("--repeats", type=int, default=5, help="timed calls per library (default 5)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.add_argument("--pairs", type=int, default=None, help="use the first N pairs (default all)")
    p.add_argument("--load", type=int, default=0, help="CPU burners beside the measurement")
    p.add_argument(
        "--same-rtol",
        type=float,
        default=1e-4,
        help="largest relative score difference of a same-definition peer",
    )
    p.add_argument(
        "--precision",
        choices=("fp32", "bf16"),
        default="fp32",
        help="friqa's deep metrics at this precision (bf16: use --same-rtol 5e-3)",
    )
    p.add_argument("--json", default=None, help="write the machine-readable results here")
    args = p.parse_args(argv)
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        p.error(f"unknown metrics {unknown}; choose from {','.join(METRICS)}")
    args.batch = [int(b) for b in args.batch.split(",")]
    if args.repeats < 1 or min(args.batch) < 1:
        p.error("--repeats and --batch must be >= 1")
    weights = Path(args.weights)
    if not weights.is_file():
        p.error(f"VGG16 weights {weights} not found (--weights)")
    torch.set_num_threads(args.threads)
    pairs = load_pairs()[: args.pairs]
    cond = conditions(args, pairs)
    with cpu_burners(args.load, max_seconds=6 * 3600.0):
        results = run(
            metrics,
            pairs,
            args.batch,
            args.repeats,
            weights,
            args.same_rtol,
            log=lambda s: print(s, file=sys.stderr, flush=True),
            precision=args.precision,
        )
    cond["loadavg_at_end"] = list(os.getloadavg())
    print(format_report(results, cond))
    if args.json:
        Path(args.json).write_text(json.dumps({"conditions": cond, "metrics": results}, indent=1))


if __name__ == "__main__":
    main()
