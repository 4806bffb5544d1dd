"""What fabnet prints: tables, figures and JSON documents for the terminal, in one place, so
that every command writes a number the way fabnet.core.columns says it means.

The commands (fabnet.cli) parse and call the pipeline; everything they show goes through here.
Width: the terminal's, else $COLUMNS, else 80 (rich's rule); wide tables are split to fit
(`show`). Sentences are not broken (soft wrap): the terminal wraps them, and a command or a
path in one stays whole for copying. Markup and emoji codes are off: file names, ids and values
a user wrote are printed as they are ("x[/b].yaml", ":warning:"); styles come from Text objects
(`styled`).
"""

from __future__ import annotations

import json
import math
import textwrap
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Column, Table
from rich.text import Text

from fabnet.core import columns, yearly
from fabnet.core import format as fmt
from fabnet.core.secrets import redact

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd
    from rich.progress import Progress

    from fabnet.check import PlanCheck
    from fabnet.fabsim.engine import SimResult
    from fabnet.fabsim.kpi_tables import Kpis
    from fabnet.finance import Financials
    from fabnet.finance.deal import Deal
    from fabnet.finance.industry import PlanCapex
    from fabnet.network.loadcurve import LoadCurve
    from fabnet.pipeline import JobResult
    from fabnet.plan import Plan
    from fabnet.risk.robust import RobustRun
    from fabnet.scenario import Scenario
    from fabnet.store import StoredRun

out = Console(markup=False, emoji=False, highlight=False, soft_wrap=True)


err = Console(stderr=True, markup=False, emoji=False, highlight=False, soft_wrap=True)


def styled(*parts: str | tuple[str, str]) -> Text:
    """Text from plain strings and (string, style) pairs, e.g. styled(("✓", "green"), " done")."""
    return Text.assemble(*parts)


def print_json(data: Any) -> None:
    """One JSON document: a missing number (NaN, an IRR that does not exist) is null, as JSON
    has no NaN; numpy numbers are plain numbers."""
    print(json.dumps(plain(data), indent=2, allow_nan=False, default=str))


def records(table_columns: dict[str, Any]) -> list[dict[str, Any]]:
    """A table as columns → one dict per row, as DataFrame.to_dict("records") gives."""
    return [dict(zip(table_columns, row, strict=True)) for row in zip(*table_columns.values(), strict=True)]


def plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def new_table(*columns: str, title: str | None = None, text_columns: int = 1) -> Table:
    """A table whose first `text_columns` columns are left-aligned and the rest, numbers, right;
    a long word in a text column (a path, an override) continues on the next line, never cut."""
    table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
    for i, column in enumerate(columns):
        text = i < text_columns
        table.add_column(column, justify="left" if text else "right", overflow="fold" if text else "ellipsis")
    return table


#: Text columns (labels, names) may wrap down to this width; numbers never wrap.
TEXT_WRAP = 30


def show(table: Table) -> None:
    """Print a table within the console's width. A table too wide first narrows: headings wrap
    at spaces, text columns wrap at TEXT_WRAP; one still too wide is split into parts of whole
    columns, each repeating the first (row name) column; a number is never cut."""
    if _fits(table) or len(table.columns) <= 2:
        out.print(table, soft_wrap=False)
        return
    for column in table.columns:
        _narrow(column)
    if _fits(table):
        out.print(table, soft_wrap=False)
        return
    key, rest = table.columns[0], table.columns[1:]
    parts: list[list[Column]] = [[]]
    for column in rest:
        if parts[-1] and not _fits(_subtable(table, [key, *parts[-1], column])):
            parts.append([])
        parts[-1].append(column)
    for i, part in enumerate(parts):
        out.print(_subtable(table, [key, *part], continued=i > 0), soft_wrap=False)


def _fits(table: Table) -> bool:
    return Measurement.get(out, out.options.update(width=10_000), table).maximum <= out.width


def _narrow(column: Column) -> None:
    """Wrap the heading to the column's widest cell (or its longest word); cap a text column."""
    cells = max((cell_len(str(cell)) for cell in column.cells), default=0)
    if column.justify == "left":
        cells = min(cells, TEXT_WRAP)
        column.max_width = max(cells, *(cell_len(w) for w in str(column.header).split()))
    glued = str(column.header).replace(" %", "\u00a0%")  # "10.0 %" stays on one line
    lines = textwrap.wrap(glued, max(cells, 1), break_long_words=False, break_on_hyphens=False)
    column.header = "\n".join(lines).replace("\u00a0", " ")


def _subtable(table: Table, columns: list[Column], continued: bool = False) -> Table:
    title = str(table.title or "")
    part = Table(
        title=f"{title} (continued)" if continued and title else title or None,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
    )
    for column in columns:
        part.add_column(column.header, justify=column.justify, max_width=column.max_width, overflow=column.overflow)
    for row in zip(*(column.cells for column in columns), strict=True):
        part.add_row(*row)
    return part


