"""A build's money rules (scenario.assets) worked by hand: when a grant pays and what the
planner's annuity charges for it."""

from __future__ import annotations

import numpy as np
import pytest

from fabnet.scenario.assets import Asset, capital_recovery_factor
from fabnet.scenario.schema import DepreciationYears

#: A tool set: $100 M of tools spent $50 M a quarter over two quarters, in service two quarters
#: after its start; at 21.550625 % a year the quarterly rate is exactly 5 % (1.05⁴).
TOOLS = Asset("tools", 0.0, 100e6, 2, 2, 1.0)
RATE, RATE_Q = 1.05**4 - 1, 0.05
LIFE = DepreciationYears(building=20, tools=5)


def test_a_grant_paid_in_service_is_due_all_at_once_when_the_build_enters_service():
    building, tools = TOOLS.grant_due("in_service")
    assert building.tolist() == [0, 0, 0]
    assert tools.tolist() == [0, 0, 100e6]
    assert [a.tolist() for a in TOOLS.grant_due("as_spent")] == [[0, 0], [50e6, 50e6]]


@pytest.mark.parametrize("paid", ["as_spent", "in_service"])
def test_the_annuity_charges_the_capex_less_the_grant_at_its_value_in_service(paid):
    """Spent 50 two quarters and 50 one quarter before service: 50·1.05² + 50·1.05 = 107.625 at
    service. A 40 % grant as spent is worth 40 % of that; paid in service, 40 % of 100. The
    annuity is the rest times the CRF of 20 quarters at 5 %."""
    at_service = 50e6 * 1.05**2 + 50e6 * 1.05
    grant = 0.4 * (at_service if paid == "as_spent" else 100e6)
    crf = 0.05 * 1.05**20 / (1.05**20 - 1)
    annuity = TOOLS.annuity_usd(RATE, LIFE, 0.4, 0.0, paid)
    assert capital_recovery_factor(RATE_Q, 20) == pytest.approx(crf)
    assert annuity[:20] == pytest.approx(np.full(20, (at_service - grant) * crf))
    assert not annuity[20:].any()


def test_the_charged_share_of_a_grant_paid_in_service_is_the_whole_builds():
    spent = TOOLS.charged_inside(RATE, LIFE, 6)  # four quarters of 20 in service
    due = TOOLS.grant_charged_inside(RATE, LIFE, 6, "in_service")
    assert due.tolist() == pytest.approx([0, 0, spent.sum()])
    share = (1 - 1.05**-4) / (1 - 1.05**-20)
    assert spent.tolist() == pytest.approx([50e6 * share, 50e6 * share])
