"""Tests of friqa.io.values: the loader options (dtype, data_range, alpha).

Every image is written by the test itself (tmp_path). Expected values come from
the definitions (k / 255, k / 65535, c * a + 1 - a, the EXIF orientation table)
or from Pillow's own conversions, never from running the loader.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from friqa.exceptions import InputError
from friqa.io import load_image


def test_dtype_option() -> None:
    a = np.array([[1, 2]], dtype=np.uint8)
    assert load_image(a, dtype=torch.float16).dtype == torch.float16
    assert load_image(a, dtype=torch.float16)[0].tolist() == [
        [float(np.float16(1 / 255)), float(np.float16(2 / 255))]
    ]
    with pytest.raises(InputError, match=r"dtype must be a floating torch dtype.*int32"):
        load_image(a, dtype=torch.int32)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), True, "255"])
def test_bad_data_range_is_rejected(bad: object) -> None:
    with pytest.raises(InputError, match="data_range must be a positive finite number"):
        load_image(np.zeros((2, 2)), data_range=bad)  # type: ignore[arg-type]


def test_bad_alpha_option_is_rejected() -> None:
    with pytest.raises(InputError, match=r"alpha must be one of \('white', 'drop'\); got 'black'"):
        load_image(np.zeros((2, 2)), alpha="black")  # type: ignore[arg-type]
