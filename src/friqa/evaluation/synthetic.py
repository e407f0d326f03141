"""A synthetic dataset with known distortion levels, for smoke tests and benchmarks.

References are smooth random colour images (a few random sinusoids plus
low-pass noise); each is distorted with every chosen distortion at levels
``1..levels``: ``"noise"`` adds Gaussian noise of standard deviation
``0.02 * level``, ``"blur"`` applies a box blur of radius ``level``,
``"jpeg"`` saves with quality ``95 - 18 * (level - 1)``. The subjective score
is ``mos = -level``: within one distortion a higher level is worse, so every
sensible metric ranks the images of one distortion perfectly.

Example:
    >>> import tempfile
    >>> m = make_synthetic_dataset(tempfile.mkdtemp(), n_refs=2, levels=3, size=32)
    >>> len(m), m.rows[0].distortion, m.rows[0].score
    (12, 'noise', -1.0)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from friqa.evaluation.manifest import Manifest, ManifestRow, read_manifest
from friqa.exceptions import InputError

__all__ = ["make_synthetic_dataset", "DISTORTIONS"]

#: The distortions :func:`make_synthetic_dataset` knows.
DISTORTIONS = ("noise", "blur", "jpeg")


def _reference(rng: np.random.Generator, size: int) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size] / size
    img = np.zeros((size, size, 3))
    for c in range(3):
        for _ in range(4):
            fx, fy = rng.uniform(0.5, 6.0, size=2)
            phase = rng.uniform(0, 2 * np.pi)
            img[..., c] += rng.uniform(0.2, 1.0) * np.sin(2 * np.pi * (fx * xx + fy * yy) + phase)
    coarse = rng.normal(size=(max(2, size // 8), max(2, size // 8), 3))
    up = np.asarray(
        Image.fromarray(((coarse - coarse.min()) / np.ptp(coarse) * 255).astype(np.uint8)).resize(
            (size, size), Image.Resampling.BICUBIC
        ),
        dtype=np.float64,
    )
    img = img + 2.0 * (up / 255.0 - 0.5)
    img = (img - img.min()) / (img.max() - img.min())
    return (0.1 + 0.8 * img).astype(np.float64)


def _to_image(x: np.ndarray) -> Image.Image:
    return Image.fromarray(np.round(np.clip(x, 0, 1) * 255).astype(np.uint8))


def make_synthetic_dataset(
    folder: str | os.PathLike[str],
    *,
    n_refs: int = 4,
    levels: int = 5,
    distortions: Sequence[str] = ("noise", "blur"),
    size: int = 64,
    seed: int = 0,
) -> Manifest:
    """Write the images and ``manifest.csv`` into ``folder``; return the manifest.

    ``n_refs * len(distortions) * levels`` pairs, grouped by reference.
    """
    if n_refs < 1 or levels < 1 or size < 8:
        raise InputError("need n_refs >= 1, levels >= 1 and size >= 8")
    unknown = [d for d in distortions if d not in DISTORTIONS]
    if unknown or not distortions:
        raise InputError(f"distortions must be among {', '.join(DISTORTIONS)}, got {distortions}")
    root = Path(folder)
    (root / "ref").mkdir(parents=True, exist_ok=True)
    (root / "dist").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows: list[ManifestRow] = []
    for r in range(n_refs):
        ref = _reference(rng, size)
        ref_name = f"ref/r{r:03d}.png"
        _to_image(ref).save(root / ref_name)
        for d in distortions:
            for level in range(1, levels + 1):
                name = f"dist/r{r:03d}_{d}_{level}.png"
                if d == "noise":
                    _to_image(ref + rng.normal(0.0, 0.02 * level, ref.shape)).save(root / name)
                elif d == "blur":
                    _to_image(ref).filter(ImageFilter.BoxBlur(level)).save(root / name)
                else:
                    tmp = root / (name + ".jpg")
                    _to_image(ref).save(tmp, quality=95 - 18 * (level - 1))
                    Image.open(tmp).convert("RGB").save(root / name)
                    tmp.unlink()
                rows.append(
                    ManifestRow(
                        dist=name,
                        ref=ref_name,
                        score=-float(level),
                        distortion=d,
                        extra={"level": str(level)},
                    )
                )
    manifest = Manifest(rows, True, root, root.name, ("level",))
    manifest.write(root / "manifest.csv")
    return read_manifest(root / "manifest.csv")
