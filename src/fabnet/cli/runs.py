"""Commands on the results store: runs list/show/compare/import, export, report, serve."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fabnet.cli import app
from fabnet.cli.options import AsJson, ReadStore, RunId, StorePath, user_errors
from fabnet.cli.terminal import err, figures_table, new_table, out, print_frame, print_json, show, styled
from fabnet.core import columns
from fabnet.core import format as fmt
from fabnet.core.results import DEFAULT_STORE
from fabnet.core.secrets import redact

if TYPE_CHECKING:
    import pandas as pd

    from fabnet.api import StoredRun

runs_app = typer.Typer(help="Runs kept in the results store: list, show, compare, import.", no_args_is_help=True)


app.add_typer(runs_app, name="runs")


@runs_app.command("list")
def runs_list(store: ReadStore = DEFAULT_STORE, as_json: AsJson = False) -> None:
    """Every run in the store, oldest first, one line each: id, label, kind (run, risk, deal),
    scenario, when (UTC, to the minute), the fab company's NPV."""
    from fabnet.api import runs, runs_records

    with user_errors():
        listed = runs(store)
    if as_json:
        print_json(runs_records(listed))
        return
    print_runs(listed, store)


@runs_app.command("import")
def runs_import(
    file: Annotated[Path, typer.Argument(help="A run kept in a file (.fabnetrun) when no store would take it.")],
    store: StorePath = DEFAULT_STORE,
) -> None:
    """Store a run that `fabnet run` kept in a file of its own (the store was busy, full or could
    not be written), as a new run with its original time and figures.

    Example: `fabnet runs import tigris-20261202T101500.fabnetrun --store fabnet.duckdb`
    """
    from fabnet.api import import_run

    with user_errors():
        run_id, new = import_run(file, store)
    out.print(
        styled(
            f"{file} {'stored' if new else 'already stored'} as run {run_id} in ",
            (redact(store), "bold"),
            f"; `fabnet report {run_id} --store {redact(store)}` draws it",
        )
    )


@runs_app.command("show")
def runs_show(run_id: RunId, store: ReadStore = DEFAULT_STORE, as_json: AsJson = False) -> None:
    """A run's provenance (label, kind, scenario file and overrides) and key figures."""
    from fabnet.api import stored, stored_dict

    with user_errors():
        run = stored(run_id, store)
    if as_json:
        print_json(stored_dict(run))
        return
    print_stored_run(run)


@runs_app.command("compare")
def runs_compare(
    run_ids: Annotated[list[int], typer.Argument(help="Two or more run ids, the first the base.")],
    store: ReadStore = DEFAULT_STORE,
    changed_only: Annotated[
        bool, typer.Option("--changed-only", help="Only the key figures that moved (inputs: always those that differ).")
    ] = False,
    format: Annotated[
        str,
        typer.Option(
            "--format",
            help="table (for reading), csv or json (one tidy row per input or figure, for a notebook or a "
            "pipe), or xlsx (the same rows as a workbook in --out).",
        ),
    ] = "table",
    folder: Annotated[Path, typer.Option("--out", help="Folder to write an xlsx comparison into.")] = Path("exports"),
    as_json: AsJson = False,
) -> None:
    """What differs between runs: first their inputs (every scenario value that differs, by its
    --set path, and the overrides and labels), then their key figures, with the difference when
    two are compared.

    Example: `fabnet runs compare 1 2 --changed-only`, `fabnet runs compare 1 2 3 --format csv > diff.csv`,
    `fabnet runs compare 1 2 --json` (the same as `--format json`),
    `fabnet runs compare 1 2 --format xlsx` (exports/compare-1-2.xlsx).
    """
    from fabnet.api import comparison, distinct, stored, write_comparison

    if len(run_ids) < 2:
        raise typer.BadParameter("give two or more run ids, e.g. `fabnet runs compare 1 2`")
    format = "json" if as_json else format  # --json as on every command that prints figures
    if format not in COMPARE_FORMATS:
        raise typer.BadParameter(f"{format!r}: one of {', '.join(COMPARE_FORMATS)}", param_hint="--format")
    with user_errors():
        runs = [stored(i, store) for i in distinct(run_ids)]
        if format == "table":
            print_comparison(runs, changed_only)
            return
        table = comparison(runs, changed_only)
        if format == "xlsx":
            path = write_comparison(table, folder / f"compare-{'-'.join(str(run.run_id) for run in runs)}.xlsx")
            out.print(styled("runs compared in ", (str(path), "bold")))
            return
        text = table.to_csv(index=False) if format == "csv" else table.to_json(orient="records", indent=1)
        typer.echo(text.rstrip("\n"))


COMPARE_FORMATS = ("table", "csv", "json", "xlsx")


