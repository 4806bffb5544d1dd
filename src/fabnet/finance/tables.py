"""Tidy plan tables as arrays: one helper, for finance and the fixed-plan risk model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fabnet.core.periods import Quarter


def grid(table: pd.DataFrame, key: str, ids: list[str], quarters: list[str], column: str) -> np.ndarray:
    """`column` of a tidy table (one row per `key` × quarter) as ids × quarters, summed where
    rows repeat, zero where the table has none."""
    if table.empty:
        return np.zeros((len(ids), len(quarters)))
    wide = table.pivot_table(index=key, columns="quarter", values=column, aggfunc="sum")
    return wide.reindex(index=ids, columns=quarters).fillna(0.0).to_numpy(dtype=float)


def capacity_builds(builds: pd.DataFrame) -> pd.DataFrame:
    """The rows of a plan's builds table that add capacity: whole modules and tool sets (a
    shell is a building, ready for tool sets)."""
    return builds[builds["kind"] != "shell"]


def online_quarters(builds: pd.DataFrame, start: Quarter) -> np.ndarray:
    """Quarter index, from `start`, in which each row of capacity_builds comes online."""
    return np.array([Quarter.parse(q) - start for q in capacity_builds(builds)["online"]], dtype=int)