def print_frame(frame: pd.DataFrame, title: str, text_columns: int = 2, names: dict[str, str] | None = None) -> None:
    """A table of any frame, headed and written as core.columns says each column means (money
    in one scale per column); `names` renames a column's label, its unit stays."""
    print_columns({str(c): frame[c].to_numpy() for c in frame.columns}, title, text_columns, names)


def print_columns(
    table_columns: dict[str, Any], title: str, text_columns: int = 2, names: dict[str, str] | None = None
) -> None:
    """print_frame for a table as columns (numpy arrays of equal length), without pandas."""
    scales = {
        c: fmt.scale_for(v)
        for c, v in table_columns.items()
        if columns.meaning(c).unit == "usd" and np.asarray(v).dtype.kind in "fi"
    }
    table = new_table(
        *(columns.heading(c, scales.get(c), (names or {}).get(c)) for c in table_columns),
        title=title,
        text_columns=text_columns,
    )
    for row in zip(*table_columns.values(), strict=True):
        table.add_row(*(_cell(c, _python(v), scales.get(c)) for c, v in zip(table_columns, row, strict=True)))
    show(table)


def _python(value: Any) -> Any:
    """A numpy number as the Python number it holds (the formatters test for float)."""
    return value.item() if isinstance(value, np.generic) else value


def _cell(column: str, value: Any, scale: fmt.Scale | None = None) -> str:
    if columns.meaning(column).unit == "number" and isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return columns.show(column, value, scale)


def figures_table(title: str, figures: Mapping[str, object]) -> Table:
    table = new_table("figure", "value", title=title)
    for key, value in figures.items():
        table.add_row(columns.label(key), columns.show(key, value))
    return table


@contextmanager
def day_progress(days: float, label: str) -> Iterator[Callable[[float, str], None]]:
    """A progress bar in simulated days on a terminal; silent otherwise."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    if not err.is_terminal:
        yield lambda day, note: None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f} days"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=days)
        yield lambda day, note: bar.update(task, completed=day, description=f"{label} {note}")


class JobProgress:
    """One line on stderr for a long job: the step it is at, then, while it counts samples, a
    bar with their rate and the time left."""

    def __init__(self, bar: Progress, unit: str) -> None:
        self._bar, self._unit = bar, unit
        self._task = bar.add_task("starting…", total=None, rate="")
        self._started = time.perf_counter()

    def step(self, name: str) -> None:
        self._bar.update(self._task, description=f"{name}…", total=None, completed=0, rate="")
        self._started = time.perf_counter()

    def advance(self, done: int, total: int) -> None:
        rate = done / max(time.perf_counter() - self._started, 1e-9)
        self._bar.update(self._task, description=self._unit, total=total, completed=done, rate=f"{rate:.2f}/s")


@contextmanager
def job_progress(unit: str) -> Iterator[JobProgress]:
    """A JobProgress on a terminal; silent otherwise (a pipe or a log file gets the results only)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        yield JobProgress(bar, unit)


@contextmanager
def byte_progress(label: str) -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar in bytes on a terminal; silent otherwise."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    if not err.is_terminal:
        yield lambda file, done, total: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), console=err, transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda file, done, total: bar.update(task, completed=done, total=total, description=f"{label} {file}")


def print_chips(result: dict[str, Any]) -> None:
    """The die calculator's answer: dies, yield and cost per good die (and per accelerator when
    a package was described)."""
    w, h = result["die_w_mm"], result["die_h_mm"]
    table = new_table("quantity", "value")
    table.add_row("die", f"{w:.3g} × {h:.3g} mm = {w * h:,.1f} mm²")
    table.add_row(
        "wafer", f"{result['wafer_mm']:g} mm, edge {result['edge_mm']:g} mm, scribe {result['scribe_mm']:g} mm"
    )
    table.add_row(f"gross dies ({result['dpw_formula']})", f"{result['gross_dies']:,}")
    table.add_row(f"yield ({result['model']}, D0 {result['d0_per_cm2']:g}/cm²)", f"{result['yield']:.4f}")
    table.add_row("good dies per wafer", f"{result['good_dies']:,.2f}")
    table.add_row("cost per good die", dollars(result["cost_per_good_die"]))
    for part, value in result.get("cost_breakdown", {}).items():
        table.add_row(f"  {part.replace('_', ' ')}", dollars(value))
    if "cost_per_accelerator" in result:
        table.add_row("cost per accelerator", dollars(result["cost_per_accelerator"]))
    show(table)


def simulation_json(k: Kpis, result: SimResult) -> dict[str, Any]:
    """A simulation's tables and speed as one JSON document's content."""
    return {name: records(k.columns(name)) for name in ("lots", "families", "cqt", "wip")} | {
        "speed": {"lot_steps": result.lot_steps, "events": result.events, "wall_s": result.wall_s}
    }