@app.command()
def export(
    run_id: RunId,
    store: ReadStore = DEFAULT_STORE,
    format: Annotated[
        str,
        typer.Option("--format", help="xlsx (one workbook, a sheet per table), csv or parquet (a folder of files)."),
    ] = "xlsx",
    folder: Annotated[Path, typer.Option("--out", help="Folder to write into.")] = Path("exports"),
    unit: Annotated[str, typer.Option("--unit", help="Money in the workbook: usd, or musd (millions of USD).")] = "usd",
) -> None:
    """Write every table of a stored run, with its inputs (the resolved scenario as path/value
    rows, the overrides, provenance), for Excel, pandas or anything that reads CSV or Parquet.

    The workbook opens on a Summary sheet (the verdict, the headline figures, the deal, the
    investors, the builds), then the tables in the report's order; money is a number (USD, or
    millions with --unit musd), quarters their quarter-end dates, booleans booleans, and each
    heading names its unit ("capex building (USD)"). Edit a value on its inputs sheet and
    `fabnet run run-3.xlsx` runs the scenario again with the change. CSV and Parquet keep the
    stored column names (their suffix is the unit: _usd, _days) beside a `columns` legend.

    Example: `fabnet export 3 --format xlsx --out exports`, then in pandas
    `pd.read_excel("exports/run-3.xlsx", sheet_name=None)`.
    """
    from fabnet.api import FORMATS, MONEY_UNITS
    from fabnet.api import export as export_run

    if format not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}")
    if unit not in MONEY_UNITS:
        raise typer.BadParameter(f"--unit must be one of {', '.join(MONEY_UNITS)}")
    with user_errors():
        path = export_run(run_id, folder, format, store, unit)
    out.print(styled(f"run {run_id} exported to ", (str(path), "bold")))


@app.command()
def report(
    run_id: RunId,
    store: ReadStore = DEFAULT_STORE,
    output: Annotated[
        Path | None,
        typer.Option("--out", "--output", help="HTML file to write (default: reports/STORE-run-ID.html)."),
    ] = None,
    base: Annotated[
        int | None, typer.Option(help="A run of the same store to compare with: the report says what changed.", min=1)
    ] = None,
) -> None:
    """Write the HTML report of a stored run, decision first, with the plotly.js bundle the
    reports of its folder share beside it (opens offline)."""
    from fabnet.api import write_report

    with user_errors():
        path = write_report(run_id, store, output, base=base)
    out.print(styled("report: ", (str(path), "bold")))


@app.command()
def serve(
    store: ReadStore = DEFAULT_STORE,
    host: Annotated[str, typer.Option(help="Address to bind; loopback unless you say otherwise.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8050,
) -> None:
    """A read-only web dashboard over the store: the runs, a run's report, runs compared, a
    run's tables as a workbook.

    Example: `fabnet serve --store fabnet.duckdb`, then open http://127.0.0.1:8050
    """
    import socket

    import uvicorn

    from fabnet.api import dashboard

    with user_errors():
        application = dashboard(store)
    try:  # bound here, so a port in use is one sentence before anything claims to be served
        listener = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    except OSError as error:
        err.print(
            styled(
                ("error:", "bold red"),
                f" cannot serve on {host}:{port}: {error.strerror or error}; give another --port",
            ),
            soft_wrap=True,
        )
        raise typer.Exit(2) from None
    out.print(f"dashboard on http://{host}:{port} (Ctrl-C to stop)")
    server = uvicorn.Server(uvicorn.Config(application, log_level="warning"))
    server.run(sockets=[listener])


def print_runs(runs: pd.DataFrame, store: str) -> None:
    """The runs of a store, one line each, their time to the minute."""
    runs = runs.assign(created_at=runs["created_at"].map(fmt.minute))
    print_frame(runs.rename(columns={"scenario_name": "scenario"}), f"Runs in {redact(store)}", text_columns=5)


def print_stored_run(stored: StoredRun) -> None:
    """A stored run's provenance (label, kind, scenario file and overrides) and key figures."""
    from fabnet.api import overrides_of, stored_names

    meta = stored.meta
    about = {
        "run": str(stored.run_id),
        "label": meta.get("label") or "",
        "kind": stored.kind,
        "when (UTC)": fmt.minute(meta["created_at"]),
        "scenario": str(meta["scenario_name"]),
        "scenario file": meta.get("source") or "",
        "overrides": " ".join(f"--set {o}" for o in overrides_of(stored)),
        "scenario hash": str(meta["scenario_hash"])[:12],
        "seed": str(meta["seed"]),
        "fabnet": str(meta["fabnet_version"]),
        "solver": str(meta["solver_status"]),
    }
    table = new_table("", "value", text_columns=2)
    for key, value in about.items():
        table.add_row(key, value)
    show(table)
    show(figures_table("Key figures", stored.figures, stored_names(stored.meta)))


def print_comparison(runs: list[StoredRun], changed_only: bool = False) -> None:
    """What differs between runs: their inputs, then their key figures (with the difference
    when two are compared; with `changed_only`, only those that moved)."""
    from fabnet.api import figure_differences, input_differences, stored_names

    if len(runs) < 2:
        out.print(f"run {runs[0].run_id} compared with itself: nothing differs.")
        return
    names = [run.name for run in runs]
    inputs = input_differences(runs)
    view = new_table(
        "input",
        *names,
        title=f"Inputs: what differs between {', '.join(names)}",
        text_columns=len(names) + 1,
        figure_rows=True,
    )
    for row in inputs.itertuples(index=False):
        path, *values = row
        view.add_row(path, *(columns.show_input(str(path), v) for v in values))
    if inputs.empty:
        view.add_row("(none: the same scenario, label and overrides)", *[""] * len(names))
    show(view)
    figures = figure_differences(runs, changed_only)
    extra = ["difference"] if len(runs) == 2 else []
    who = {k: v for run in reversed(runs) for k, v in stored_names(run.meta).items()}  # the base's names win
    view = new_table("figure", *names, *extra, title="Key figures", figure_rows=True)
    for row in figures.itertuples(index=False):
        key, values = row[0], list(row[1 : 1 + len(runs)])
        cells = [columns.show(key, v) for v in values]
        if extra:
            cells.append(columns.show_difference(key, values[0], values[1], row[-1]))
        view.add_row(columns.label(key, who), *cells)
    show(view)
