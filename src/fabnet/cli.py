"""The `fabnet` command. Thin: parse options, call the pipeline, print.

Every error a user can cause arrives as a FabnetError and is printed as one message without a
traceback, with exit status 2.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import textwrap
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer
from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Column, Table
from rich.text import Text

import fabnet
from fabnet.chips import DPW_FORMULAS, YIELD_MODELS, Harvest, YieldSpec, die_economics, package_cost
from fabnet.core import columns
from fabnet.core import format as fmt
from fabnet.core.errors import FabnetError
from fabnet.fabsim.rules import RULES, rules_help

if TYPE_CHECKING:
    import pandas as pd

    from fabnet.check import PlanCheck
    from fabnet.finance import Financials
    from fabnet.plan import Plan, SolveOptions
    from fabnet.scenario import Scenario

# The planner, finance and pandas are imported where a command needs them: they take two
# seconds to import, and `--help` or `validate` should not wait for them.

DEFAULT_SCENARIO = Path("scenarios/tigris.yaml")


def load_scenario(file: Path, overrides: Iterable[str] = ()) -> Scenario:
    """fabnet.scenario.load_scenario, imported when a command reads a scenario (pydantic and the
    schema cost `fabnet simulate` a seventh of a second it does not need)."""
    from fabnet.scenario import load_scenario as load

    return load(file, overrides)


app = typer.Typer(
    name="fabnet",
    help=(
        "Plan, simulate and finance a network of AI-chip fabs.\n\n"
        "Start with `fabnet run` on the default scenario, `fabnet validate FILE` on your own, "
        "or `fabnet chips` as a dies-per-wafer and yield calculator. Every command has --help."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)
# Width: the terminal's, else $COLUMNS, else 80 (rich's rule); wide tables are split to fit
# (`show`). Sentences are not broken (soft wrap): the terminal wraps them, and a command or a
# path in one stays whole for copying. Markup and emoji codes are off: file names, ids and values
# a user wrote are printed as they are ("x[/b].yaml", ":warning:"); styles come from Text objects (`styled`).
out = Console(markup=False, emoji=False, highlight=False, soft_wrap=True)
err = Console(stderr=True, markup=False, emoji=False, highlight=False, soft_wrap=True)


def styled(*parts: str | tuple[str, str]) -> Text:
    """Text from plain strings and (string, style) pairs, e.g. styled(("✓", "green"), " done")."""
    return Text.assemble(*parts)


ScenarioFile = Annotated[
    Path, typer.Argument(help="Scenario YAML file, e.g. scenarios/tigris.yaml.", show_default=True)
]
Overrides = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        "-s",
        metavar="PATH=VALUE",
        help="Override a field before validation, e.g. `--set sites.arizona.lead_time_q=14` "
        "(list entries by id or [index]). Repeatable.",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]


@contextmanager
def _user_errors() -> Iterator[None]:
    try:
        yield
    except FabnetError as exc:
        err.print(styled(("error:", "bold red"), f" {exc}"), soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None


def _print_json(data: Any) -> None:
    """One JSON document: a missing number (NaN, an IRR that does not exist) is null, as JSON
    has no NaN; numpy numbers are plain numbers."""
    print(json.dumps(_plain(data), indent=2, allow_nan=False, default=str))


def _records(table_columns: dict[str, Any]) -> list[dict[str, Any]]:
    """A table as columns → one dict per row, as DataFrame.to_dict("records") gives."""
    return [dict(zip(table_columns, row, strict=True)) for row in zip(*table_columns.values(), strict=True)]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _version(value: bool) -> None:
    if value:
        out.print(f"fabnet {fabnet.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Plan, simulate and finance a network of AI-chip fabs."""


# --- validate ------------------------------------------------------------------------------


@app.command()
def validate(file: ScenarioFile, overrides: Overrides = None) -> None:
    """Check a scenario file and print a one-screen summary.

    Exit status 0 when the file is good. Otherwise exit status 2 and one message naming the
    file, the line, the field (e.g. `sites[2].lead_time_q`), what was found and what is
    expected.

    Example: `fabnet validate scenarios/tigris.yaml --set funding.total_usd=1.0e10`
    """
    with _user_errors():
        scenario = load_scenario(file, overrides or ())
    out.print(styled(("✓", "green"), f" {file} is a valid scenario"))
    _print_summary(scenario)


def _print_summary(s: Scenario) -> None:
    h = s.horizon
    periods = h.periods
    out.print(styled((s.name, "bold"), f": {s.description}" if s.description else ""))
    out.print(f"horizon {h.start} → {h.end} ({h.quarters} quarters), seed {s.seed}")
    table = _table("section", "entries", text_columns=2)
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
            f"{fmt.usd(x.capex_per_module_usd.total)}/module, {x.lead_time_q} q build, "
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


@app.command()
def schema(
    markdown: Annotated[bool, typer.Option("--markdown", help="The field reference as Markdown.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The scenario schema as JSON Schema.")] = False,
) -> None:
    """Print the scenario file reference, generated from the schema.

    `fabnet schema --markdown > docs/scenario-reference.md` and
    `fabnet schema --json > docs/scenario.schema.json` regenerate the committed documents
    (a test fails when they fall behind the schema). Point your editor's YAML plugin at the
    JSON Schema to have scenario files checked as you type.
    """
    from fabnet.scenario.reference import json_schema, markdown_reference

    if markdown == as_json:
        raise typer.BadParameter("choose one of --markdown or --json")
    sys.stdout.write(markdown_reference() if markdown else json_schema())


# --- chips ---------------------------------------------------------------------------------


class Formula(str, Enum):
    exact = "exact"
    standard = "standard"
    flynn = "flynn"


class Model(str, Enum):
    poisson = "poisson"
    murphy = "murphy"
    seeds = "seeds"
    negbin = "negbin"
    bose = "bose"


_MODEL_NAMES = {"negbin": "negative_binomial", "bose": "bose_einstein"}
assert {_MODEL_NAMES.get(m.value, m.value) for m in Model} == set(YIELD_MODELS)
assert {f.value for f in Formula} == set(DPW_FORMULAS)


def _positive(value: float | None) -> float | None:
    if value is not None and value <= 0:
        raise typer.BadParameter(f"{value:g} is not greater than 0")
    return value


Positive: dict[str, Any] = {"callback": _positive}
NonNegative: dict[str, Any] = {"min": 0.0}


