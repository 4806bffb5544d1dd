"""Commands on one wafer fab: simulate, load-curve, and the SMT2020 data they read."""

from __future__ import annotations

import dataclasses
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import numpy as np
import typer

from fabnet.api import RULES, rules_help
from fabnet.cli import app
from fabnet.cli.options import AsJson, Seed, SimDays, WarmupDays, user_errors
from fabnet.cli.start import uncollected
from fabnet.cli.terminal import (
    byte_progress,
    day_progress,
    new_table,
    out,
    print_columns,
    print_frame,
    print_json,
    show,
)

if TYPE_CHECKING:
    import pandas as pd

    from fabnet.api import Kpis, LoadCurve, SimResult


class Kernel(str, Enum):
    numba = "numba"
    python = "python"


class Conventions(str, Enum):
    fabnet = "fabnet"
    pyscfabsim = "pyscfabsim"


#: The rules of the simulator's registry (fabnet.fabsim.rules), named there once: an Enum made at
#: run time, whose members mypy cannot know (hence Any).
SimRule: Any = cast(Any, Enum)("SimRule", {name: name for name in RULES}, type=str)


# Which SMT2020 fab a command reads, and from where.
Dataset = Annotated[str, typer.Option(help="SMT2020 dataset: HVLM or LVHM.")]
DataFolder = Annotated[
    Path | None,
    typer.Option(help="Folder holding the dataset (default: $FABNET_SMT2020_DIR, else ../shared/data/smt2020)."),
]


@app.command()
def simulate(
    dataset: Dataset = "HVLM",
    data: DataFolder = None,
    days: Annotated[float, typer.Option(help="Simulated days.", **SimDays)] = 90.0,
    rule: Annotated[SimRule, typer.Option(help=f"Dispatching rule: {rules_help()}.")] = SimRule.fifo,
    seed: Annotated[int, typer.Option(help="Seed of every random stream.", **Seed)] = 0,
    warmup_days: Annotated[float, typer.Option(help="Days left out of the statistics.", **WarmupDays)] = 0.0,
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
    if warmup_days >= days:
        raise typer.BadParameter("--warmup-days must be shorter than --days")
    with uncollected():  # the simulator's libraries (numba) and the dataset, without the collector's walks
        from fabnet.api import SimOptions, kpis, load_smt2020, simulation_dict
        from fabnet.api import simulate_fab as run_simulation

        with user_errors():
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
        from fabnet.api import DEFAULT_SCALES, operating_curve

        with day_progress(days * len(DEFAULT_SCALES), "operating curve") as tick:
            table = operating_curve(fab, dataclasses.replace(options, initial_wip=False), progress=tick)
        if as_json:
            print_json(table.to_dict("records"))
            return
        print_frame(table, "Operating curve (release-rate multiple → load and cycle time)")
        return
    with day_progress(days, f"{dataset} {rule.value}") as tick:
        result = run_simulation(fab, options, progress=lambda day: tick(day, ""))
    k = kpis(fab, result)
    if as_json:
        print_json(simulation_dict(k, result))
    else:
        print_simulation(k, result, f"{dataset}, {rule.value}, {days:g} days (after {warmup_days:g} warm-up)")


DEFAULT_LOADS = "0.3,0.5,0.65,0.75,0.85,0.9,0.95,1.0"


@app.command("load-curve")
def load_curve(
    dataset: Dataset = "HVLM",
    data: DataFolder = None,
    loads: Annotated[
        str,
        typer.Option(
            help="Loads to simulate, comma-separated: release-rate multiples of the dataset's nominal release."
        ),
    ] = DEFAULT_LOADS,
    seeds: Annotated[int, typer.Option(help="Seeds per load (1, 2, …).", min=1)] = 3,
    days: Annotated[float, typer.Option(help="Simulated days per run.", **SimDays)] = 330.0,
    warmup_days: Annotated[float, typer.Option(help="Days left out of the statistics.", **WarmupDays)] = 90.0,
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
    from fabnet.api import fit_load_curve, load_smt2020, save_curve

    if warmup_days >= days:
        raise typer.BadParameter("--warmup-days must be shorter than --days")
    try:
        scales = tuple(float(v) for v in loads.split(","))
    except ValueError:
        raise typer.BadParameter(f"--loads must be numbers separated by commas, not {loads!r}") from None
    with user_errors():
        fab = load_smt2020(dataset, data)
    with day_progress(days * len(scales) * seeds, "load curve") as tick:
        fit = fit_load_curve(fab, dataset, scales, seeds, days, warmup_days, tick)
    print_load_curve(fit.curve, fit.table, dataset)
    if save_to is not None:
        save_curve(fit.curve, fit.rows, save_to)
        out.print(f"written to {save_to}")


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
    from fabnet.api import DATASETS
    from fabnet.api import fetch_dataset as fetch

    names = DATASETS if dataset is WhichDataset.all else (dataset.value,)
    with user_errors():
        for name in names:
            with byte_progress(f"SMT2020 {name}") as tick:
                folder = fetch(name, to, source, tick)
            out.print(f"SMT2020 {name}: verified and installed in {folder}")


@data_app.command("list")
def data_list() -> None:
    """Where fabnet finds each SMT2020 dataset, and whether its files are the published ones."""
    from fabnet.api import FETCH_COMMAND, survey

    table = new_table("dataset", "folder", "verifies", title="SMT2020 testbed", text_columns=3)
    missing = False
    for found in survey():
        missing |= found.folder is None or bool(found.problems)
        verdict = "–" if found.folder is None else ("yes" if not found.problems else "; ".join(found.problems))
        table.add_row(found.dataset, str(found.folder) if found.folder else "not found", verdict)
    show(table)
    if missing:
        out.print(f"`{FETCH_COMMAND}` downloads, verifies and installs the testbed.")


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
