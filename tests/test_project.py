"""Project hygiene: the README's commands, CI in sync with them, ruff and mypy clean."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from conftest import REPO


def _setup_commands() -> list[str]:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)\n```", section, flags=re.S)


def test_readme_has_exactly_two_setup_commands() -> None:
    commands = _setup_commands()
    assert len(commands) == 2, commands
    install, tests = commands
    assert install.startswith("pip install torch==2.13.0") and install.endswith("friqa demo")
    assert tests.startswith("pip install torch==2.13.0") and "pytest" in tests


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert _setup_commands()[1] in ci


def test_ruff_clean() -> None:
    if shutil.which("ruff") is None:
        pytest.skip("ruff is not installed (it comes with the test extra)")
    res = subprocess.run(
        ["ruff", "check", "src", "tests", "benchmarks"], cwd=REPO, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_mypy_clean() -> None:
    try:
        import mypy  # noqa: F401
    except ImportError:
        pytest.skip("mypy is not installed (it comes with the test extra)")
    res = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True, text=True, timeout=900
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_no_torchvision_and_no_print_in_library() -> None:
    for path in (REPO / "src" / "friqa").rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*(import|from) torchvision", text, flags=re.M), path
        assert not re.search(r"^\s*print\(", text, flags=re.M), path
