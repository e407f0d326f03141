"""Smoke and correctness tests of benchmarks/geometric_robustness.py (PSNR/SSIM only)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import torch
from scipy import stats

from conftest import load_benchmark

SIZE = 48


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_benchmark("geometric_robustness.py")


@pytest.fixture(scope="module")
def images(bench: ModuleType) -> list[tuple[str, torch.Tensor]]:
    pytest.importorskip("skimage")
    return bench.load_images(2, SIZE)


@pytest.fixture(scope="module")
def small_run(bench: ModuleType, images: list[tuple[str, torch.Tensor]]) -> Any:
    transforms = bench.geometric_transforms(SIZE)
    transforms = {k: transforms[k] for k in ("shift4", "rot5")}
    design = bench.Design(levels=(1, 5), moved_levels=(1, 5), per_image=1, batch_size=4)
    return bench.run_benchmark(["psnr", "ssim", "ms_ssim"], images, transforms, design)


def test_run_structure_and_outputs(bench: ModuleType, small_run: Any, tmp_path: Path) -> None:
    r = small_run
    assert list(r.scores) == ["psnr", "ssim"]
    assert "161" in r.skipped["ms_ssim"]  # MS-SSIM cannot score 48 px images: left out, with why
    # per image: 2 aligned + identical + per transform (2 moved + moved reference)
    assert all(len(s) == 2 * (2 + 1 + 2 * 3) for s in r.scores.values())
    assert r.types == {"astronaut": ["noise"], "chelsea": ["blur"]}
    s = r.scores["psnr"]
    assert s[bench.Key("astronaut", "aligned", "none", 0)] == math.inf
    assert all(math.isfinite(v) for k, v in s.items() if k.distortion != "none" or k.level)
    assert r.scores["ssim"][bench.Key("chelsea", "aligned", "none", 0)] == pytest.approx(1.0)

    rows = bench.summarise(r)
    assert [(row.metric, row.transform) for row in rows] == [
        ("psnr", "shift4"), ("psnr", "rot5"), ("ssim", "shift4"), ("ssim", "rot5"),
    ]  # fmt: skip
    r.config = {"size": SIZE, "command": "test", "workers": 1, "timing": {"total": 1.0}}
    bench.write_csv(rows, tmp_path / "g.csv")
    bench.write_json(r, rows, tmp_path / "g.json")
    bench.write_markdown(r, rows, tmp_path / "g.md")
    bench.write_plot(rows, list(r.scores), r.transforms, tmp_path / "g.png")
    lines = (tmp_path / "g.csv").read_text().splitlines()
    assert lines[0] == "metric,family,transform,statistic,value"
    assert len(lines) == 1 + len(rows) * len(bench.STATISTICS)
    payload = json.loads((tmp_path / "g.json").read_text())
    assert payload["skipped"].keys() == {"ms_ssim"} and len(payload["rows"]) == 4
    md = (tmp_path / "g.md").read_text()
    assert "| psnr |" in md and "## (a) SRCC" in md and bench.NOTES_BEGIN in md
    assert (tmp_path / "g.png").stat().st_size > 1000
    # hand-written notes survive a rewrite
    (tmp_path / "g.md").write_text(f"x\n{bench.NOTES_BEGIN}\nmy notes\n{bench.NOTES_END}\n")
    bench.write_markdown(r, rows, tmp_path / "g.md")
    assert "my notes" in (tmp_path / "g.md").read_text()


def _symmetric_shift(x: np.ndarray, s: int) -> np.ndarray:
    """(H, W, C) content moved s px right and down, border band mirrored (numpy oracle)."""
    h, w = x.shape[:2]
    p = np.pad(x, ((s, 0), (s, 0), (0, 0)), mode="symmetric")
    return p[:h, :w]


def test_psnr_of_a_pure_shift_against_scikit_image(
    bench: ModuleType, small_run: Any, images: list[tuple[str, torch.Tensor]]
) -> None:
    """(b) for PSNR on shift4, recomputed from scratch with skimage's PSNR and numpy."""
    metrics = pytest.importorskip("skimage.metrics")
    s = small_run.scores["psnr"]
    shift_effect: list[float] = []
    lvl: dict[int, list[float]] = {1: [], 5: []}
    for index, (name, ref) in enumerate(images):
        r = ref[0].permute(1, 2, 0).double().numpy()
        moved = _symmetric_shift(r, 4)
        expected = metrics.peak_signal_noise_ratio(r, moved, data_range=1.0)
        assert s[bench.Key(name, "shift4", "none", 0)] == pytest.approx(expected, rel=1e-5)
        shift_effect.append(abs(expected - 10 * math.log10(12 * 255**2)))
        kind = bench.types_for_image(index, 1)[0]
        for level in (1, 5):
            d = bench.photometric(ref, kind, level, seed=index)[0].permute(1, 2, 0).double().numpy()
            lvl[level].append(metrics.peak_signal_noise_ratio(r, d, data_range=1.0))
    spread = abs(np.median(lvl[5]) - np.median(lvl[1]))
    row = next(
        x for x in bench.summarise(small_run) if (x.metric, x.transform) == ("psnr", "shift4")
    )
    assert row.rho == pytest.approx(np.median(shift_effect) / spread, rel=1e-5)
    # a 4 px shift costs PSNR more than going from the mildest to the strongest level,
    # and the shifted pristine image is rated below every photometric distortion here
    assert row.rho > 1.0 and row.pi == 1.0
    # for SSIM the same shift is a smaller, but still visible, effect
    ssim_row = next(
        x for x in bench.summarise(small_run) if (x.metric, x.transform) == ("ssim", "shift4")
    )
    assert 0 < ssim_row.geometric_shift < 1


