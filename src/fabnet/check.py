"""Check a plan against the fab simulator: every own fab that runs, simulated at its planned load.

The SMT2020 fab stands in for the node's fab, scaled twice: in rate, its nominal release (load
1) is the module's capacity, so each quarter releases lots at the plan's load (wafer starts /
capacity online); in time, one simulated day is `stretch` days of the node, so that the
simulated fab's unloaded cycle time equals the node's raw cycle time. The fab starts empty, as
a new fab does, and follows the plan's loads quarter by quarter. Each simulated lot stands for
the wafers the plan started in its release quarter divided by the lots released then. The lots
are SMT2020's products in the fab's planned mix: each product's wafer starts over the quarters
checked, as the scenario's `plan_check.products` maps it (the dataset's own mix if unmapped);
the mix is held over the fab's quarters (the load follows the plan quarter by quarter).

What comes out: per quarter, the planned and simulated wafer output and cycle time; per year,
accelerators delivered as planned and as simulated. The simulated deliveries take the plan's
own deliveries and add the difference in good dies from each checked fab, converted to
accelerators; dies that finish early are banked, dies that finish late can only serve later
demand the plan left open (unmet demand is lost, as in the planner). Packaging limits are not
re-checked.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

import fabnet.cache as cache
from fabnet.core import results
from fabnet.core.periods import delayed
from fabnet.core.units import DAYS_PER_QUARTER, MINUTES_PER_DAY
from fabnet.fabsim import FabData, SimOptions, SimResult, simulate
from fabnet.fabsim.curve import nominal_release_per_day
from fabnet.fabsim.engine import mean_raw_days
from fabnet.fabsim.mix import product_shares, with_product_mix
from fabnet.network import PlanInputs, prepare
from fabnet.network.loadcurve import load_curve
from fabnet.plan import Plan
from fabnet.scenario.schema import Scenario

#: Quarters the plan leaves a fab idle are simulated at this load: a release stream at zero
#: would never restart. Their lots stand for no wafers.
MIN_LOAD = 0.02

#: A release quarter's simulated cycle time is reported only when at least this share of its
#: lots finished within the horizon (else the late ones are missing and the mean is biased).
MIN_FINISHED = 0.9


@dataclass(frozen=True)
class FabCheck:
    """One fab simulated at its planned load."""

    site: str
    node: str
    dataset: str
    stretch: float  # node days per simulated day
    quarters: pd.DataFrame  # quarter: load, starts, planned/simulated output and cycle days
    first: int  # the horizon's quarter its rows start at (its first with capacity)
    extra_wafers: np.ndarray  # the buyer's wafers out, simulated less planned, per quarter from `first`
    mix: dict[str, float]  # SMT2020 product → its share of the lots released


@dataclass(frozen=True)
class PlanCheck:
    """Every fab of a plan simulated at its planned load (busiest first), and the buyer's
    accelerators per product and year with each fab's wafer output as simulated."""

    fabs: tuple[FabCheck, ...]
    delivered: pd.DataFrame  # product, year: demand, planned, simulated, difference

    @property
    def sites(self) -> list[str]:
        return [fab.site for fab in self.fabs]

    @property
    def dataset(self) -> str:
        return self.fabs[0].dataset

    def named(self) -> str:
        """The fabs checked, in words: "kumamoto (N3), arizona (N3)"."""
        return ", ".join(f"{fab.site} ({fab.node})" for fab in self.fabs)


def running_sites(plan: Plan) -> list[str]:
    """The own fabs that start wafers in some quarter with capacity online, the busiest (highest
    mean load over those quarters) first."""
    running = plan.capacity[(plan.capacity["effective_capacity"] > 0) & (plan.capacity["wafer_starts"] > 0)]
    loads = running.groupby("site")["load"].mean()
    return [str(site) for site in loads.sort_values(ascending=False, kind="stable").index]


#: How the fabs of a check are simulated: one after the other, or a caller's parallel map
#: (`fabnet run` maps two or more onto local worker processes, risk.runner.on_local_workers; a
#: checked risk sample, already a task on the sweep's executor, checks its fabs in turn).
Mapper = Callable[[Callable[[str], FabCheck], list[str]], Iterable[FabCheck]]


def check_plan(
    scenario: Scenario,
    plan: Plan,
    fab: FabData,
    dataset: str = "HVLM",
    progress: Callable[[float], None] | None = None,
    seed: int | None = None,
    mapper: Mapper | None = None,
    reuse: bool = False,
) -> PlanCheck | None:
    """Simulate every fab of `plan` that runs at its planned load (None when the plan runs
    none), each with the scenario's seed unless `seed` is given; `progress` follows the
    simulated days of the fabs checked one after the other. With `reuse`, a fab simulated
    before at the same starts, mix and seed is not simulated again (fabnet.cache)."""
    sites = running_sites(plan)
    if not sites:
        return None
    x = prepare(scenario)
    one = partial(check_fab, scenario, plan, fab, x, dataset=dataset, seed=seed, progress=progress, reuse=reuse)
    fabs = tuple(map(one, sites) if mapper is None or len(sites) < 2 else mapper(one, sites))
    return PlanCheck(fabs, simulated_deliveries(plan, x, fabs))


