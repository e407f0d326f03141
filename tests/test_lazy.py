"""Lazily imported package attributes: ``import friqa`` stays light, the names still work."""

from __future__ import annotations

import subprocess
import sys

import pytest

import friqa
import friqa.evaluation


def test_import_friqa_does_not_import_torch() -> None:
    code = (
        "import sys, friqa, friqa.evaluation.datasets, friqa.evaluation.manifest\n"
        "sys.exit('torch' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=600).returncode == 0


def test_lazy_names_resolve_to_their_modules() -> None:
    from friqa.evaluation.api import evaluate
    from friqa.metrics.registry import create_metric

    assert friqa.create_metric is create_metric
    assert friqa.evaluation.evaluate is evaluate
    assert {"create_metric", "list_metrics", "__version__"} <= set(dir(friqa))
    assert set(friqa.evaluation.__all__) <= set(dir(friqa.evaluation))
    for name in friqa.__all__:
        assert getattr(friqa, name) is not None
    for name in friqa.evaluation.__all__:
        assert getattr(friqa.evaluation, name) is not None


def test_subpackages_are_attributes_and_unknown_names_fail() -> None:
    assert friqa.validation.check_batch is not None  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match="no_such_name"):
        friqa.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(AttributeError):
        friqa._private_thing  # type: ignore[attr-defined]  # noqa: B018
