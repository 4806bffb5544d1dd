"""Tidy plan tables as arrays: one helper, for finance and the fixed-plan risk model."""

from __future__ import annotations

import numpy as np
import pandas as pd


def grid(table: pd.DataFrame, key: str, ids: list[str], quarters: list[str], column: str) -> np.ndarray:
    """`column` of a tidy table (one row per `key` × quarter) as ids × quarters, summed where
    rows repeat, zero where the table has none."""
    if table.empty:
        return np.zeros((len(ids), len(quarters)))
    wide = table.pivot_table(index=key, columns="quarter", values=column, aggfunc="sum")
    return wide.reindex(index=ids, columns=quarters).fillna(0.0).to_numpy(dtype=float)
