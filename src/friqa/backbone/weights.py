"""Finding, downloading and verifying the VGG16 weights.

The published LPIPS, DISTS, DeepWSD, SMIC and DeepSSIM numbers use torchvision's
ImageNet VGG16 file ``vgg16-397923af.pth``. friqa looks for weights in this
order and uses the first hit:

1. an explicit path passed by the caller;
2. the environment variable ``FRIQA_VGG16_WEIGHTS``;
3. torch's own cache, ``$TORCH_HOME/hub/checkpoints/vgg16-397923af.pth`` (users who
   ever ran torchvision's VGG16 already have it);
4. a download of torchvision's file into that cache, its SHA-256 checked against
   the prefix ``397923af`` in its name — unless ``FRIQA_OFFLINE=1``.

A file found in the cache under torchvision's name is hash-checked too, once per
process: the verdict is remembered for that file's (resolved path, size,
modification time), so only a replaced or rewritten file is hashed again. When
nothing is found, :class:`~friqa.exceptions.WeightsError` lists every place
looked at. friqa never falls back to a randomly initialised backbone. The first
use in a process of a file that is not torchvision's (by its SHA-256, computed
once per file and process: :func:`file_sha256`) logs one warning line.

The files are loaded with ``torch.load(weights_only=True)`` and their keys and
shapes are checked strictly: a full torchvision state dict (``features.*`` and
``classifier.*``) or its ``features.*`` subset is accepted.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import shutil
import tempfile
import threading
import urllib.request
from pathlib import Path

import torch
from torch import Tensor

from friqa.exceptions import WeightsError
from friqa.validation import value_range

logger = logging.getLogger(__name__)

__all__ = [
    "TORCHVISION_VGG16_FILENAME",
    "TORCHVISION_VGG16_URL",
    "TORCHVISION_VGG16_SHA256_PREFIX",
    "VGG16_CONV_SHAPES",
    "resolve_vgg16_weights",
    "load_vgg16_state_dict",
    "sha256_of",
    "file_sha256",
    "is_torchvision_file",
]

TORCHVISION_VGG16_FILENAME = "vgg16-397923af.pth"
TORCHVISION_VGG16_URL = "https://download.pytorch.org/models/" + TORCHVISION_VGG16_FILENAME
TORCHVISION_VGG16_SHA256_PREFIX = "397923af"

#: torchvision's ``features.N`` index -> (out_channels, in_channels) of the 13 3x3 convs.
VGG16_CONV_SHAPES: dict[int, tuple[int, int]] = {
    0: (64, 3), 2: (64, 64),
    5: (128, 64), 7: (128, 128),
    10: (256, 128), 12: (256, 256), 14: (256, 256),
    17: (512, 256), 19: (512, 512), 21: (512, 512),
    24: (512, 512), 26: (512, 512), 28: (512, 512),
}  # fmt: skip


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


#: SHA-256 of the files hashed in this process, by (resolved path, size, mtime_ns).
_DIGESTS: dict[tuple[str, int, int], str] = {}
#: Files already reported as not torchvision's (one warning per file and process).
_WARNED: set[tuple[str, int, int]] = set()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a weights file, computed once per process for the same file (path, size
    and modification time)."""
    p = Path(path)
    stat = p.stat()
    key = (str(p.resolve()), stat.st_size, stat.st_mtime_ns)
    with _VERIFIED_LOCK:
        digest = _DIGESTS.get(key)
    if digest is None:
        digest = sha256_of(p)
        with _VERIFIED_LOCK:
            _DIGESTS[key] = digest
    return digest


def is_torchvision_file(path: str | os.PathLike[str]) -> bool:
    """Whether the file's SHA-256 is that of torchvision's ``vgg16-397923af.pth``."""
    return file_sha256(path).startswith(TORCHVISION_VGG16_SHA256_PREFIX)


def _warn_if_foreign(path: Path) -> None:
    """Log one warning line the first time a file other than torchvision's is used."""
    if is_torchvision_file(path):
        return
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _VERIFIED_LOCK:
        if key in _WARNED:
            return
        _WARNED.add(key)
    logger.warning(
        "VGG16 weights %s (SHA-256 %s...) are not torchvision's %s: scores will differ from "
        "the published ones",
        path,
        file_sha256(path)[:12],
        TORCHVISION_VGG16_FILENAME,
    )


def _torch_cache_path() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / TORCHVISION_VGG16_FILENAME


def _check_hash(path: Path, prefix: str) -> None:
    digest = file_sha256(path)
    if not digest.startswith(prefix):
        raise WeightsError(
            f"{path}: SHA-256 is {digest[:16]}..., expected it to start with {prefix} "
            f"(torchvision's {TORCHVISION_VGG16_FILENAME}); the file is corrupt or not "
            "that file. Delete it so friqa can download it again, or point "
            "FRIQA_VGG16_WEIGHTS at a good copy."
        )


#: Files whose hash was checked in this process: (resolved path, size, mtime_ns, prefix).
_VERIFIED: set[tuple[str, int, int, str]] = set()
_VERIFIED_LOCK = threading.Lock()


