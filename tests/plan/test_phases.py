"""Modules built in phases (a shell, then tool sets), a finite market for spare wafers, and the
end of the horizon, on tiny instances whose answer follows by hand."""

from __future__ import annotations

import numpy as np
import pytest

from fabnet.chips import gross_dies
from fabnet.core.periods import Quarter
from fabnet.plan import SolveOptions, make_plan
from tests.plan.conftest import scenario, site, tiny

EXACT = SolveOptions(mip_gap=0.0)

# one tool set is half of alpha's 1,000 wspm module: 1,500 wafers a quarter, of 10 x 10 mm dies
# (gross dies as tests/chips/test_dies.py checks them) at Poisson yield exp(-0.1) (0.1/cm^2 over
# 1 cm^2), one die a package, packaging yield 1
ONE_SET_ACCELERATORS_Q = 1500 * gross_dies(300, 10, 10, 3.0, 0.1) * np.exp(-0.1)


def phased(**changes):
    # a wafer costs $10 to start, so no wafer is started that nobody needs
    base = {"max_modules": 1, "lead_time_q": 3, "tool_phases": {"wspm": 500, "lead_time_q": 1}, "ramp": [1.0]}
    return site("alpha", **(base | {"opex_per_wafer_usd": 10} | changes))


def plan_for(per_quarter: float, **data_changes):
    data = tiny(sites=[phased()], **data_changes)
    data["horizon"]["quarters"] = 8
    data["products"][0]["demand"] = {"per_quarter": {"2025Q1": 0, "2025Q4": 0, "2026Q1": per_quarter}}
    return make_plan(scenario(data), EXACT)


@pytest.mark.parametrize(("share", "sets"), [(0.9, 1), (1.8, 2)])
def test_tool_sets_follow_demand(share, sets):
    """Demand for 0.9 of a tool set's output gets one tool set in one shell; 1.8 gets two."""
    plan = plan_for(share * ONE_SET_ACCELERATORS_Q)
    kinds = plan.builds.groupby("kind")["modules"].sum().to_dict()
    assert kinds == {"shell": 1, "tools": sets}
    assert plan.builds.loc[plan.builds["kind"] == "tools", "wspm"].sum() == pytest.approx(500 * sets)
    # a tool set counts as half a module online
    assert plan.capacity["modules_online"].max() == pytest.approx(0.5 * sets)


def test_no_tool_set_goes_in_before_its_shell_is_ready():
    plan = plan_for(1.8 * ONE_SET_ACCELERATORS_Q)
    shell_start = Quarter.parse(plan.builds.loc[plan.builds["kind"] == "shell", "started"].iloc[0])
    ready = shell_start + 2  # lead_time_q 3 less the tool set's 1
    starts = [Quarter.parse(q) for q in plan.builds.loc[plan.builds["kind"] == "tools", "started"]]
    assert starts and all(q >= ready for q in starts)


def test_a_market_takes_spare_wafers_up_to_its_volume():
    """With no demand of the buyer's and a mandatory site, the only use of the fab is the market:
    spare starts fill the market's 200 wafers a month (600 a quarter) and no more, although the
    capacity allows 1,500."""
    data = tiny(sites=[phased(mandatory=True)], wafer_markets=[{"node": "N", "wafers_per_month": 200}])
    data["products"][0]["demand"] = {"per_quarter": {"2025Q1": 0}}
    plan = make_plan(scenario(data), EXACT)
    spare = plan.capacity["spare_starts"]
    assert spare.max() == pytest.approx(600)
    assert (spare <= 600 + 1e-6).all()


def test_the_fab_starts_wafers_to_the_end_of_the_horizon():
    """Wafers started in the last quarter come out after it; they still count (life after the
    horizon), up to one more quarter of demand at the last quarter's rate: the last quarter's
    starts and the dies banked at the end together make 0.9 of a tool set's quarter."""
    plan = plan_for(0.9 * ONE_SET_ACCELERATORS_Q)
    starts = plan.capacity["wafer_starts"].to_numpy()
    banked_wafers = plan.supply["die_bank"].iloc[-1] / (ONE_SET_ACCELERATORS_Q / 1500)
    assert starts[-1] > 0
    assert starts[-1] + banked_wafers == pytest.approx(0.9 * 1500, rel=1e-6)
