"""Numbers from samples are shown to the digits the sampling knows (issue 31: a demand P50 of
"1,000,001")."""

from __future__ import annotations

import math

import pytest

from fabnet.core import columns
from fabnet.core import format as fmt
from fabnet.core.figures import P_MEET_SERVED


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        (1_000_001, 1_000_000),  # the demand P50
        (8_110_686, 8_110_000),
        (0.012345, 0.0123),
        (-2.1749e9, -2.17e9),
        (999.5, 1_000),  # rounding up adds a digit
        (0, 0),
    ],
)
def test_significant_keeps_three_digits(value, rounded):
    assert fmt.significant(value) == pytest.approx(rounded, abs=0)


def test_significant_leaves_missing_and_infinite_values():
    assert math.isnan(fmt.significant(math.nan)) and fmt.significant(math.inf) == math.inf


def test_a_sampled_count_hides_the_noise_an_exact_one_keeps_it():
    assert columns.show("demand_p50", 1_000_001.0, sampled=True) == "1,000,000"
    assert columns.show("demand_p50", 1_000_001.0) == "1,000,001"
    # money and shares were already within three or four digits; a sampled one stays readable
    assert columns.show("fabco_npv_usd", 5_624_900_000.0, sampled=True) == "$5.62 B"
    # billions to three digits too: not "$106.00 B", whose zeros the samples do not know
    assert columns.show("buyer_net_usd", 105_960_000_000.0, sampled=True) == "$106 B"
    assert columns.show("buyer_net_usd", -68_704_000_000.0, sampled=True) == "-$68.7 B"
    assert columns.show("buyer_net_usd", 105_960_000_000.0) == "$105.96 B"
    assert columns.show(P_MEET_SERVED, 0.87349, sampled=True) == "87.3 %"