def _file_key(path: Path, prefix: str) -> tuple[str, int, int, str]:
    stat = path.stat()
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns, prefix)


def _check_hash_once(path: Path, prefix: str) -> None:
    """:func:`_check_hash`, skipped when this very file (same size and mtime) passed before."""
    key = _file_key(path, prefix)
    with _VERIFIED_LOCK:
        if key in _VERIFIED:
            return
    _check_hash(path, prefix)
    with _VERIFIED_LOCK:
        _VERIFIED.add(key)


def _download(url: str, dest: Path, prefix: str) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as resp:
            shutil.copyfileobj(resp, out, length=1 << 20)
        _check_hash(tmp, prefix)
        os.replace(tmp, dest)
        with _VERIFIED_LOCK:
            _VERIFIED.add(_file_key(dest, prefix))
    finally:
        tmp.unlink(missing_ok=True)


def resolve_vgg16_weights(
    path: str | os.PathLike[str] | None = None, *, download: bool = True
) -> Path:
    """Return the path of the VGG16 weights to use (see the module docstring for the order).

    Args:
        path: an explicit weights file; it must exist.
        download: allow the download step (``FRIQA_OFFLINE=1`` forbids it in any case).

    Raises:
        WeightsError: when no usable file is found, listing every place looked at.
    """
    looked: list[str] = []
    if path is not None:
        p = Path(path).expanduser()
        if p.is_file():
            _warn_if_foreign(p)
            return p
        raise WeightsError(f"VGG16 weights file {p} (given explicitly) does not exist")
    env = os.environ.get("FRIQA_VGG16_WEIGHTS")
    if env:
        p = Path(env).expanduser()
        if p.is_file():
            _warn_if_foreign(p)
            return p
        raise WeightsError(
            f"FRIQA_VGG16_WEIGHTS={env} does not name an existing file; fix or unset it"
        )
    looked.append("FRIQA_VGG16_WEIGHTS (not set)")
    cached = _torch_cache_path()
    if cached.is_file():
        _check_hash_once(cached, TORCHVISION_VGG16_SHA256_PREFIX)
        return cached
    looked.append(f"{cached} (torch's cache; not there)")
    offline = os.environ.get("FRIQA_OFFLINE", "").strip().lower() in ("1", "true", "yes")
    if offline or not download:
        looked.append(
            "download skipped because FRIQA_OFFLINE=1" if offline else "download not requested"
        )
    else:
        try:
            _download(TORCHVISION_VGG16_URL, cached, TORCHVISION_VGG16_SHA256_PREFIX)
            return cached
        except WeightsError:
            raise
        except Exception as exc:  # network errors of every kind
            looked.append(f"download from {TORCHVISION_VGG16_URL} failed: {exc}")
    raise WeightsError(
        "no VGG16 weights found. Looked at:\n  - "
        + "\n  - ".join(looked)
        + f"\nFix: put torchvision's {TORCHVISION_VGG16_FILENAME} in {cached.parent}, "
        "or set FRIQA_VGG16_WEIGHTS=/path/to/vgg16.pth, or pass weights=... to the metric."
    )


def load_vgg16_state_dict(path: str | os.PathLike[str]) -> dict[str, Tensor]:
    """Load and check the 13 conv layers of a VGG16 state dict.

    Returns the ``features.N.{weight,bias}`` tensors (float32). Raises
    :class:`WeightsError` for unreadable files, missing or unexpected keys and
    wrong shapes.
    """
    p = Path(path)
    try:
        raw = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsError(
            f"{p}: cannot be read as a PyTorch state dict ({type(exc).__name__}: {exc}); "
            "the file may be truncated or not a weights file"
        ) from exc
    if not isinstance(raw, dict):
        raise WeightsError(f"{p}: expected a state dict, got {type(raw).__name__}")
    expected = {
        f"features.{i}.{kind}": (shape if kind == "weight" else shape[:1])
        for i, (o, c) in VGG16_CONV_SHAPES.items()
        for kind, shape in (("weight", (o, c, 3, 3)), ("bias", (o,)))
    }
    missing = sorted(set(expected) - set(raw))
    unexpected = sorted(
        k for k in raw if k not in expected and not str(k).startswith("classifier.")
    )
    if missing or unexpected:
        raise WeightsError(
            f"{p}: not a VGG16 state dict with torchvision's key names; "
            f"missing keys: {missing[:6] or 'none'}; unexpected keys: {unexpected[:6] or 'none'}"
        )
    out: dict[str, Tensor] = {}
    for key, shape in expected.items():
        value = raw[key]
        if not isinstance(value, Tensor) or tuple(value.shape) != shape:
            got = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
            raise WeightsError(f"{p}: {key} has shape {got}, expected {shape}")
        lo, hi = value_range(value)  # one pass: 5x faster than isfinite(value).all()
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise WeightsError(f"{p}: {key} contains NaN or infinite values")
        out[key] = value.detach().to(torch.float32)
    return out
