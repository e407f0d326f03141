"""Identity of a scoring run (``run_config.json``) and what resuming it requires.

``run_config.json`` holds the scoring arguments, the SHA-256 of the
manifest's content, and what the run computed with (versions, every metric's
settings, the weights file and its SHA-256: :mod:`~friqa.evaluation.environment`).
A run started again with the same output folder resumes only when the
arguments of :data:`IDENTITY_KEYS` are the same; otherwise it is refused
(:class:`~friqa.exceptions.InputError` saying which argument differs), unless
``overwrite`` discards the previous run. A scores file without its
``run_config.json`` is refused too: nothing says what it holds.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from friqa._version import __version__
from friqa.evaluation.environment import run_environment
from friqa.evaluation.manifest import Manifest
from friqa.evaluation.options import RunOptions
from friqa.evaluation.scores_file import SCORE_FORMATS
from friqa.exceptions import InputError

__all__ = [
    "CONFIG_NAME",
    "IDENTITY_KEYS",
    "RunPaths",
    "run_config",
    "open_run_dir",
    "write_config",
]

CONFIG_NAME = "run_config.json"

#: run_config.json keys that must match for a run to resume (not ``batch_size``:
#: it changes how many images go through a call, never a score).
IDENTITY_KEYS: tuple[str, ...] = (
    "manifest_sha256",
    "root",
    "metrics",
    "metric_options",
    "ref_cache",
    "device",
    "dtype",
    "format",
)


@dataclass(frozen=True)
class RunPaths:
    """The files of a run in its output folder."""

    out_dir: Path
    config: Path
    scores: Path


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


def run_config(
    manifest: Manifest,
    metrics: Sequence[str],
    metric_options: Mapping[str, Mapping[str, Any]],
    options: RunOptions,
) -> dict[str, Any]:
    """The content of ``run_config.json`` for scoring ``manifest`` with ``metrics``.

    ``metric_options`` are the checked per-metric options (registry names as keys).
    """
    return {
        "friqa_version": __version__,
        "manifest_name": manifest.name,
        "manifest_sha256": manifest.fingerprint(),
        "root": str(Path(manifest.root).absolute()) if manifest.root is not None else None,
        "subjective": manifest.score_column,
        "metrics": list(metrics),
        "metric_options": _json_options(metric_options),
        "batch_size": options.batch_size,
        "ref_cache": options.ref_cache,
        "device": str(torch.device(options.device)),
        "dtype": str(options.dtype).replace("torch.", ""),
        "format": options.fmt,
        "engine": options.engine,
        **run_environment(metrics, metric_options),
    }


def _check_config(path: Path, config: Mapping[str, Any]) -> None:
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(
            f"cannot read '{path}' ({exc}); remove the output folder or use overwrite"
        ) from None
    diffs = [k for k in IDENTITY_KEYS if old.get(k) != config.get(k)]
    if diffs:
        details = "; ".join(f"{k}: was {old.get(k)!r}, now {config.get(k)!r}" for k in diffs)
        raise InputError(
            f"'{path.parent}' holds a run with different arguments ({details}); resume with the "
            "same arguments, choose another output folder, or overwrite it (--overwrite)"
        )


def open_run_dir(
    out_dir: str | os.PathLike[str], config: Mapping[str, Any], *, overwrite: bool
) -> RunPaths:
    """Create ``out_dir`` and check that a run with ``config`` may start or resume there.

    With ``overwrite`` a previous run's config and scores files are deleted first.
    The config itself is not written yet (:func:`write_config`), so that a run failing
    before it scores anything leaves no trace.

    Raises:
        InputError: the folder holds a run with other arguments, or a scores file
            without its config.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fmt = config["format"]
    paths = RunPaths(out, out / CONFIG_NAME, out / f"scores.{fmt}")
    others = [out / f"scores.{f}" for f in SCORE_FORMATS if f != fmt]
    if overwrite:
        for p in (paths.config, paths.scores, *others):
            p.unlink(missing_ok=True)
    if paths.config.exists():
        _check_config(paths.config, config)
    elif any(p.exists() for p in (paths.scores, *others)):
        raise InputError(
            f"'{out}' has a scores file but no {CONFIG_NAME}; remove it or use overwrite"
        )
    return paths


def write_config(paths: RunPaths, config: Mapping[str, Any]) -> None:
    """Write ``run_config.json`` of the run in ``paths``."""
    paths.config.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
