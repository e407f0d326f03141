"""Import the scripts of ``benchmarks/`` (not a package) for the tests of this folder.

``python benchmarks/<name>.py`` runs with ``benchmarks/`` first on ``sys.path``,
so a script imports its sibling modules by bare name (``geometric_robustness.py``
does ``from geometry import ...``). :func:`load_script` puts the folder on the
path the same way, then imports the file under a test-only module name.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load_script(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` imported as the module ``<name>_under_test``."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(f"{name}_under_test", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module
