"""Pre-operating quarters: a fab pays its fixed costs while its tools are qualified, before its
first wafer (scenario `sites.pre_operating_q`, scenario.assets.Asset.staffed_q), in the planner's
objective and budget rows as in the fab company's money, on a tiny instance worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from fabnet.finance import compute_financials
from fabnet.pipeline import plan_tables
from fabnet.plan import SolveOptions, make_plan
from fabnet.scenario.checks import check_scenario
from fabnet.scenario.schema import Scenario
from tests.plan.conftest import scenario, site, tiny

EXACT = SolveOptions(mip_gap=0.0)
FIXED_Q = 4e6


def one_site(pre: int, lead: int = 3) -> dict:
    """alpha alone: one module, `lead` quarters to first wafer, $4 M of fixed opex a quarter
    from `pre` quarters before it; tiny()'s demand from 2025Q3 makes building it at once worth it."""
    return tiny(
        sites=[site("alpha", lead_time_q=lead, max_modules=1, fixed_opex_per_module_q_usd=FIXED_Q, pre_operating_q=pre)]
    )


@pytest.mark.parametrize("pre", [0, 2, 3])
def test_fixed_opex_starts_the_pre_operating_quarters_before_the_first_wafer(pre):
    """Built in 2025Q1 with a lead of 3, alpha's first wafer is in 2025Q4 (index 3): its fixed
    opex runs from index 3 − pre to the end, in finance and in the planner's budget rows."""
    s = scenario(one_site(pre))
    plan = make_plan(s, EXACT)
    assert plan.builds["started"].tolist() == ["2025Q1"]
    expected = np.zeros(s.horizon.quarters)
    expected[3 - pre :] = FIXED_Q
    money = compute_financials(s, plan_tables(plan)).fabco.quarterly
    assert money["fixed_opex_usd"].tolist() == pytest.approx(expected.tolist())
    assert plan.budget["fixed_opex_usd"].tolist() == pytest.approx(expected.tolist())
    # the module produces from its first wafer, not from when it is staffed
    online = plan.capacity["modules_online"].to_numpy()
    assert online.tolist() == [0, 0, 0, 1, 1, 1]
    assert plan.capacity["modules_staffed"].to_numpy()[3 - pre :].tolist() == [1.0] * (3 + pre)


def test_the_objective_carries_the_pre_operating_cost():
    """The same plan with two pre-operating quarters costs the system exactly two more quarters
    of fixed opex (tiny()'s discount rate is 0)."""
    plans = [make_plan(scenario(one_site(pre)), EXACT) for pre in (0, 2)]
    assert plans[0].builds.equals(plans[1].builds)
    assert plans[1].objective_usd - plans[0].objective_usd == pytest.approx(2 * FIXED_Q)


def test_a_pre_operating_time_longer_than_the_build_is_refused():
    problems = check_scenario(Scenario.model_validate(one_site(pre=4, lead=3)))
    assert [(p.loc, p.expected) for p in problems] == [
        (("sites", 0, "pre_operating_q"), "at most the capacity unit's lead time (lead_time_q: 3), e.g. 3")
    ]


def test_tool_sets_are_staffed_within_their_own_lead_time():
    data = one_site(pre=3, lead=3)
    data["sites"][0] |= {"lead_time_q": 4, "tool_phases": {"wspm": 500, "lead_time_q": 2}}
    problems = check_scenario(Scenario.model_validate(data))
    assert [p.loc for p in problems] == [("sites", 0, "pre_operating_q")]
    assert "tool_phases.lead_time_q: 2" in problems[0].expected


def test_a_sampled_delay_moves_the_pre_operating_quarters_with_the_first_wafer():
    """The fixed-plan risk model holds the builds; a sample whose construction takes a quarter
    longer starts producing, and paying fixed opex, a quarter later."""
    from fabnet.risk.fixed import held_operations

    data = one_site(pre=2)
    data["uncertainty"] = [{"path": "sites.alpha.lead_time_q", "dist": "discrete", "apply": "add", "values": [0, 1]}]
    s = scenario(data)
    held = held_operations(s, make_plan(s, EXACT), np.array([[0.0], [1.0]]))
    assert held.online[:, 0].tolist() == [[0, 0, 0, 1, 1, 1], [0, 0, 0, 0, 1, 1]]
    assert held.staffed[:, 0].tolist() == [[0, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1]]
