"""heron: rare-disease variant reanalysis over a columnar variant store."""

__version__ = "0.1.0"
