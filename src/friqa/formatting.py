"""Text and JSON forms of numbers that may be infinite or NaN, and of paths.

Scores can be non-finite (PSNR of an image identical to its reference is
``inf``) and JSON has no literal for that. Every output of friqa writes them
the same way: ``"nan"``, ``"inf"`` or ``"-inf"`` as text (the CLI's tables and
JSON, the per-image scores file, the metric metadata), or ``null`` where a
number is optional (the statistics of the evaluation summary).

Example:
    >>> format_float(float("inf")), format_float(2 / 3, ".4f"), format_float(0.5)
    ('inf', '0.6667', '0.5')
    >>> json_safe({"psnr": float("inf"), "ssim": [1.0, float("nan")]})
    {'psnr': 'inf', 'ssim': [1.0, 'nan']}
"""

from __future__ import annotations

import math
import os
from typing import Any, Literal

import numpy as np

__all__ = ["nonfinite_text", "format_float", "json_number", "finite_or_none", "json_safe"]


def nonfinite_text(value: float) -> str:
    """``"nan"``, ``"inf"`` or ``"-inf"`` for a non-finite ``value``.

    >>> nonfinite_text(float("-inf")), nonfinite_text(float("nan"))
    ('-inf', 'nan')
    """
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


def format_float(value: float | None, spec: str = "", *, nonfinite: str | None = None) -> str:
    """A number as text: ``format(value, spec)``, or ``repr`` of the float without ``spec``.

    Non-finite values give :func:`nonfinite_text`, or ``nonfinite`` when it is given
    (``None`` then counts as non-finite too: a missing statistic in a table).

    >>> format_float(0.1 + 0.2), format_float(21.70564, ".6g"), format_float(-math.inf, ".6g")
    ('0.30000000000000004', '21.7056', '-inf')
    >>> format_float(None, ".4f", nonfinite="-"), format_float(math.nan, ".4f", nonfinite="-")
    ('-', '-')
    """
    if value is None or not math.isfinite(value):
        if nonfinite is not None:
            return nonfinite
        if value is None:
            raise TypeError("format_float: value is None and no text for missing values given")
        return nonfinite_text(value)
    return format(value, spec) if spec else repr(float(value))


def json_number(value: float) -> float | str:
    """``value`` itself when finite, else its :func:`nonfinite_text` (for JSON output).

    >>> json_number(1.5), json_number(math.inf)
    (1.5, 'inf')
    """
    return value if math.isfinite(value) else nonfinite_text(value)


def finite_or_none(value: float) -> float | None:
    """``value`` when finite, else ``None`` (JSON ``null``).

    >>> finite_or_none(0.25), finite_or_none(math.nan)
    (0.25, None)
    """
    return value if math.isfinite(value) else None


def json_safe(value: Any, *, nonfinite: Literal["text", "null"] = "text") -> Any:
    """``value`` with every part JSON can hold: recursively through dicts, lists and tuples.

    Non-finite floats become text (:func:`nonfinite_text`) or ``None``
    (``nonfinite="null"``), numpy scalars Python numbers, paths strings.

    >>> from pathlib import Path
    >>> json_safe([Path("a/b.png"), (np.float32(0.5), -math.inf)])
    ['a/b.png', [0.5, '-inf']]
    >>> json_safe({"srcc": math.nan, "n": np.int64(3)}, nonfinite="null")
    {'srcc': None, 'n': 3}
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return nonfinite_text(value) if nonfinite == "text" else None
    if isinstance(value, dict):
        return {k: json_safe(v, nonfinite=nonfinite) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v, nonfinite=nonfinite) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value
