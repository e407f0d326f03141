"""The KADID-10k importer, on a small file in the release's format."""

from __future__ import annotations

from pathlib import Path

import pytest
from dataset_files import touch

from friqa.evaluation.datasets import KADID10K_DISTORTIONS, import_kadid10k
from friqa.exceptions import DatasetError


def test_kadid10k_dmos_column_is_mos(tmp_path: Path) -> None:
    (tmp_path / "dmos.csv").write_text(
        "dist_img,ref_img,dmos,var\nI01_01_01.png,I01.png,4.57,0.496\nI81_25_05.png,I81.png,3.27,0.9\n"
    )
    touch(tmp_path / "images" / "I01_01_01.png")
    m = import_kadid10k(tmp_path)
    assert m.higher_better and len(m) == 2
    assert m.rows[0].dist == "images/I01_01_01.png" and m.rows[0].ref == "images/I01.png"
    assert m.rows[0].distortion == KADID10K_DISTORTIONS[0] == "gaussian_blur"
    assert m.rows[1].distortion == "contrast_change"
    assert m.rows[1].extra == {"level": "5", "var": "0.9"}
    (tmp_path / "dmos.csv").write_text("a,b,c\n1,2,3\n")
    with pytest.raises(DatasetError, match="dist_img,ref_img,dmos,var"):
        import_kadid10k(tmp_path)