def print_simulation(k: Kpis, result: SimResult, title: str) -> None:
    """A simulation's lots, its ten busiest tool families, its worst critical queue times, and
    how fast it ran."""
    print_columns(k.columns("lots"), f"{title}: lots")
    families = k.columns("families")
    busiest = np.argsort(-families["utilisation"], kind="stable")[:10]
    print_columns({c: v[busiest] for c, v in families.items() if c != "group"}, "Busiest tool families")
    cqt = k.columns("cqt")
    worst = [i for i in np.argsort(-cqt["violations"], kind="stable")[:10] if cqt["violations"][i] > 0]
    if worst:
        print_columns({c: v[worst] for c, v in cqt.items()}, "Critical queue time violations (worst steps)")
    out.print(
        f"WIP: {k.columns('wip')['lots'].mean():,.0f} lots on average; {result.lot_steps:,} lot-steps, "
        f"{result.events:,} events in {result.wall_s:.1f} s "
        f"({result.lot_steps / max(result.wall_s, 1e-9):,.0f} lot-steps/s)"
    )


def print_load_curve(curve: LoadCurve, table: pd.DataFrame, dataset: str) -> None:
    """The simulated points against the fitted curve, and the fit."""
    print_frame(table.drop(columns=["bottleneck"]), f"{dataset}: simulated and fitted X-factor")
    out.print(
        f"fit: x_factor = {curve.x0:.3f} · (1 + {curve.a:.4f} · u^{curve.p:g} / (1 − u)); "
        f"saturation (most the fab puts out) u = {curve.saturation:.3f}"
    )


def finance_json(money: Financials) -> dict[str, Any]:
    """Both parties' money as one JSON document's content."""
    return {
        "metrics": money.figures,
        "messages": money.messages,
        "investors": money.fabco.investors.to_dict("records"),
        "fabco_quarterly": money.fabco.quarterly.to_dict("records"),
        "investor_flows": money.fabco.investor_flows.to_dict("records"),
        "buyer_quarterly": money.buyer.quarterly.to_dict("records"),
        "buyer_products": money.buyer.products.to_dict("records"),
    }


def deal_json(result: Deal) -> dict[str, Any]:
    """The deal as one JSON document's content."""
    return {
        "low_share": result.low,
        "high_share": result.high,
        "high_is_search_limit": result.high_at_limit,
        "contract_share": result.contract_share,
        "exists": result.exists,
        "market_price_usd": result.market_price_usd,
        "verdict": result.verdict,
        "points": result.points.to_dict("records"),
        "investors": result.investors.to_dict("records"),
    }


def print_deal(scenario: Scenario, result: Deal) -> None:
    """What each side gets at each offtake price, and the range that serves both (or why none)."""
    # one column per investor, an IRR that never exists included (never called, no sign change)
    investors = result.investors.set_index(["share_of_market", "investor"])["irr"].unstack()
    names = [i.id for i in scenario.funding.investors]
    hurdles = result.investors.groupby("investor")["hurdle"].first()
    table = new_table(
        "price, share of market",
        "$ per wafer",
        "fab company NPV",
        "fab company IRR",
        *[f"IRR {name} (hurdle {fmt.percent(hurdles[name])})" for name in names],
        "buyer's gain vs foundry route",
        title="The deal: what each side gets at each offtake price (the plan held)",
    )
    for row in result.points.itertuples():
        table.add_row(
            fmt.percent(row.share_of_market, 0),
            fmt.usd(row.price_per_wafer_usd),
            fmt.usd(row.fabco_npv_usd),
            fmt.irr(row.fabco_irr),
            *[fmt.irr(investors.at[row.share_of_market, name]) if name in investors else "–" for name in names],
            fmt.usd(row.buyer_gain_usd),
        )
    show(table)
    out.print(result.verdict)


def print_run(job: JobResult, store: str, report_path: Path | None, report_problem: str | None) -> bool:
    """The main job's decision figures first, then its builds, the other key figures, the plan
    check and where the run and its report are; False when the run was not stored or has no
    report (the message says how to finish)."""
    store = redact(store)
    out.print(f"Plan: {job.plan.result.describe()}")
    figures = dict(job.figures)
    show(
        figures_table(
            "Decision: what the network adds, and for whom", {k: figures.pop(k) for k in list(job.decision.figures())}
        )
    )
    for sentence in job.decision.sentences():
        out.print(f"  • {sentence}")
    show(builds_table(job.plan))
    show(figures_table("Key figures", figures))
    if job.check is not None:
        show(check_table(job.check))
    for message in job.messages:
        if message not in job.decision.sentences():
            out.print(f"  • {message}")
    if job.run_id is None:
        err.print(styled(("not stored:", "bold red"), f" {redact(job.store_error)}"), soft_wrap=True)
        out.print(
            styled(
                "the run is kept in ",
                (str(job.archive), "bold"),
                f": `fabnet runs import {job.archive} --store {store}` stores it, then `fabnet report ID` draws it",
            )
        )
        return False
    if report_problem is not None:
        err.print(styled(("no report:", "bold red"), f" {report_problem}"), soft_wrap=True)
        out.print(
            styled(
                f"run {job.run_id} stored in ",
                (store, "bold"),
                f"; `fabnet report {job.run_id} --store {store}` writes its report",
            )
        )
        return False
    out.print(styled(f"run {job.run_id} stored in ", (store, "bold"), "; report: ", (str(report_path), "bold")))
    return True