def check_fab(
    scenario: Scenario,
    plan: Plan,
    fab: FabData,
    x: PlanInputs,
    site: str,
    dataset: str = "HVLM",
    seed: int | None = None,
    progress: Callable[[float], None] | None = None,
    reuse: bool = False,
) -> FabCheck:
    """One fab of the plan simulated from its first quarter with capacity at its planned load,
    the SMT2020 fab's cycle time stretched to the node's."""
    i = x.sites.index(site)
    mix = planned_mix(scenario, plan, site, product_shares(fab))
    fab = fab if mix is None else with_product_mix(fab, mix)
    rows = plan.capacity[plan.capacity["site"] == site].reset_index(drop=True)
    first = int(np.argmax(rows["effective_capacity"].to_numpy() > 0))
    rows = rows.iloc[first:].reset_index(drop=True)

    raw_days = x.site_cycle_q[i] * DAYS_PER_QUARTER
    unloaded_sim_days = load_curve(f"smt2020_{dataset.lower()}").x0 * mean_raw_days(fab)
    stretch = raw_days / unloaded_sim_days
    sim_quarter = DAYS_PER_QUARTER / stretch
    loads = np.maximum(rows["load"].to_numpy(), MIN_LOAD)
    days = len(rows) * sim_quarter
    schedule = tuple(float(loads[min(int(d / sim_quarter), len(loads) - 1)]) for d in range(math.ceil(days)))
    options = SimOptions(
        days=days, seed=scenario.seed if seed is None else seed, initial_wip=False, release_schedule=schedule
    )
    result = simulated(fab, mix, options, progress, reuse)
    expected_lots = nominal_release_per_day(fab) * loads * sim_quarter
    finished, simulated_out, simulated_cycle = per_release_quarter(
        result.lots, rows["wafer_starts"].to_numpy(), expected_lots, sim_quarter
    )

    # the fab puts out the buyer's wafers (what its queue cleared) and any spare ones for other
    # customers; only the buyer's share of a difference changes its accelerators
    buyer = rows["cleared"].to_numpy()
    planned_out = delayed(buyer + rows["spare_starts"].to_numpy(), x.site_cycle_q[i])
    buyer_share = np.divide(
        delayed(buyer, x.site_cycle_q[i]), planned_out, out=np.ones_like(planned_out), where=planned_out > 0
    )
    quarters = pd.DataFrame(
        {
            "quarter": rows["quarter"],
            "load": rows["load"],
            "wafer_starts": rows["wafer_starts"],
            "planned_output": planned_out,
            "simulated_output": simulated_out,
            "planned_cycle_days": rows["cycle_days"],
            "simulated_cycle_days": simulated_cycle * stretch,
            "lots_finished": finished,
        }
    )
    extra = (simulated_out - planned_out) * buyer_share
    return FabCheck(site, x.site_node[i], dataset, stretch, quarters, first, extra, mix or product_shares(fab))


def simulated(
    fab: FabData,
    mix: dict[str, float] | None,
    options: SimOptions,
    progress: Callable[[float], None] | None,
    reuse: bool,
) -> SimResult:
    """`fab` (releasing `mix`, when given) simulated under `options`, or, with `reuse`, the
    simulation kept from an earlier check of the same dataset, mix, starts and seed (the
    simulator is deterministic)."""
    reuse = reuse and bool(fab.source)  # a dataset read from files, named by their content
    entry = cache.key("simulate", fab.source, sorted((mix or {}).items()), options) if reuse else ""
    kept = cache.read("checks", entry, SimResult) if reuse else None
    if isinstance(kept, SimResult):
        return kept
    result = simulate(fab, options, progress)
    if reuse:
        cache.keep("checks", entry, result)
    return result


def planned_mix(scenario: Scenario, plan: Plan, site: str, own: dict[str, float]) -> dict[str, float] | None:
    """The SMT2020 products' shares of the site's planned wafer starts, each product's starts
    split as `plan_check.products` maps it (the dataset's `own` mix when unmapped); None when
    no product the site starts is mapped (the dataset's own mix, as it is)."""
    mapping = scenario.plan_check.products
    made = plan.production[plan.production["source"] == site]
    starts = made.groupby("product")["wafer_starts"].sum()
    total = float(starts.sum())
    if total <= 0 or not any(product in mapping for product in starts.index):
        return None
    mix = dict.fromkeys(own, 0.0)
    for product, wafers in starts.items():
        for part, share in mapping.get(str(product), own).items():
            mix[part] += float(wafers) / total * share
    return mix


