"""fabnet: plan, simulate and finance a network of AI-chip fabs."""

from importlib.metadata import version as _version

__version__ = _version("fabnet")
