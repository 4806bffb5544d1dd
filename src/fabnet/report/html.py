"""One HTML page per run: summary figures, then every plot. plotly.js is inlined by default, so
the file opens offline; the dashboard links it once instead."""

from __future__ import annotations

import contextlib
import html
from pathlib import Path

from fabnet.core.errors import FabnetError
from fabnet.report.figures import figures
from fabnet.report.labels import format_figure, label
from fabnet.store import StoredRun

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2rem; } .meta { color: #666; margin-bottom: 1.5rem; }
table.figures { border-collapse: collapse; margin: 1rem 0 2rem; }
table.figures td { padding: 0.25rem 1rem; border-bottom: 1px solid #eee; }
.figure { margin-bottom: 2rem; }
"""


def _figure_rows(run: StoredRun) -> str:
    rows = []
    for key, value in run.figures.items():
        text = format_figure(key, value)
        rows.append(f"<tr><td>{html.escape(label(key))}</td><td>{html.escape(text)}</td></tr>")
    return "\n".join(rows)


def report_html(run: StoredRun, plotlyjs: str = "inline") -> str:
    """The page. `plotlyjs` is "inline" (self-contained file) or a URL to load plotly.js from."""
    meta = run.meta
    parts = []
    for i, (name, fig) in enumerate(figures(run).items()):
        include = (True if i == 0 else False) if plotlyjs == "inline" else False
        parts.append(f'<div class="figure" id="{name}">'
                     + fig.to_html(full_html=False, include_plotlyjs=include, div_id=f"plot-{name}")
                     + "</div>")
    head_script = "" if plotlyjs == "inline" else f'<script src="{html.escape(plotlyjs)}"></script>'
    title = f"fabnet run {meta['run_id']}: {meta['scenario_name']}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{STYLE}</style>{head_script}</head>
<body>
<h1>{html.escape(title)}</h1>
<div class="meta">{html.escape(str(meta['created_at'])[:19])} UTC · fabnet {html.escape(str(meta['fabnet_version']))} ·
scenario hash {html.escape(str(meta['scenario_hash'])[:12])} · seed {meta['seed']} ·
solver {html.escape(str(meta['solver_status']))}</div>
<table class="figures">{_figure_rows(run)}</table>
{''.join(parts)}
</body></html>
"""


def write_report(run: StoredRun, path: str | Path) -> Path:
    """Write the page atomically: a temporary file beside it, then renamed, so a report is
    either whole or absent (never a 0-byte or half file). A folder, a full disk or a place that
    may not be written is a ReportError that says so."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    try:
        if path.is_dir():
            raise ReportError(f"{path} is a folder; give the report a file name, e.g. {path / 'run.html'}")
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(report_html(run), encoding="utf-8")
        partial.replace(path)
    except OSError as error:
        with contextlib.suppress(OSError):  # there may be no folder to clean up in
            partial.unlink(missing_ok=True)
        raise ReportError(f"cannot write the report {path}: {error.strerror or error}") from None
    return path


class ReportError(FabnetError):
    """A report that could not be written (the run itself is stored)."""