def print_runs(runs: pd.DataFrame, store: str) -> None:
    """The runs of a store, one line each, their time to the minute."""
    runs = runs.assign(created_at=runs["created_at"].map(fmt.minute))
    print_frame(runs.rename(columns={"scenario_name": "scenario"}), f"Runs in {redact(store)}", text_columns=5)


def print_stored_run(stored: StoredRun) -> None:
    """A stored run's provenance (label, kind, scenario file and overrides) and key figures."""
    from fabnet.store.export import overrides_of

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
    show(figures_table("Key figures", stored.figures))


def print_comparison(runs: list[StoredRun], changed_only: bool = False) -> None:
    """What differs between runs: their inputs, then their key figures (with the difference
    when two are compared; with `changed_only`, only those that moved)."""
    from fabnet.store.compare import figure_differences, input_differences

    if len(runs) < 2:
        out.print(f"run {runs[0].run_id} compared with itself: nothing differs.")
        return
    names = [run.name for run in runs]
    inputs = input_differences(runs)
    view = new_table(
        "input", *names, title=f"Inputs: what differs between {', '.join(names)}", text_columns=len(names) + 1
    )
    for row in inputs.itertuples(index=False):
        view.add_row(*row)
    if inputs.empty:
        view.add_row("(none: the same scenario, label and overrides)", *[""] * len(names))
    show(view)
    figures = figure_differences(runs, changed_only)
    extra = ["difference"] if len(runs) == 2 else []
    view = new_table("figure", *names, *extra, title="Key figures")
    for row in figures.itertuples(index=False):
        key, values = row[0], list(row[1 : 1 + len(runs)])
        cells = [columns.show(key, v) for v in values]
        if extra:
            cells.append(columns.show_difference(key, values[0], values[1], row[-1]))
        view.add_row(columns.label(key), *cells)
    show(view)


def print_robust(run: RobustRun) -> None:
    """A robust plan: how its solve went, its builds and those that differ from the central
    plan's, then both plans over the fresh futures and, for a few futures, in sample."""
    spec, measure = run.spec, run.spec.measure
    objective = "expected cost" if measure.weight == 0 else f"(1 − {measure.weight:g})·E + {measure.weight:g}·CVaR"
    if measure.weight:
        objective += f" (CVaR at {measure.level:g}: the worst {fmt.percent(1 - measure.level, 0)} of futures)"
    out.print(styled(("Robust plan", "bold"), f" for {spec.futures} futures (seed {spec.seed}), {objective}: "))
    out.print(f"  {run.solution.result.describe()}")
    show(builds_table(run.robust))
    from fabnet.store.compare import build_differences

    differ = build_differences(run.central.builds, run.robust.builds)
    if differ.empty:
        out.print("The central-value plan starts the same modules.")
    else:
        print_frame(differ, "Builds that differ from the central-value plan", text_columns=3)
    both = new_table(
        "figure",
        "central-value plan",
        "robust plan",
        "robust − central",
        title=f"Both plans on {spec.out_of_sample:,} fresh futures (seed {spec.seed + 1}): "
        "the value of the stochastic solution",
    )
    for row in run.figures.itertuples(index=False):
        key = str(row.figure)
        values = (float(row.central), float(row.robust))
        both.add_row(
            columns.label(key),
            *(columns.show(key, v) for v in values),
            columns.show_difference(key, *values, row.difference),
        )
    show(both)
    sample = run.in_sample
    if "wait_and_see_usd" in sample:
        robust, central, alone = sample["robust_usd"], sample["central_usd"], sample["wait_and_see_usd"]
        central_text = (
            f"the central plan's builds {fmt.usd(central)} "
            f"(value of the stochastic solution {fmt.usd(central - robust)})"
            if math.isfinite(central)
            else "the central plan's builds break the budget of at least one of them"
        )
        out.print(
            f"In the {spec.futures} futures (system cost, present value): the robust plan {fmt.usd(robust)}, "
            f"{central_text}, each future planned alone {fmt.usd(alone)} "
            f"(value of perfect information {fmt.usd(robust - alone)})"
        )


def dollars(amount: float) -> str:
    """Cents matter in the calculator ($1,234.56); no good die at all is none, not $inf."""
    return f"${amount:,.2f}" if math.isfinite(amount) else "– (no good die)"


