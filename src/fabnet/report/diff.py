"""A report's "what changed" section (issue 31): the run against a base run the reader names
(`fabnet report 5 --base 3`, `fabnet run --base 3`) — the inputs that differ, the key figures
that moved, and the runs overlaid."""

from __future__ import annotations

import html

from fabnet.core import columns
from fabnet.report.compare import compare_figures
from fabnet.store import StoredRun
from fabnet.store.compare import comparison


def diff_section(base: StoredRun, run: StoredRun, plotlyjs: str) -> str:
    """The section: a table of the changed inputs and moved figures (base, this run,
    difference), then the two runs' deliveries, cash and IRRs overlaid (charts only where the
    page loads plotly.js in its head)."""
    table = comparison([base, run], changed_only=True)
    rows = "".join(_row(row, base, run) for row in table.to_dict("records"))
    body = (
        f'<table class="figures"><tr><th></th><th>{html.escape(base.name)}</th><th>{html.escape(run.name)}</th>'
        f"<th>difference</th></tr>{rows}</table>"
        if rows
        else "<p>No input differs and no key figure moved.</p>"
    )
    if plotlyjs != "inline":
        for name, fig in compare_figures([base, run]).items():
            div = fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"plot-{name}")
            body += f'<div class="figure" id="{name}">{div}</div>'
    title = f"What changed against {base.name}"
    return f'<h2 id="section-diff">{html.escape(title)}</h2>{body}'


def _row(values: dict[str, object], base: StoredRun, run: StoredRun) -> str:
    name = str(values["name"])
    first, second = values[f"run_{base.run_id}"], values[f"run_{run.run_id}"]
    if values["kind"] == "input":
        cells = (f"--set {name}", columns.show_input(name, first), columns.show_input(name, second), "")
    else:
        cells = (
            columns.label(name),
            columns.show(name, first),
            columns.show(name, second),
            columns.show_difference(name, first, second, values["difference"]),
        )
    return "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>"
