"""The long jobs behind fabnet.api that choose their route themselves: a scenario with a
`planning: {robust: …}` section (or a robust spec asked for) is planned for its futures at
once, any other as one plan. The CLI's `fabnet plan --robust` and `fabnet run` call these, so
the choice is made here once, not in each command. And a stored run's money under other deal
terms, stored as a run of its own (`store_terms`, the deal room's button). Public through
fabnet.api."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from fabnet.core.limits import MAX_PLAN_VARIABLES
from fabnet.core.results import DECISION_GAP

if TYPE_CHECKING:
    from fabnet.finance.dealroom import Terms
    from fabnet.pipeline import JobResult
    from fabnet.plan import SolveOptions
    from fabnet.risk.job import Executors
    from fabnet.risk.robust import RobustRun, RobustSpec
    from fabnet.scenario import Scenario
    from fabnet.store import StoredRun


def robust_spec(
    scenario: Scenario,
    futures: int | None = None,
    seed: int | None = None,
    cvar: float = 0.9,
    risk_weight: float = 0.0,
    out_of_sample: int = 1000,
    solver: str = "auto",
) -> RobustSpec | None:
    """What a robust plan is asked for: `futures` futures drawn from `seed` (default: the
    scenario's), minimising (1 − risk_weight)·E[cost] + risk_weight·CVaR_cvar[cost], measured on
    `out_of_sample` fresh futures; without `futures`, the scenario's `planning: {robust: …}`
    section (None when it has none: plan as usual)."""
    from fabnet.plan import RiskMeasure
    from fabnet.risk.robust import RobustSpec

    if futures is None:
        return RobustSpec.of(scenario, seed)
    chosen = scenario.seed if seed is None else seed
    return RobustSpec(futures, chosen, RiskMeasure(cvar, risk_weight), out_of_sample, solver=solver)


def plan_robust(
    scenario: Scenario,
    spec: RobustSpec,
    options: SolveOptions | None = None,
    cycle_time: str = "load",
    executors: Executors | None = None,
    store: str | Path | None = None,
    label: str | None = None,
    step: Callable[[str], None] = lambda name: None,
) -> tuple[RobustRun, int | None]:
    """One build plan for the spec's futures, measured against the central-value plan on fresh
    futures; stored (kind robust, with `label`) when a `store` is given. Returns the run and its
    run id (None when not stored)."""
    from fabnet.plan import SolveOptions
    from fabnet.risk.job import Executors
    from fabnet.risk.robust import robust_job, robust_run

    options, executors = options or SolveOptions(), executors or Executors()
    if store is None:
        return robust_run(scenario, spec, options, cycle_time, step, executors), None
    run, job = robust_job(store, scenario, spec, options, cycle_time, label, step, executors)
    return run, job.run_id


def run_job(
    scenario: Scenario,
    store: str | Path,
    *,
    label: str | None = None,
    check: bool = True,
    cycle_time: str = "load",
    max_variables: int = MAX_PLAN_VARIABLES,
    executors: Executors | None = None,
    step: Callable[[str], None] = lambda name: None,
    fresh: bool = False,
) -> tuple[RobustRun | None, JobResult]:
    """The main job as `fabnet run` does it, stored in `store`: a scenario with a `planning:
    {robust: …}` section is planned for its futures (stored as kind robust, its builds not
    checked on the simulator; the robust run is returned too), any other planned to the
    decision gap (reusing a plan solved before for the same model inputs unless `fresh`), then
    its money, the deal and the plan check (with `check`)."""
    from fabnet.pipeline import main_job
    from fabnet.plan import SolveOptions
    from fabnet.risk.job import Executors
    from fabnet.risk.robust import RobustSpec, robust_job
    from fabnet.risk.runner import on_local_workers

    spec = RobustSpec.of(scenario)
    if spec is None:
        options = SolveOptions(mip_gap=DECISION_GAP, max_variables=max_variables, reuse=not fresh)
        return None, main_job(
            scenario, store, options, step, cycle_time, check=check, label=label, check_mapper=on_local_workers
        )
    options = SolveOptions(max_variables=max_variables)
    return robust_job(store, scenario, spec, options, cycle_time, label, step, executors or Executors())


def store_terms(run: StoredRun, terms: Terms, store: str | Path, label: str | None = None) -> int:
    """`run` with its plan kept and its money, deal, messages and key figures computed again under
    `terms`, stored in `store` as a new run with `label`; the terms are added to its overrides
    and its resolved scenario, so comparing it with `run` shows them. Returns its id."""
    import hashlib
    import json

    from fabnet.core.version import __version__
    from fabnet.finance.deal import Deal, network_gains, sweep_deal
    from fabnet.finance.dealroom import DealRoom
    from fabnet.pipeline import (
        deal_tables,
        decision_figures,
        messages_table,
        money_sentences,
        money_tables,
    )
    from fabnet.scenario.checks import scenario_warnings
    from fabnet.scenario.loader import scenario_text
    from fabnet.store import open_store

    room = DealRoom.of(run.meta, run.tables, run.figures)
    scenario, before, after = room.scenario_at(terms), room.money(type(terms)()), room.money(terms)
    deal, foundry = sweep_deal(scenario, room.planned, room.route_net_usd), run.tables["foundry"]
    # the run's messages about its money give way to the new ones; the plan's and its check's stay
    said = {
        *scenario_warnings(room.scenario),
        *money_sentences(room.scenario, foundry, before, Deal.stored(run.tables)),
        *before.messages,
    }
    kept = [message for message in run.tables["messages"]["message"] if message not in said]
    messages = [*scenario_warnings(scenario), *money_sentences(scenario, foundry, after, deal), *kept, *after.messages]
    tables = run.tables | money_tables(after) | deal_tables(deal) | {"messages": messages_table(messages)}
    figures = run.figures | decision_figures(after, None, deal) | network_gains(after, room.route_net_usd)
    text = scenario_text(scenario)
    meta = {key: value for key, value in run.meta.items() if key not in ("run_id", "created_at")} | {
        "scenario_text": text,
        "scenario_hash": hashlib.sha256(text.encode()).hexdigest(),
        "figures": figures,
        "label": label or None,
        "kind": "run",
        "fabnet_version": __version__,
        "overrides": json.dumps(list(scenario.origin.overrides)),
    }
    with open_store(store) as opened:  # waits for other writers; a store that refuses says why
        return opened.save_run(meta, tables)
