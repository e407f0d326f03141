"""Bridges to other libraries' interfaces (each behind its own extra).

- :mod:`friqa.integrations.torchmetrics`: any friqa metric as a
  ``torchmetrics.Metric`` (``pip install "friqa[torchmetrics]"``).
"""
