"""Solved model → `Plan`: tidy tables of quantities, one row per entity × quarter.

The plan holds what is built, started, made, bought and delivered; what it all costs and earns,
and for whom, is finance's business (fabnet.finance), which reads these tables. The one money
table here, `budget`, is the fab company's cash as the planner's budget saw it, for the
explanations of shortfalls.
"""

from __future__ import annotations

from typing import Any

import linopy
import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr

from fabnet.core import results
from fabnet.core.periods import delayed
from fabnet.core.units import DAYS_PER_QUARTER, MONTHS_PER_QUARTER, MUSD
from fabnet.network import PlanInputs, capacity_from_builds
from fabnet.plan.model import FABCO_KINDS, spending
from fabnet.plan.outcome import Plan, SolveResult

#: Quantities below this are solver noise, not decisions.
EPS = 1e-6

#: A solved model's values by variable name (absent slots zero).
Solution = dict[str, xr.DataArray]


def extract(
    model: linopy.Model,
    x: PlanInputs,
    result: SolveResult,
    money: dict[str, linopy.LinearExpression] | None = None,
) -> Plan:
    """The solved model as a Plan's tables; `money`: the model's `spending` expressions where
    the caller kept them from building it (else built again for the budget table)."""
    if not result.has_solution:
        raise ValueError("extract needs a solved model with a solution")
    value = {name: model.variables[name].solution.fillna(0.0) for name in model.variables}
    quarters = [str(q) for q in x.quarters]
    return Plan(
        builds=_builds(x, value, quarters),
        packaging_builds=_packaging_builds(x, value, quarters),
        supply=_supply(x, value, quarters),
        production=_production(x, value, quarters),
        capacity=_capacity(x, value, quarters),
        foundry=_foundry(x, value, quarters),
        packaging=_packaging(x, value, quarters),
        hbm=_hbm(x, value, quarters),
        budget=_budget(money or spending(model, x), x, value, quarters),
        result=result,
        cycle_time=x.cycle_time,
    )


def _quarter_label(x: PlanInputs, index: int) -> str:
    return str(x.quarters[0] + int(index))


def _matrix(value: Solution, name: str, *dims: str, like: tuple[int, ...]) -> np.ndarray:
    """A solved variable as an array over `dims` (zeros when the model has no such variable)."""
    if name not in value:
        return np.zeros(like)
    return np.clip(value[name].transpose(*dims).values, 0, None)


def _builds(x: PlanInputs, value: Solution, quarters: list[str]) -> pd.DataFrame:
    """Capacity units (whole modules or tool sets) and shells started, in order of start."""
    node = dict(zip(x.sites, x.site_node, strict=True))
    ramp = dict(zip(x.sites, x.ramp_q.tolist(), strict=True))
    site = {s: i for i, s in enumerate(x.sites)}
    rows = [
        {
            **row,
            "kind": x.unit_kind[site[row["site"]]],
            "wspm": row["modules"] * x.unit_wafers_q[site[row["site"]]] / MONTHS_PER_QUARTER,
        }
        for row in _modules_started(x, value, quarters, "build", "site", x.sites, x.lead_q)
    ]
    rows += [
        {**row, "kind": "shell", "wspm": 0.0}
        for row in _modules_started(x, value, quarters, "shell", "site", x.sites, x.shell_ready_q)
    ]
    table = pd.DataFrame([{**row, "node": node[row["site"]], "ramp_quarters": ramp[row["site"]]} for row in rows])
    if len(table):
        table = table.sort_values(["started", "site"], kind="stable", ignore_index=True)
    return results.table("builds").conform(table)


def _packaging_builds(x: PlanInputs, value: Solution, quarters: list[str]) -> pd.DataFrame:
    rows = _modules_started(x, value, quarters, "packaging_build", "line", x.lines, x.line_lead_q)
    return results.table("packaging_builds").conform(pd.DataFrame(rows))


def _modules_started(
    x: PlanInputs,
    value: Solution,
    quarters: list[str],
    name: str,
    dim: str,
    ids: list[str],
    leads: npt.NDArray[np.int64],
) -> list[dict[str, Any]]:
    """One row per entity and quarter where modules start: how many, and when they are online."""
    rows: list[dict[str, Any]] = []
    if name in value:
        built = value[name].transpose(dim, "quarter").values
        for i, entity in enumerate(ids):
            for t in np.nonzero(built[i] > 0.5)[0]:
                rows.append(
                    {
                        dim: entity,
                        "started": quarters[t],
                        "modules": int(round(built[i, t])),
                        "online": _quarter_label(x, t + leads[i]),
                    }
                )
    return rows


