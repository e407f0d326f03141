"""Package attributes imported on first use, so that ``import friqa`` stays light.

``friqa --version`` and ``friqa --help`` must not pay for importing torch (about
2 s): a package lists the names it re-exports and the module defining each, and
:func:`lazy_exports` gives it a module ``__getattr__`` (PEP 562) that imports the
module when a name is first looked up. Sub-packages (``friqa.metrics``, ...)
are found the same way, as attributes, without an explicit import.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``.

    Args:
        package: the package's ``__name__``.
        exports: public name -> absolute name of the module that defines it.
    """

    def __getattr__(name: str) -> Any:
        module = sys.modules[package]
        if name in exports:
            value = getattr(importlib.import_module(exports[name]), name)
        elif not name.startswith("_") and importlib.util.find_spec(f"{package}.{name}"):
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(module, name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
