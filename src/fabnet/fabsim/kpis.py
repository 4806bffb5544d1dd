"""KPI tables from a simulation's flat records (pandas only here, after the loop)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fabnet.fabsim.engine import MINUTES_PER_DAY, SimResult
from fabnet.fabsim.smt2020 import WAFERS_PER_LOT, FabData

PRIORITY_CLASS = {10: "normal", 20: "hot", 30: "super-hot"}


@dataclass(frozen=True)
class Kpis:
    lots: pd.DataFrame        # per product and priority class, plus an "all" row
    families: pd.DataFrame    # per tool family
    wip: pd.DataFrame         # day, lots in the fab
    cqt: pd.DataFrame         # route, step, checks, violations
    measured_days: float


def kpis(fab: FabData, result: SimResult) -> Kpis:
    o = result.options
    days = o.days - o.warmup_days
    records = pd.DataFrame(result.lots, columns=["route", "priority", "stream", "release", "done",
                                                 "due", "raw"])
    records["product"] = [fab.route_part[r] for r in records["route"]]
    records["class"] = records["priority"].map(PRIORITY_CLASS).fillna("other")
    records["cycle_days"] = (records["done"] - records["release"]) / MINUTES_PER_DAY
    records["x_factor"] = (records["done"] - records["release"]) / records["raw"]
    records["on_time"] = records["done"] <= records["due"]
    groups = [_lot_row(part, cls, g, days) for (part, cls), g in records.groupby(["product", "class"])]
    groups.append(_lot_row("all", "all", records, days))
    lots = pd.DataFrame(groups)

    tools = fab.family_tools.astype(float)
    capacity = tools * days * MINUTES_PER_DAY
    available = capacity - result.family_down - result.family_pm
    families = pd.DataFrame({
        "family": fab.families,
        "group": fab.family_group,
        "tools": fab.family_tools,
        "utilisation": np.divide(result.family_busy + result.family_setup, available,
                                 out=np.zeros_like(available), where=available > 0),
        "availability": np.divide(available, capacity, out=np.zeros_like(capacity), where=capacity > 0),
        "setup_share": result.family_setup / capacity,
        "down_share": result.family_down / capacity,
        "pm_share": result.family_pm / capacity,
        "mean_wait_min": np.divide(result.family_wait, result.family_starts,
                                   out=np.zeros_like(result.family_wait), where=result.family_starts > 0),
        "starts": result.family_starts,
    })
    wip = pd.DataFrame(result.wip, columns=["day", "lots"])
    cqt = pd.DataFrame(
        [(fab.routes[route].name, step + 1, checks, result.cqt_violations.get((route, step), 0))
         for (route, step), checks in sorted(result.cqt_checks.items())],
        columns=["route", "step", "checks", "violations"])
    return Kpis(lots, families, wip, cqt, days)


def _lot_row(product: str, cls: str, g: pd.DataFrame, days: float) -> dict:
    ct = g["cycle_days"]
    return {
        "product": product, "class": cls, "lots": len(g),
        "lots_per_day": len(g) / days if days > 0 else np.nan,
        "wafers_per_day": len(g) * WAFERS_PER_LOT / days if days > 0 else np.nan,
        "cycle_mean_days": ct.mean(), "cycle_p50_days": ct.quantile(0.5), "cycle_p95_days": ct.quantile(0.95),
        "x_factor": g["x_factor"].mean(), "on_time": g["on_time"].mean(),
    }


def bottleneck(k: Kpis, top: int = 5) -> pd.DataFrame:
    """The most utilised tool families."""
    return k.families.sort_values("utilisation", ascending=False).head(top)