def per_release_quarter(
    lots: list[tuple], starts: np.ndarray, expected_lots: np.ndarray, sim_quarter: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From the simulated lots: per quarter, the lots that finished by release quarter, the
    planned wafers they stand for finishing in each quarter, and the mean simulated cycle time
    (simulated days) of each release quarter (NaN while too many of its lots are unfinished)."""
    table = pd.DataFrame(lots, columns=["route", "priority", "stream", "release", "done", "due", "raw"])
    released = (table["release"] / MINUTES_PER_DAY // sim_quarter).astype(int).to_numpy()
    done = np.minimum((table["done"] / MINUTES_PER_DAY // sim_quarter).astype(int).to_numpy(), len(starts) - 1)
    finished = np.bincount(released, minlength=len(starts))
    # a quarter whose lots have (nearly) all finished is weighed by its lots, the few last ones
    # by the lots it should have released (a stream keeps the interval it drew before a change
    # of load for one release, so the counts differ a little where the load changes)
    complete = finished >= MIN_FINISHED * expected_lots
    wafers_per_lot = starts / np.where(complete, np.maximum(finished, 1), expected_lots)
    output = np.bincount(done, weights=wafers_per_lot[released], minlength=len(starts))
    minutes = np.bincount(released, weights=(table["done"] - table["release"]).to_numpy(), minlength=len(starts))
    cycle = np.where(complete, minutes / np.maximum(finished, 1) / MINUTES_PER_DAY, np.nan)
    return finished, output, cycle


def simulated_deliveries(plan: Plan, x: PlanInputs, fabs: tuple[FabCheck, ...]) -> pd.DataFrame:
    """Accelerators per product and year, as planned and with each checked fab's wafer output
    replaced by the simulated one (see the module's note)."""
    frames = []
    for j, product in enumerate(x.products):
        supply = plan.supply[plan.supply["product"] == product].reset_index(drop=True)
        per_wafer = x.good_dies_per_wafer[j] * x.packaging_yield[j] / x.dies_per_package[j]
        extra = np.zeros(x.horizon)
        made = False
        for fab in fabs:
            share = _product_share(plan, fab.site, product)
            if share is None:
                continue
            made = True
            from_fab = np.zeros(x.horizon)
            from_fab[fab.first :] = fab.extra_wafers * share[fab.first :] * per_wafer
            site = x.sites.index(fab.site)
            extra += delayed(from_fab, x.cycle_q[j] - x.site_cycle_q[site])  # packaging after the fab
        if not made:
            continue
        planned = supply["delivered"].to_numpy()
        simulated = bank_deliveries(planned + extra, supply["demand"].to_numpy())
        frames.append(
            pd.DataFrame(
                {
                    "product": product,
                    "year": supply["year"],
                    "demand": supply["demand"],
                    "planned": planned,
                    "simulated": simulated,
                }
            )
        )
    if not frames:
        return results.table("check_delivered").conform(pd.DataFrame())
    yearly = pd.concat(frames).groupby(["product", "year"], as_index=False).sum()
    return results.table("check_delivered").conform(yearly.assign(difference=yearly["simulated"] - yearly["planned"]))


def _product_share(plan: Plan, site: str, product: str) -> np.ndarray | None:
    """Per quarter, the product's share of the site's wafer starts (None: it starts none there)."""
    site_rows = plan.production[plan.production["source"] == site]
    starts = site_rows[site_rows["product"] == product]["wafer_starts"].to_numpy()
    if not len(starts):
        return None
    total = site_rows.groupby("quarter", sort=False)["wafer_starts"].sum().to_numpy()
    return np.divide(starts, total, out=np.zeros_like(starts), where=total > 0)


def bank_deliveries(available: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """Deliver up to demand each quarter; what is left over waits for a later quarter."""
    delivered, bank = np.zeros(len(demand)), 0.0
    for t, (ready, wanted) in enumerate(zip(available, demand, strict=True)):
        ready += bank
        delivered[t] = min(max(ready, 0.0), wanted)
        bank = max(ready - delivered[t], 0.0)
    return delivered


def check_tables(check: PlanCheck) -> dict[str, pd.DataFrame]:
    """The check as result tables for the store: each fab's quarters, and the deliveries."""
    quarters = [
        fab.quarters.assign(site=fab.site, node=fab.node, dataset=fab.dataset, stretch=fab.stretch)
        for fab in check.fabs
    ]
    return {
        "check_quarters": results.table("check_quarters").conform(pd.concat(quarters, ignore_index=True)),
        "check_delivered": check.delivered,
    }
