"""KPI tables from a simulation's flat records, after the loop.

Computed with numpy as columns (`Kpis.columns`), so that `fabnet simulate` prints them without
importing pandas (a third of a second of start-up); `Kpis.lots`, `.families`, `.wip` and `.cqt`
are the same tables as pandas DataFrames, built on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from fabnet.core.units import MINUTES_PER_DAY
from fabnet.fabsim.model import LOT_RECORD, WAFERS_PER_LOT
from fabnet.fabsim.options import SimResult
from fabnet.fabsim.smt2020 import FabData

if TYPE_CHECKING:
    import pandas as pd

PRIORITY_CLASS = {10: "normal", 20: "hot", 30: "super-hot"}
#: A table as columns of equal length, in order.
Columns = dict[str, np.ndarray]


@dataclass(frozen=True)
class Kpis:
    tables: dict[str, Columns]  # lots (per product and priority class, plus "all"), families, wip, cqt
    measured_days: float

    def columns(self, table: str) -> Columns:
        return self.tables[table]

    @cached_property
    def lots(self) -> pd.DataFrame:
        return _frame(self.tables["lots"])

    @cached_property
    def families(self) -> pd.DataFrame:
        return _frame(self.tables["families"])

    @cached_property
    def wip(self) -> pd.DataFrame:
        return _frame(self.tables["wip"])

    @cached_property
    def cqt(self) -> pd.DataFrame:
        return _frame(self.tables["cqt"])


def _frame(columns: Columns) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(columns)


def kpis(fab: FabData, result: SimResult) -> Kpis:
    o = result.options
    days = o.days - o.warmup_days
    return Kpis(
        {
            "lots": lot_table(fab, result, days),
            "families": family_table(fab, result, days),
            "wip": {
                "day": np.array([d for d, _ in result.wip], float),
                "lots": np.array([n for _, n in result.wip], np.int64),
            },
            "cqt": cqt_table(fab, result),
        },
        days,
    )


def lot_table(fab: FabData, result: SimResult, days: float) -> Columns:
    """Per product and priority class (sorted), then all lots: counts, throughput, cycle time
    (mean, median, 95th percentile, linear interpolation), X-factor and on-time share."""
    records = np.array(result.lots, float).reshape(-1, len(LOT_RECORD))
    field = {name: records[:, i] for i, name in enumerate(LOT_RECORD)}
    product = np.array([fab.route_part[int(r)] for r in field["route"]], dtype=object)
    cls = np.array([PRIORITY_CLASS.get(int(p), "other") for p in field["priority"]], dtype=object)
    cycle = field["done"] - field["release"]
    groups = sorted(set(zip(product, cls, strict=True)))
    rows = [_lot_row(part, kind, (product == part) & (cls == kind), cycle, field, days) for part, kind in groups]
    rows.append(_lot_row("all", "all", np.ones(len(cycle), bool), cycle, field, days))
    return {
        name: np.array([row[name] for row in rows], dtype=object if name in ("product", "class") else None)
        for name in rows[0]
    }


def _lot_row(product: str, cls: str, chosen: np.ndarray, cycle: np.ndarray, field: Columns, days: float) -> dict:
    n = int(chosen.sum())
    days_ = cycle[chosen] / MINUTES_PER_DAY
    some = n > 0
    return {
        "product": product,
        "class": cls,
        "lots": n,
        "lots_per_day": n / days if days > 0 else np.nan,
        "wafers_per_day": n * WAFERS_PER_LOT / days if days > 0 else np.nan,
        "cycle_mean_days": days_.mean() if some else np.nan,
        "cycle_p50_days": np.quantile(days_, 0.5) if some else np.nan,
        "cycle_p95_days": np.quantile(days_, 0.95) if some else np.nan,
        "x_factor": (cycle[chosen] / field["raw"][chosen]).mean() if some else np.nan,
        "on_time": (field["done"][chosen] <= field["due"][chosen]).mean() if some else np.nan,
    }


def family_table(fab: FabData, result: SimResult, days: float) -> Columns:
    tools = fab.family_tools.astype(float)
    capacity = tools * days * MINUTES_PER_DAY
    available = capacity - result.family_down - result.family_pm
    return {
        "family": np.array(fab.families, dtype=object),
        "group": np.array(fab.family_group, dtype=object),
        "tools": np.asarray(fab.family_tools),
        "utilisation": np.divide(
            result.family_busy + result.family_setup, available, out=np.zeros_like(available), where=available > 0
        ),
        "availability": np.divide(available, capacity, out=np.zeros_like(capacity), where=capacity > 0),
        "setup_share": result.family_setup / capacity,
        "down_share": result.family_down / capacity,
        "pm_share": result.family_pm / capacity,
        "mean_wait_min": np.divide(
            result.family_wait,
            result.family_starts,
            out=np.zeros_like(result.family_wait),
            where=result.family_starts > 0,
        ),
        "starts": np.asarray(result.family_starts),
    }


def cqt_table(fab: FabData, result: SimResult) -> Columns:
    rows = [
        (fab.routes[route].name, step + 1, checks, result.cqt_violations.get((route, step), 0))
        for (route, step), checks in sorted(result.cqt_checks.items())
    ]
    return {
        "route": np.array([r[0] for r in rows], dtype=object),
        **{
            name: np.array([r[i] for r in rows], np.int64) for i, name in enumerate(("step", "checks", "violations"), 1)
        },
    }


def bottleneck(k: Kpis, top: int = 5) -> pd.DataFrame:
    """The most utilised tool families."""
    return k.families.sort_values("utilisation", ascending=False).head(top)
