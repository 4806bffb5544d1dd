"""The plotly.js bundle that the reports of one folder share: one file beside them, named by
plotly's version, so each report is a few hundred kB instead of 5 MB and still opens offline."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import plotly
from plotly.offline import get_plotlyjs


def bundle_name() -> str:
    """The bundle's file name: plotly.py pins the plotly.js it ships, so its version names both."""
    return f"plotly-{plotly.__version__}.min.js"


def write_bundle(folder: Path) -> str:
    """Write the bundle into `folder` unless a whole one is there; returns its name, for a
    page's <script src>. Written beside under a name of this process, then renamed: two runs
    writing reports into one folder at once never leave a half bundle."""
    path = folder / bundle_name()
    script = get_plotlyjs()
    if path.exists() and path.stat().st_size == len(script.encode()):
        return path.name
    partial = folder / f".{path.name}.{os.getpid()}.partial"
    try:
        partial.write_text(script, encoding="utf-8")
        partial.replace(path)
    except OSError:
        with contextlib.suppress(OSError):  # a full disk: leave no half bundle behind
            partial.unlink(missing_ok=True)
        raise
    return path.name