def _supply(x: PlanInputs, value: Solution, quarters: list[str]) -> pd.DataFrame:
    shape = (len(x.products), x.horizon)
    packages = _matrix(value, "packages", "product", "quarter", like=shape)
    bought = _matrix(value, "bought", "product", "quarter", like=shape)
    unmet = _matrix(value, "unmet", "product", "quarter", like=shape)
    bank = _matrix(value, "die_bank", "product", "quarter", like=shape)
    frames = []
    for i, product in enumerate(x.products):
        made = packages[i] * x.packaging_yield[i]
        frames.append(
            pd.DataFrame(
                {
                    "product": product,
                    "node": x.product_node[i],
                    "quarter": quarters,
                    "year": [q.year for q in x.quarters],
                    "demand": x.demand[i],
                    "made": made,
                    "bought": bought[i],
                    "delivered": made + bought[i],
                    "unmet": unmet[i],
                    "packages_started": packages[i],
                    "die_bank": bank[i],
                }
            )
        )
    return results.table("supply").conform(pd.concat(frames, ignore_index=True))


def _production(x: PlanInputs, value: Solution, quarters: list[str]) -> pd.DataFrame:
    rows = []
    sources = []
    if "wafers" in value:
        sources.append(("wafers", "site", x.sites, x.site_node))
    if "foundry" in value:
        sources.append(("foundry", "offer", x.offers, x.offer_node))
    for name, dim, ids, nodes in sources:
        starts = value[name].transpose(dim, "product", "quarter").values
        for i, source in enumerate(ids):
            for j, product in enumerate(x.products):
                if starts[i, j].max() > EPS:
                    rows.append(
                        pd.DataFrame(
                            {
                                "source": source,
                                "kind": "site" if name == "wafers" else "foundry",
                                "node": nodes[i],
                                "product": product,
                                "quarter": quarters,
                                "wafer_starts": np.clip(starts[i, j], 0, None),
                            }
                        )
                    )
    return results.table("production").conform(pd.concat(rows, ignore_index=True) if rows else pd.DataFrame())


def _capacity(x: PlanInputs, value: Solution, quarters: list[str]) -> pd.DataFrame:
    if "build" not in value:
        return results.table("capacity").conform(pd.DataFrame())
    shape = (len(x.sites), x.horizon)
    built = value["build"].transpose("site", "quarter").values.round()
    builds = [(i, int(t), float(built[i, t])) for i, t in zip(*np.nonzero(built > 0), strict=True)]
    # modules online (and staffed: paying fixed opex): capacity units, a tool set counting as
    # its share of a module
    units = np.ones_like(x.capacity_by_age) * x.unit_share[:, None]
    online = capacity_from_builds(builds, x.lead_q, units, x.horizon, x.parent)
    staffed = capacity_from_builds(builds, x.staffed_q, units, x.horizon, x.parent)
    wafers = capacity_from_builds(builds, x.lead_q, x.capacity_by_age * x.unit_wafers_q[:, None], x.horizon, x.parent)
    effective = capacity_from_builds(
        builds, x.lead_q, x.effective_by_age * x.unit_wafers_q[:, None], x.horizon, x.parent
    )
    buyer = _matrix(value, "wafers", "site", "product", "quarter", like=(*shape[:1], 1, x.horizon)).sum(axis=1)
    spare = _matrix(value, "spare", "site", "quarter", like=shape)
    queue = _matrix(value, "queue", "site", "product", "quarter", like=(*shape[:1], 1, x.horizon)).sum(axis=1)
    cleared = _matrix(value, "cleared", "site", "product", "quarter", like=(*shape[:1], 1, x.horizon)).sum(axis=1)
    # The plan counts mature-equivalent wafers (a young module's lower yield as less capacity);
    # the fab company starts, and sells, real wafers: more of them while it learns.
    real = np.divide(wafers, effective, out=np.ones_like(wafers), where=effective > EPS)
    frames = []
    for i, site in enumerate(x.sites):
        starts = buyer[i] + spare[i]
        load = np.divide(starts, effective[i], out=np.zeros(x.horizon), where=effective[i] > EPS)
        curve = x.site_curve[i]
        raw_days = x.site_cycle_q[i] * DAYS_PER_QUARTER
        through = cleared[i] if curve else buyer[i]
        waiting = queue[i] if curve else np.zeros(x.horizon)
        frames.append(
            pd.DataFrame(
                {
                    "site": site,
                    "node": x.site_node[i],
                    "quarter": quarters,
                    "modules_online": online[i],
                    "modules_staffed": staffed[i],
                    "wafer_capacity": wafers[i],
                    "effective_capacity": effective[i],
                    "wafer_starts": starts,
                    "spare_starts": spare[i],
                    "load": load,
                    "queue": waiting,
                    "cleared": through,
                    # what the plan implies: the raw cycle time plus the time in its queue (Little's law)
                    "cycle_days": raw_days
                    + DAYS_PER_QUARTER * np.divide(waiting, through, out=np.zeros(x.horizon), where=through > EPS),
                    "real_wafer_starts": starts * real[i],
                    "wafers_out": delayed(through * real[i], x.site_cycle_q[i]),
                    "spare_out": delayed(spare[i] * real[i], x.site_cycle_q[i]),
                    "capacity_out": delayed(wafers[i], x.site_cycle_q[i]),
                }
            )
        )
    return results.table("capacity").conform(pd.concat(frames, ignore_index=True))


