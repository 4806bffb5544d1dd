"""A fab converted to the next node: the same building retooled, on tiny instances whose answer
follows by hand (scenario `converts_from`, plan.capacity.define_conversions)."""

from __future__ import annotations

import numpy as np
import pytest

from fabnet.chips import gross_dies
from fabnet.finance import compute_financials
from fabnet.pipeline import plan_tables
from fabnet.plan import SolveOptions, make_plan
from fabnet.scenario.checks import check_scenario
from fabnet.scenario.schema import Scenario
from tests.plan.conftest import ONE_QUARTER_CYCLE, scenario, site, tiny

EXACT = SolveOptions(mip_gap=0.0)
QUARTERS = ["2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3", "2026Q4"]
# one module (1,000 wspm, 3,000 wafers a quarter) of 10 x 10 mm dies at Poisson yield exp(-0.1)
MODULE_ACCELERATORS_Q = 3000 * gross_dies(300, 10, 10, 3.0, 0.1) * np.exp(-0.1)


def converting(new_demand_share=0.5, converter_max=1, **converter_changes):
    """Node N's product is wanted in 2025Q3-Q4, node M's from 2026Q3 (half a module's output
    each, unless told). alpha builds N modules; alpha_m converts them to M for $10 M of tools and
    a quarter of downtime; gamma is a new M fab at $80 M."""
    node_m = {
        "id": "M",
        "wafer_price_usd": 10000,
        **ONE_QUARTER_CYCLE,
        "defect_density": {"ramp_per_cm2": 0.1, "mature_per_cm2": 0.1, "learning_rate_per_q": 0.5},
        "yield_model": {"kind": "poisson"},
        "load_curve": None,
    }
    data = tiny(
        sites=[
            site("alpha", max_modules=1, opex_per_wafer_usd=10, fixed_opex_per_module_q_usd=1e6),
            site(
                "alpha_m",
                **{
                    "node": "M",
                    "converts_from": "alpha",
                    "max_modules": converter_max,
                    "capex_per_module_usd": {"building": 0, "tools": 10e6},
                    "opex_per_wafer_usd": 10,
                    "fixed_opex_per_module_q_usd": 2e6,
                }
                | converter_changes,
            ),
        ]
    )
    data["horizon"]["quarters"] = len(QUARTERS)
    data["nodes"].append(node_m)
    old, new = dict(data["products"][0]), dict(data["products"][0])
    half = MODULE_ACCELERATORS_Q / 2
    # a demand path is interpolated between the quarters it names: each step named on both sides
    old["demand"] = {"per_quarter": {"2025Q1": 0, "2025Q2": 0, "2025Q3": half, "2025Q4": half, "2026Q1": 0}}
    wanted = {"2025Q1": 0, "2026Q2": 0, "2026Q3": 2 * half * new_demand_share}
    new |= {"id": "chip_m", "node": "M", "demand": {"per_quarter": wanted}}
    data["products"] = [old, new]
    return data


def test_a_fab_is_converted_when_its_node_is_no_longer_wanted():
    """alpha's module serves N until 2025Q4; converted in 2026Q1 it makes M from 2026Q2 on:
    one module and one conversion, no new M fab (gamma would cost $80 M against $10 M)."""
    data = converting()
    data["sites"].append(site("gamma", node="M", max_modules=1, opex_per_wafer_usd=10))
    plan = make_plan(scenario(data), EXACT)
    kinds = plan.builds.groupby("kind")["modules"].sum().to_dict()
    assert kinds == {"module": 1, "conversion": 1}
    assert set(plan.builds["site"]) == {"alpha", "alpha_m"}
    capacity = plan.capacity.pivot(index="quarter", columns="site", values="wafer_capacity").reindex(QUARTERS)
    converted = plan.builds.loc[plan.builds["kind"] == "conversion", "started"].iloc[0]
    at = QUARTERS.index(converted)
    # alpha runs its module at 3,000 wafers a quarter until the conversion starts, then nothing;
    # alpha_m has it a quarter (the downtime) later
    assert capacity["alpha"].iloc[at:].tolist() == pytest.approx([0] * (len(QUARTERS) - at))
    assert capacity["alpha"].iloc[at - 1] == pytest.approx(3000)
    assert capacity["alpha_m"].iloc[at + 1 :].tolist() == pytest.approx([3000] * (len(QUARTERS) - at - 1))
    assert capacity["alpha_m"].iloc[: at + 1].tolist() == pytest.approx([0] * (at + 1))
    # both products' demand is met in full
    assert plan.supply["unmet"].sum() == pytest.approx(0, abs=1e-3)


