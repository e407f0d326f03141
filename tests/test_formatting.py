"""One formatter for non-finite numbers and paths: the same text as the helpers it replaced."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from friqa.formatting import finite_or_none, format_float, json_number, json_safe

VALUES = [0.0, -0.0, 1.0, 1 / 3, -2.5e-12, 1e300, 21.705642700195312, math.inf, -math.inf, math.nan]


@pytest.mark.parametrize("v", VALUES)
def test_texts_match_the_former_helpers(v: float) -> None:
    # cli/_common.format_score
    old_score = ("inf" if v > 0 else "-inf") if math.isinf(v) else f"{v:.6g}"
    assert format_float(v, ".6g") == old_score
    # evaluation/runner._format_float (the scores file)
    if math.isnan(v):
        old_repr = "nan"
    elif math.isinf(v):
        old_repr = "inf" if v > 0 else "-inf"
    else:
        old_repr = repr(float(v))
    assert format_float(v) == old_repr
    assert format_float(np.float64(v)) == old_repr
    # metrics/base.MetricInfo.as_dict.bound (score ranges are never NaN)
    if not math.isnan(v):
        assert json_number(v) == (v if math.isfinite(v) else ("inf" if v > 0 else "-inf"))
    # the statistics' "clean" helpers
    assert finite_or_none(v) == (v if math.isfinite(v) else None)


def test_json_safe_as_the_cli_wrote_it() -> None:
    rows = [{"ref": Path("a/r.png"), "psnr": math.inf, "ssim": 1.0, "x": (math.nan, -math.inf)}]
    assert json.dumps(json_safe(rows)) == (
        '[{"ref": "a/r.png", "psnr": "inf", "ssim": 1.0, "x": ["nan", "-inf"]}]'
    )


def test_json_safe_null_as_the_summary_wrote_it() -> None:
    value = {"a": [np.float64(math.nan), np.int64(4)], "b": (1.5, math.inf)}
    assert json.dumps(json_safe(value, nonfinite="null")) == '{"a": [null, 4], "b": [1.5, null]}'


def test_missing_values_in_tables() -> None:
    assert format_float(None, ".4f", nonfinite="-") == "-"
    assert format_float(math.inf, ".3f", nonfinite="-") == "-"
    assert format_float(0.12345, ".3f", nonfinite="-") == "0.123"
    with pytest.raises(TypeError):
        format_float(None)
