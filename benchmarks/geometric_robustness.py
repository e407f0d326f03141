"""Geometric robustness of every registered friqa metric.

Natural images (scikit-image's bundled data, no downloads) are distorted
photometrically (Gaussian noise, Gaussian blur, JPEG, contrast reduction; 5
levels each); the distorted images are then moved geometrically (shifts, scalings,
rotations, a perspective and an elastic warp, canvas kept, geometry.py beside this file)
while the reference stays untouched. For every metric and transform we report

(a) ``srcc``: Spearman's rank correlation between the metric's scores on the
    aligned pairs (ref, D) and on the misaligned pairs (ref, T(D)) over all moved
    (image, distortion, level); also ``level_srcc``, the mean over
    (image, distortion type) of the rank correlation between the level and the
    score, signed so that +1 means "scores get worse as the level rises"
    (aligned and misaligned);
(b) ``rho``: median over images of |s(ref, T(ref)) - s(ref, ref)| divided by the
    photometric spread |median s(level 5) - median s(level 1)| (medians over all
    aligned distorted pairs) -- how far a pure geometric transform moves the
    score, in units of the distance between the mildest and the strongest
    photometric level; and ``pi``: the fraction of an image's photometrically
    distorted (aligned) images that the metric rates better than T(ref),
    averaged over images (0: the moved pristine image beats every distorted one;
    1: it is rated worse than all of them). PSNR(ref, ref) is +inf; for ``rho``
    an infinite identical-image score is replaced by 10 log10(12 * 255^2) = 58.92 dB,
    the PSNR of 8-bit rounding noise (MSE = 1/12 LSB^2).

Default design (fits about 15 minutes for all 17 metrics on 2 cores): 10 images at
176 px (MS-SSIM needs 161), one distortion type per image (cycled), levels 1..5
aligned, levels 1 and 5 moved by each of the 14 transforms: 480 pairs per metric.
``--moved-levels 1,3,5`` (620 pairs) or ``--full`` (every type on every image, all
levels moved: 3150 pairs, several hours) score more.

Usage::

    FRIQA_VGG16_WEIGHTS=../shared/weights/vgg16-imagenet-caffe-features.pth \\
        python benchmarks/geometric_robustness.py --out-dir docs
    python benchmarks/geometric_robustness.py --quick --metrics psnr,ssim --out-dir /tmp/geo

Writes ``geometric_robustness.{csv,json,md,png}`` to ``--out-dir``. Text between
``<!-- BEGIN NOTES -->`` and ``<!-- END NOTES -->`` in an existing ``.md`` is kept.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from scipy import stats
from torch import Tensor

from friqa.exceptions import FriqaError
from friqa.metrics.factory import build_metrics
from friqa.metrics.registry import list_metrics, metric_info
from friqa.ops.filters import gaussian_kernel1d, separable_filter
from geometry import elastic, perspective, rotate, scale, translate

# --- the design ---------------------------------------------------------------------------

#: scikit-image data images, most natural-looking first (``--images N`` takes the first N).
IMAGE_NAMES = (
    "astronaut", "chelsea", "coffee", "rocket", "motorcycle", "camera", "immunohistochemistry",
    "coins", "grass", "retina", "gravel", "hubble_deep_field", "brick", "moon",
)  # fmt: skip

#: Photometric distortions and their 5 levels (mildest first).
DISTORTION_LEVELS: dict[str, tuple[float, ...]] = {
    "noise": (0.02, 0.04, 0.07, 0.11, 0.16),  # Gaussian noise sigma, image in [0, 1]
    "blur": (0.6, 1.0, 1.6, 2.5, 4.0),  # Gaussian blur sigma, pixels
    "jpeg": (60, 35, 20, 10, 5),  # PIL JPEG quality
    "contrast": (0.8, 0.65, 0.5, 0.35, 0.2),  # factor towards the image mean
}
DISTORTIONS = tuple(DISTORTION_LEVELS)

#: PSNR of 8-bit rounding noise, used for rho when the identical-image score is infinite.
IDENTICAL_PSNR_CAP = 10.0 * math.log10(12.0 * 255.0**2)

# (dx, dy) of the perspective warp's corners (TL, TR, BR, BL) as fractions of (W, H)
_PERSPECTIVE = ((0.04, 0.03), (-0.03, 0.02), (0.02, -0.04), (-0.03, -0.02))

Transform = Callable[[Tensor], Tensor]


def geometric_transforms(size: int) -> dict[str, Transform]:
    """The 14 misalignments, by name, for ``size x size`` images (canvas kept)."""
    out: dict[str, Transform] = {}
    for s in (1, 2, 4, 8, 16):
        out[f"shift{s}"] = partial(translate, dx=s, dy=s)
    for f in (0.9, 0.95, 1.05, 1.1):
        out[f"scale{f:.2f}"] = partial(scale, factor=f)
    for a in (1.0, 2.5, 5.0):
        out[f"rot{a:g}"] = partial(rotate, degrees=a)
    corners = [[fx * size, fy * size] for fx, fy in _PERSPECTIVE]
    out["perspective"] = partial(perspective, corner_offsets=corners)
    out["elastic"] = partial(elastic, max_displacement=0.02 * size, sigma=0.05 * size, seed=0)
    return out


TRANSFORM_DESCRIPTIONS = {
    "shift{1,2,4,8,16}": "content moved s px right and s px down (whole pixels, exact copy; "
    "the uncovered band mirrors the border)",
    "scale{0.90,0.95,1.05,1.10}": "zoom about the centre by the factor, same canvas, bilinear",
    "rot{1,2.5,5}": "rotation counter-clockwise about the centre by the angle in degrees, bilinear",
    "perspective": "homography moving the corners by (dx, dy) = (4, 3), (-3, 2), (2, -4), "
    "(-3, -2) % of (W, H) (TL, TR, BR, BL)",
    "elastic": "smooth random displacement field (uniform noise smoothed by a Gaussian of "
    "sigma 5 % of the side, scaled to a largest displacement of 2 % of the side; seed 0)",
}


# --- images and photometric distortions --------------------------------------------------


def quantize(x: Tensor) -> Tensor:
    """Round to 8 bits, as stored images are."""
    return torch.round(x.clamp(0, 1) * 255.0) / 255.0


def load_skimage(name: str, size: int) -> Tensor:
    """A scikit-image data image, shorter side resized to ``size`` (Lanczos), centre crop
    ``size x size``, gray replicated to RGB, as ``(1, 3, size, size)`` float32 in [0, 1]."""
    from skimage import data

    arr = data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(data, name)()
    arr = np.asarray(arr)
    if arr.dtype != np.uint8:
        raise ValueError(f"skimage image {name!r} is {arr.dtype}, expected uint8")
    img = Image.fromarray(arr).convert("RGB")
    w, h = img.size
    k = size / min(w, h)
    nw, nh = max(size, round(w * k)), max(size, round(h * k))
    img = img.resize((nw, nh), Image.Resampling.LANCZOS)
    left, top = (nw - size) // 2, (nh - size) // 2
    img = img.crop((left, top, left + size, top + size))
    t = torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1).float() / 255.0
    return t.unsqueeze(0)


def load_images(n: int, size: int) -> list[tuple[str, Tensor]]:
    if not 1 <= n <= len(IMAGE_NAMES):
        raise ValueError(f"--images must be in 1..{len(IMAGE_NAMES)}, got {n}")
    return [(name, load_skimage(name, size)) for name in IMAGE_NAMES[:n]]


def _jpeg(x: Tensor, quality: int) -> Tensor:
    arr = (quantize(x[0]) * 255).round().byte().permute(1, 2, 0).numpy()
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=int(quality))
    buf.seek(0)
    out = np.asarray(Image.open(buf).convert("RGB"))
    return (torch.from_numpy(out.copy()).permute(2, 0, 1).float() / 255.0).unsqueeze(0)


def photometric(ref: Tensor, kind: str, level: int, *, seed: int = 0) -> Tensor:
    """Distort a ``(1, 3, H, W)`` image with ``kind`` at ``level`` (1..5); 8-bit result."""
    value = DISTORTION_LEVELS[kind][level - 1]
    if kind == "noise":
        gen = torch.Generator().manual_seed(seed * 1000 + level)
        noise = torch.randn(ref.shape, generator=gen, dtype=ref.dtype)
        return quantize(ref + value * noise)
    if kind == "blur":
        radius = math.ceil(3 * value)
        k = gaussian_kernel1d(2 * radius + 1, value, dtype=ref.dtype)
        return quantize(separable_filter(ref, k, padding="same", mode="symmetric"))
    if kind == "jpeg":
        return _jpeg(ref, int(value))
    if kind == "contrast":
        mean = ref.mean(dim=(1, 2, 3), keepdim=True)
        return quantize(mean + value * (ref - mean))
    raise ValueError(f"unknown distortion {kind!r}")


def types_for_image(index: int, per_image: int, kinds: Sequence[str] = DISTORTIONS) -> list[str]:
    """The distortion types used for image ``index``: ``per_image`` of them, cycled so that
    every type is used equally often over consecutive images."""
    return [kinds[(index + j) % len(kinds)] for j in range(per_image)]


# --- scoring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """One scored pair: ``condition`` is ``"aligned"`` or a transform name; ``distortion``
    ``"none"`` (level 0) marks the reference itself (the identical pair when aligned,
    the pure geometric transform otherwise)."""

    image: str
    condition: str
    distortion: str
    level: int


@dataclass(frozen=True)
class Design:
    """Which pairs are scored.

    Attributes:
        levels: photometric levels of the aligned distorted images (1..5).
        moved_levels: the levels whose distorted images are also moved by every
            transform (a subset of ``levels``); statistic (a) uses these.
        per_image: distortion types per image, cycled over the images (4 = all).
        batch_size: distorted images per metric call.
    """

    levels: tuple[int, ...] = (1, 2, 3, 4, 5)
    moved_levels: tuple[int, ...] = (1, 2, 3, 4, 5)
    per_image: int = 4
    batch_size: int = 8

    def __post_init__(self) -> None:
        if not 1 <= self.per_image <= len(DISTORTIONS):
            raise ValueError(f"per_image must be in 1..{len(DISTORTIONS)}, got {self.per_image}")
        if not set(self.levels) <= {1, 2, 3, 4, 5} or not self.levels:
            raise ValueError(f"levels must be a non-empty subset of 1..5, got {self.levels}")
        if not set(self.moved_levels) <= set(self.levels) or not self.moved_levels:
            raise ValueError(f"moved_levels {self.moved_levels} must be a subset of {self.levels}")


@dataclass
class BenchmarkResult:
    """Scores and timings of a run."""

    scores: dict[str, dict[Key, float]]  # metric -> key -> score
    seconds: dict[str, float]  # metric -> wall time spent scoring
    cpu_seconds: dict[str, float]  # metric -> CPU time of its process spent scoring
    transforms: list[str]
    images: list[str]
    types: dict[str, list[str]]  # image -> distortion types used
    design: Design
    skipped: dict[str, str] = field(default_factory=dict)  # metric -> why it was left out
    config: dict[str, Any] = field(default_factory=dict)


def build_pairs(
    image: str,
    ref: Tensor,
    index: int,
    transforms: Mapping[str, Transform],
    design: Design,
) -> tuple[list[Key], Tensor]:
    """All images to compare with one reference, stacked, with their keys: the aligned
    distorted images, the reference itself, and per transform the moved distorted images
    (``design.moved_levels``) and the moved reference."""
    kinds = types_for_image(index, design.per_image)
    dkeys = [(k, lv) for k in kinds for lv in design.levels]
    d = torch.cat([photometric(ref, k, lv, seed=index) for k, lv in dkeys])
    keys: list[Key] = [Key(image, "aligned", k, lv) for k, lv in dkeys]
    keys.append(Key(image, "aligned", "none", 0))
    parts = [d, ref]
    moved_idx = [i for i, (_, lv) in enumerate(dkeys) if lv in design.moved_levels]
    to_move = torch.cat([d[moved_idx], ref])
    for name, fn in transforms.items():
        parts.append(quantize(fn(to_move)))
        keys += [Key(image, name, *dkeys[i]) for i in moved_idx] + [Key(image, name, "none", 0)]
    return keys, torch.cat(parts)


#: Rough relative cost per pair (measured at 176 px), to start the slowest metrics first.
_COST = {
    "deepwsd_smic": 46, "deepwsd": 32, "ms_ssim+smic": 32, "lpips_smic": 28, "psnr+smic": 27,
    "psnr_smic": 21, "lpips+smic": 18, "dists": 15, "dists_smic": 11, "lpips": 10,
    "deepssim": 8, "ms_ssim": 5, "ssim+smic": 5, "ssim_smic": 4,
    "psnr": 0.5, "ssim": 0.5, "ssim_rgb": 0.5,
}  # fmt: skip

_WORKER: dict[str, Any] = {}


def score_metric(
    name: str,
    images: Sequence[tuple[str, Tensor]],
    transforms: Mapping[str, Transform],
    design: Design,
    *,
    weights: str | None = None,
    pairs: dict[str, tuple[list[Key], Tensor]] | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[dict[Key, float] | str, float, float]:
    """Score every pair with one metric, the reference encoded once per image.

    Returns ``(scores, wall seconds, CPU seconds)``, or the reason as a string when the
    metric cannot score these images (for example MS-SSIM below 161 px). ``pairs``
    caches :func:`build_pairs` across metrics.
    """
    t0, c0 = time.perf_counter(), time.process_time()
    cache = {} if pairs is None else pairs
    built = build_metrics([name], weights=weights, dtype=torch.float32)
    metric = built[metric_info(name).name]
    scores: dict[Key, float] = {}
    with torch.no_grad():
        try:
            metric(images[0][1], images[0][1])
        except FriqaError as exc:
            return str(exc), 0.0, 0.0
        for index, (image, ref) in enumerate(images):
            if image not in cache:
                cache[image] = build_pairs(image, ref, index, transforms, design)
            keys, batch = cache[image]
            enc = metric.encode_ref(ref)
            out = [
                metric.compute_encoded(enc, chunk).score for chunk in batch.split(design.batch_size)
            ]
            scores.update(zip(keys, torch.cat(out).double().tolist(), strict=True))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if log is not None:
        log(f"{name}: {len(scores)} pairs in {wall:.0f} s (CPU {cpu:.0f} s)")
    return scores, wall, cpu


def _worker_init(
    images: list[tuple[str, Tensor]],
    transforms: dict[str, Transform],
    design: Design,
    weights: str | None,
    threads: int,
) -> None:
    torch.set_num_threads(threads)
    _WORKER.update(images=images, transforms=transforms, design=design, weights=weights, pairs={})


def _worker_task(name: str) -> tuple[str, dict[Key, float] | str, float, float]:
    w = _WORKER
    out = score_metric(
        name, w["images"], w["transforms"], w["design"], weights=w["weights"], pairs=w["pairs"],
        log=lambda msg: print(msg, flush=True),
    )  # fmt: skip
    return (name, *out)


def run_benchmark(
    metrics: Sequence[str],
    images: Sequence[tuple[str, Tensor]],
    transforms: Mapping[str, Transform],
    design: Design | None = None,
    *,
    weights: str | None = None,
    workers: int = 1,
    log: Callable[[str], None] | None = None,
) -> BenchmarkResult:
    """Score every pair with every metric.

    With ``workers > 1`` the metrics are shared among that many processes (one torch
    thread each, slowest metrics first), which keeps both cores of a 2-core machine busy
    through the single-threaded parts (sorting, MIC) of the metrics.
    """
    design = design or Design()
    if not images:
        raise ValueError("no images")
    results: dict[str, tuple[dict[Key, float] | str, float, float]] = {}
    if workers <= 1:
        pairs: dict[str, tuple[list[Key], Tensor]] = {}
        for m in metrics:
            results[m] = score_metric(
                m, images, transforms, design, weights=weights, pairs=pairs, log=log
            )
    else:
        import multiprocessing as mp

        order = sorted(metrics, key=lambda m: -_COST.get(m, 10.0))
        ctx = mp.get_context("spawn")
        init = (list(images), dict(transforms), design, weights, 1)
        with ctx.Pool(workers, initializer=_worker_init, initargs=init) as pool:
            for name, got, wall, cpu in pool.imap_unordered(_worker_task, order):
                results[name] = (got, wall, cpu)
    scores = {m: r[0] for m, r in results.items() if not isinstance(r[0], str)}
    skipped = {m: r[0] for m, r in results.items() if isinstance(r[0], str)}
    if log is not None:
        for m, why in skipped.items():
            log(f"skipped {m}: {why}")
    ordered = [m for m in metrics if m in scores]
    return BenchmarkResult(
        scores={m: scores[m] for m in ordered},
        seconds={m: results[m][1] for m in ordered},
        cpu_seconds={m: results[m][2] for m in ordered},
        transforms=list(transforms),
        images=[n for n, _ in images],
        types={n: types_for_image(i, design.per_image) for i, (n, _) in enumerate(images)},
        design=design,
        skipped=skipped,
    )


# --- analysis ----------------------------------------------------------------------------


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rho (ties averaged); NaN when either side is constant or too short."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(stats.spearmanr(x, y).statistic)


def _better(a: float, b: float, lower_better: bool) -> float:
    """1 when score ``a`` is better than ``b``, 0.5 on a tie, else 0."""
    if a == b:
        return 0.5
    return float((a < b) if lower_better else (a > b))


@dataclass(frozen=True)
class Row:
    """Summary of one metric under one transform (see the module docstring)."""

    metric: str
    transform: str
    srcc: float
    level_srcc_aligned: float
    level_srcc_moved: float
    rho: float
    pi: float
    geometric_shift: float  # median |s(ref, T(ref)) - s(ref, ref)|
    photometric_spread: float  # |median s(level max) - median s(level min)|


def analyse(
    scores: Mapping[Key, float], transforms: Sequence[str], *, lower_better: bool, metric: str = ""
) -> list[Row]:
    """The statistics (a) and (b) of one metric for each transform.

    ``scores`` holds, per image, the aligned distorted pairs, the identical pair
    (``Key(image, "aligned", "none", 0)``) and per transform the moved reference
    (``Key(image, t, "none", 0)``) and the moved distorted pairs (any subset of the
    aligned ones: (a) uses the distorted images present in both conditions).
    """
    dist_keys = sorted(
        (k for k in scores if k.condition == "aligned" and k.distortion != "none"),
        key=lambda k: (k.image, k.distortion, k.level),
    )
    images = sorted({k.image for k in dist_keys})
    levels = sorted({k.level for k in dist_keys})
    lo, hi = levels[0], levels[-1]
    spread = abs(
        float(np.median([scores[k] for k in dist_keys if k.level == hi]))
        - float(np.median([scores[k] for k in dist_keys if k.level == lo]))
    )
    sign = 1.0 if lower_better else -1.0

    def level_srcc(condition: str, keys: Sequence[Key]) -> float:
        groups: dict[tuple[str, str], list[Key]] = {}
        for k in keys:
            groups.setdefault((k.image, k.distortion), []).append(k)
        vals = [
            spearman(
                [k.level for k in g],
                [sign * scores[Key(k.image, condition, k.distortion, k.level)] for k in g],
            )
            for g in groups.values()
        ]
        finite = [v for v in vals if math.isfinite(v)]
        return float(np.mean(finite)) if finite else float("nan")

    def identical(image: str) -> float:
        s0 = scores[Key(image, "aligned", "none", 0)]
        return s0 if math.isfinite(s0) else IDENTICAL_PSNR_CAP

    rows = []
    for t in transforms:
        both = [k for k in dist_keys if Key(k.image, t, k.distortion, k.level) in scores]
        moved = [scores[Key(k.image, t, k.distortion, k.level)] for k in both]
        geo = [scores[Key(im, t, "none", 0)] for im in images]
        shift = float(
            np.median([abs(g - identical(im)) for g, im in zip(geo, images, strict=True)])
        )
        pi = float(
            np.mean(
                [
                    np.mean(
                        [_better(scores[k], g, lower_better) for k in dist_keys if k.image == im]
                    )
                    for g, im in zip(geo, images, strict=True)
                ]
            )
        )
        rows.append(
            Row(
                metric=metric,
                transform=t,
                srcc=spearman([scores[k] for k in both], moved),
                level_srcc_aligned=level_srcc("aligned", both),
                level_srcc_moved=level_srcc(t, both),
                rho=shift / spread if spread > 0 else float("nan"),
                pi=pi,
                geometric_shift=shift,
                photometric_spread=spread,
            )
        )
    return rows


def summarise(result: BenchmarkResult) -> list[Row]:
    rows: list[Row] = []
    for m, sc in result.scores.items():
        rows += analyse(sc, result.transforms, lower_better=metric_info(m).lower_better, metric=m)
    return rows


# --- outputs -----------------------------------------------------------------------------

STATISTICS = (
    "srcc",
    "level_srcc_aligned",
    "level_srcc_moved",
    "rho",
    "pi",
    "geometric_shift",
    "photometric_spread",
)


def _fmt(v: float, digits: int = 2) -> str:
    return "nan" if not math.isfinite(v) else f"{v:.{digits}f}"


def write_csv(rows: Iterable[Row], path: Path) -> None:
    """Long format: metric, family, transform, statistic, value."""
    lines = ["metric,family,transform,statistic,value"]
    for r in rows:
        fam = metric_info(r.metric).family
        for s in STATISTICS:
            lines.append(f"{r.metric},{fam},{r.transform},{s},{getattr(r, s):.6g}")
    path.write_text("\n".join(lines) + "\n")


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def _table(
    rows: Sequence[Row], metrics: Sequence[str], transforms: Sequence[str], stat: str
) -> str:
    head = "| metric | " + " | ".join(transforms) + " |"
    sep = "| --- |" + " ---: |" * len(transforms)
    by = {(r.metric, r.transform): r for r in rows}
    body = [
        f"| {m} | " + " | ".join(_fmt(getattr(by[(m, t)], stat)) for t in transforms) + " |"
        for m in metrics
    ]
    return "\n".join([head, sep, *body])


def _agg(fn: Callable[[np.ndarray], Any], values: Sequence[float]) -> float:
    v = np.asarray([x for x in values if math.isfinite(x)], dtype=float)
    return float(fn(v)) if v.size else float("nan")


def _per_metric(rows: Sequence[Row], result: BenchmarkResult) -> str:
    lines = [
        "| metric | family | lower better | level SRCC aligned | mean SRCC (a) | min SRCC (a) "
        "| mean level SRCC moved | median rho (b) | mean pi (b) | wall s | CPU s |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for m in result.scores:
        rs = [r for r in rows if r.metric == m]
        info = metric_info(m)
        srcc = [r.srcc for r in rs]
        lines.append(
            f"| {m} | {info.family} | {'yes' if info.lower_better else 'no'} "
            f"| {_fmt(rs[0].level_srcc_aligned)} | {_fmt(_agg(np.mean, srcc))} "
            f"| {_fmt(_agg(np.min, srcc))} "
            f"| {_fmt(_agg(np.mean, [r.level_srcc_moved for r in rs]))} "
            f"| {_fmt(_agg(np.median, [r.rho for r in rs]))} "
            f"| {_fmt(_agg(np.mean, [r.pi for r in rs]))} "
            f"| {result.seconds[m]:.0f} | {result.cpu_seconds[m]:.0f} |"
        )
    return "\n".join(lines)


NOTES_BEGIN, NOTES_END = "<!-- BEGIN NOTES -->", "<!-- END NOTES -->"


def _keep_notes(path: Path) -> str:
    default = f"{NOTES_BEGIN}\n(Interpretation to be written after a full run.)\n{NOTES_END}"
    if not path.exists():
        return default
    text = path.read_text()
    a, b = text.find(NOTES_BEGIN), text.find(NOTES_END)
    if a < 0 or b < a:
        return default
    return text[a : b + len(NOTES_END)]


def write_markdown(result: BenchmarkResult, rows: Sequence[Row], path: Path) -> None:
    cfg = result.config
    design = result.design
    metrics = list(result.scores)
    t = result.transforms
    size = cfg.get("size")
    n_aligned = sum(len(v) for v in result.types.values()) * len(design.levels)
    n_moved = sum(len(v) for v in result.types.values()) * len(design.moved_levels)
    n_pairs = len(next(iter(result.scores.values()))) if result.scores else 0
    levels_txt = "; ".join(
        f"{k}: {', '.join(str(v) for v in DISTORTION_LEVELS[k])}" for k in DISTORTIONS
    )
    transforms_txt = "\n".join(f"  - `{k}`: {v}" for k, v in TRANSFORM_DESCRIPTIONS.items())
    type_count = {k: sum(k in v for v in result.types.values()) for k in DISTORTIONS}
    cycle_txt = (
        "every type on every image"
        if design.per_image == len(DISTORTIONS)
        else "cycled over the images: " + ", ".join(f"{k} on {n}" for k, n in type_count.items())
    )
    skipped_txt = (
        "\n".join(f"- `{m}` was not run: {why}" for m, why in result.skipped.items())
        if result.skipped
        else "- none: every registered metric was run."
    )
    machine = cfg.get("machine", {})
    timing = cfg.get("timing", {})
    inf_metrics = [
        m
        for m, sc in result.scores.items()
        if any(not math.isfinite(v) for k, v in sc.items() if k.condition == "aligned")
    ]
    inf_txt = ", ".join(inf_metrics) if inf_metrics else "none in this run"
    out = f"""# Geometric robustness of friqa's metrics

