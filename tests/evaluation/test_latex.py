"""The LaTeX table: structure, bold best per column, intervals, escaping (no compiler needed)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from friqa.evaluation.latex import latex_escape, latex_table
from friqa.evaluation.manifest import Manifest, ManifestRow
from friqa.evaluation.scores_file import ScoreRecord
from friqa.evaluation.summary import DatasetSummary, summarize
from friqa.exceptions import InputError


def _summary(name: str, noise: dict[str, float], n: int = 30, seed: int = 0) -> DatasetSummary:
    rng = np.random.default_rng(seed)
    quality = rng.normal(size=n)
    rows = [ManifestRow(f"d{i}.png", "r.png", float(quality[i]), "blur") for i in range(n)]
    manifest = Manifest(rows, True, None, name)
    records = [
        ScoreRecord(i, metric, r.dist, r.ref, r.distortion, r.score, q + s * rng.normal(), "ok")
        for metric, s in noise.items()
        for i, (r, q) in enumerate(zip(rows, quality, strict=True))
    ]
    return summarize(manifest, records, metrics=list(noise), n_boot=200, compare=False)


@pytest.fixture(scope="module")
def summaries() -> list[DatasetSummary]:
    return [
        _summary("TID_2013", {"psnr": 0.1, "ssim_rgb": 1.0, "psnr+smic": 0.5}),
        _summary("KADID", {"psnr": 1.0, "ssim_rgb": 0.05, "psnr+smic": 0.5}, seed=1),
    ]


def _body(tex: str) -> list[list[str]]:
    lines = tex.splitlines()
    start, end = lines.index(r"\midrule"), lines.index(r"\bottomrule")
    return [
        [c.strip() for c in line.removesuffix(r" \\").split("&")] for line in lines[start + 1 : end]
    ]


def test_structure_and_bold_best_per_column(summaries) -> None:
    tex = latex_table(summaries)
    lines = tex.splitlines()
    assert lines[0] == r"\begin{tabular}{lcccc}" and lines[-1] == r"\end{tabular}"
    for rule in (r"\toprule", r"\midrule", r"\bottomrule"):
        assert tex.count(rule) == 1
    assert r"\multicolumn{2}{c}{TID\_2013}" in tex and r"\multicolumn{2}{c}{KADID}" in tex
    assert r"\cmidrule(lr){2-3} \cmidrule(lr){4-5}" in tex
    assert " & SRCC & PLCC & SRCC & PLCC \\\\" in tex
    body = _body(tex)
    assert [r[0] for r in body] == ["psnr", "ssim\\_rgb", "psnr+smic"]
    for col in range(1, 5):
        values = [float(re.sub(r"[^0-9.\-]", "", r[col])) for r in body]
        bold = [r[col].startswith(r"\textbf{") for r in body]
        assert bold == [v == max(values) for v in values]
    # the less noisy metric wins on each dataset
    assert body[0][1].startswith(r"\textbf") and body[1][3].startswith(r"\textbf")
    assert all(len(r) == 5 for r in body)  # metric + 2 datasets x (SRCC, PLCC)
    assert tex.count("&") == 4 * len(body) + 2 + 4  # body, dataset heads, stat heads


def test_intervals_single_stat_float_and_missing(summaries) -> None:
    tex = latex_table(summaries, ci=True, caption="FR-IQA on 50% of TID", label="tab:fr")
    assert tex.startswith("\\begin{table}[t]\n\\centering\n\\caption{FR-IQA on 50\\% of TID}")
    assert r"\label{tab:fr}" in tex and tex.rstrip().endswith(r"\end{table}")
    assert tex.count(r"{\scriptsize[") == 3 * 4
    single = latex_table(summaries[:1], stats=("srcc",), digits=2)
    assert "Metric & TID\\_2013 (SRCC) \\\\" in single and r"\cmidrule" not in single
    partial = [summaries[0], _summary("LIVE", {"psnr": 0.3})]
    rows = {r[0]: r for r in _body(latex_table(partial))}
    assert rows["ssim\\_rgb"][3:] == ["--", "--"]
    with pytest.raises(InputError, match="stats"):
        latex_table(summaries, stats=("auc",))
    with pytest.raises(InputError):
        latex_table([])


def test_escape() -> None:
    assert latex_escape("a_b&c%d#e$f{g}~^\\") == (
        r"a\_b\&c\%d\#e\$f\{g\}\textasciitilde{}\textasciicircum{}\textbackslash{}"
    )
