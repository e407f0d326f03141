"""The exit statuses every ``friqa`` command returns, and the one line that explains a 1.

====== ==========================================================================
status meaning
====== ==========================================================================
0      everything asked for was computed
1      some rows (pairs) or metrics failed; the others were computed and written
2      user error: bad option, unreadable or malformed input file, missing weights
       or optional dependency, ...; nothing was computed (one line on stderr)
other  a bug in friqa (130: interrupted with Ctrl-C)
====== ==========================================================================
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from friqa.evaluation.api import EvaluationResult

__all__ = ["EXIT_OK", "EXIT_FAILURES", "EXIT_USER_ERROR", "failure_status", "evaluation_status"]

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_USER_ERROR = 2


def failure_status(command: str, failed: int, total: int, what: str, first: str = "") -> int:
    """:data:`EXIT_OK` when nothing failed; else write one line to stderr and return
    :data:`EXIT_FAILURES`. ``what`` names the units (``"pairs"``, ``"metrics"``)."""
    if not failed:
        return EXIT_OK
    head = f"all {total} {what} failed" if failed == total else f"{failed} of {total} {what} failed"
    detail = f" (first: {first})" if first else ""
    sys.stderr.write(f"friqa {command}: {head}{detail}\n")
    return EXIT_FAILURES


def evaluation_status(result: EvaluationResult) -> int:
    """The status of ``friqa evaluate``: one line per dataset with failed results."""
    from friqa.evaluation.scores_file import read_scores

    status = EXIT_OK
    for name, run in result.runs.items():
        if run.failed_total:
            first = next((r.reason for r in read_scores(run.scores_path) if not r.ok), "")
            what = f"(pair, metric) results of {name}"
            status = max(
                status, failure_status("evaluate", run.failed_total, run.total, what, first)
            )
    return status