Generated by `benchmarks/geometric_robustness.py`; the interpretation between the
NOTES markers (under "What it shows") is written by hand and kept when the script is
re-run.

Command: `{cfg.get("command", "")}`

![(a) SRCC aligned vs misaligned, (b) geometric shift of the score](geometric_robustness.png)

## Method

- Images: {len(result.images)} scikit-image data images ({", ".join(result.images)}),
  shorter side resized to {size} px (Lanczos), centre crop {size} x {size}, 8-bit RGB
  (gray images replicated).
- Photometric distortions (8-bit results), levels 1..5 from mild to strong: {levels_txt}
  (noise: Gaussian sigma on [0, 1]; blur: Gaussian sigma in px; JPEG: PIL quality;
  contrast: `m + c (x - m)`, `m` the image mean). {design.per_image} type(s) per image
  ({cycle_txt}), levels {", ".join(map(str, design.levels))}: {n_aligned} aligned
  distorted images.
- Geometric transforms (`benchmarks/geometry.py`: output canvas = input canvas, bilinear
  sampling, mirrored border, 8-bit results), applied to the distorted images of levels
  {", ".join(map(str, design.moved_levels))} ({n_moved} per transform) and to the
  reference; the reference of every pair stays untouched:
{transforms_txt}
- Pairs per metric: {n_pairs} (aligned distorted, the identical pair, and per transform
  the moved distorted images and the moved reference). Default metric options; each
  reference encoded once per image and metric (`Metric.encode_ref`), distorted images in
  batches of {design.batch_size}, `torch.no_grad`.
