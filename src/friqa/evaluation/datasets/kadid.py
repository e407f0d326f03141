"""KADID-10k: ``dmos.csv``, whose ``dmos`` column holds MOS 1-5 (higher = better)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from friqa.evaluation.datasets.common import PathLike, finish_manifest, parse_float, read_text
from friqa.evaluation.datasets.locate import Locator, find_score_file
from friqa.evaluation.manifest import Manifest, ManifestRow
from friqa.exceptions import DatasetError

__all__ = ["KADID10K_DISTORTIONS", "import_kadid10k"]

#: KADID-10k distortion types 1..25, after the release's readme.
KADID10K_DISTORTIONS: tuple[str, ...] = (
    "gaussian_blur",
    "lens_blur",
    "motion_blur",
    "color_diffusion",
    "color_shift",
    "color_quantization",
    "color_saturation_1",
    "color_saturation_2",
    "jpeg2000",
    "jpeg",
    "white_noise",
    "white_noise_color",
    "impulse_noise",
    "multiplicative_noise",
    "denoise",
    "brighten",
    "darken",
    "mean_shift",
    "jitter",
    "non_eccentricity_patch",
    "pixelate",
    "quantization",
    "color_block",
    "high_sharpen",
    "contrast_change",
)


_KADID_NAME = re.compile(r"^I(\d+)_(\d+)_(\d+)\.png$", re.IGNORECASE)


def import_kadid10k(
    root: PathLike,
    scores: PathLike | None = None,
    *,
    higher_better: bool | None = None,
    locate: bool = True,
) -> Manifest:
    """KADID-10k (Lin et al., QoMEX 2019).

    Reads ``dmos.csv`` (header ``dist_img,ref_img,dmos,var``). Despite its name the
    ``dmos`` column holds mean opinion scores from 1 (bad) to 5 (excellent):
    higher = better. Images are in ``images/``. Distortion = the type from
    ``Ixx_TT_LL.png`` (:data:`KADID10K_DISTORTIONS`).
    """
    base = Path(root)
    path = find_score_file(base, scores, ["dmos.csv"], "KADID-10k")
    reader = csv.DictReader(io.StringIO(read_text(path)))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if not {"dist_img", "ref_img", "dmos"} <= set(fields):
        raise DatasetError(
            f"{path.name}: expected the header 'dist_img,ref_img,dmos,var', "
            f"got '{','.join(fields)}'"
        )
    loc = Locator(base, locate)
    rows: list[ManifestRow] = []
    for k, raw in enumerate(reader):
        rec = {(key or "").strip().lower(): (v or "").strip() for key, v in raw.items()}
        dist, ref = rec["dist_img"], rec["ref_img"]
        m = _KADID_NAME.match(Path(dist).name)
        dtype = int(m.group(2)) if m else 0
        label = KADID10K_DISTORTIONS[dtype - 1] if 1 <= dtype <= 25 else ""
        rows.append(
            ManifestRow(
                dist=loc.find(f"images/{dist}", dist),
                ref=loc.find(f"images/{ref}", ref),
                score=parse_float(rec["dmos"], f"{path.name}, row {k + 2}"),
                distortion=label,
                extra={"level": str(int(m.group(3))) if m else "", "var": rec.get("var", "")},
            )
        )
    return finish_manifest(
        rows, base, "kadid10k", ["level", "var"], higher_better=True, given=higher_better
    )
