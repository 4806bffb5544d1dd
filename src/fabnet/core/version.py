"""fabnet's version, as installed (the package's metadata). Imported where it is written down
(a stored run's provenance, the dashboard, `fabnet --version`), not at start-up:
importlib.metadata costs 40 ms. Here in core so that no module of fabnet imports `fabnet` back."""

from importlib.metadata import version

__version__ = version("fabnet")