def _constructed(bench: ModuleType, lower_better: bool) -> dict[Any, float]:
    """Two images, one type each, 5 levels; 't1' keeps the order, 't2' reverses it."""
    K = bench.Key
    sign = -1.0 if lower_better else 1.0
    s: dict[Any, float] = {}
    for image, kind, base, step in (("A", "noise", 10.0, 1.0), ("B", "blur", 20.0, 2.0)):
        s[K(image, "aligned", "none", 0)] = sign * base
        for level in range(1, 6):
            s[K(image, "aligned", kind, level)] = sign * (base - step * level)
            s[K(image, "t1", kind, level)] = sign * (base - step * level - 1)
            s[K(image, "t2", kind, level)] = sign * (base - step * (6 - level))
        s[K(image, "t1", "none", 0)] = sign * (base - step / 2)  # 9.5, 19
        s[K(image, "t2", "none", 0)] = sign * (base - 2.5 * step)  # 7.5, 15
    return s


@pytest.mark.parametrize("lower_better", [False, True])
def test_analyse_on_constructed_scores(bench: ModuleType, lower_better: bool) -> None:
    s = _constructed(bench, lower_better)
    t1, t2 = bench.analyse(s, ["t1", "t2"], lower_better=lower_better, metric="m")
    # spread: |median(level 5) - median(level 1)| = |median(5, 10) - median(9, 18)| = 6
    assert t1.photometric_spread == pytest.approx(6.0) == t2.photometric_spread
    # (a): t1 is monotone in the aligned scores, t2 reverses every image's levels
    assert t1.srcc == pytest.approx(1.0) and t1.level_srcc_moved == pytest.approx(1.0)
    assert t1.level_srcc_aligned == pytest.approx(1.0) and t2.level_srcc_moved == pytest.approx(
        -1.0
    )
    keys = [k for k in s if k.condition == "aligned" and k.level]
    aligned = [s[k] for k in keys]
    moved = [s[bench.Key(k.image, "t2", k.distortion, k.level)] for k in keys]
    assert t2.srcc == pytest.approx(stats.spearmanr(aligned, moved).statistic)
    # (b): |9.5 - 10| and |19 - 20| -> median 0.75; |7.5 - 10|, |15 - 20| -> 3.75
    assert t1.geometric_shift == pytest.approx(0.75) and t1.rho == pytest.approx(0.75 / 6)
    assert t2.rho == pytest.approx(3.75 / 6)
    # pi: no distorted image beats T(ref) under t1; 2 of 5 per image under t2
    assert t1.pi == pytest.approx(0.0) and t2.pi == pytest.approx(0.4)


def test_infinite_identical_score_uses_the_cap(bench: ModuleType) -> None:
    s = _constructed(bench, False)
    for image in ("A", "B"):
        s[bench.Key(image, "aligned", "none", 0)] = math.inf
    t1, _ = bench.analyse(s, ["t1", "t2"], lower_better=False)
    cap = 10 * math.log10(12 * 255**2)
    assert bench.IDENTICAL_PSNR_CAP == pytest.approx(cap)
    assert t1.geometric_shift == pytest.approx(np.median([cap - 9.5, cap - 19.0]))


def test_ingredients(bench: ModuleType, images: list[tuple[str, torch.Tensor]]) -> None:
    ref = images[0][1]
    for kind in bench.DISTORTIONS:
        errs = [float(((bench.photometric(ref, kind, lv) - ref) ** 2).mean()) for lv in range(1, 6)]
        assert all(a < b for a, b in zip(errs, errs[1:], strict=False)), (kind, errs)
        d = bench.photometric(ref, kind, 3)
        assert d.shape == ref.shape and torch.equal(d, bench.quantize(d))
    assert [bench.types_for_image(i, 1)[0] for i in range(5)] == [
        "noise", "blur", "jpeg", "contrast", "noise",
    ]  # fmt: skip
    assert len(bench.geometric_transforms(64)) == 14
    with pytest.raises(ValueError, match="subset"):
        bench.Design(levels=(1, 5), moved_levels=(3,))