- Why this design: scoring is the cost (about 2 s of CPU per pair for all 17 metrics at
  176 px), and the run must stay within about 15 minutes on 2 cores; so one distortion
  type per image and two or three moved levels. `--moved-levels 1,3,5` scores 620
  pairs per metric, `--full` (every type on every image, all five levels moved) 3150,
  several hours here.
- VGG16 weights: `{cfg.get("weights") or "FRIQA_VGG16_WEIGHTS"}`, the original Caffe
  ImageNet VGG16 weights of `shared/weights` (see its README), **not torchvision's**
  `vgg16-397923af.pth` with which LPIPS, DISTS, DeepWSD, SMIC and DeepSSIM were
  published: absolute deep-metric values differ from published ones.

Metrics left out:
{skipped_txt}

Statistics, per metric and transform T (`s` = score, `s0` = score of the identical pair):

- **(a) `srcc`**: Spearman correlation between s(ref, D) and s(ref, T(D)) over all moved
  (image, distortion, level). 1 = the misaligned scores rank the distorted images as the
  aligned ones do. **Level SRCC**: per (image, distortion type), Spearman correlation
  between the level and the score, signed so that +1 = worse scores at stronger levels;
  mean over the groups, on the aligned pairs and on T(D) (same levels).
- **(b) `rho`** = median over images of |s(ref, T(ref)) - s0| divided by the photometric
  spread |median s(level {design.levels[-1]}) - median s(level {design.levels[0]})|
  (medians over all aligned distorted pairs). 0 = a pure geometric transform leaves the
  score unchanged; 1 = it moves it as far as going from the mildest to the strongest
  photometric level. An infinite identical-pair score ({inf_txt}) is replaced by
  {IDENTICAL_PSNR_CAP:.2f} dB (the PSNR of 8-bit rounding noise, MSE = 1/12 LSB^2), so
  their `rho` depends on that convention; the faithful PSNR-SMIC scores identical images
  100 dB (the reference's `1e-10` offset), which makes its `rho` large by construction.
  **`pi`**: the fraction of the same image's aligned distorted pairs rated *better* than
  (ref, T(ref)) (ties 1/2), mean over images: 0 = the moved pristine image is rated better
  than every photometric distortion, 1 = worse than all of them. `pi` is rank-based and
  needs no convention for infinite scores.

## Summary per metric

Over the {len(t)} transforms: mean and minimum of (a), mean level SRCC on T(D), median
`rho`, mean `pi`; time spent by each metric (wall and CPU seconds of its process).

{_per_metric(rows, result)}

## (a) SRCC between aligned and misaligned scores

{_table(rows, metrics, t, "srcc")}

## (a') Level SRCC on the misaligned pairs (the aligned value is in the summary)

{_table(rows, metrics, t, "level_srcc_moved")}

## (b) rho: geometric shift of the score / photometric spread

{_table(rows, metrics, t, "rho")}

## (b') pi: fraction of photometric distortions rated better than T(ref)

{_table(rows, metrics, t, "pi")}

## Run

- Total wall time {timing.get("total", 0):.0f} s ({timing.get("total", 0) / 60:.1f} min),
  with {cfg.get("workers")} worker process(es); the CPU time of all metrics adds up to
  {sum(result.cpu_seconds.values()):.0f} s.
- Machine: {machine.get("cpu")}, {machine.get("cores")} cores, torch {machine.get("torch")},
  Python {machine.get("python")}; load average (1, 5, 15 min) at start
  {cfg.get("load_start")}, at end {cfg.get("load_end")}: other jobs shared the machine,
  so the times are upper bounds and noisy.
- Outputs: `geometric_robustness.csv` (long format: metric, family, transform,
  statistic, value), `geometric_robustness.json` (the same, the configuration and the
  times), `geometric_robustness.png`.

## What it shows

{_keep_notes(path)}
"""
    path.write_text(out)


def write_plot(
    rows: Sequence[Row], metrics: Sequence[str], transforms: Sequence[str], path: Path
) -> None:
    """Three heatmaps (metrics x transforms): (a) SRCC aligned vs misaligned, (b) rho on a
    log colour scale, (b') pi; lines separate the metric families."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm, Normalize

    by = {(r.metric, r.transform): r for r in rows}

    def grid(stat: str) -> np.ndarray:
        return np.array([[getattr(by[(m, t)], stat) for t in transforms] for m in metrics])

    panels = [
        ("srcc", "(a) SRCC between aligned and misaligned scores: "
         "higher = severity ranking survives", "viridis", Normalize(0.0, 1.0), lambda v: v < 0.5),
        ("rho", "(b) rho = |s(ref, T ref) - s0| / photometric spread: "
         "lower = less moved by geometry", "magma_r", LogNorm(1e-2, 1e1), lambda v: v > 1.0),
        ("pi", "(b') pi = share of photometric distortions rated better than T(ref): "
         "lower = robust", "magma_r", Normalize(0.0, 1.0), lambda v: v > 0.5),
    ]  # fmt: skip
    families = [metric_info(m).family for m in metrics]
    breaks = [i - 0.5 for i in range(1, len(metrics)) if families[i] != families[i - 1]]
    h = 1.4 + 0.24 * len(metrics)
    fig, axes = plt.subplots(3, 1, figsize=(2.6 + 0.55 * len(transforms), 3 * h))
    for ax, (stat, title, cmap, norm, light) in zip(axes, panels, strict=True):
        vals = grid(stat)
        shown = np.where(np.isfinite(vals), vals, np.nan)
        if isinstance(norm, LogNorm):
            shown = np.clip(shown, 1e-2, 1e1)
        im = ax.imshow(shown, cmap=cmap, norm=norm, aspect="auto")
        ax.set_xticks(range(len(transforms)), transforms, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(metrics)), metrics, fontsize=7)
        ax.set_title(title, fontsize=8.5)
        for y in breaks:
            ax.axhline(y, color="white", lw=1.5)
        for i in range(len(metrics)):
            for j in range(len(transforms)):
                v = vals[i, j]
                txt = "nan" if not np.isfinite(v) else (f"{v:.2f}" if abs(v) < 10 else f"{v:.0f}")
                ax.text(j, i, txt, ha="center", va="center", fontsize=6,
                        color="white" if np.isfinite(v) and light(v) else "black")  # fmt: skip
        fig.colorbar(im, ax=ax, fraction=0.03, pad=0.015)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


#: Display order: DeepSSIM, the base metrics, the faithful SMIC metrics, the consistent ones.
_FAMILY_ORDER = ("deepssim", "base", "smic", "smic-consistent")
_BASE_ORDER = ("psnr", "ssim", "ssim_rgb", "ms_ssim", "lpips", "dists", "deepwsd")


def display_order(metrics: Iterable[str]) -> list[str]:
    """Metrics grouped by family, each family in the order of :data:`_BASE_ORDER`."""

    def key(m: str) -> tuple[int, int, str]:
        fam = metric_info(m).family
        base = m.replace("+smic", "").replace("_smic", "")
        return (
            _FAMILY_ORDER.index(fam) if fam in _FAMILY_ORDER else len(_FAMILY_ORDER),
            _BASE_ORDER.index(base) if base in _BASE_ORDER else len(_BASE_ORDER),
            m,
        )

    return sorted(metrics, key=key)


def write_scores(result: BenchmarkResult, path: Path) -> None:
    """Every raw score, long format: metric, image, condition, distortion, level, score."""
    lines = ["metric,image,condition,distortion,level,score"]
    for m, sc in result.scores.items():
        for k, v in sc.items():
            lines.append(f"{m},{k.image},{k.condition},{k.distortion},{k.level},{v:.9g}")
    path.write_text("\n".join(lines) + "\n")


def _clean(v: float) -> float | None:
    return v if math.isfinite(v) else None


def write_json(result: BenchmarkResult, rows: Sequence[Row], path: Path) -> None:
    d = result.design
    payload = {
        "config": result.config,
        "design": {
            "levels": list(d.levels),
            "moved_levels": list(d.moved_levels),
            "per_image": d.per_image,
            "batch_size": d.batch_size,
        },
        "images": result.images,
        "types_per_image": result.types,
        "distortion_levels": DISTORTION_LEVELS,
        "transforms": result.transforms,
        "skipped": result.skipped,
        "seconds": result.seconds,
        "cpu_seconds": result.cpu_seconds,
        "families": {m: metric_info(m).family for m in result.scores},
        "rows": [
            {
                "metric": r.metric,
                "transform": r.transform,
                **{s: _clean(getattr(r, s)) for s in STATISTICS},
            }
            for r in rows
        ],
    }
    path.write_text(json.dumps(payload, indent=1) + "\n")


# --- command line ------------------------------------------------------------------------


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(","))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--metrics", help="comma-separated metric names (default: every registered one)")
    p.add_argument("--images", type=int, default=10, help="number of images (10)")
    p.add_argument(
        "--size", type=int, default=176, help="image side in px (176; MS-SSIM needs 161)"
    )
    p.add_argument(
        "--types-per-image", type=int, default=1,
        help="photometric distortion types per image, cycled over the images (1; 4 = all)",
    )  # fmt: skip
    p.add_argument("--levels", type=_ints, default=(1, 2, 3, 4, 5), help="aligned levels (1..5)")
    p.add_argument(
        "--moved-levels", type=_ints, default=(1, 5),
        help="levels whose distorted images are moved by every transform (1,5)",
    )  # fmt: skip
    p.add_argument(
        "--full", action="store_true",
        help="the full factorial design: every type on every image, all 5 levels moved "
        "(about 5x the default work)",
    )  # fmt: skip
    p.add_argument("--transforms", help="comma-separated transform names (default: all 14)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--weights", help="VGG16 weights (default: FRIQA_VGG16_WEIGHTS)")
    p.add_argument(
        "--workers", type=int, default=min(2, os.cpu_count() or 1),
        help="processes sharing the metrics, one torch thread each (default: min(2, cores))",
    )  # fmt: skip
    p.add_argument("--out-dir", default="docs", help="where to write the outputs (docs)")
    p.add_argument("--scores", metavar="FILE", help="also write every raw score to this CSV")
    p.add_argument(
        "--quick", action="store_true",
        help="smoke run: 2 images of 64 px, levels 1 and 5, one type per image, 4 transforms",
    )  # fmt: skip
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    metrics = args.metrics.split(",") if args.metrics else list_metrics()
    for m in metrics:
        metric_info(m)  # unknown names fail here
    metrics = display_order(metrics)
    size, n_images = args.size, args.images
    design = Design(
        levels=tuple(args.levels),
        moved_levels=tuple(args.moved_levels),
        per_image=args.types_per_image,
        batch_size=args.batch_size,
    )
    if args.full:
        design = Design(per_image=len(DISTORTIONS), batch_size=args.batch_size)
    transforms = geometric_transforms(size)
    if args.quick:
        size, n_images = 64, 2
        design = Design(levels=(1, 5), moved_levels=(1, 5), per_image=1, batch_size=8)
        transforms = geometric_transforms(size)
        transforms = {k: transforms[k] for k in ("shift4", "scale1.05", "rot2.5", "elastic")}
    if args.transforms:
        names = args.transforms.split(",")
        unknown = [n for n in names if n not in transforms]
        if unknown:
            raise SystemExit(f"unknown transforms {unknown}; choose from {list(transforms)}")
        transforms = {n: transforms[n] for n in names}
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    load_start = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    t0 = time.perf_counter()
    images = load_images(n_images, size)
    print(f"{len(metrics)} metrics: {', '.join(metrics)}", flush=True)
    result = run_benchmark(
        metrics,
        images,
        transforms,
        design,
        weights=args.weights,
        workers=args.workers,
        log=lambda msg: print(msg, flush=True),
    )
    total = time.perf_counter() - t0
    given = sys.argv[1:] if argv is None else list(argv)
    env_weights = os.environ.get("FRIQA_VGG16_WEIGHTS")
    env = [f"FRIQA_VGG16_WEIGHTS={env_weights}"] if env_weights and not args.weights else []
    result.config = {
        "command": " ".join([*env, "python benchmarks/geometric_robustness.py", *given]),
        "size": size,
        "workers": args.workers,
        "weights": args.weights or os.environ.get("FRIQA_VGG16_WEIGHTS"),
        "machine": _machine(),
        "load_start": load_start,
        "load_end": ", ".join(f"{v:.1f}" for v in os.getloadavg()),
        "timing": {"total": total},
    }
    rows = summarise(result)
    write_csv(rows, out_dir / "geometric_robustness.csv")
    write_json(result, rows, out_dir / "geometric_robustness.json")
    write_markdown(result, rows, out_dir / "geometric_robustness.md")
    write_plot(rows, list(result.scores), result.transforms, out_dir / "geometric_robustness.png")
    if args.scores:
        write_scores(result, Path(args.scores))
    print(f"total {total:.0f} s")
    print(f"wrote {out_dir}/geometric_robustness.{{csv,json,md,png}}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
