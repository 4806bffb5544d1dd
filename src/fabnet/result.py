"""One way to read a result (issue 31): what `fabnet.run` returns (a JobResult: a Decision
stored) and what `fabnet.decide` and `fabnet.refinance` return (a Decision) are read the same
way: `plan`, `money` (also `financials`, with `fabco` and `buyer` as a Financials has them),
`figures` (KeyFigures), `tables` (the tables a run stores), `to_dict()`, a short repr and a
table in a notebook. `run_id` is None where nothing was stored.

`stored_plan` gives a stored run its plan back, so that a stored run, too, refinances into a
Decision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from fabnet.finance import Buyer, FabCo, Financials
    from fabnet.plan import Plan
    from fabnet.store import StoredRun
    from fabnet.store.figures import KeyFigures


class ResultView:
    """The attributes a run's, a decision's and a refinanced result share; the class this is
    mixed into has `plan`, `money`, `figures` and `tables` of its own."""

    if TYPE_CHECKING:

        @property
        def run_id(self) -> int | None: ...  # the run it is stored as; None for a decision

        @property
        def plan(self) -> Plan: ...

        @property
        def money(self) -> Financials: ...

        @property
        def figures(self) -> KeyFigures: ...

        @property
        def tables(self) -> dict[str, pd.DataFrame]: ...

    @property
    def financials(self) -> Financials:
        """Both parties' money (also `money`)."""
        return self.money

    @property
    def fabco(self) -> FabCo:
        return self.money.fabco

    @property
    def buyer(self) -> Buyer:
        return self.money.buyer

    def to_dict(self) -> dict[str, Any]:
        """The result as plain data: its run (or None), key figures and tables as lists of rows
        (fabnet.api.json_text writes it as JSON)."""
        return {
            "run_id": self.run_id,
            "figures": dict(self.figures),
            "tables": {name: frame.to_dict("records") for name, frame in self.tables.items()},
        }

    def __repr__(self) -> str:
        stored = "" if self.run_id is None else f"run {self.run_id}, "
        builds = len(self.plan.builds)
        return f"{type(self).__name__}({stored}{builds} builds, {self.figures!r}, {len(self.tables)} tables)"

    def _repr_html_(self) -> str:
        stored = "" if self.run_id is None else f" (run {self.run_id})"
        return f"<p><b>{type(self).__name__}</b>{stored}</p>{self.figures._repr_html_()}"


def stored_plan(run: StoredRun) -> Plan:
    """A stored run's plan, from its stored tables and how its solve ended (its key figures
    `solver`, `solver_gap`, `system_cost_usd` and `cycle_time`); the solve's time is not kept."""
    from fabnet.core.units import MUSD
    from fabnet.plan import Plan, SolveOptions, SolveResult

    figures, tables = run.figures, run.tables
    cost = figures.get("system_cost_usd")
    result = SolveResult(
        termination=str(figures["solver"]),
        has_solution=True,
        objective=None if cost is None else cost / MUSD,
        bound=None,
        gap=figures.get("solver_gap"),
        seconds=0.0,
        options=SolveOptions(),
    )
    names = ("builds", "packaging_builds", "supply", "production", "capacity", "foundry", "packaging", "hbm")
    return Plan(
        **{name: tables[name] for name in names},
        budget=tables["plan_budget"],
        result=result,
        cycle_time=str(figures.get("cycle_time") or "load"),
    )
