"""Solved model → `Plan`: tidy pandas tables, one row per entity × quarter, in USD."""

from __future__ import annotations

from dataclasses import dataclass, field

import linopy
import numpy as np
import pandas as pd

from fabnet.plan.inputs import DAYS_PER_QUARTER, MUSD, PlanInputs
from fabnet.plan.model import SPENDING_KINDS, build_cost_per_module, revenue, spending
from fabnet.plan.solve import SolveResult

#: Quantities below this are solver noise, not decisions.
EPS = 1e-6


@dataclass(frozen=True)
class Plan:
    """The network plan. Money in USD, wafers per quarter unless a column says otherwise."""

    builds: pd.DataFrame           # site, region-free: site, node, started, modules, online
    packaging_builds: pd.DataFrame  # line, started, modules, online
    supply: pd.DataFrame           # product, quarter: demand, delivered, unmet, good dies, die bank
    production: pd.DataFrame       # source (site or foundry offer), node, product, quarter: wafer starts
    capacity: pd.DataFrame         # site, quarter: wafer capacity, effective capacity, wafer starts,
    #                                load, queue, cleared, planned cycle time
    packaging: pd.DataFrame        # line, quarter: capacity and use, interposer wafers
    cash: pd.DataFrame             # quarter: spending by kind, commitments, revenue, balance
    result: SolveResult
    objective_kind: str
    npv_usd: float
    cycle_time: str = "load"       # "load" (load-dependent) or "constant"
    messages: list[str] = field(default_factory=list)

    @property
    def optimal(self) -> bool:
        return self.result.optimal


def extract(model: linopy.Model, x: PlanInputs, result: SolveResult) -> Plan:
    if not result.has_solution:
        raise ValueError("extract needs a solved model with a solution")
    value = {name: model.variables[name].solution.fillna(0.0) for name in model.variables}
    quarters = [str(q) for q in x.quarters]
    cash = _cash(model, x, value, quarters)
    return Plan(
        builds=_builds(x, value, quarters),
        packaging_builds=_packaging_builds(x, value, quarters),
        supply=_supply(x, value, quarters),
        production=_production(x, value, quarters),
        capacity=_capacity(x, value, quarters),
        packaging=_packaging(x, value, quarters),
        cash=cash,
        result=result,
        objective_kind=x.objective,
        npv_usd=_npv(x, value, cash),
        cycle_time=x.cycle_time,
    )


def _quarter_label(x: PlanInputs, index: int) -> str:
    return str(x.quarters[0] + int(index))


def _builds(x: PlanInputs, value, quarters) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    table = _modules_started(x, value, quarters, "build", "site", x.sites, x.lead_q)
    table.insert(1, "node", table["site"].map(dict(zip(x.sites, x.site_node, strict=True))))
    return table


def _packaging_builds(x: PlanInputs, value, quarters) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return _modules_started(x, value, quarters, "packaging_build", "line", x.lines, x.line_lead_q)


def _modules_started(x: PlanInputs, value, quarters, name: str, dim: str, ids: list[str],  # type: ignore[no-untyped-def]
                     leads) -> pd.DataFrame:
    """One row per entity and quarter where modules start: how many, and when they are online."""
    rows = []
    if name in value:
        built = value[name].transpose(dim, "quarter").values
        for i, entity in enumerate(ids):
            for t in np.nonzero(built[i] > 0.5)[0]:
                rows.append({dim: entity, "started": quarters[t], "modules": int(round(built[i, t])),
                             "online": _quarter_label(x, t + leads[i])})
    return pd.DataFrame(rows, columns=[dim, "started", "modules", "online"])


def _supply(x: PlanInputs, value, quarters) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    packages = value["packages"].transpose("product", "quarter").values
    unmet = value["unmet"].transpose("product", "quarter").values
    bank = value["die_bank"].transpose("product", "quarter").values
    frames = []
    for i, product in enumerate(x.products):
        frames.append(pd.DataFrame({
            "product": product,
            "node": x.product_node[i],
            "quarter": quarters,
            "year": [q.year for q in x.quarters],
            "demand": x.demand[i],
            "delivered": packages[i] * x.packaging_yield[i],
            "unmet": np.clip(unmet[i], 0, None),
            "packages_started": packages[i],
            "die_bank": np.clip(bank[i], 0, None),
        }))
    return pd.concat(frames, ignore_index=True)


def _production(x: PlanInputs, value, quarters) -> pd.DataFrame:  # type: ignore[no-untyped-def]
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
                    rows.append(pd.DataFrame({
                        "source": source,
                        "kind": "site" if name == "wafers" else "foundry",
                        "node": nodes[i], "product": product, "quarter": quarters,
                        "wafer_starts": np.clip(starts[i, j], 0, None)}))
    columns = ["source", "kind", "node", "product", "quarter", "wafer_starts"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)


