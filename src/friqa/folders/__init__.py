"""Score a folder of outputs against a folder of references (restoration, SR, codecs).

:func:`match_folders` pairs the images of two folder trees by file stem
(optionally through a name pattern such as ``{stem}_x4_SR.png``) and lists what
it could not pair; :func:`score_folders` scores the pairs with any friqa metrics
and summarises each metric (mean, standard deviation, count);
:func:`write_folder_table` saves the per-image rows as CSV, JSON or Parquet.
The ``friqa score --ref-dir ... --dist-dir ...`` command is a thin layer over them.
"""

from friqa.folders.match import IMAGE_EXTENSIONS, FolderMatch, Pair, match_folders
from friqa.folders.output import write_folder_table
from friqa.folders.scoring import FolderScores, MetricSummary, score_folders, summarize

__all__ = [
    "IMAGE_EXTENSIONS",
    "FolderMatch",
    "Pair",
    "match_folders",
    "FolderScores",
    "MetricSummary",
    "score_folders",
    "summarize",
    "write_folder_table",
]
