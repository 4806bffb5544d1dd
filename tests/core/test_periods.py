from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabnet.core.errors import format_loc
from fabnet.core.periods import Quarter, delayed, split_lag


@pytest.mark.parametrize("text", ["2025Q3", "2025q3", " 2025-Q3 "])
def test_parse(text):
    assert Quarter.parse(text) == Quarter(2025, 3)


@pytest.mark.parametrize("text", ["2025Q5", "2025", "Q3 2025", "25Q1"])
def test_parse_rejects(text):
    with pytest.raises(ValueError, match="quarter like 2025Q3"):
        Quarter.parse(text)


def test_arithmetic_crosses_years():
    assert Quarter(2024, 4) + 1 == Quarter(2025, 1)
    assert Quarter(2026, 1) - Quarter(2024, 3) == 6
    assert str(Quarter(2024, 4) + 5) == "2026Q1"


@given(st.integers(1900, 2200), st.integers(1, 4), st.integers(-400, 400))
def test_index_round_trip(year, q, shift):
    quarter = Quarter(year, q)
    assert Quarter.from_index(quarter.index) == quarter
    assert (quarter + shift) - quarter == shift
    assert (quarter + shift > quarter) == (shift > 0)


def test_format_loc():
    assert format_loc(("sites", 2, "lead_time_q")) == "sites[2].lead_time_q"
    assert format_loc(()) == ""


def test_delayed_splits_like_the_planners_die_balance():
    # 1.25 quarters: three quarters of the wafers finish one quarter later, the rest two
    assert delayed(np.array([100.0, 0, 0, 0]), 1.25) == pytest.approx([0, 75, 25, 0])
    assert delayed(np.array([10.0, 20.0]), 3.0) == pytest.approx([0, 0])
    assert delayed(np.array([[4.0, 0.0, 0.0]]), 0.0).tolist() == [[4.0, 0.0, 0.0]]  # leading axes pass
    assert split_lag(1.5) == (1, 0.5) and split_lag(2.0) == (2, 0.0)