@app.command()
def chips(
    die_w_mm: Annotated[float | None, typer.Option(help="Die width, mm.", **Positive)] = None,
    die_h_mm: Annotated[float | None, typer.Option(help="Die height, mm.", **Positive)] = None,
    die_mm2: Annotated[
        float | None, typer.Option(help="Die area, mm², for a square die (instead of width × height).", **Positive)
    ] = None,
    wafer_mm: Annotated[float, typer.Option(help="Wafer diameter, mm.", **Positive)] = 300.0,
    edge_mm: Annotated[float, typer.Option(help="Edge exclusion, mm.", **NonNegative)] = 3.0,
    scribe_mm: Annotated[float, typer.Option(help="Scribe street, mm.", **NonNegative)] = 0.1,
    d0: Annotated[float, typer.Option(help="Defect density D0, defects/cm².", **NonNegative)] = 0.1,
    model: Annotated[Model, typer.Option(help="Yield model.")] = Model.negbin,
    alpha: Annotated[float, typer.Option(help="Clustering α of negbin.", **Positive)] = 2.0,
    layers: Annotated[
        float,
        typer.Option(
            help="Complexity factor n of bose: critical layers, a real number "
            "as fitted in the literature (D0 is split over them).",
            **Positive,
        ),
    ] = 1.0,
    dpw_formula: Annotated[
        Formula, typer.Option(help="Gross-die count: exact grid, standard or flynn.")
    ] = Formula.exact,
    wafer_cost: Annotated[float, typer.Option(help="Cost of a processed wafer, USD.", **NonNegative)] = 17000.0,
    units: Annotated[int | None, typer.Option(help="Harvesting: identical units per die.", min=1)] = None,
    max_bad_units: Annotated[int, typer.Option(help="Harvesting: units that may be defective.", min=0)] = 0,
    unit_share: Annotated[float, typer.Option(help="Harvesting: share of die area in units.", min=0.0, max=1.0)] = 1.0,
    dies_per_package: Annotated[int, typer.Option(help="Package: compute dies per accelerator.", min=1)] = 1,
    hbm_stacks: Annotated[int, typer.Option(help="Package: HBM stacks.", min=0)] = 0,
    hbm_cost: Annotated[float, typer.Option(help="Package: cost per HBM stack, USD.", **NonNegative)] = 0.0,
    interposer_cost: Annotated[
        float, typer.Option(help="Package: cost per interposer wafer, USD.", **NonNegative)
    ] = 0.0,
    packages_per_wafer: Annotated[
        float, typer.Option(help="Package: packages per interposer wafer.", **Positive)
    ] = 1.0,
    assembly_cost: Annotated[float, typer.Option(help="Package: assembly and test, USD.", **NonNegative)] = 0.0,
    packaging_yield: Annotated[float, typer.Option(help="Package: packaging yield (0–1].", max=1.0, **Positive)] = 1.0,
    as_json: AsJson = False,
) -> None:
    """Dies per wafer, yield and cost per good die (and per accelerator) for one die.

    Example, an H100-class die:
    `fabnet chips --die-w-mm 26 --die-h-mm 31.3 --d0 0.1 --model negbin --alpha 2 --wafer-cost 17000`

    Square die by area: `fabnet chips --die-mm2 100 --edge-mm 5 --dpw-formula standard`.
    Package cost appears when any package option is given.
    """
    if die_mm2 is not None and (die_w_mm or die_h_mm):
        raise typer.BadParameter("give --die-mm2 or --die-w-mm/--die-h-mm, not both")
    if die_mm2 is not None:
        die_w_mm = die_h_mm = die_mm2**0.5
    if die_w_mm is None or die_h_mm is None:
        raise typer.BadParameter("give the die size: --die-w-mm and --die-h-mm, or --die-mm2")
    if units is not None and max_bad_units >= units:
        raise typer.BadParameter("--max-bad-units must be below --units")
    kind = _MODEL_NAMES.get(model.value, model.value)
    spec = YieldSpec(kind, alpha if kind == "negative_binomial" else None, layers if kind == "bose_einstein" else None)
    harvest = Harvest(units, max_bad_units, unit_share) if units else None
    die = die_economics(
        die_w_mm=die_w_mm,
        die_h_mm=die_h_mm,
        d0_per_cm2=d0,
        wafer_cost_usd=wafer_cost,
        wafer_mm=wafer_mm,
        edge_mm=edge_mm,
        scribe_mm=scribe_mm,
        yield_spec=spec,
        harvest=harvest,
        dpw_formula=dpw_formula.value,
    )
    result: dict[str, Any] = {
        "die_w_mm": die_w_mm,
        "die_h_mm": die_h_mm,
        "die_area_mm2": die_w_mm * die_h_mm,
        "wafer_mm": wafer_mm,
        "edge_mm": edge_mm,
        "scribe_mm": scribe_mm,
        "dpw_formula": dpw_formula.value,
        "model": kind,
        "d0_per_cm2": d0,
        "gross_dies": die.gross_dies,
        "yield": die.die_yield,
        "good_dies": die.good_dies,
        "wafer_cost_usd": wafer_cost,
        "cost_per_good_die": die.cost_per_good_die,
    }
    package_given = any(
        [
            dies_per_package != 1,
            hbm_stacks,
            hbm_cost,
            interposer_cost,
            packages_per_wafer != 1.0,
            assembly_cost,
            packaging_yield != 1.0,
        ]
    )
    if package_given:
        cost = package_cost(
            cost_per_good_die=die.cost_per_good_die,
            dies_per_package=dies_per_package,
            hbm_stacks=hbm_stacks,
            hbm_stack_cost_usd=hbm_cost,
            packaging_wafer_cost_usd=interposer_cost,
            packages_per_wafer=packages_per_wafer,
            assembly_test_cost_usd=assembly_cost,
            packaging_yield=packaging_yield,
        )
        result["cost_per_accelerator"] = cost.total
        result["cost_breakdown"] = {
            "compute_dies": cost.compute_dies,
            "hbm": cost.hbm,
            "interposer": cost.interposer,
            "assembly_test": cost.assembly_test,
            "packaging_loss": cost.yield_loss,
        }
    if as_json:
        _print_json(result)
        return
    table = _table("quantity", "value")
    table.add_row("die", f"{die_w_mm:.3g} × {die_h_mm:.3g} mm = {die_w_mm * die_h_mm:,.1f} mm²")
    table.add_row("wafer", f"{wafer_mm:g} mm, edge {edge_mm:g} mm, scribe {scribe_mm:g} mm")
    table.add_row(f"gross dies ({dpw_formula.value})", f"{die.gross_dies:,}")
    table.add_row(f"yield ({kind}, D0 {d0:g}/cm²)", f"{die.die_yield:.4f}")
    table.add_row("good dies per wafer", f"{die.good_dies:,.2f}")
    table.add_row("cost per good die", _dollars(die.cost_per_good_die))
    if package_given:
        for part, value in result["cost_breakdown"].items():
            table.add_row(f"  {part.replace('_', ' ')}", _dollars(value))
        table.add_row("cost per accelerator", _dollars(result["cost_per_accelerator"]))
    show(table)


def _dollars(amount: float) -> str:
    """Cents matter in the calculator ($1,234.56); no good die at all is none, not $inf."""
    return f"${amount:,.2f}" if math.isfinite(amount) else "– (no good die)"


# --- simulate -----------------------------------------------------------------------------


class Kernel(str, Enum):
    numba = "numba"
    python = "python"


class Conventions(str, Enum):
    fabnet = "fabnet"
    pyscfabsim = "pyscfabsim"


#: The rules of the simulator's registry (fabnet.fabsim.rules), named there once.
SimRule = Enum("SimRule", {name: name for name in RULES}, type=str)  # type: ignore[misc]


