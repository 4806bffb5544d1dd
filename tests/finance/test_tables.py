"""The tidy-table → array helper against pandas' own pivot table (the oracle)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from fabnet.finance.tables import grid

IDS = ["a", "b", "c"]
QUARTERS = ["2025Q1", "2025Q2", "2025Q3"]

rows = st.lists(
    st.tuples(
        st.sampled_from([*IDS, "elsewhere"]),
        st.sampled_from([*QUARTERS, "2030Q1"]),
        st.one_of(st.floats(-1e9, 1e9), st.just(float("nan"))),
    ),
    max_size=30,
)


@given(rows)
def test_grid_sums_repeated_rows_and_drops_unknown_ones_as_a_pivot_table_does(data):
    table = pd.DataFrame(data, columns=["site", "quarter", "value"])
    expected = (
        table.pivot_table(index="site", columns="quarter", values="value", aggfunc="sum")
        .reindex(index=IDS, columns=QUARTERS)
        .fillna(0.0)
        .to_numpy()
        if len(table)
        else np.zeros((3, 3))
    )
    np.testing.assert_allclose(grid(table, "site", IDS, QUARTERS, "value"), expected, rtol=1e-12, atol=1e-6)