def print_summary(s: Scenario) -> None:
    # here, not at the top: the scenario's schema (pydantic) is a fifth of `fabnet simulate`'s start-up
    from fabnet.scenario.assets import module_capex_usd

    h = s.horizon
    periods = h.periods
    out.print(styled((s.name, "bold"), f": {s.description}" if s.description else ""))
    out.print(f"horizon {h.start} → {h.end} ({h.quarters} quarters), seed {s.seed}")
    table = new_table("section", "entries", text_columns=2)
    table.add_row(
        "nodes",
        "; ".join(
            f"{n.id} {_path_text(n.wafer_price(periods))}/wafer, {n.cycle_time_days:.0f} d cycle, "
            f"D0 {n.defect_density.ramp_per_cm2}→{n.defect_density.mature_per_cm2}/cm², "
            f"{n.yield_model.kind}"
            for n in s.nodes
        ),
    )
    table.add_row("products", "; ".join(_product_text(s, p) for p in s.products))
    table.add_row(
        "packaging",
        "; ".join(
            f"{p.id}: {p.packages_per_wafer:g}/wafer, yield {p.yield_:.0%}, {p.cycle_days:g} d, "
            f"{'expandable' if p.expansion else 'fixed'}"
            for p in s.packaging
        )
        or "none",
    )
    table.add_row("hbm", "; ".join(f"{m.id}: {_path_text(m.price(periods))}/stack" for m in s.hbm) or "none")
    table.add_row(
        "sites",
        "; ".join(
            f"{x.id} ({x.region}, {x.node}) {x.max_modules}×{x.module_wspm / 1e3:g}k wspm, "
            f"{fmt.usd(module_capex_usd(x))}/module, {x.lead_time_q} q build, "
            f"from {x.earliest_start}" + (f", run by {x.operator}" if x.operator else "")
            for x in s.sites
        )
        or "none",
    )
    table.add_row(
        "foundry",
        "; ".join(
            f"{offer_id} ({o.node}) up to {fmt.count(o.capacity(periods).max())} wpm at "
            f"{o.price_premium:+.0%}, take-or-pay {o.take_or_pay:.0%}"
            for offer_id, o in zip(s.offer_ids(), s.foundry_offers, strict=True)
        )
        or "none",
    )
    table.add_row("offtake", _offtake_text(s))
    table.add_row(
        "funding",
        "; ".join(f"{i.id} {i.kind} {fmt.usd(i.amount_usd)}" for i in s.funding.investors)
        + f" (total {fmt.usd(sum(i.amount_usd for i in s.funding.investors))})",
    )
    table.add_row(
        "finance",
        f"discount rate {fmt.percent(s.finance.discount_rate)}, tax regimes "
        + ", ".join(f"{t.id} {t.rate:.0%}" for t in s.finance.tax_regimes),
    )
    table.add_row("uncertainty", f"{len(s.uncertainty)} uncertain inputs")
    show(table)


def _path_text(values: Any) -> str:
    """A price path as its first and last value: $20,000→$25,000."""
    first, last = float(values[0]), float(values[-1])
    return fmt.usd(first) if abs(last - first) < 0.5 else f"{fmt.usd(first)}→{fmt.usd(last)}"


def _product_text(s: Scenario, p: Any) -> str:
    wanted = f"{p.demand.quarterly(s.horizon.periods).sum() / 1e6:.2f} M wanted"
    price = _path_text(p.market_price(s.horizon.periods))
    if not p.made:
        return f"{p.id} (bought) at {price}, {wanted}"
    taped = f", tape-out {p.design.tape_out}" if p.design else ""
    return (
        f"{p.id} (design) on {p.node}: {p.compute_dies_per_package}×{p.die_area_mm2:.0f} mm², "
        f"{p.hbm_stacks} HBM, {p.packaging}{taped}, market {price}, {wanted}"
    )


def _offtake_text(s: Scenario) -> str:
    o = s.offtake
    price = {
        "indexed": f"{o.share_of_market_price:.0%} of the market wafer price",
        "fixed": "fixed prices per node",
        "cost_plus": f"standard cost + {o.markup:.0%}",
    }[o.price]
    return (
        f"{price}, take-or-pay {o.take_or_pay_share:.0%} of output at capacity"
        + (f", until {o.end}" if o.end else "")
        + (", spare wafers to the market" if o.spare_wafers_to_market else "")
    )


def plan_json(p: Plan, money: Financials, scenario: Scenario | None = None) -> dict[str, Any]:
    """The plan as one JSON document's content; with the scenario, also the plan's capex
    figures (fab company, the foundry capacity it relies on, the ambition: finance.industry)."""
    tables = ("builds", "packaging_builds", "supply", "production", "capacity", "foundry", "packaging", "hbm", "budget")
    capex = {} if scenario is None else _plan_capex(scenario, p, money).figures()
    return {
        "status": {
            "termination": p.result.termination,
            "optimal": p.optimal,
            "gap": p.result.gap,
            "objective_musd": p.result.objective,
            "bound_musd": p.result.bound,
            "seconds": p.result.seconds,
            "description": p.result.describe(),
        },
        "system_cost_usd": p.objective_usd,
        "fabco_npv_usd": money.fabco.metrics.fabco_npv_usd,
        **capex,
        "messages": p.messages,
        **{name: getattr(p, name).to_dict("records") for name in tables},
    }


