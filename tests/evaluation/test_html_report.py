"""report.html and table.tex from evaluate(): parsed, self-contained, rendered by Chromium."""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from friqa.evaluation import evaluate
from friqa.evaluation.gallery import disagreements
from friqa.evaluation.html_report import html_report
from friqa.evaluation.manifest import read_manifest


class _Page(HTMLParser):
    """Collects the tags, attributes and table cells of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: list[list[list[tuple[str, bool]]]] = []
        self._cell: list[str] | None = None
        self._best = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell, self._best = [], a.get("class") == "best"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(("".join(self._cell).strip(), self._best))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def run(shared_data: Path, vgg_weights_path: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    evaluate(
        {
            "tid": shared_data / "tid2013-mini" / "manifest.csv",
            "kadid": shared_data / "pairs" / "kadid" / "manifest.csv",
        },
        ["psnr", "ssim"],
        out,
        weights=vgg_weights_path,
        n_boot=50,
        compare=False,
        progress=False,
        maps=1,
        latex_ci=True,
    )
    return out


def test_html_is_self_contained_with_tables_plots_and_gallery(run: Path) -> None:
    page = _Page()
    page.feed((run / "report.html").read_text(encoding="utf-8"))
    tags = [t for t, _ in page.tags]
    assert "script" not in tags and "link" not in tags and "iframe" not in tags
    for _, attrs in page.tags:
        for key in ("src", "href"):
            assert not (attrs.get(key) or "").startswith(("http", "//", "file:")), attrs
    images = [a for t, a in page.tags if t == "img"]
    assert all((a["src"] or "").startswith("data:image/png;base64,") for a in images)
    for a in images:
        png = base64.b64decode((a["src"] or "").split(",", 1)[1])
        assert Image.open(io.BytesIO(png)).format == "PNG"
    alts = [a.get("alt") or "" for a in images]
    assert sum(alt.startswith(("psnr on", "ssim on")) for alt in alts) == 4  # scatter plots
    assert alts.count("SMIC attention panel") == 4  # 1 pair x 2 metrics x 2 datasets
    assert "attention panel unavailable" not in (run / "report.html").read_text()
    # summary: metrics x datasets, the best SRCC/PLCC of each column in bold
    summary = page.tables[0]
    assert [c for c, _ in summary[0]] == [
        "metric",
        "tid SRCC",
        "tid PLCC",
        "kadid SRCC",
        "kadid PLCC",
    ]
    body = summary[1:]
    assert [r[0][0] for r in body] == ["psnr", "ssim"]
    for col in range(1, 5):
        values = [float(r[col][0]) for r in body]
        assert [r[col][1] for r in body] == [v == max(values) for v in values]
    # per dataset: the statistics table and the per-distortion table
    assert len(page.tables) == 1 + 2 * 2
    assert [c for c, _ in page.tables[3][0]][:3] == ["metric", "n", "SRCC"]
    assert page.tables[2][0][0][0] == "distortion"


def test_latex_table_written(run: Path) -> None:
    tex = (run / "table.tex").read_text()
    assert tex.startswith(r"\begin{tabular}{lcccc}") and r"\textbf{" in tex
    assert r"\scriptsize[" in tex


def test_gallery_picks_the_largest_residuals(shared_data: Path, run: Path) -> None:
    from friqa.evaluation.scores_file import read_scores
    from friqa.evaluation.summary import summarize

    manifest = read_manifest(shared_data / "tid2013-mini" / "manifest.csv", name="tid")
    summary = summarize(manifest, read_scores(run / "tid" / "scores.csv"), n_boot=0, compare=False)
    items = disagreements(summary, manifest, 5)
    for metric in ("psnr", "ssim"):
        mine = [abs(i.residual) for i in items if i.metric == metric]
        assert len(mine) == 5 and mine == sorted(mine, reverse=True)
    first = items[0]
    assert manifest.rows[first.row].dist == first.dist
    assert first.residual == pytest.approx(first.predicted - first.subjective)
    assert disagreements(summary, manifest, 0) == []
    page = html_report([summary], gallery=items[:1])
    assert "Largest disagreements" in page and "<code>" in page


def test_chromium_renders_the_report(run: Path, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("needs a headless Chromium (apt-get install chromium) to render report.html")
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--screenshot={shot}",
            "--window-size=1280,2400",
            (run / "report.html").as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    image = Image.open(shot).convert("L")
    assert image.size == (1280, 2400)
    lo, hi = image.getextrema()
    assert hi - lo > 200  # text and figures, not a blank page
    # the top rows hold the title: dark pixels on white
    top = np.asarray(image.crop((0, 0, 1280, 120)))
    assert int((top < 100).sum()) > 200
