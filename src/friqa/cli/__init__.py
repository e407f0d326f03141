"""The ``friqa`` command line: a thin layer over the library."""