def _plan_capex(scenario: Scenario, p: Plan, money: Financials) -> PlanCapex:
    from fabnet.finance.industry import plan_capex

    return plan_capex(scenario, p.foundry, money.fabco.quarterly)


def builds_table(p: Plan) -> Table:
    """Fab modules, shells, tool sets and packaging expansions the plan starts, and when they
    come online (a shell: when it is ready for tool sets)."""
    builds = new_table("site", "node", "what", "count", "wspm", "started", "online", title="Fabs built", text_columns=3)
    for row in p.builds.itertuples():
        wspm = fmt.count(row.wspm) if row.wspm else "–"
        what = columns.BUILD_KINDS[row.kind]
        builds.add_row(row.site, row.node, what, str(row.modules), wspm, row.started, row.online)
    for row in p.packaging_builds.itertuples():
        builds.add_row(f"{row.line} (packaging)", "", "line", str(row.modules), "", row.started, row.online)
    if not len(p.builds) and not len(p.packaging_builds):
        builds.add_row("none: foundry capacity and secured packaging are cheaper", "", "", "", "", "", "")
    return builds


def print_plan(scenario: Scenario, p: Plan, money: Financials) -> None:
    style = "green" if p.optimal else "yellow"
    out.print(styled("\n", ("Plan", "bold"), ": ", (p.result.describe(), style)))
    show(builds_table(p))

    supply = p.supply.groupby(["product", "year"], sort=False)[["demand", "made", "bought", "delivered", "unmet"]].sum()
    delivered = new_table(
        "product",
        "year",
        "demand",
        "made",
        "bought",
        "delivered",
        "unmet",
        "met",
        title="Accelerators delivered versus demand",
        text_columns=2,
    )
    for (product, year), row in supply.iterrows():
        if row.demand > 0 or row.delivered > 0:
            met = fmt.percent(row.delivered / row.demand, 0) if row.demand else "–"
            delivered.add_row(
                str(product),
                str(year),
                fmt.count(row.demand),
                fmt.count(row.made),
                fmt.count(row.bought),
                fmt.count(row.delivered),
                fmt.count(row.unmet),
                met,
            )
    show(delivered)
    _print_fab_load(p)

    import pandas as pd

    b = p.budget.groupby("year").sum(numeric_only=True)
    budget = pd.DataFrame(
        {
            "year": b.index.astype(str),
            "capex_usd": b.capex_usd,
            "grants_usd": -(b.grants_usd + b.tax_credits_usd),
            "opex_usd": b.opex_usd + b.fixed_opex_usd + b.operator_fees_usd,
            "wafer_revenue_usd": -b.wafer_revenue_usd,
            "commitments_usd": b.commitments_usd,
            "cash_usd": p.budget.groupby("year")["cash_usd"].last(),
        }
    )
    print_frame(
        budget,
        "The fab company's budget per year, as planned (nominal)",
        1,
        FINANCE_NAMES | {"grants_usd": "grants+credits"},
    )
    out.print(
        f"Fab company NPV at {fmt.percent(scenario.finance.discount_rate)}: "
        f"{fmt.usd(money.fabco.metrics.fabco_npv_usd)} (finance, as `fabnet finance` and `fabnet run`); "
        f"planner objective: system cost {fmt.usd(p.objective_usd)} (present value)"
    )
    capex = _plan_capex(scenario, p, money)
    if capex.industry_capex_usd is not None:
        used = capex.offers[capex.offers["capex_usd"] > 0]
        peaks = ", ".join(f"{r.offer} {fmt.count(r.peak_wafers_per_month)} wspm" for r in used.itertuples())
        out.print(
            f"Foundry capacity the plan relies on (peak use: {peaks or 'none'}): "
            f"{fmt.usd(capex.industry_capex_usd)} of the industry's capex, apart from the fab company's "
            f"{fmt.usd(capex.fabco_capex_usd)}"
        )
    if (sentence := capex.sentence()) is not None:
        out.print(sentence)
    if p.messages:
        out.print(styled(("Shortfalls", "bold")))
        for message in p.messages:
            out.print(f"  • {message}")
    else:
        out.print("All demand is met.")


def _print_fab_load(p: Plan) -> None:
    """Per own fab and year: how loaded it is and the cycle time the plan expects."""
    running = p.capacity[p.capacity["wafer_starts"] > 0]
    if running.empty:
        return
    table = new_table(
        "site",
        "year",
        "wafer starts",
        "mean load",
        "peak load",
        "cycle time, days",
        title="Own fabs: load and planned cycle time",
        text_columns=2,
    )
    years = running.assign(year=running["quarter"].str[:4]).groupby(["site", "year"], sort=False)
    for (site, year), rows in years:
        table.add_row(
            site,
            year,
            f"{rows['wafer_starts'].sum():,.0f}",
            f"{rows['load'].mean():.0%}",
            f"{rows['load'].max():.0%}",
            f"{rows['cycle_days'].min():.0f}–{rows['cycle_days'].max():.0f}",
        )
    show(table)


