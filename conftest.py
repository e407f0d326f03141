"""Doctest collection of ``src/friqa``: leave out the modules whose optional extra is absent."""

from importlib.util import find_spec

collect_ignore = [] if find_spec("torchmetrics") else ["src/friqa/integrations/torchmetrics.py"]