def test_no_more_fabs_are_converted_than_were_built():
    """M wants four modules' output (more than one module makes in the whole horizon, banked
    dies included), the converter may convert two, alpha has one to convert."""
    plan = make_plan(scenario(converting(new_demand_share=4, converter_max=2)), EXACT)
    assert plan.builds.loc[plan.builds["kind"] == "conversion", "modules"].sum() == 1
    assert plan.supply["unmet"].sum() > 0


def test_a_conversion_pays_for_its_tools_and_ends_the_old_fabs_fixed_opex():
    """Finance: the conversion's $10 M of tools in the quarter it starts; alpha's $1 M of fixed
    opex a quarter stops then and alpha_m's $2 M starts once it runs again."""
    s = scenario(converting())
    plan = make_plan(s, EXACT)
    started = QUARTERS.index(plan.builds.loc[plan.builds["kind"] == "conversion", "started"].iloc[0])
    built = QUARTERS.index(plan.builds.loc[plan.builds["kind"] == "module", "online"].iloc[0])
    q = compute_financials(s, plan_tables(plan)).fabco.quarterly
    assert q["capex_usd"].iloc[started] == pytest.approx(10e6)
    expected = np.zeros(len(QUARTERS))
    expected[built:started] = 1e6
    expected[started + 1 :] = 2e6
    assert q["fixed_opex_usd"].tolist() == pytest.approx(expected.tolist())


@pytest.mark.parametrize(
    ("changes", "field", "fix"),
    [
        ({"converts_from": "nowhere"}, "converts_from", "the id of another site"),
        ({"module_wspm": 2000}, "module_wspm", "the capacity unit of alpha"),
        ({"region": "JP"}, "region", "the region of alpha"),
        ({"node": "N"}, "node", "another node than alpha's"),
    ],
)
def test_a_conversion_that_cannot_retool_its_site_is_refused(changes, field, fix):
    data = converting(**changes)
    problems = check_scenario(Scenario.model_validate(data))
    assert any(p.loc[-1] == field and fix in p.expected for p in problems), problems


def test_a_chain_of_conversions_may_not_come_back():
    data = converting()
    data["sites"][0]["converts_from"] = "alpha_m"
    data["sites"][0]["node"] = "N"
    problems = check_scenario(Scenario.model_validate(data))
    assert any("come back" in p.expected for p in problems), problems


def test_the_fixed_plan_risk_model_sees_the_conversion_as_the_plan_does():
    """A neutral sample of the fixed-plan model (risk.fixed) on a plan with a conversion gives
    the plan's deliveries and finance's NPV: both read capacity_from_builds with the parents."""
    from fabnet.pipeline import plan_finance
    from fabnet.risk.fixed import evaluate_fixed
    from tests.conftest import neutral_row

    data = converting()
    data["uncertainty"] = [{"path": "products.chip_m.market_price_usd", "dist": "uniform", "low": 900, "high": 1100}]
    s = scenario(data)
    plan = make_plan(s, EXACT)
    money = plan_finance(s, plan)
    row = neutral_row(s)
    row[0] = 1000.0
    out = evaluate_fixed(s, plan, row[None, :])
    delivered = out[[c for c in out.columns if c.startswith("delivered_")]].to_numpy().sum()
    assert delivered == pytest.approx(plan.supply["delivered"].sum(), rel=1e-6)
    assert out["fabco_npv_usd"].iloc[0] == pytest.approx(money.fabco.metrics.fabco_npv_usd, rel=1e-6)