def check_table(check: PlanCheck) -> Table:
    """The plan check per fab and year: its load, wafer output and cycle time, planned against
    simulated."""
    several = len(check.fabs) > 1
    table = new_table(
        "fab, year" if several else "year",
        "mean load",
        "wafers out: planned",
        "simulated",
        "cycle time, days: planned",
        "simulated",
        title=f"Plan check: {check.named()} simulated at {'their' if several else 'its'} planned load "
        f"(SMT2020 {check.dataset})",
    )
    for fab in check.fabs:
        q = fab.quarters.assign(year=fab.quarters["quarter"].str[:4])
        for year, rows in q.groupby("year", sort=False):
            running = rows[rows["wafer_starts"] > 0]
            table.add_row(
                f"{fab.site} {year}" if several else str(year),
                f"{running['load'].mean():.0%}" if len(running) else "–",
                f"{rows['planned_output'].sum():,.0f}",
                f"{rows['simulated_output'].sum():,.0f}",
                _mean_days(running["planned_cycle_days"]),
                _mean_days(running["simulated_cycle_days"]),
            )
    return table


def _mean_days(days: pd.Series) -> str:
    return "–" if days.isna().all() else f"{days.mean():.0f}"


def print_finance(scenario: Scenario, money: Financials) -> None:

    fabco = yearly.fabco_years(money.fabco.quarterly)
    fabco["year"] = fabco["year"].astype(str)
    print_frame(fabco, "The fab company: cash flows per year", 1, FINANCE_NAMES)
    m = money.fabco.metrics
    out.print(
        f"Fab company: NPV at {fmt.percent(scenario.finance.discount_rate)} {fmt.usd(m.fabco_npv_usd)} · "
        f"IRR {fmt.irr(m.fabco_irr)} ({fmt.irr(m.fabco_irr_before_grants)} before grants) · "
        f"gross margin {fmt.percent(m.fabco_gross_margin)} · "
        f"payback {m.payback_quarter or 'not within the horizon'} · peak funding need "
        f"{fmt.usd(m.peak_funding_need_usd)} (continuing value after the horizon "
        f"{fmt.usd(m.continuing_value_usd)} included, {fmt.usd(m.continuing_value_pv_usd)} of the NPV) · "
        f"equity IRR {fmt.irr(m.equity_irr)}"
        + (
            f" · lowest DSCR {fmt.multiple(m.min_dscr)}, LLCR {fmt.multiple(m.min_llcr)}"
            if m.min_dscr is not None
            else ""
        )
    )
    investors = money.fabco.investors.assign(
        irr=[r.irr if r.called_usd > 0 else None for r in money.fabco.investors.itertuples()]
    )
    print_frame(
        investors[["investor", "kind", "committed_usd", "called_usd", "received_usd", "irr", "hurdle", "multiple"]],
        "Investors",
    )
    for note in [m.fabco_irr_note, *money.fabco.investors["irr_note"]]:
        if note:
            out.print(f"  • {note}")
    buyer = yearly.buyer_years(money.buyer.quarterly)
    buyer["year"] = buyer["year"].astype(str)
    print_frame(buyer, "The buyer: costs per year", 1, FINANCE_NAMES)
    print_frame(
        money.buyer.products[["product", "kind", "delivered", "cost_per_accelerator_usd", "market_price_usd"]],
        "The buyer per product (levelised)",
    )
    for message in money.messages:
        out.print(styled((f"  • {message}", "yellow")))


#: Short labels of the yearly money tables (the sums of several stored columns).
FINANCE_NAMES = {
    "wafers_to_buyer_usd": "buyer's wafers",
    "wafers_to_others_usd": "others' wafers",
    "take_or_pay_usd": "take-or-pay",
    "operating_costs_usd": "opex",
    "opex_usd": "opex",
    "grants_and_credits_usd": "grants+ITC",
    "grants_usd": "grants+ITC",
    "project_free_cash_flow_usd": "project FCF",
    "equity_called_usd": "equity called",
    "debt_drawn_usd": "debt drawn",
    "distributed_usd": "distributed",
    "fab_company_wafers_usd": "fab company wafers",
    "foundry_wafers_usd": "foundry",
    "design_and_masks_usd": "design+masks",
    "HBM_usd": "HBM",
    "packaging_usd": "packaging",
    "bought_accelerators_usd": "bought",
    "accelerators_delivered": "delivered",
    "market_value_usd": "market value",
    "capex_usd": "capex",
    "wafer_revenue_usd": "wafer revenue",
    "commitments_usd": "committed",
    "cash_usd": "cash at end",
}