def _foundry(x: PlanInputs, value: Solution, quarters: list[str]) -> pd.DataFrame:
    """Per offer and quarter: what could be reserved, what is reserved and used (the same in a
    plan, where nothing reserved goes unused once the future is known, unless the reservation was
    made ahead for many futures: a robust plan's)."""
    used = _matrix(value, "foundry", "offer", "product", "quarter", like=(len(x.offers), 1, x.horizon)).sum(axis=1)
    reserved = np.maximum(used, _matrix(value, "foundry_reserved", "offer", "quarter", like=used.shape))
    frames = [
        pd.DataFrame(
            {
                "offer": offer,
                "node": x.offer_node[o],
                "quarter": quarters,
                "capacity": x.offer_cap_q[o],
                "reserved": reserved[o],
                "used": used[o],
            }
        )
        for o, offer in enumerate(x.offers)
    ]
    return results.table("foundry").conform(pd.concat(frames, ignore_index=True) if frames else pd.DataFrame())


def _packaging(x: PlanInputs, value: Solution, quarters: list[str]) -> pd.DataFrame:
    packages = _matrix(value, "packages", "product", "quarter", like=(len(x.products), x.horizon))
    built = _matrix(value, "packaging_build", "line", "quarter", like=(len(x.lines), x.horizon)).round()
    builds = [(i, int(t), float(built[i, t])) for i, t in zip(*np.nonzero(built > 0), strict=True)]
    added = capacity_from_builds(
        builds, x.line_lead_q, np.repeat(x.line_module_q[:, None], x.horizon, axis=1), x.horizon
    )
    frames = []
    for i, line in enumerate(x.lines):
        on_line = [j for j, p in enumerate(x.product_line) if p == line]
        used = packages[on_line].sum(axis=0) / x.line_packages_per_wafer[i]
        frames.append(
            pd.DataFrame(
                {
                    "line": line,
                    "quarter": quarters,
                    "capacity_wafers": x.line_capacity_q[i] + added[i],
                    "used_wafers": used,
                }
            )
        )
    return results.table("packaging").conform(pd.concat(frames, ignore_index=True) if frames else pd.DataFrame())


def _hbm(x: PlanInputs, value: Solution, quarters: list[str]) -> pd.DataFrame:
    packages = _matrix(value, "packages", "product", "quarter", like=(len(x.products), x.horizon))
    frames = []
    for h, memory in enumerate(x.memories):
        users = x.product_hbm == h
        frames.append(
            pd.DataFrame(
                {
                    "memory": memory,
                    "quarter": quarters,
                    "stacks_available": x.hbm_cap[h],
                    "stacks_used": (packages[users] * x.hbm_stacks[users, None]).sum(axis=0),
                }
            )
        )
    return results.table("hbm").conform(pd.concat(frames, ignore_index=True) if frames else pd.DataFrame())


def _budget(
    kinds: dict[str, linopy.LinearExpression], x: PlanInputs, value: Solution, quarters: list[str]
) -> pd.DataFrame:
    """The fab company's money as the budget rows saw it (USD; grants, credits and revenue
    negative), with the commitments and the cash left at the end of each quarter."""
    table = pd.DataFrame({"quarter": quarters, "year": [q.year for q in x.quarters]})
    for kind in FABCO_KINDS:
        table[f"{kind}_usd"] = (
            np.asarray(kinds[kind].solution.transpose("quarter").values, dtype=float) * MUSD if kind in kinds else 0.0
        )
    table["commitments_usd"] = x.funds_musd * MUSD
    table["cash_usd"] = value["cash"].transpose("quarter").values * MUSD
    return results.table("plan_budget").conform(table)
