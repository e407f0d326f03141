"""TID2008 and TID2013: ``mos_with_names.txt`` (MOS 0-9, higher = better).

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "mos_with_names.txt").write_text("5.51429 i01_01_1.bmp\\n")
    >>> m = import_tid2013(root)
    >>> m.rows[0].dist, m.rows[0].ref, m.rows[0].distortion, m.higher_better
    ('distorted_images/i01_01_1.bmp', 'reference_images/I01.BMP', 'awgn', True)
"""

from __future__ import annotations

import re
from pathlib import Path

from friqa.evaluation.datasets.common import PathLike, finish_manifest, parse_float, read_text
from friqa.evaluation.datasets.locate import Locator, find_score_file
from friqa.evaluation.manifest import Manifest, ManifestRow
from friqa.exceptions import DatasetError

__all__ = ["TID2013_DISTORTIONS", "import_tid2013", "import_tid2008"]

#: TID2013 distortion types 1..24 (TID2008 uses the first 17), after the release's readme.
TID2013_DISTORTIONS: tuple[str, ...] = (
    "awgn",
    "color_noise",
    "correlated_noise",
    "masked_noise",
    "high_frequency_noise",
    "impulse_noise",
    "quantization_noise",
    "gaussian_blur",
    "denoising",
    "jpeg",
    "jpeg2000",
    "jpeg_transmission_errors",
    "jpeg2000_transmission_errors",
    "non_eccentricity_pattern_noise",
    "block_distortions",
    "mean_shift",
    "contrast_change",
    "saturation_change",
    "multiplicative_noise",
    "comfort_noise",
    "noisy_image_compression",
    "color_quantization_dither",
    "chromatic_aberrations",
    "sparse_sampling",
)


_TID_NAME = re.compile(r"^[iI](\d+)_(\d+)_(\d+)\.(bmp|BMP|png|PNG)$")


def _import_tid(
    root: PathLike, scores: PathLike | None, version: str, higher_better: bool | None, locate: bool
) -> Manifest:
    base = Path(root)
    what = f"TID{version}"
    path = find_score_file(base, scores, ["mos_with_names.txt"], what)
    std_path = path.with_name("mos_std.txt")
    stds = read_text(std_path).split() if std_path.is_file() else None
    n_types = 24 if version == "2013" else 17
    loc = Locator(base, locate)
    rows: list[ManifestRow] = []
    lines = [ln for ln in read_text(path).splitlines() if ln.strip()]
    for k, line in enumerate(lines):
        parts = line.split()
        if len(parts) != 2:
            raise DatasetError(f"{path.name}, line {k + 1}: expected 'MOS name', got '{line}'")
        mos = parse_float(parts[0], f"{path.name}, line {k + 1}")
        name = parts[1]
        m = _TID_NAME.match(name)
        if m is None:
            raise DatasetError(
                f"{path.name}, line {k + 1}: '{name}' is not a TID image name (iNN_TT_L.bmp)"
            )
        ref_id, dist_type, level = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if not 1 <= dist_type <= n_types:
            raise DatasetError(f"{path.name}, line {k + 1}: distortion type {dist_type} is unknown")
        extra = {"level": str(level)}
        if stds is not None:
            extra["mos_std"] = stds[k] if k < len(stds) else ""
        rows.append(
            ManifestRow(
                dist=loc.find(f"distorted_images/{name}"),
                ref=loc.find(f"reference_images/I{ref_id:02d}.BMP"),
                score=mos,
                distortion=TID2013_DISTORTIONS[dist_type - 1],
                extra=extra,
            )
        )
    extra_cols = ["level", "mos_std"] if stds is not None else ["level"]
    return finish_manifest(
        rows, base, what.lower(), extra_cols, higher_better=True, given=higher_better
    )


def import_tid2013(
    root: PathLike,
    scores: PathLike | None = None,
    *,
    higher_better: bool | None = None,
    locate: bool = True,
) -> Manifest:
    """TID2013 (Ponomarenko et al., Signal Process. Image Commun. 30, 2015).

    Reads ``mos_with_names.txt`` (lines ``"5.51429 i01_01_1.bmp"``; MOS, higher =
    better) and ``mos_std.txt`` when present. Images: ``distorted_images/`` and
    ``reference_images/IXX.BMP``. Distortion = the type from the file name
    (:data:`TID2013_DISTORTIONS`), ``level`` = the last field.
    """
    return _import_tid(root, scores, "2013", higher_better, locate)


def import_tid2008(
    root: PathLike,
    scores: PathLike | None = None,
    *,
    higher_better: bool | None = None,
    locate: bool = True,
) -> Manifest:
    """TID2008 (Ponomarenko et al., Adv. Mod. Radioelectron. 10, 2009): as TID2013, 17 types."""
    return _import_tid(root, scores, "2008", higher_better, locate)
