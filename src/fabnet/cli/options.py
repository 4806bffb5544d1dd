"""Options shared by several commands, and how a command turns a user's mistake into one line."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fabnet.api import DEFAULT_SCENARIO as DEFAULT_SCENARIO  # one default, the API's
from fabnet.cli.terminal import err, styled
from fabnet.core import interrupts
from fabnet.core.errors import FabnetError, Interrupted
from fabnet.core.secrets import redact

if TYPE_CHECKING:
    from fabnet.api import Scenario


def load_scenario(file: Path, overrides: Sequence[str] = ()) -> Scenario:
    """fabnet.scenario.load_scenario, imported when a command reads a scenario (pydantic and the
    schema cost `fabnet simulate` a seventh of a second it does not need); its warnings (a grant
    dated after the scenario's as-of quarter) go to stderr."""
    from fabnet.api import load, scenario_warnings

    scenario = load(file, overrides)
    for warning in scenario_warnings(scenario):
        err.print(styled(("warning:", "bold yellow"), f" {warning}"), soft_wrap=True)
    return scenario


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

Fresh = Annotated[
    bool,
    typer.Option(
        "--fresh",
        help="Solve the plan anew although the same model inputs were solved before (solved plans "
        "are kept in fabnet's cache folder and reused; FABNET_CACHE=0 turns that off everywhere).",
    ),
]


@contextmanager
def user_errors() -> Iterator[None]:
    """A user's mistake, or an interrupt, as one line on stderr and the exit status it has."""
    try:
        yield
    except KeyboardInterrupt:
        interrupts.clear()
        raise _fail(Interrupted("interrupted (Ctrl-C or SIGTERM) before the command finished")) from None
    except FabnetError as exc:
        raise _fail(exc) from None


def _fail(exc: FabnetError) -> typer.Exit:
    err.print(styled(("error:", "bold red"), f" {redact(exc)}"), soft_wrap=True)
    return typer.Exit(exc.exit_code)


def within(low: float, high: float = math.inf, *, above: bool = False) -> dict[str, Any]:
    """Option settings for a finite number from `low` (or above it, when `above`) up to `high`:
    click's ranges let nan through (no comparison with nan is true), and inf or 1e308 would
    reach an engine that cannot use them."""

    def check(value: float | None) -> float | None:
        if value is None:
            return value
        if not math.isfinite(value):
            raise typer.BadParameter(f"{value} is not a finite number")
        if value < low or (above and value == low) or value > high:
            least = f"greater than {low:g}" if above else f"at least {low:g}"
            most = f" and at most {high:g}" if math.isfinite(high) else ""
            raise typer.BadParameter(f"{value:g} is not {least}{most}")
        return value

    return {"callback": check}


Positive: dict[str, Any] = within(0.0, above=True)


NonNegative: dict[str, Any] = within(0.0)


#: Simulated days: as the scenario's simulation.days (scenario.schema.Days), ten years.
SimDays: dict[str, Any] = within(0.0, 3650.0, above=True)
WarmupDays: dict[str, Any] = within(0.0, 3650.0)
#: Seeds as the scenario takes them (numpy's SeedSequence takes any, numba's stream 64 bits).
Seed: dict[str, Any] = {"min": 0, "max": 2**63 - 1}
#: Samples of a sweep: 8 bytes × ~100 inputs and outcomes each is 0.8 GB at this bound.
MAX_SAMPLES = 1_000_000


Gap = Annotated[float, typer.Option(help="Relative MIP gap at which HiGHS may stop.", **within(0.0, 1.0))]


TimeLimit = Annotated[float, typer.Option(help="Solver time limit, seconds.", **Positive)]


MaxModelSize = Annotated[
    int,
    typer.Option(
        "--max-model-size",
        help="Refuse a planning model estimated above this many variables, before building it "
        "(about 10 kB of memory each; a robust plan counts all its futures).",
        min=1,
        max=10**9,
    ),
]


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


ReadStore = Annotated[
    str,
    typer.Option(
        "--store",
        help="Results store to read: the DuckDB file `fabnet run` wrote, or a PostgreSQL "
        "address postgresql://user:password@host/database.",
    ),
]


RunId = Annotated[int, typer.Argument(help="Run id (see `fabnet runs list`).")]


#: Exit status of a run whose work is done but not all kept where asked (stored elsewhere, or
#: stored without its report); the message says how to finish.
INCOMPLETE = 4


# Where work that splits into tasks runs (a re-optimised risk sweep, a decomposed robust plan).
Workers = Annotated[int, typer.Option(help="Local worker processes.", min=1, max=1024)]
DaskLocal = Annotated[
    int | None, typer.Option(help="Start a Dask LocalCluster with this many workers.", min=1, max=1024)
]
Scheduler = Annotated[str | None, typer.Option(help="Use an existing Dask cluster, e.g. tcp://host:8786.")]


class RobustSolver(str, Enum):
    auto = "auto"
    equivalent = "equivalent"
    benders = "benders"