def _capacity(x: PlanInputs, value, quarters) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    if "build" not in value:
        return pd.DataFrame(columns=["site", "node", "quarter", "modules_online", "wafer_capacity",
                                     "effective_capacity", "wafer_starts", "load", "queue", "cleared",
                                     "cycle_days"])
    built = value["build"].transpose("site", "quarter").values.round()
    starts = value["wafers"].sum("product").transpose("site", "quarter").values
    queue = _per_site(value, "queue", starts)
    cleared = _per_site(value, "cleared", starts)
    frames = []
    for i, site in enumerate(x.sites):
        online = np.zeros(x.horizon)
        wafers = np.zeros(x.horizon)
        effective = np.zeros(x.horizon)
        for t in np.nonzero(built[i] > 0)[0]:
            first = t + x.lead_q[i]
            ages = np.arange(x.horizon - first) if first < x.horizon else np.arange(0)
            online[first:] += built[i, t]
            wafers[first:] += built[i, t] * x.capacity_by_age[i, ages] * x.module_wafers_q[i]
            effective[first:] += built[i, t] * x.effective_by_age[i, ages] * x.module_wafers_q[i]
        load = np.divide(starts[i], effective, out=np.zeros(x.horizon), where=effective > EPS)
        load = np.clip(load, 0, None)
        curve = x.site_curve[i]
        raw_days = x.site_cycle_q[i] * DAYS_PER_QUARTER
        through = np.clip(cleared[i], 0, None) if curve else np.clip(starts[i], 0, None)
        waiting = np.clip(queue[i], 0, None) if curve else np.zeros(x.horizon)
        frames.append(pd.DataFrame({
            "site": site, "node": x.site_node[i], "quarter": quarters, "modules_online": online,
            "wafer_capacity": wafers, "effective_capacity": effective,
            "wafer_starts": np.clip(starts[i], 0, None), "load": load,
            "queue": waiting, "cleared": through,
            # what the plan implies: the raw cycle time plus the time in its queue (Little's law)
            "cycle_days": raw_days + DAYS_PER_QUARTER * np.divide(
                waiting, through, out=np.zeros(x.horizon), where=through > EPS)}))
    return pd.concat(frames, ignore_index=True)


def _per_site(value, name: str, like: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    if name not in value:
        return np.zeros_like(like)
    return value[name].sum("product").transpose("site", "quarter").values


def _packaging(x: PlanInputs, value, quarters) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    packages = value["packages"].transpose("product", "quarter").values
    added = np.zeros((len(x.lines), x.horizon))
    if "packaging_build" in value:
        built = value["packaging_build"].transpose("line", "quarter").values.round()
        for i in range(len(x.lines)):
            for t in np.nonzero(built[i] > 0)[0]:
                added[i, t + x.line_lead_q[i]:] += built[i, t] * x.line_module_q[i]
    frames = []
    for i, line in enumerate(x.lines):
        on_line = [j for j, p in enumerate(x.product_line) if p == line]
        used = packages[on_line].sum(axis=0) / x.line_packages_per_wafer[i]
        frames.append(pd.DataFrame({
            "line": line, "quarter": quarters,
            "capacity_wafers": x.line_capacity_q[i] + added[i],
            "used_wafers": used}))
    return pd.concat(frames, ignore_index=True)


def _evaluate(expr: linopy.LinearExpression) -> np.ndarray:
    return np.asarray(expr.solution.transpose("quarter").values, dtype=float)


def _cash(model: linopy.Model, x: PlanInputs, value, quarters) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    table = pd.DataFrame({"quarter": quarters, "year": [q.year for q in x.quarters]})
    kinds = spending(model, x)
    for kind in SPENDING_KINDS:
        table[f"{kind}_usd"] = _evaluate(kinds[kind]) * MUSD if kind in kinds else 0.0
    spend_columns = [c for c in table.columns if c.endswith("_usd")]
    table["spend_usd"] = table[spend_columns].sum(axis=1)
    table["commitments_usd"] = x.funds_musd * MUSD
    table["revenue_usd"] = _evaluate(revenue(model, x)) * MUSD
    table["cash_usd"] = value["cash"].transpose("quarter").values * MUSD
    return table


def _npv(x: PlanInputs, value, cash: pd.DataFrame) -> float:  # type: ignore[no-untyped-def]
    """Discounted revenue less spending; fab construction enters as in the objective (with tax
    credits and the end-of-horizon book value)."""
    flows = (cash["revenue_usd"] - cash["spend_usd"] + cash["capex_usd"]).to_numpy() / MUSD
    total = float((flows * x.discount).sum())
    if "build" in value:
        built = value["build"].transpose("site", "quarter").values.round()
        total -= float((built * build_cost_per_module(x)).sum())
    return total * MUSD
