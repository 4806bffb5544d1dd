"""The plotly.js bundle that the reports of one folder share: one file beside them, named by
plotly's version, so each report is a few hundred kB instead of 5 MB and still opens offline;
and `write_whole`, the one way a report, its bundle and a workbook reach the disk."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

import plotly
from plotly.offline import get_plotlyjs


def bundle_name() -> str:
    """The bundle's file name: plotly.py pins the plotly.js it ships, so its version names both."""
    return f"plotly-{plotly.__version__}.min.js"


def write_bundle(folder: Path) -> str:
    """Write the bundle into `folder` unless a whole one is there; returns its name, for a
    page's <script src>."""
    path = folder / bundle_name()
    script = get_plotlyjs()
    if path.exists() and path.stat().st_size == len(script.encode()):
        return path.name
    # a name of this process: two runs writing reports into one folder at once never share one
    write_whole(path, lambda partial: partial.write_text(script, encoding="utf-8"), f".{path.name}.{os.getpid()}")
    return path.name


def write_whole(path: Path, write: Callable[[Path], object], partial_name: str | None = None) -> None:
    """`write` a temporary file beside `path` (named `partial_name`.partial, by default after the
    file), then rename it: the file is whole or absent, never 0 bytes or half. On an OSError (a
    full disk, a place that may not be written) the temporary file is removed and the error
    raised."""
    partial = path.with_name(f"{partial_name or '.' + path.name}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(partial)
        partial.replace(path)
    except OSError:
        with contextlib.suppress(OSError):  # there may be no folder to clean up in
            partial.unlink(missing_ok=True)
        raise
