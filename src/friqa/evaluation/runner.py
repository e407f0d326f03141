"""Score every pair of a manifest with every metric: streamed, resumable, failure-tolerant.

Work is grouped by reference image. For each reference the image is loaded
once and each metric encodes it once (:meth:`Metric.encode_ref`: for the deep
metrics this is the VGG16 pass on the reference); its distorted images are then
loaded in batches and scored with :meth:`Metric.compute_encoded`. Datasets
have 25 to 125 distortions per reference, so this removes almost half of the
backbone work. With ``ref_cache=False`` every batch calls
:meth:`Metric.compute` on the reference repeated to the batch size instead
(the plain way, kept for comparison: ``benchmarks/bench_evaluate.py``).

Distorted images of one batch are stacked by size; images whose size differs
from the others form their own sub-batch. When a sub-batch raises, its images
are retried one by one so that one bad image cannot fail its neighbours.

Output, in ``out_dir``:

``scores.csv`` (or ``scores.jsonl``)
    One line per (pair, metric), in long format, with the columns
    :data:`SCORE_FIELDS`: ``row`` (0-based position in the manifest), ``metric``,
    ``dist``, ``ref``, ``distortion``, ``subjective`` (the manifest's MOS/DMOS),
    ``score``, ``status`` (``ok`` or ``failed``) and ``reason`` (why it failed).
    Lines are appended and flushed after every batch.

``run_config.json``
    The scoring arguments and the SHA-256 of the manifest's content. A run
    started again with the same ``out_dir`` resumes: the scores file is read,
    a line cut short by a kill is dropped, and every (row, metric) already
    written is skipped, so nothing is lost or written twice. Resuming with
    different arguments is refused (:class:`~friqa.exceptions.InputError`
    saying which argument differs); ``overwrite=True`` starts afresh.

Failed rows (a missing or unreadable image, a size mismatch for an aligned
metric, a metric error) are written with ``status=failed`` and the reason, and
count as done when resuming (``retry_failed=True`` scores them again). Missing
weights (:class:`~friqa.exceptions.WeightsError`) stop the run: they would fail
every row.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from friqa._version import __version__
from friqa.evaluation.manifest import Manifest
from friqa.exceptions import FriqaError, InputError, WeightsError
from friqa.metrics.base import EncodedRef, Metric
from friqa.metrics.registry import create_metric, metric_info

__all__ = [
    "SCORE_FIELDS",
    "ScoreRecord",
    "RunResult",
    "MetricTiming",
    "score_manifest",
    "read_scores",
    "build_metric",
]

#: Columns of the per-image scores file, in order.
SCORE_FIELDS: tuple[str, ...] = (
    "row",
    "metric",
    "dist",
    "ref",
    "distortion",
    "subjective",
    "score",
    "status",
    "reason",
)

_CONFIG_NAME = "run_config.json"
_FORMATS = ("csv", "jsonl")
#: run_config.json keys that must match for a run to resume.
_IDENTITY_KEYS = (
    "manifest_sha256",
    "root",
    "metrics",
    "metric_options",
    "batch_size",
    "ref_cache",
    "device",
    "dtype",
    "format",
)


@dataclass(frozen=True)
class ScoreRecord:
    """One line of the scores file: a (pair, metric) result."""

    row: int
    metric: str
    dist: str
    ref: str
    distortion: str
    subjective: float
    score: float
    status: str
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class MetricTiming:
    """Seconds spent per metric: encoding references and scoring distorted images."""

    encode_seconds: float = 0.0
    compute_seconds: float = 0.0
    refs_encoded: int = 0
    pairs_scored: int = 0


@dataclass
class RunResult:
    """What :func:`score_manifest` did.

    Attributes:
        out_dir: the output folder; ``scores_path`` and ``config_path`` are in it.
        total: pairs x metrics in the manifest.
        skipped: results already in the scores file when the run started.
        scored: results written by this run with ``status=ok``.
        failed: results written by this run with ``status=failed``.
        failed_total: failed results in the whole file.
        seconds: wall time of this run.
        pairs_per_second: distorted images scored per second by all metrics of this run
            (pairs written / seconds).
        timings: per-metric :class:`MetricTiming`.
    """

    out_dir: Path
    scores_path: Path
    config_path: Path
    total: int
    skipped: int
    scored: int
    failed: int
    failed_total: int
    seconds: float
    pairs_per_second: float
    timings: dict[str, MetricTiming] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["out_dir"] = str(self.out_dir)
        d["scores_path"] = str(self.scores_path)
        d["config_path"] = str(self.config_path)
        return d


# --- scores file -------------------------------------------------------------------------


def _clean_reason(text: str) -> str:
    return " ".join(text.split())[:500]


def _format_float(v: float) -> str:
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(float(v))


def _encode_records(records: Sequence[ScoreRecord], fmt: str) -> str:
    if fmt == "jsonl":
        lines = []
        for r in records:
            d = r.as_dict()
            d["score"] = _format_float(r.score) if not math.isfinite(r.score) else r.score
            lines.append(json.dumps(d, ensure_ascii=False) + "\n")
        return "".join(lines)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for r in records:
        w.writerow(
            [
                r.row,
                r.metric,
                r.dist,
                r.ref,
                r.distortion,
                _format_float(r.subjective),
                _format_float(r.score),
                r.status,
                r.reason,
            ]
        )
    return buf.getvalue()


def _decode_line(line: str, fmt: str) -> ScoreRecord:
    if fmt == "jsonl":
        d = json.loads(line)
        return ScoreRecord(
            row=int(d["row"]),
            metric=str(d["metric"]),
            dist=str(d["dist"]),
            ref=str(d["ref"]),
            distortion=str(d["distortion"]),
            subjective=float(d["subjective"]),
            score=float(d["score"]),
            status=str(d["status"]),
            reason=str(d.get("reason", "")),
        )
    (values,) = list(csv.reader([line]))
    if len(values) != len(SCORE_FIELDS):
        raise ValueError(f"{len(values)} fields")
    v = dict(zip(SCORE_FIELDS, values, strict=True))
    return ScoreRecord(
        row=int(v["row"]),
        metric=v["metric"],
        dist=v["dist"],
        ref=v["ref"],
        distortion=v["distortion"],
        subjective=float(v["subjective"]),
        score=float(v["score"]),
        status=v["status"],
        reason=v["reason"],
    )


def _header(fmt: str) -> str:
    return ",".join(SCORE_FIELDS) + "\n" if fmt == "csv" else ""


def read_scores(path: str | os.PathLike[str], *, repair: bool = False) -> list[ScoreRecord]:
    """Read a scores file (``.csv`` or ``.jsonl``) written by :func:`score_manifest`.

    A last line without its newline (a run killed while writing) is ignored, and
    removed from the file when ``repair`` is set. Repeated (row, metric) keys
    keep their first occurrence.

    Raises:
        DatasetError-like :class:`~friqa.exceptions.InputError`: a malformed line.
    """
    p = Path(path)
    fmt = "jsonl" if p.suffix.lower() == ".jsonl" else "csv"
    if not p.is_file():
        raise FileNotFoundError(f"scores file '{p}' does not exist")
    data = p.read_bytes()
    complete = data[: data.rfind(b"\n") + 1] if not data.endswith(b"\n") else data
    if repair and len(complete) != len(data):
        with open(p, "r+b") as fh:
            fh.truncate(len(complete))
    lines = complete.decode("utf-8").splitlines()
    if fmt == "csv":
        if not lines:
            return []
        if lines[0].strip() != ",".join(SCORE_FIELDS):
            raise InputError(
                f"'{p}' does not start with the header '{','.join(SCORE_FIELDS)}'; "
                "it was not written by friqa evaluate"
            )
        lines = lines[1:]
    out: list[ScoreRecord] = []
    seen: set[tuple[int, str]] = set()
    for k, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rec = _decode_line(line, fmt)
        except (ValueError, KeyError, json.JSONDecodeError) as exc:
            raise InputError(f"'{p}', line {k + 2}: malformed record ({exc})") from None
        key = (rec.row, rec.metric)
        if key not in seen:
            seen.add(key)
            out.append(rec)
    return out


# --- metrics ----------------------------------------------------------------------------


def build_metric(
    name: str,
    options: Mapping[str, Any] | None = None,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> Metric:
    """Create a registered metric for scoring: options, device, dtype, eval mode.

    When the metric needs VGG16 weights they are resolved first, so a missing
    file fails here with the full explanation rather than on every image.
    """
    info = metric_info(name)
    opts = dict(options or {})
    if info.needs_weights:
        from friqa.backbone.weights import resolve_vgg16_weights

        resolve_vgg16_weights(opts.get("weights"))
    metric = create_metric(info.name, **opts)
    return metric.to(device=torch.device(device), dtype=dtype).eval()


# --- the run ----------------------------------------------------------------------------


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


def _json_options(options: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, opts in sorted(options.items()):
        out[name] = {
            k: (os.fspath(v) if isinstance(v, os.PathLike) else v) for k, v in sorted(opts.items())
        }
    try:
        json.dumps(out)
    except TypeError as exc:
        raise InputError(
            f"metric options must be JSON-serializable (numbers, text): {exc}"
        ) from None
    return out


def _check_config(path: Path, config: dict[str, Any]) -> None:
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(
            f"cannot read '{path}' ({exc}); remove the output folder or use overwrite"
        ) from None
    diffs = [k for k in _IDENTITY_KEYS if old.get(k) != config.get(k)]
    if diffs:
        details = "; ".join(f"{k}: was {old.get(k)!r}, now {config.get(k)!r}" for k in diffs)
        raise InputError(
            f"'{path.parent}' holds a run with different arguments ({details}); resume with the "
            "same arguments, choose another output folder, or overwrite it (--overwrite)"
        )


def _load(path: Path, dtype: torch.dtype) -> Tensor:
    from friqa.io import load_image

    return load_image(path, dtype=dtype)


def score_manifest(
    manifest: Manifest,
    metrics: Sequence[str],
    out_dir: str | os.PathLike[str],
    *,
    metric_options: Mapping[str, Mapping[str, Any]] | None = None,
    batch_size: int = 8,
    ref_cache: bool = True,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    fmt: str = "csv",
    overwrite: bool = False,
    retry_failed: bool = False,
    progress: bool | None = None,
    loader: Callable[[Path, torch.dtype], Tensor] | None = None,
) -> RunResult:
    """Score every pair of ``manifest`` with every metric, streaming to ``out_dir``.

    Args:
        manifest: the pairs (see :func:`~friqa.evaluation.manifest.read_manifest`).
        metrics: registry names (``friqa.list_metrics()``).
        out_dir: output folder (created); see the module docstring for its files.
        metric_options: per-metric constructor options, e.g.
            ``{"lpips": {"weights": "vgg16.pth"}}``.
        batch_size: distorted images scored per call.
        ref_cache: encode each reference once per metric (see the module docstring).
        device, dtype: where and in which precision to compute.
        fmt: ``"csv"`` or ``"jsonl"`` for the scores file.
        overwrite: discard a previous run in ``out_dir`` instead of resuming it.
        retry_failed: when resuming, score the failed results again.
        progress: show a tqdm bar with ETA on stderr (None: only on a terminal).
        loader: image loader ``(path, dtype) -> (3, H, W)`` (default
            :func:`friqa.io.load_image`).

    Returns:
        A :class:`RunResult` with counts and timings.
    """
    if batch_size < 1:
        raise InputError(f"batch_size must be >= 1, got {batch_size}")
    if fmt not in _FORMATS:
        raise InputError(f"fmt must be one of {', '.join(_FORMATS)}, got '{fmt}'")
    names = [metric_info(n).name for n in metrics]
    if not names:
        raise InputError("give at least one metric (see friqa.list_metrics())")
    if len(set(names)) != len(names):
        raise InputError(f"metrics are repeated: {', '.join(names)}")
    options = {k.lower(): dict(v) for k, v in (metric_options or {}).items()}
    unknown = sorted(set(options) - set(names))
    if unknown:
        raise InputError(f"options given for metrics not evaluated: {', '.join(unknown)}")
    dev = torch.device(device)
    config = {
        "friqa_version": __version__,
        "manifest_name": manifest.name,
        "manifest_sha256": manifest.fingerprint(),
        "root": str(Path(manifest.root).absolute()) if manifest.root is not None else None,
        "subjective": manifest.score_column,
        "metrics": names,
        "metric_options": _json_options(options),
        "batch_size": batch_size,
        "ref_cache": ref_cache,
        "device": str(dev),
        "dtype": _dtype_name(dtype),
        "format": fmt,
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    config_path = out / _CONFIG_NAME
    scores_path = out / f"scores.{fmt}"
    other = out / f"scores.{'jsonl' if fmt == 'csv' else 'csv'}"
    if overwrite:
        for p in (config_path, scores_path, other):
            p.unlink(missing_ok=True)
    if config_path.exists():
        _check_config(config_path, config)
    elif scores_path.exists() or other.exists():
        raise InputError(
            f"'{out}' has a scores file but no {_CONFIG_NAME}; remove it or use overwrite"
        )
    built = {n: build_metric(n, options.get(n), device=dev, dtype=dtype) for n in names}
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")

    existing = read_scores(scores_path, repair=True) if scores_path.exists() else []
    if retry_failed and any(not r.ok for r in existing):
        existing = [r for r in existing if r.ok]
        tmp = scores_path.with_name(scores_path.name + ".tmp")
        tmp.write_text(_header(fmt) + _encode_records(existing, fmt), encoding="utf-8")
        os.replace(tmp, scores_path)
    n_rows = len(manifest)
    done: set[tuple[int, str]] = {
        (r.row, r.metric) for r in existing if 0 <= r.row < n_rows and r.metric in built
    }
    pending: dict[int, list[str]] = {}
    for i in range(n_rows):
        need = [m for m in names if (i, m) not in done]
        if need:
            pending[i] = need
    load = loader or _load
    timings = {n: MetricTiming() for n in names}
    counts = {"ok": 0, "failed": 0}
    start = time.perf_counter()

    new_file = not scores_path.exists() or scores_path.stat().st_size == 0
    with open(scores_path, "a", encoding="utf-8", newline="") as fh:
        if new_file:
            fh.write(_header(fmt))
            fh.flush()

        def emit(records: list[ScoreRecord]) -> None:
            if records:
                fh.write(_encode_records(records, fmt))
                fh.flush()
                for r in records:
                    counts["ok" if r.ok else "failed"] += 1

        bar = _progress(len(pending), manifest.name, progress)
        try:
            with torch.no_grad():
                for ref_path, row_ids in manifest.groups().items():
                    todo = [i for i in row_ids if i in pending]
                    if todo:
                        _score_group(
                            manifest,
                            ref_path,
                            todo,
                            pending,
                            built,
                            batch_size=batch_size,
                            ref_cache=ref_cache,
                            device=dev,
                            dtype=dtype,
                            load=load,
                            emit=emit,
                            timings=timings,
                            advance=bar.update,
                        )
        finally:
            bar.close()
    seconds = time.perf_counter() - start
    written = counts["ok"] + counts["failed"]
    failed_total = counts["failed"] + sum(
        1 for r in existing if not r.ok and (r.row, r.metric) in done
    )
    return RunResult(
        out_dir=out,
        scores_path=scores_path,
        config_path=config_path,
        total=n_rows * len(names),
        skipped=len(done),
        scored=counts["ok"],
        failed=counts["failed"],
        failed_total=failed_total,
        seconds=seconds,
        pairs_per_second=(written / len(names)) / seconds if seconds > 0 and written else 0.0,
        timings=timings,
    )


class _NoBar:
    def update(self, n: int = 1) -> None:
        return None

    def close(self) -> None:
        return None


def _progress(total: int, name: str, progress: bool | None) -> Any:
    if progress is False or total == 0:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=f"scoring {name}" if name else "scoring",
        unit="pair",
        file=sys.stderr,
        disable=None if progress is None else False,
        dynamic_ncols=True,
    )


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if not isinstance(exc, FriqaError | OSError):
        text = f"{type(exc).__name__}: {text}"
    return _clean_reason(text)


def _record(manifest: Manifest, i: int, metric: str, score: float, reason: str) -> ScoreRecord:
    row = manifest.rows[i]
    return ScoreRecord(
        row=i,
        metric=metric,
        dist=row.dist,
        ref=row.ref,
        distortion=row.distortion,
        subjective=row.score,
        score=score,
        status="failed" if reason else "ok",
        reason=reason,
    )


def _chunks(items: Sequence[int], size: int) -> Iterable[list[int]]:
    for k in range(0, len(items), size):
        yield list(items[k : k + size])


def _score_group(
    manifest: Manifest,
    ref_path: str,
    todo: list[int],
    pending: dict[int, list[str]],
    metrics: Mapping[str, Metric],
    *,
    batch_size: int,
    ref_cache: bool,
    device: torch.device,
    dtype: torch.dtype,
    load: Callable[[Path, torch.dtype], Tensor],
    emit: Callable[[list[ScoreRecord]], None],
    timings: dict[str, MetricTiming],
    advance: Callable[[int], Any],
) -> None:
    """Score the pending rows of one reference."""
    needed = [m for m in metrics if any(m in pending[i] for i in todo)]
    try:
        ref = load(manifest.resolve(ref_path), dtype).unsqueeze(0).to(device)
    except (FriqaError, OSError) as exc:
        reason = _clean_reason(f"reference {ref_path}: {_reason(exc)}")
        emit([_record(manifest, i, m, math.nan, reason) for i in todo for m in pending[i]])
        advance(len(todo))
        return
    encoded: dict[str, EncodedRef] = {}
    broken: dict[str, str] = {}
    if ref_cache:
        for m in needed:
            t0 = time.perf_counter()
            try:
                encoded[m] = metrics[m].encode_ref(ref)
            except WeightsError:
                raise
            except Exception as exc:  # a metric error on the reference fails its rows only
                broken[m] = _clean_reason(f"reference {ref_path}: {_reason(exc)}")
            timings[m].encode_seconds += time.perf_counter() - t0
            timings[m].refs_encoded += 1

    for batch in _chunks(todo, batch_size):
        records: list[ScoreRecord] = []
        images: dict[int, Tensor] = {}
        for i in batch:
            try:
                images[i] = load(manifest.resolve(manifest.rows[i].dist), dtype).to(device)
            except (FriqaError, OSError) as exc:
                reason = _clean_reason(f"distorted {manifest.rows[i].dist}: {_reason(exc)}")
                records.extend(_record(manifest, i, m, math.nan, reason) for m in pending[i])
        for m in needed:
            ids = [i for i in batch if i in images and m in pending[i]]
            if not ids:
                continue
            if m in broken:
                records.extend(_record(manifest, i, m, math.nan, broken[m]) for i in ids)
                continue
            by_shape: dict[tuple[int, ...], list[int]] = {}
            for i in ids:
                by_shape.setdefault(tuple(images[i].shape), []).append(i)
            for sub in by_shape.values():
                t0 = time.perf_counter()
                records.extend(
                    _score_sub(manifest, m, metrics[m], ref, encoded.get(m), sub, images)
                )
                timings[m].compute_seconds += time.perf_counter() - t0
                timings[m].pairs_scored += len(sub)
        records.sort(key=lambda r: (r.row, list(metrics).index(r.metric)))
        emit(records)
        for i in batch:
            pending.pop(i, None)
        advance(len(batch))


def _score_sub(
    manifest: Manifest,
    name: str,
    metric: Metric,
    ref: Tensor,
    encoded: EncodedRef | None,
    ids: list[int],
    images: Mapping[int, Tensor],
) -> list[ScoreRecord]:
    """Score images of one size; on an error retry them one by one."""

    def run(sel: list[int]) -> list[float]:
        dist = torch.stack([images[i] for i in sel])
        if encoded is not None:
            score = metric.compute_encoded(encoded, dist).score
        else:
            score = metric.compute(ref.expand(len(sel), *ref.shape[1:]), dist).score
        values: list[float] = score.detach().to("cpu", torch.float64).tolist()
        return values

    try:
        values = run(ids)
        return [_record(manifest, i, name, v, "") for i, v in zip(ids, values, strict=True)]
    except WeightsError:
        raise
    except Exception as exc:
        if len(ids) == 1:
            return [_record(manifest, ids[0], name, math.nan, _reason(exc))]
    out: list[ScoreRecord] = []
    for i in ids:
        out.extend(_score_sub(manifest, name, metric, ref, encoded, [i], images))
    return out
