"""Summaries, the Markdown/JSON reports and the scatter plots."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import eval_helpers  # noqa: F401  (registers the test metrics)
import numpy as np
import pytest
from PIL import Image

from friqa.evaluation.manifest import Manifest, ManifestRow
from friqa.evaluation.markdown import main_table, markdown_report
from friqa.evaluation.report import write_report
from friqa.evaluation.scores_file import ScoreRecord
from friqa.evaluation.stats import correlation_report, srcc
from friqa.evaluation.summary import summarize
from friqa.exceptions import FriqaError
from friqa.fitting import logistic5


def _dataset(n: int = 40, higher_better: bool = False) -> tuple[Manifest, list[ScoreRecord]]:
    rng = np.random.default_rng(0)
    quality = rng.normal(size=n)
    rows = [
        ManifestRow(
            f"d{i}.png",
            f"r{i % 4}.png",
            float(-quality[i] if not higher_better else quality[i]),
            "blur" if i % 2 else "noise",
        )
        for i in range(n)
    ]
    m = Manifest(rows, higher_better, None, "toy")
    recs = []
    for i, row in enumerate(rows):
        good = quality[i] + 0.2 * rng.normal()  # psnr-like: higher = better
        poor = -quality[i] + 2.0 * rng.normal()  # distance-like: lower = better, noisy
        recs.append(
            ScoreRecord(i, "psnr", row.dist, row.ref, row.distortion, row.score, good, "ok")
        )
        status = "failed" if i in (3, 7) else "ok"
        score = math.nan if status == "failed" else (math.inf if i == 11 else poor)
        recs.append(
            ScoreRecord(
                i,
                "_test_mean_diff",
                row.dist,
                row.ref,
                row.distortion,
                row.score,
                score,
                status,
                "missing file" if status == "failed" else "",
            )
        )
    return m, recs


def test_summarize_matches_direct_statistics() -> None:
    m, recs = _dataset()
    s = summarize(m, recs[:-2], n_boot=200, seed=4)  # the last pair has no result yet
    assert s.name == "toy" and s.n_pairs == 40 and not s.higher_better
    psnr, md = s.metrics["psnr"], s.metrics["_test_mean_diff"]
    assert (psnr.n_ok, psnr.n_failed, psnr.n_missing) == (39, 0, 1)
    assert (md.n_ok, md.n_failed, md.n_nonfinite, md.n_missing) == (36, 2, 1, 1)
    assert md.failure_reasons == [("missing file", 2)]
    rows = [r.row for r in recs if r.metric == "psnr"][:-1]
    direct = correlation_report(
        [recs[2 * i].score for i in rows],
        [m.rows[i].score for i in rows],
        lower_better=False,
        higher_better_subjective=False,
        n_boot=200,
        seed=4,
    )
    assert psnr.stats == direct
    assert psnr.stats is not None and psnr.stats.srcc.value > 0.9  # DMOS flipped
    assert md.stats is not None and 0 < md.stats.srcc.value < psnr.stats.srcc.value
    assert set(psnr.per_distortion) == {"blur", "noise"}
    (c,) = s.comparisons
    assert (c.a, c.b, c.n) == ("psnr", "_test_mean_diff", 36)
    assert c.bootstrap.difference.value > 0 and c.bootstrap.p_value < 0.05
    assert c.williams.t > 0 and c.williams.p_value < 0.05
    assert c.srcc_a == pytest.approx(
        srcc(
            [recs[2 * i].score for i in range(39) if i not in (3, 7, 11)],
            [-m.rows[i].score for i in range(39) if i not in (3, 7, 11)],
        )
    )


def test_markdown_table_and_json(tmp_path: Path) -> None:
    m, recs = _dataset()
    s = summarize(m, recs, n_boot=100)
    table = main_table([s])
    assert table[0] == "| metric | toy SRCC | toy PLCC |"
    psnr_row = next(line for line in table if line.startswith("| psnr "))
    assert psnr_row.count("**") == 4  # best in both columns
    md = markdown_report([s])
    assert "## toy" in md and "DMOS, higher = worse" in md and "2 failed: missing file" in md
    assert "1 non-finite score(s) left out" in md and "### SRCC per distortion type" in md
    assert "Williams" in md
    files = write_report([s], tmp_path, plots=False)
    data = json.loads(files["summary"].read_text())
    got = data["datasets"][0]["metrics"]["psnr"]["stats"]["srcc"]["value"]
    assert got == pytest.approx(s.metrics["psnr"].stats.srcc.value)  # type: ignore[union-attr]
    assert data["datasets"][0]["subjective"] == "dmos"
    assert "failure_reasons" in data["datasets"][0]["metrics"]["_test_mean_diff"]


def test_scatter_plots_are_written_and_drawn_right(tmp_path: Path) -> None:
    m, recs = _dataset(higher_better=True)
    s = summarize(m, recs, n_boot=0, compare=False)
    files = write_report([s], tmp_path, plots=True)
    png = files["plot:toy:psnr"]
    assert png == tmp_path / "toy" / "scatter_psnr.png"
    with Image.open(png) as im:
        assert im.format == "PNG" and im.size[0] > 400
    assert "![toy psnr](toy/scatter_psnr.png)" in files["report"].read_text()
    from friqa.plotting.scatter import scatter_plot

    st = s.metrics["psnr"].stats
    assert st is not None
    fig = scatter_plot([1.0, 2.0, np.nan, 4.0], [1.0, 2.0, 3.0, 5.0], fit_params=st.fit.params)
    ax = fig.axes[0]
    assert ax.collections[0].get_offsets().shape == (3, 2)  # the NaN pair is left out
    (line,) = ax.lines
    x, y = line.get_data()
    assert np.allclose(y, logistic5(np.asarray(x), *st.fit.params))


def test_missing_matplotlib_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from friqa.plotting import require_matplotlib

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(FriqaError, match=r"pip install 'friqa\[plot\]'"):
        require_matplotlib()
