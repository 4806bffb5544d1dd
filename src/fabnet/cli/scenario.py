"""Commands on a scenario file and on one die: validate, schema, chips."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fabnet.api import DPW_FORMULAS, YIELD_MODELS, Harvest, YieldSpec, die_economics, package_cost
from fabnet.cli import app
from fabnet.cli.options import (
    DEFAULT_SCENARIO,
    AsJson,
    NonNegative,
    Overrides,
    Positive,
    ScenarioFile,
    load_scenario,
    user_errors,
)
from fabnet.cli.terminal import dollars, new_table, out, print_json, show, styled
from fabnet.core import format as fmt

if TYPE_CHECKING:
    from fabnet.api import Scenario


@app.command()
def validate(file: ScenarioFile = DEFAULT_SCENARIO, overrides: Overrides = None) -> None:
    """Check a scenario file and print a one-screen summary.

    Exit status 0 when the file is good. Otherwise exit status 2 and one message naming the
    file, the line, the field (e.g. `sites[2].lead_time_q`), what was found and what is
    expected.

    Without a file, the default scenario (scenarios/tigris.yaml), as `fabnet run` takes it.
    Shares and durations read as written: `--set "offtake.share_of_market_price=90 %"`,
    `--set "sites.kumamoto.lead_time_q=36 months"`.

    Example: `fabnet validate scenarios/tigris.yaml --set funding.total_usd=1.0e10`
    """
    with user_errors():
        scenario = load_scenario(file, overrides or ())
    out.print(styled(("✓", "green"), f" {file} is a valid scenario"))
    print_summary(scenario)


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
    from fabnet.api import json_schema, markdown_reference

    if markdown == as_json:
        raise typer.BadParameter("choose one of --markdown or --json")
    sys.stdout.write(markdown_reference() if markdown else json_schema())


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
            cost_per_good_die=float(die.cost_per_good_die),
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
        print_json(result)
    else:
        print_chips(result)


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


def print_summary(s: Scenario) -> None:
    # here, not at the top: the scenario's schema (pydantic) is a fifth of `fabnet simulate`'s start-up
    from fabnet.api import module_capex_usd

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


@app.command()
def init(
    file: Annotated[Path, typer.Argument(help="Where to write the starter scenario.")] = Path("scenario.yaml"),
    start_from: Annotated[
        str, typer.Option("--from", help="The shipped scenario to start from: tigris or global.")
    ] = "tigris",
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
) -> None:
    """Write a starter scenario to edit: a copy of a shipped one, every figure with its source
    (a § of ai-fab-facts.md) or marked as an assumption, every field explained by
    `fabnet schema --markdown`.

    Example: `fabnet init my-fabs.yaml --from tigris`, then `fabnet validate my-fabs.yaml` and
    `fabnet run my-fabs.yaml`.
    """
    from fabnet.api import shipped_scenario

    with user_errors():
        source = shipped_scenario(start_from)
    if file.exists() and not force:
        raise typer.BadParameter(f"{file} exists; choose another name or pass --force", param_hint="FILE")
    header = (
        f"# A starter scenario written by `fabnet init` from fabnet's {start_from} scenario.\n"
        "# Edit it, then `fabnet validate` it; `fabnet schema --markdown` explains every field.\n"
    )
    file.write_text(header + source.read_text(encoding="utf-8"), encoding="utf-8")
    out.print(styled(("✓", "green"), f" wrote {file} (from {start_from}); next: `fabnet validate {file}`"))