@app.command()
def simulate(
    dataset: Annotated[str, typer.Option(help="SMT2020 dataset: HVLM or LVHM.")] = "HVLM",
    data: Annotated[
        Path | None,
        typer.Option(help="Folder holding the dataset (default: $FABNET_SMT2020_DIR, else ../shared/data/smt2020)."),
    ] = None,
    days: Annotated[float, typer.Option(help="Simulated days.", **Positive)] = 90.0,
    rule: Annotated[SimRule, typer.Option(help=f"Dispatching rule: {rules_help()}.")] = SimRule.fifo,  # type: ignore[valid-type]
    seed: Annotated[int, typer.Option(help="Seed of every random stream.", min=0)] = 0,
    warmup_days: Annotated[float, typer.Option(help="Days left out of the statistics.", min=0.0)] = 0.0,
    kernel: Annotated[
        Kernel,
        typer.Option(help="numba (compiled, fast) or python (the readable reference; same results for the same seed)."),
    ] = Kernel.numba,
    conventions: Annotated[
        Conventions,
        typer.Option(
            help="fabnet (this model) or pyscfabsim: the peer PySCFabSim's conventions where the two "
            "differ (which initial-WIP lots start, full batches only, the critical ratio's remaining "
            "time, outages that spare idle tools, a family's PMs at once, its queue-time flag), to "
            "validate against it like for like."
        ),
    ] = Conventions.fabnet,
    curve: Annotated[
        bool,
        typer.Option(
            "--curve",
            help="Operating curve: run at release-rate "
            "multiples 0.5 … 1.05 (empty start) and print cycle time "
            "against bottleneck utilisation.",
        ),
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Simulate one wafer fab of the SMT2020 testbed and report cycle time, throughput, WIP,
    on-time delivery, utilisation and critical queue times.

    Conventions as the peer PySCFabSim: start at t = 0 with the initial WIP; cycle time = done −
    release, a WIP lot's release back-dated to its due date minus its stream's allowance.

    Example: `fabnet simulate --dataset HVLM --days 90 --rule fifo --seed 1`;
    `fabnet simulate --curve --days 120 --warmup-days 60`. The first run compiles the kernel,
    one for every rule (about 15 s, then cached on disk).
    """
    from fabnet.fabsim import SimOptions, kpis, load_smt2020
    from fabnet.fabsim import simulate as run_simulation

    if warmup_days >= days:
        raise typer.BadParameter("--warmup-days must be shorter than --days")
    with _user_errors():
        fab = load_smt2020(dataset, data)
    options = SimOptions(
        days=days,
        rule=rule.value,
        seed=seed,
        warmup_days=warmup_days,
        kernel=kernel.value,
        conventions=conventions.value,
    )
    if curve:
        from fabnet.fabsim.curve import DEFAULT_SCALES, operating_curve

        with _day_progress(days * len(DEFAULT_SCALES), "operating curve") as tick:
            table = operating_curve(fab, dataclasses.replace(options, initial_wip=False), progress=tick)
        if as_json:
            _print_json(table.to_dict("records"))
            return
        _print_frame(table, "Operating curve (release-rate multiple → load and cycle time)")
        return
    with _day_progress(days, f"{dataset} {rule.value}") as tick:
        result = run_simulation(fab, options, progress=lambda day: tick(day, ""))
    k = kpis(fab, result)
    if as_json:
        _print_json(
            {name: _records(k.columns(name)) for name in ("lots", "families", "cqt", "wip")}
            | {"speed": {"lot_steps": result.lot_steps, "events": result.events, "wall_s": result.wall_s}}
        )
        return
    _print_columns(k.columns("lots"), f"{dataset}, {rule.value}, {days:g} days (after {warmup_days:g} warm-up): lots")
    families = k.columns("families")
    busiest = np.argsort(-families["utilisation"], kind="stable")[:10]
    _print_columns({c: v[busiest] for c, v in families.items() if c != "group"}, "Busiest tool families")
    cqt = k.columns("cqt")
    worst = [i for i in np.argsort(-cqt["violations"], kind="stable")[:10] if cqt["violations"][i] > 0]
    if worst:
        _print_columns({c: v[worst] for c, v in cqt.items()}, "Critical queue time violations (worst steps)")
    out.print(
        f"WIP: {k.columns('wip')['lots'].mean():,.0f} lots on average; {result.lot_steps:,} lot-steps, "
        f"{result.events:,} events in {result.wall_s:.1f} s "
        f"({result.lot_steps / max(result.wall_s, 1e-9):,.0f} lot-steps/s)"
    )


DEFAULT_LOADS = "0.3,0.5,0.65,0.75,0.85,0.9,0.95,1.0"


@app.command("load-curve")
def load_curve(
    dataset: Annotated[str, typer.Option(help="SMT2020 dataset: HVLM or LVHM.")] = "HVLM",
    data: Annotated[
        Path | None,
        typer.Option(help="Folder holding the dataset (default: $FABNET_SMT2020_DIR, else ../shared/data/smt2020)."),
    ] = None,
    loads: Annotated[
        str,
        typer.Option(
            help="Loads to simulate, comma-separated: release-rate multiples of the dataset's nominal release."
        ),
    ] = DEFAULT_LOADS,
    seeds: Annotated[int, typer.Option(help="Seeds per load (1, 2, …).", min=1)] = 3,
    days: Annotated[float, typer.Option(help="Simulated days per run.", **Positive)] = 330.0,
    warmup_days: Annotated[float, typer.Option(help="Days left out of the statistics.", min=0.0)] = 90.0,
    save_to: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write the curve and its points to this "
            "JSON file (the planner reads "
            "fabnet/data/load_curves/NAME.json).",
        ),
    ] = None,
) -> None:
    """Fit a load curve — cycle time against load — to simulations of an SMT2020 fab, for the
    planner's load-dependent cycle time.

    Each load runs from the dataset's initial WIP; a run whose WIP still grows after the
    warm-up (by more than 1 % of a day's releases per day) never settles and is kept but not
    fitted. The fit is x_factor = x0 · (1 + a · u^p / (1 − u)): u = 1 is the dataset's nominal
    release, taken as the fab's nominal capacity. Takes about 4 minutes for the defaults.

    Example: `fabnet load-curve --out src/fabnet/data/load_curves/smt2020_hvlm.json`
    """
    from fabnet.fabsim import SimOptions, load_smt2020, operating_curve
    from fabnet.plan.loadcurve import curve_from_rows, save_curve, steady

    if warmup_days >= days:
        raise typer.BadParameter("--warmup-days must be shorter than --days")
    try:
        scales = tuple(float(v) for v in loads.split(","))
    except ValueError:
        raise typer.BadParameter(f"--loads must be numbers separated by commas, not {loads!r}") from None
    with _user_errors():
        fab = load_smt2020(dataset, data)
    options = SimOptions(days=days, warmup_days=warmup_days, initial_wip=True)
    with _day_progress(days * len(scales) * seeds, "load curve") as tick:
        table = operating_curve(fab, options, scales, tick, seeds=range(1, seeds + 1))
    rows = table.rename(columns={"release_scale": "load"}).to_dict("records")
    provenance = {
        "dataset": dataset,
        "rule": options.rule,
        "days": days,
        "warmup_days": warmup_days,
        "seeds": seeds,
        "initial_wip": True,
        "fabnet_version": fabnet.__version__,
        "command": f"fabnet load-curve --dataset {dataset} --loads {loads} --seeds {seeds} "
        f"--days {days:g} --warmup-days {warmup_days:g}",
    }
    curve = curve_from_rows(f"smt2020_{dataset.lower()}", rows, provenance)
    table["fitted"] = steady(rows)
    table["model_x_factor"] = curve.x0 * curve.multiplier(table["release_scale"].clip(upper=0.999))
    _print_frame(table.drop(columns=["bottleneck"]), f"{dataset}: simulated and fitted X-factor")
    out.print(
        f"fit: x_factor = {curve.x0:.3f} · (1 + {curve.a:.4f} · u^{curve.p:g} / (1 − u)); "
        f"saturation (most the fab puts out) u = {curve.saturation:.3f}"
    )
    if save_to is not None:
        save_curve(curve, rows, save_to)
        out.print(f"written to {save_to}")


@contextmanager
def _day_progress(days: float, label: str) -> Iterator[Callable[[float, str], None]]:
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


def _print_frame(frame: pd.DataFrame, title: str, text_columns: int = 2, names: dict[str, str] | None = None) -> None:
    """A table of any frame, headed and written as core.columns says each column means (money
    in one scale per column); `names` renames a column's label, its unit stays."""
    _print_columns({str(c): frame[c].to_numpy() for c in frame.columns}, title, text_columns, names)


def _print_columns(
    table_columns: dict[str, Any], title: str, text_columns: int = 2, names: dict[str, str] | None = None
) -> None:
    """_print_frame for a table as columns (numpy arrays of equal length), without pandas."""
    scales = {
        c: fmt.scale_for(v)
        for c, v in table_columns.items()
        if columns.meaning(c).unit == "usd" and np.asarray(v).dtype.kind in "fi"
    }
    table = _table(
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


# --- wafers and run ------------------------------------------------------------------------


class Period(str, Enum):
    year = "year"
    quarter = "quarter"


@app.command()
def wafers(
    file: ScenarioFile = DEFAULT_SCENARIO,
    overrides: Overrides = None,
    by: Annotated[Period, typer.Option(help="Rows per year or per quarter.")] = Period.year,
    fab_age_q: Annotated[
        float | None,
        typer.Option(help="Yield of a fab this many quarters into production (default: mature D0).", min=0),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Accelerators → wafers: what each product's demand needs in wafer starts and interposer
    wafers, with dies per wafer, yield and cost per accelerator.

    Example: `fabnet wafers scenarios/tigris.yaml --by quarter --fab-age-q 0` (a new fab's yield).
    """
    from fabnet.pipeline import product_economics, wafer_demand

    with _user_errors():
        scenario = load_scenario(file, overrides or ())
    economics = product_economics(scenario, fab_age_q)
    table = wafer_demand(scenario, fab_age_q)
    if as_json:
        _print_json({"economics": economics.to_dict("records"), "wafers": table.to_dict("records")})
        return
    _print_wafer_report(scenario, economics, table, by, fab_age_q)


Gap = Annotated[float, typer.Option(help="Relative MIP gap at which HiGHS may stop.", min=0.0, max=1.0)]
TimeLimit = Annotated[float, typer.Option(help="Solver time limit, seconds.", callback=_positive)]


class CycleTime(str, Enum):
    load = "load"
    constant = "constant"


CycleTimeOption = Annotated[
    CycleTime,
    typer.Option(
        help="load: an own fab's cycle time grows with its load (the node's load curve, fitted to "
        "fab simulations; output limited by a clearing function); constant: the raw cycle "
        "time (mask layers × days per layer) at any load."
    ),
]


@app.command()
def plan(
    file: ScenarioFile = DEFAULT_SCENARIO,
    overrides: Overrides = None,
    cycle_time: CycleTimeOption = CycleTime.load,
    gap: Gap = 0.01,
    time_limit: TimeLimit = 60.0,
    threads: Annotated[int | None, typer.Option(help="Solver threads (default: HiGHS decides).", min=1)] = None,
    as_json: AsJson = False,
) -> None:
    """Plan the fab network: which modules to build where and when, what each source makes,
    delivered versus demand, the fab company's budget, and its NPV.

    The planner minimises the whole system's discounted cost — the fab company's and the
    buyer's, what the buyer pays the fab company cancelling out — plus what unmet demand costs
    the buyer, within the fab company's budget. That objective is printed as "system cost";
    the fab company's NPV comes from finance, the same as `fabnet finance` and `fabnet run`.

    Exit status 0 with a plan; 2 for a bad scenario; 3 when no plan can meet the budget and
    policies (the message names the constraint, the quarter and the numbers). A plan stopped
    by the time limit says so and shows its gap; it is never called optimal.

    Example: `fabnet plan scenarios/tigris.yaml --gap 0.005 --set sites.arizona.mandatory=true`
    """
    from fabnet.pipeline import plan_finance
    from fabnet.plan import SolveOptions

    with _user_errors():
        scenario = load_scenario(file, overrides or ())
        result = _solve_with_status(scenario, SolveOptions(time_limit, gap, threads), cycle_time.value)
    money = plan_finance(scenario, result)
    if as_json:
        _print_json(_plan_json(result, money))
        return
    _print_plan(scenario, result, money)


@app.command()
def finance(
    file: ScenarioFile = DEFAULT_SCENARIO,
    overrides: Overrides = None,
    gap: Gap = 0.01,
    time_limit: TimeLimit = 60.0,
    as_json: AsJson = False,
) -> None:
    """Plan the network, then follow its money for both parties: the fab company's cash flows
    per year, NPV, IRR, gross margin, payback and peak funding need, and per investor what is
    committed, called and received, with IRR and multiple; the buyer's costs against the market
    price of its accelerators. Funding gaps are named by quarter.

    Example: `fabnet finance scenarios/tigris.yaml --set funding.reinvest_operating_cash=false`
    """
    from fabnet.pipeline import plan_finance
    from fabnet.plan import SolveOptions

    with _user_errors():
        scenario = load_scenario(file, overrides or ())
        result = _solve_with_status(scenario, SolveOptions(time_limit, gap))
    money = plan_finance(scenario, result)
    if as_json:
        _print_json(
            {
                "metrics": money.metrics,
                "messages": money.messages,
                "investors": money.fabco.investors.to_dict("records"),
                "fabco_quarterly": money.fabco.quarterly.to_dict("records"),
                "investor_flows": money.fabco.investor_flows.to_dict("records"),
                "buyer_quarterly": money.buyer.quarterly.to_dict("records"),
                "buyer_products": money.buyer.products.to_dict("records"),
            }
        )
        return
    out.print(f"Plan: {result.result.describe()}")
    _print_finance(scenario, money)


LabelOption = Annotated[
    str | None,
    typer.Option(
        help="A few words stored with the run, shown by `runs list`, comparisons and the dashboard, "
        'e.g. --label "base case".'
    ),
]
StorePath = Annotated[
    str,
    typer.Option(
        "--store",
        help="Results store: a DuckDB file (created when a run is stored), or a PostgreSQL "
        "address postgresql://user:password@host/database for a team.",
    ),
]


@app.command()
def run(
    file: ScenarioFile = DEFAULT_SCENARIO,
    overrides: Overrides = None,
    store: StorePath = "fabnet.duckdb",
    report_dir: Annotated[
        Path, typer.Option(help="Folder for the HTML report (named after the store and the run: fabnet-run-3.html).")
    ] = Path("reports"),
    label: LabelOption = None,
    cycle_time: CycleTimeOption = CycleTime.load,
    check: Annotated[
        bool,
        typer.Option(
            help="Check the plan on the fab simulator: the busiest own "
            "fab simulated at its planned load (SMT2020 HVLM, when the "
            "data is there; ~10 s)."
        ),
    ] = True,
) -> None:
    """The main job (default scenario: scenarios/tigris.yaml): validate → plan, and plan
    without fabs (the counterfactual) → both parties' money → the deal → plan check on the fab
    simulator → fab simulation (if the scenario has a `simulation:` section) → store → report.

    Prints the decision figures first — what the network adds against the foundry route, the
    fab company's NPV and IRR, each investor's IRR, the buyer's cost per accelerator against
    the market, the deal's price range — then the builds, the other key figures and where the
    report and the store are. Every run is kept in the store: `fabnet runs list`, `fabnet runs
    compare A B`, `fabnet serve`.

    Example: `fabnet run scenarios/tigris.yaml --set offtake.share_of_market_price=1.0`
    """
    from fabnet.pipeline import main_job
    from fabnet.plan import SolveOptions

    with _user_errors():
        scenario = load_scenario(file, overrides or ())
        out.print(
            styled(
                ("✓", "green"),
                f" {file} is a valid scenario: {scenario.name}, {scenario.horizon.start} → {scenario.horizon.end}",
            )
        )
        with err.status("starting…") as status:
            job = main_job(
                scenario,
                store,
                SolveOptions(),
                step=lambda name: status.update(f"{scenario.name}: {name}…"),
                cycle_time=cycle_time.value,
                check=check,
                label=label,
            )
            status.update(f"{scenario.name}: writing the report…")
            report_path, report_problem = _write_run_report(store, job.run_id, report_dir)
    out.print(f"Plan: {job.plan.result.describe()}")
    figures = dict(job.figures)
    show(
        _figures_table(
            "Decision: what the network adds, and for whom", {k: figures.pop(k) for k in list(job.decision.figures())}
        )
    )
    for sentence in job.decision.sentences():
        out.print(f"  • {sentence}")
    show(_builds_table(job.plan))
    show(_figures_table("Key figures", figures))
    if job.check is not None:
        show(_check_table(job.check))
    for message in job.messages:
        if message not in job.decision.sentences():
            out.print(f"  • {message}")
    if job.run_id is None:
        err.print(styled(("not stored:", "bold red"), f" {job.store_error}"), soft_wrap=True)
        out.print(
            styled(
                "the run is kept in ",
                (str(job.archive), "bold"),
                f": `fabnet runs import {job.archive} --store {store}` stores it, then `fabnet report ID` draws it",
            )
        )
        raise typer.Exit(INCOMPLETE)
    if report_problem is not None:
        err.print(styled(("no report:", "bold red"), f" {report_problem}"), soft_wrap=True)
        out.print(
            styled(
                f"run {job.run_id} stored in ",
                (str(job.store), "bold"),
                f"; `fabnet report {job.run_id} --store {store}` writes its report",
            )
        )
        raise typer.Exit(INCOMPLETE)
    out.print(
        styled(f"run {job.run_id} stored in ", (str(job.store), "bold"), "; report: ", (str(report_path), "bold"))
    )


#: Exit status of a run whose work is done but not all kept where asked (stored elsewhere, or
#: stored without its report); the message says how to finish.
INCOMPLETE = 4


def _write_run_report(store: str, run_id: int | None, folder: Path) -> tuple[Path | None, str | None]:
    """The report of a stored run, or why it could not be written (the run stays stored)."""
    from fabnet.report import report_name, write_report
    from fabnet.store import open_store

    if run_id is None:
        return None, None
    try:
        with open_store(store, read_only=True) as reader:
            return write_report(reader.run(run_id), folder / report_name(store, run_id)), None
    except FabnetError as problem:
        return None, str(problem)


@app.command()
def deal(
    file: ScenarioFile = DEFAULT_SCENARIO,
    overrides: Overrides = None,
    low: Annotated[
        float, typer.Option(help="Lowest offtake price to show, as a share of the market wafer price.", min=0.0)
    ] = 0.2,
    high: Annotated[
        float, typer.Option(help="Highest offtake price to show, as a share of the market wafer price.", min=0.0)
    ] = 1.5,
    steps: Annotated[int, typer.Option(help="Prices shown between --low and --high.", min=2)] = 14,
    store: Annotated[
        str | None, typer.Option("--store", help="Also store the deal as a run (kind: deal) in this results store.")
    ] = None,
    label: LabelOption = None,
    as_json: AsJson = False,
) -> None:
    """The deal between the fab company's investors and the buyer: for the offtake wafer price
    from low to high (a share of the market wafer price), each investor's IRR, the fab
    company's NPV and the buyer's gain against the foundry route; then the price range in
    which every investor clears its hurdle (`hurdle_rate`) and the buyer still gains — or why
    no such range exists and which figure closes it.

    The plan (builds and operations) is the scenario's, held fixed while the price moves; the
    foundry route is the same scenario planned without any fab (one more solve).

    Example: `fabnet deal scenarios/tigris.yaml --low 0.5 --high 1.2 --steps 8`
    """

    from fabnet.pipeline import decide, main_job

    if high <= low:
        raise typer.BadParameter("--high must be above --low")
    with _user_errors():
        scenario = load_scenario(file, overrides or ())
        with err.status(f"{scenario.name}: planning with and without fabs…"):
            shares = tuple(float(v) for v in np.linspace(low, high, steps))
            if store is None:
                result = decide(scenario, deal_shares=shares).deal
            else:
                job = main_job(scenario, store, check=False, label=label, kind="deal", deal_shares=shares)
                result = job.decision.deal
    if as_json:
        _print_json(
            {
                "low_share": result.low,
                "high_share": result.high,
                "exists": result.exists,
                "market_price_usd": result.market_price_usd,
                "verdict": result.verdict,
                "points": result.points.to_dict("records"),
                "investors": result.investors.to_dict("records"),
            }
        )
        return
    # one column per investor, an IRR that never exists included (never called, no sign change)
    investors = result.investors.set_index(["share_of_market", "investor"])["irr"].unstack()
    names = [i.id for i in scenario.funding.investors]
    hurdles = result.investors.groupby("investor")["hurdle"].first()
    table = _table(
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
    if store is not None:
        if job.run_id is None:
            err.print(styled(("not stored:", "bold red"), f" {job.store_error}; kept in {job.archive}"))
            raise typer.Exit(INCOMPLETE)
        out.print(styled(f"deal stored as run {job.run_id} in ", (str(store), "bold")))


@app.command()
def risk(
    file: ScenarioFile = DEFAULT_SCENARIO,
    overrides: Overrides = None,
    samples: Annotated[int, typer.Option(help="Number of samples.", min=1)] = 100,
    seed: Annotated[int | None, typer.Option(help="Sampling seed (default: the scenario's).", min=0)] = None,
    method: Annotated[str, typer.Option(help="lhs (Latin hypercube) or sobol.")] = "lhs",
    reoptimise: Annotated[
        bool,
        typer.Option(
            "--reoptimise",
            help="Plan and finance every sample anew, "
            "in parallel (default: keep the base plan's builds and "
            "recompute outcomes with numpy, thousands a second).",
        ),
    ] = False,
    workers: Annotated[int, typer.Option(help="Local worker processes.", min=1)] = 2,
    dask_local: Annotated[
        int | None, typer.Option(help="Start a Dask LocalCluster with this many workers.", min=1)
    ] = None,
    scheduler: Annotated[str | None, typer.Option(help="Use an existing Dask cluster, e.g. tcp://host:8786.")] = None,
    resume: Annotated[int | None, typer.Option(help="Finish the sweep of a stored run that was interrupted.")] = None,
    check_plan: Annotated[
        bool,
        typer.Option(
            "--check", help="Also check the base plan on the fab simulator (SMT2020 data), as `fabnet run` does."
        ),
    ] = False,
    store: StorePath = "fabnet.duckdb",
    label: LabelOption = None,
) -> None:
    """Monte-Carlo over the scenario's `uncertainty:` section: P10/P50/P90 of the fab company's
    NPV, the buyer's net value and accelerators delivered per year, the chance of meeting 90 %
    of demand each year, the shortfall, and which inputs move the fab company's NPV most.

    Each sample is written to the store as it finishes; a sweep that is stopped resumes with
    `--resume RUN` and ends with exactly the samples of an uninterrupted one.

    Example: `fabnet risk scenarios/tigris.yaml --samples 200 --reoptimise --workers 2`
    (or `--dask-local 4`, or `--scheduler tcp://host:8786`).
    """
    import time

    import pandas as pd
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from fabnet.pipeline import main_job, store_rows, stored_rows
    from fabnet.risk import METHODS, SAMPLES_TABLE, SweepSpec, draw, make_executor, run_sweep, summarise
    from fabnet.risk.runner import missing_samples
    from fabnet.risk.summary import inputs_table

    if method not in METHODS:
        raise typer.BadParameter(f"--method must be one of {', '.join(METHODS)}")
    with _user_errors():
        if resume is None:
            scenario = load_scenario(file, overrides or ())
            if not scenario.uncertainty:
                raise typer.BadParameter(f"{file} has no uncertainty section to sample")
            spec = SweepSpec(samples, scenario.seed if seed is None else seed, method)
            # a draw out of a field's range stops the sweep here, before a run is stored
            draw(scenario, spec.samples, spec.seed, spec.method)
            with err.status("planning the base case…"):
                base = main_job(scenario, store, label=label, kind="risk", check=check_plan)
            run_id, plan = base.run_id, base.decision.plan
            store_rows(store, run_id, "risk_spec", pd.DataFrame([spec.__dict__]))
            store_rows(store, run_id, "risk_inputs", inputs_table(scenario))
        else:
            run_id, scenario, spec = resume, *_stored_sweep(store, resume)
            plan = None
        if not reoptimise:
            _fixed_plan_sweep(scenario, run_id, store, spec, plan)
            return
        with (
            Progress(
                TextColumn("samples"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(),
                console=err,
                transient=True,
                disable=not err.is_terminal,
            ) as bar,
            make_executor(workers, dask_local, scheduler) as executor,
        ):
            task = bar.add_task("samples", total=spec.samples, rate="")
            bar.update(task, completed=spec.samples - len(missing_samples(store, run_id, spec)))
            started = time.perf_counter()

            def advance(done: int, total: int) -> None:
                rate = done / max(time.perf_counter() - started, 1e-9)
                bar.update(task, completed=spec.samples - total + done, rate=f"{rate:.2f}/s")

            run_sweep(scenario, run_id, store, spec, executor, progress=advance)
    _print_risk(
        summarise(scenario, stored_rows(store, run_id, SAMPLES_TABLE)),
        f"Risk of run {run_id}: {spec.samples} samples ({spec.method}, seed {spec.seed})",
        run_id,
        store,
    )


def _print_risk(summary: dict[str, pd.DataFrame], title: str, run_id: int, store: str) -> None:
    """A sweep's summary: quantiles of the outcomes, the downside, deliveries per year, and
    what moves the fab company's NPV."""
    headline = _table("figure", "P10", "P50", "P90", "mean", title=title)
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
    _print_frame(summary["per_year"], "Accelerators delivered per year", text_columns=1)
    _print_frame(
        summary["tornado"][["input", "rank_correlation_with_npv"]],
        "What moves the fab company's NPV most (rank correlation, −1 to 1)",
        text_columns=1,
        names={"rank_correlation_with_npv": "rank correlation"},
    )
    out.print(
        styled(
            f"samples stored with run {run_id} in ",
            (str(store), "bold"),
            f"; `fabnet report {run_id} --store {store}` draws them",
        )
    )


def _fixed_plan_sweep(scenario: Scenario, run_id: int, store: Path, spec, plan=None) -> None:  # type: ignore[no-untyped-def]
    """Keep the base plan's builds (planned again only when a sweep is resumed); recompute
    every sample's outcomes at once."""
    from fabnet.pipeline import plan_network, store_rows, stored_rows
    from fabnet.plan import SolveOptions
    from fabnet.risk import SAMPLES_TABLE, draw, summarise
    from fabnet.risk.fixed import Unsupported, evaluate_fixed

    with err.status(f"{spec.samples} samples on the fixed plan…"):
        plan = plan if plan is not None else plan_network(scenario, SolveOptions())
        try:
            rows = evaluate_fixed(scenario, plan, draw(scenario, spec.samples, spec.seed, spec.method))
        except Unsupported as exc:
            raise FabnetError(f"{exc}") from None
        kept = stored_rows(store, run_id, SAMPLES_TABLE)
        if kept is None or kept.empty:  # the table exists as soon as any run of the store has samples
            store_rows(store, run_id, SAMPLES_TABLE, rows)
    _print_risk(
        summarise(scenario, rows),
        f"Risk of run {run_id} (builds fixed): {spec.samples} samples ({spec.method}, seed {spec.seed})",
        run_id,
        str(store),
    )


def _stored_sweep(store: Path, run_id: int):  # type: ignore[no-untyped-def]
    """The scenario and sweep settings of a stored run, to resume it."""
    from fabnet.api import scenario_of
    from fabnet.risk import SweepSpec
    from fabnet.store import open_store

    with open_store(store, read_only=True) as s:
        stored = s.run(run_id)
    spec_table = stored.tables.get("risk_spec")
    if spec_table is None or spec_table.empty:
        raise FabnetError(f"run {run_id} in {store} is not a risk sweep; start one with `fabnet risk FILE`")
    row = spec_table.iloc[0]
    return scenario_of(stored), SweepSpec(int(row["samples"]), int(row["seed"]), str(row["method"]))


# --- data ---------------------------------------------------------------------------------

data_app = typer.Typer(
    help="Data fabnet can fetch: the SMT2020 testbed for the fab simulator and the plan check.", no_args_is_help=True
)
app.add_typer(data_app, name="data")


class Testbed(str, Enum):
    smt2020 = "smt2020"


class WhichDataset(str, Enum):
    all = "all"
    HVLM = "HVLM"
    LVHM = "LVHM"


@data_app.command("fetch")
def data_fetch(
    testbed: Annotated[Testbed, typer.Argument(help="What to fetch: smt2020, the SMT2020 testbed.")],
    dataset: Annotated[
        WhichDataset, typer.Option(help="HVLM (high volume, low mix), LVHM, or all.")
    ] = WhichDataset.all,
    to: Annotated[
        Path | None,
        typer.Option(
            help="Folder to install into (default: your per-user data "
            "folder, which fabnet searches; else point "
            "FABNET_SMT2020_DIR at it)."
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Where to fetch from: a URL or a folder laid "
            "out as DATASET/FILE, or a template with {dataset} and {file} "
            "(default: the public mirror in PySCFabSim's repository).",
        ),
    ] = None,
) -> None:
    """Download the SMT2020 testbed, verify every file against the SHA-256 sums fabnet ships,
    and install it where fabnet looks: the fab simulator (`fabnet simulate`) and the plan check
    of `fabnet run` then work on this machine.

    All or nothing: a dropped connection or a file that differs from the published one leaves
    nothing installed and says which file. Origin of the files: fabnet.fabsim.fetch.

    Example: `fabnet data fetch smt2020`; `fabnet data fetch smt2020 --dataset HVLM --from
    http://mirror.internal/smt2020`.
    """
    from fabnet.fabsim.fetch import DATASETS, fetch

    names = DATASETS if dataset is WhichDataset.all else (dataset.value,)
    with _user_errors():
        for name in names:
            with _byte_progress(f"SMT2020 {name}") as tick:
                folder = fetch(name, to, source, tick)
            out.print(f"SMT2020 {name}: verified and installed in {folder}")


@data_app.command("list")
def data_list() -> None:
    """Where fabnet finds each SMT2020 dataset, and whether its files are the published ones."""
    from fabnet.fabsim.fetch import FETCH_COMMAND, survey

    table = _table("dataset", "folder", "verifies", title="SMT2020 testbed", text_columns=3)
    missing = False
    for found in survey():
        missing |= found.folder is None or bool(found.problems)
        verdict = "–" if found.folder is None else ("yes" if not found.problems else "; ".join(found.problems))
        table.add_row(found.dataset, str(found.folder) if found.folder else "not found", verdict)
    show(table)
    if missing:
        out.print(f"`{FETCH_COMMAND}` downloads, verifies and installs the testbed.")


@contextmanager
def _byte_progress(label: str) -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar in bytes on a terminal; silent otherwise."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    if not err.is_terminal:
        yield lambda file, done, total: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), console=err, transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda file, done, total: bar.update(task, completed=done, total=total, description=f"{label} {file}")


runs_app = typer.Typer(help="Runs kept in the results store: list, show, compare, import.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")

ReadStore = Annotated[
    str,
    typer.Option(
        "--store",
        help="Results store to read: the DuckDB file `fabnet run` wrote, or a PostgreSQL "
        "address postgresql://user:password@host/database.",
    ),
]
RunId = Annotated[int, typer.Argument(help="Run id (see `fabnet runs list`).")]


@runs_app.command("list")
def runs_list(store: ReadStore = "fabnet.duckdb") -> None:
    """Every run in the store, oldest first, one line each: id, label, kind (run, risk, deal),
    scenario, when (UTC, to the minute), the fab company's NPV."""
    from fabnet.store import open_store

    with _user_errors(), open_store(store, read_only=True) as s:
        runs = s.runs()
    runs["created_at"] = runs["created_at"].map(fmt.minute)
    _print_frame(runs.rename(columns={"scenario_name": "scenario"}), f"Runs in {store}", text_columns=5)


@runs_app.command("import")
def runs_import(
    file: Annotated[Path, typer.Argument(help="A run kept in a file (.fabnetrun) when no store would take it.")],
    store: StorePath = "fabnet.duckdb",
) -> None:
    """Store a run that `fabnet run` kept in a file of its own (the store was busy, full or could
    not be written), as a new run with its original time and figures.

    Example: `fabnet runs import tigris-20261202T101500.fabnetrun --store fabnet.duckdb`
    """
    from fabnet.store import open_store
    from fabnet.store.archive import read_archive

    with _user_errors():
        meta, tables = read_archive(file)
        with open_store(store) as s:
            run_id = s.save_run(meta, tables)
    out.print(
        styled(
            f"{file} stored as run {run_id} in ",
            (str(store), "bold"),
            f"; `fabnet report {run_id} --store {store}` draws it",
        )
    )


@runs_app.command("show")
def runs_show(run_id: RunId, store: ReadStore = "fabnet.duckdb") -> None:
    """A run's provenance (label, kind, scenario file and overrides) and key figures."""
    from fabnet.store import open_store
    from fabnet.store.export import overrides_of

    with _user_errors(), open_store(store, read_only=True) as s:
        stored = s.run(run_id)
    table = _table("", "value", text_columns=2)
    meta = stored.meta
    about = {
        "run": str(run_id),
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
    for key, value in about.items():
        table.add_row(key, value)
    show(table)
    show(_figures_table("Key figures", stored.figures))


@runs_app.command("compare")
def runs_compare(
    run_ids: Annotated[list[int], typer.Argument(help="Two or more run ids, the first the base.")],
    store: ReadStore = "fabnet.duckdb",
) -> None:
    """What differs between runs: first their inputs (every scenario value that differs, by its
    --set path, and the overrides and labels), then their key figures, with the difference when
    two are compared.

    Example: `fabnet runs compare 1 2` or `fabnet runs compare 1 2 3`.
    """
    from fabnet.store import open_store
    from fabnet.store.compare import distinct, figure_differences, input_differences

    ids = distinct(run_ids)
    with _user_errors(), open_store(store, read_only=True) as s:
        runs = [s.run(i) for i in ids]
    if len(run_ids) < 2:
        raise typer.BadParameter("give two or more run ids, e.g. `fabnet runs compare 1 2`")
    if len(runs) < 2:
        out.print(f"run {ids[0]} compared with itself: nothing differs.")
        return
    names = [run.name for run in runs]
    inputs = input_differences(runs)
    view = _table(
        "input", *names, title=f"Inputs: what differs between {', '.join(names)}", text_columns=len(names) + 1
    )
    for row in inputs.itertuples(index=False):
        view.add_row(*row)
    if inputs.empty:
        view.add_row("(none: the same scenario, label and overrides)", *[""] * len(names))
    show(view)
    figures = figure_differences(runs)
    extra = ["difference"] if len(runs) == 2 else []
    view = _table("figure", *names, *extra, title="Key figures")
    for row in figures.itertuples(index=False):
        key, values = row[0], list(row[1 : 1 + len(runs)])
        cells = [columns.show(key, v) for v in values]
        if extra:
            cells.append(columns.show_difference(key, values[0], values[1], row[-1]))
        view.add_row(columns.label(key), *cells)
    show(view)


@app.command()
def export(
    run_id: RunId,
    store: ReadStore = "fabnet.duckdb",
    format: Annotated[
        str,
        typer.Option("--format", help="xlsx (one workbook, a sheet per table), csv or parquet (a folder of files)."),
    ] = "xlsx",
    folder: Annotated[Path, typer.Option("--out", help="Folder to write into.")] = Path("exports"),
) -> None:
    """Write every table of a stored run, with its inputs (the resolved scenario as path/value
    rows, the overrides, provenance), for Excel, pandas or anything that reads CSV or Parquet.

    In the workbook money is a number formatted as money, shares as percentages, and each
    heading names its unit ("capex building (USD)"); CSV and Parquet keep the stored column
    names (their suffix is the unit: _usd, _days) beside a `columns` legend.

    Example: `fabnet export 3 --format xlsx --out exports`, then in pandas
    `pd.read_excel("exports/run-3.xlsx", sheet_name=None)`.
    """
    from fabnet.store import open_store
    from fabnet.store.export import FORMATS, export_run

    if format not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}")
    with _user_errors():
        with open_store(store, read_only=True) as s:
            stored = s.run(run_id)
        path = export_run(stored, folder, format)
    out.print(styled(f"run {run_id} exported to ", (str(path), "bold")))


@app.command()
def report(
    run_id: RunId,
    store: ReadStore = "fabnet.duckdb",
    output: Annotated[
        Path | None, typer.Option(help="HTML file to write (default: reports/STORE-run-ID.html).")
    ] = None,
) -> None:
    """Write the self-contained HTML report of a stored run (plotly.js inlined: opens offline)."""
    from fabnet.report import report_name, write_report
    from fabnet.store import open_store

    with _user_errors(), open_store(store, read_only=True) as s:
        path = write_report(s.run(run_id), output or Path("reports") / report_name(store, run_id))
    out.print(styled("report: ", (str(path), "bold")))


@app.command()
def serve(
    store: ReadStore = "fabnet.duckdb",
    host: Annotated[str, typer.Option(help="Address to bind; loopback unless you say otherwise.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8050,
) -> None:
    """A read-only web dashboard over the store: the runs, a run's report, runs compared, a
    run's tables as a workbook.

    Example: `fabnet serve --store fabnet.duckdb`, then open http://127.0.0.1:8050
    """
    import socket

    import uvicorn

    from fabnet.web import create_app

    with _user_errors():
        application = create_app(store)
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


def _solve_with_status(scenario: Scenario, options: SolveOptions, cycle_time: str = "load") -> Plan:
    from fabnet.pipeline import plan_network

    with err.status(
        f"Planning {scenario.name}: building the model and solving with HiGHS "
        f"(gap {options.mip_gap:.1%}, limit {options.time_limit_s:g} s)…"
    ):
        return plan_network(scenario, options, cycle_time)


def _plan_json(p: Plan, money: Financials) -> dict[str, Any]:
    tables = ("builds", "packaging_builds", "supply", "production", "capacity", "foundry", "packaging", "hbm", "budget")
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
        "fabco_npv_usd": money.fabco.metrics["fabco_npv_usd"],
        "messages": p.messages,
        **{name: getattr(p, name).to_dict("records") for name in tables},
    }


def _figures_table(title: str, figures: dict[str, object]) -> Table:
    table = _table("figure", "value", title=title)
    for key, value in figures.items():
        table.add_row(columns.label(key), columns.show(key, value))
    return table


def _builds_table(p: Plan) -> Table:
    """Fab modules and packaging expansions the plan starts, and when they come online."""
    builds = _table("site", "node", "modules", "started", "online", title="Fabs built", text_columns=2)
    for row in p.builds.itertuples():
        builds.add_row(row.site, row.node, str(row.modules), row.started, row.online)
    for row in p.packaging_builds.itertuples():
        builds.add_row(f"{row.line} (packaging)", "", str(row.modules), row.started, row.online)
    if not len(p.builds) and not len(p.packaging_builds):
        builds.add_row("none: foundry capacity and secured packaging are cheaper", "", "", "", "")
    return builds


def _print_plan(scenario: Scenario, p: Plan, money: Financials) -> None:
    style = "green" if p.optimal else "yellow"
    out.print(styled("\n", ("Plan", "bold"), ": ", (p.result.describe(), style)))
    show(_builds_table(p))

    supply = p.supply.groupby(["product", "year"], sort=False)[["demand", "made", "bought", "delivered", "unmet"]].sum()
    delivered = _table(
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
    _print_frame(
        budget,
        "The fab company's budget per year, as planned (nominal)",
        1,
        FINANCE_NAMES | {"grants_usd": "grants+credits"},
    )
    out.print(
        f"Fab company NPV at {fmt.percent(scenario.finance.discount_rate)}: "
        f"{fmt.usd(money.fabco.metrics['fabco_npv_usd'])} (finance, as `fabnet finance` and `fabnet run`); "
        f"planner objective: system cost {fmt.usd(p.objective_usd)} (present value)"
    )
    if p.messages:
        out.print(styled(("Shortfalls", "bold")))
        for message in p.messages:
            out.print(f"  • {message}")
    else:
        out.print("All demand is met.")


def _check_table(check: PlanCheck) -> Table:
    """The plan check per year: the checked fab's load, wafer output and cycle time, planned
    against simulated."""
    table = _table(
        "year",
        "mean load",
        "wafers out: planned",
        "simulated",
        "cycle time, days: planned",
        "simulated",
        title=f"Plan check: {check.site} ({check.node}) simulated at its planned load (SMT2020 {check.dataset})",
    )
    q = check.quarters.assign(year=check.quarters["quarter"].str[:4])
    for year, rows in q.groupby("year", sort=False):
        running = rows[rows["wafer_starts"] > 0]
        table.add_row(
            year,
            f"{running['load'].mean():.0%}" if len(running) else "–",
            f"{rows['planned_output'].sum():,.0f}",
            f"{rows['simulated_output'].sum():,.0f}",
            _mean_days(running["planned_cycle_days"]),
            _mean_days(running["simulated_cycle_days"]),
        )
    return table


def _mean_days(days: pd.Series) -> str:
    return "–" if days.isna().all() else f"{days.mean():.0f}"


def _print_fab_load(p: Plan) -> None:
    """Per own fab and year: how loaded it is and the cycle time the plan expects."""
    running = p.capacity[p.capacity["wafer_starts"] > 0]
    if running.empty:
        return
    table = _table(
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


def _print_finance(scenario: Scenario, money: Financials) -> None:
    import pandas as pd

    q = money.fabco.quarterly.groupby("year").sum(numeric_only=True)
    fabco = pd.DataFrame(
        {
            "year": q.index.astype(str),
            "revenue_usd": q.revenue_usd,
            "take_or_pay_usd": q.take_or_pay_usd,
            "opex_usd": q.opex_usd + q.fixed_opex_usd + q.operator_fees_usd,
            "capex_usd": q.capex_building_usd + q.capex_tools_usd,
            "grants_usd": q.grants_usd + q.itc_usd,
            "tax_usd": q.tax_usd,
            "project_fcf_usd": q.project_fcf_usd,
            "equity_calls_usd": q.equity_calls_usd,
            "debt_draws_usd": q.debt_draws_usd,
            "distributions_usd": q.distributions_usd,
        }
    )
    _print_frame(fabco, "The fab company: cash flows per year", 1, FINANCE_NAMES)
    m = money.fabco.metrics
    out.print(
        f"Fab company: NPV at {fmt.percent(scenario.finance.discount_rate)} {fmt.usd(m['fabco_npv_usd'])} · "
        f"IRR {fmt.irr(m['fabco_irr'])} · gross margin {fmt.percent(m['fabco_gross_margin'])} · "
        f"payback {m['payback_quarter'] or 'not within the horizon'} · peak funding need "
        f"{fmt.usd(m['peak_funding_need_usd'])} (end-of-horizon book value "
        f"{fmt.usd(m['terminal_book_value_usd'])} included)"
    )
    investors = money.fabco.investors.assign(
        irr=[r.irr if r.called_usd > 0 else None for r in money.fabco.investors.itertuples()]
    )
    _print_frame(
        investors[["investor", "kind", "committed_usd", "called_usd", "received_usd", "irr", "hurdle", "multiple"]],
        "Investors",
    )
    for note in [m.get("fabco_irr_note"), *money.fabco.investors["irr_note"]]:
        if note:
            out.print(f"  • {note}")
    b = money.buyer.quarterly.groupby("year").sum(numeric_only=True)
    buyer = pd.DataFrame(
        {
            "year": b.index.astype(str),
            "fabco_wafers_usd": b.fabco_wafers_usd,
            "foundry_usd": b.foundry_usd,
            "design_usd": b.design_usd + b.masks_usd,
            "hbm_usd": b.hbm_usd,
            "packaging_usd": b.packaging_usd + b.packaging_capex_usd,
            "bought_usd": b.bought_usd,
            "delivered": b.delivered,
            "market_value_usd": b.market_value_usd,
        }
    )
    _print_frame(buyer, "The buyer: costs per year", 1, FINANCE_NAMES)
    _print_frame(
        money.buyer.products[["product", "kind", "delivered", "cost_per_accelerator_usd", "market_price_usd"]],
        "The buyer per product (levelised)",
    )
    for message in money.messages:
        out.print(styled((f"  • {message}", "yellow")))


#: Short labels of the yearly money tables (the sums of several stored columns).
FINANCE_NAMES = {
    "take_or_pay_usd": "of it take-or-pay",
    "opex_usd": "opex",
    "grants_usd": "grants+ITC",
    "project_fcf_usd": "project FCF",
    "equity_calls_usd": "equity called",
    "debt_draws_usd": "debt drawn",
    "distributions_usd": "distributed",
    "fabco_wafers_usd": "fab company wafers",
    "foundry_usd": "foundry",
    "design_usd": "design+masks",
    "hbm_usd": "HBM",
    "packaging_usd": "packaging",
    "bought_usd": "bought",
    "market_value_usd": "market value",
    "capex_usd": "capex",
    "wafer_revenue_usd": "wafer revenue",
    "commitments_usd": "committed",
    "cash_usd": "cash at end",
}


def _print_economics(economics: pd.DataFrame, basis: str) -> None:
    per_product = _table(
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


def _print_wafer_report(
    scenario: Scenario,
    economics: pd.DataFrame,
    table: pd.DataFrame,
    by: Period,
    fab_age_q: float | None,
) -> None:
    basis = "mature D0" if fab_age_q is None else f"D0 of a fab {fab_age_q:g} quarters into production"
    _print_economics(economics, basis)

    key = "year" if by is Period.year else "quarter"
    months = 12 if by is Period.year else 3
    sums = (
        table.groupby(["product", "node", key], sort=False)[
            ["accelerators", "good_dies", "wafer_starts", "interposer_wafers"]
        ]
        .sum()
        .reset_index()
    )
    sums = sums[sums["accelerators"] > 0]  # a product before launch or after phase-out
    demand = _table(
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


def _print_wafers_per_node(scenario: Scenario, table: pd.DataFrame, by: Period) -> None:
    from fabnet.plan.inputs import DAYS_PER_QUARTER

    key = "year" if by is Period.year else "quarter"
    months = 12 if by is Period.year else 3
    per_node = table.groupby(["node", key], sort=False)["wafer_starts"].sum().unstack(key)
    nodes = _table(
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


def _table(*columns: str, title: str | None = None, text_columns: int = 1) -> Table:
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