def print_economics(economics: pd.DataFrame, basis: str) -> None:
    per_product = new_table(
        "product",
        "node",
        "priced at",
        "die mm²",
        "D0/cm²",
        "gross/wafer",
        "yield",
        "good/wafer",
        "$/good die",
        "$/accelerator",
        "market price",
        title=f"Per-accelerator economics at {basis}",
        text_columns=3,
    )
    for row in economics.itertuples():
        per_product.add_row(
            row.product,
            row.node,
            row.priced_at,
            f"{row.die_area_mm2:,.0f}",
            f"{row.d0_per_cm2:.3f}",
            f"{row.gross_dies:,}",
            f"{row.die_yield:.1%}",
            f"{row.good_dies_per_wafer:,.1f}",
            fmt.usd(row.cost_per_good_die_usd),
            fmt.usd(row.cost_per_accelerator_usd),
            fmt.usd(row.market_price_usd),
        )
    show(per_product)


def print_wafer_report(
    scenario: Scenario,
    economics: pd.DataFrame,
    table: pd.DataFrame,
    by: str,
    fab_age_q: float | None,
    site: str | None = None,
) -> None:
    basis = "mature D0" if fab_age_q is None else f"D0 of a fab {fab_age_q:g} quarters into production"
    basis += f" at {site}" if site is not None else ""
    print_economics(economics, basis)

    key, months = by, (12 if by == "year" else 3)
    sums = (
        table.groupby(["product", "node", key], sort=False)[
            ["accelerators", "good_dies", "wafer_starts", "interposer_wafers"]
        ]
        .sum()
        .reset_index()
    )
    sums = sums[sums["accelerators"] > 0]  # a product before launch or after phase-out
    demand = new_table(
        "product",
        "node",
        key,
        "accelerators",
        "good dies",
        "wafer starts",
        "wafer starts/month",
        "interposer wafers",
        title=f"Accelerators → wafers by {key} (at {basis})",
        text_columns=3,
    )
    for row in sums.itertuples():
        demand.add_row(
            row.product,
            row.node,
            str(getattr(row, key)),
            f"{row.accelerators:,.0f}",
            f"{row.good_dies:,.0f}",
            f"{row.wafer_starts:,.0f}",
            f"{row.wafer_starts / months:,.0f}",
            f"{row.interposer_wafers:,.0f}",
        )
    show(demand)
    _print_wafers_per_node(scenario, table, by)


def _print_wafers_per_node(scenario: Scenario, table: pd.DataFrame, by: str) -> None:
    from fabnet.core.units import DAYS_PER_QUARTER

    key, months = by, (12 if by == "year" else 3)
    per_node = table.groupby(["node", key], sort=False)["wafer_starts"].sum().unstack(key)
    nodes = new_table(
        "node",
        "cycle time",
        *[str(c) for c in per_node.columns],
        title=f"Wafer starts per month the demand needs, by node and {key} (mature D0)",
    )
    for node_id, values in per_node.iterrows():
        cycle = scenario.node(str(node_id)).cycle_time_days
        nodes.add_row(
            str(node_id), f"{cycle:.0f} d ({cycle / DAYS_PER_QUARTER:.1f} q)", *[f"{v / months:,.0f}" for v in values]
        )
    show(nodes)


def print_risk(summary: dict[str, pd.DataFrame], title: str, run_id: int, store: str) -> None:
    """A sweep's summary: quantiles of the outcomes, the downside, deliveries per year, and
    what moves the fab company's NPV."""
    headline = new_table("figure", "P10", "P50", "P90", "mean", title=title)
    for row in summary["headline"].itertuples(index=False):
        headline.add_row(
            columns.label(row.figure), *(columns.show(row.figure, v) for v in (row.p10, row.p50, row.p90, row.mean))
        )
    show(headline)
    downside = summary["downside"].iloc[0]
    out.print(
        f"Chance the fab company's NPV is below 0: {fmt.percent(downside.p_npv_below_zero)}; "
        f"expected NPV of its worst 10 % of samples: {fmt.usd(downside.expected_shortfall_usd)}"
    )
    print_frame(summary["per_year"], "Accelerators delivered per year", text_columns=1)
    if "checked" in summary:
        checked = summary["checked"]
        short = fmt.percent(checked["shortfall"].iloc[0]) if len(checked) else "–"
        print_frame(
            checked.drop(columns="shortfall"),
            f"Sampled plans on the fab simulator: the chance the fabs put out {short} or more below plan",
            text_columns=1,
        )
    print_frame(
        summary["tornado"][["input", "rank_correlation_with_npv"]],
        "What moves the fab company's NPV most (rank correlation, −1 to 1)",
        text_columns=1,
        names={"rank_correlation_with_npv": "rank correlation"},
    )
    out.print(
        styled(
            f"samples stored with run {run_id} in ",
            (redact(store), "bold"),
            f"; `fabnet report {run_id} --store {redact(store)}` draws them",
        )
    )
