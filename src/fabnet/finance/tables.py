"""Tidy plan tables as arrays: one helper, for finance and the fixed-plan risk model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fabnet.core.periods import Quarter


def grid(table: pd.DataFrame, key: str, ids: list[str], quarters: list[str], column: str) -> np.ndarray:
    """`column` of a tidy table (one row per `key` × quarter) as ids × quarters, summed where
    rows repeat, zero where the table has none (or a value is missing). Indexed sums, not a
    pivot table: the deal's price sweep reads ~500 of these per run."""
    out = np.zeros((len(ids), len(quarters)))
    if table.empty:
        return out
    rows = pd.Index(ids).get_indexer(table[key].astype(str))
    cols = pd.Index(quarters).get_indexer(table["quarter"].astype(str))
    keep = (rows >= 0) & (cols >= 0)
    values = np.nan_to_num(table[column].to_numpy(dtype=float))
    np.add.at(out, (rows[keep], cols[keep]), values[keep])
    return out


def capacity_builds(builds: pd.DataFrame) -> pd.DataFrame:
    """The rows of a plan's builds table that add capacity: whole modules and tool sets (a
    shell is a building, ready for tool sets)."""
    return builds[builds["kind"] != "shell"]


def online_quarters(builds: pd.DataFrame, start: Quarter) -> np.ndarray:
    """Quarter index, from `start`, in which each row of capacity_builds comes online."""
    return np.array([Quarter.parse(q) - start for q in capacity_builds(builds)["online"]], dtype=int)
