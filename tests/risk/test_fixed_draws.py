"""The fixed-plan risk model draws what the deal hinges on: the offtake's take-or-pay share, the
quarter the buyer defaults (dist: hazard), foundry offer caps and HBM supply; each against a
hand-worked case, and against the deterministic finance of the same plan (one rule)."""

from __future__ import annotations

import numpy as np
import pytest

from fabnet.pipeline import make_plan as plan_network
from fabnet.pipeline import plan_finance
from fabnet.risk.fixed import Unsupported, evaluate_fixed
from fabnet.risk.sampling import draw, hazard_quarter
from fabnet.scenario.loader import with_overrides
from fabnet.scenario.schema import Uncertain
from tests.plan.conftest import scenario, site, tiny
from tests.risk.test_risk import foundry_only_case

TAKE_OR_PAY = {"path": "offtake.take_or_pay_share", "dist": "uniform", "low": 0.0, "high": 1.0}
DEFAULT = {"path": "offtake.buyer_default_q", "dist": "hazard", "per_year": 0.1}
NEVER = 400.0  # schema.MAX_QUARTERS: the buyer never defaults


def test_the_hazard_quarter_worked_by_hand():
    """An annual probability of 20 %: q = 1 − 0.8^(1/4) = 0.05426 a quarter; at u = 0.5 the
    quarter is ⌊ln 0.5 / ln 0.94574⌋ = ⌊0.693147 / 0.055786⌋ = ⌊12.43⌋ = 12. Over many even
    draws, the share in the first year (quarters 0–3) is 1 − 0.8 = 20 %, in two years
    1 − 0.8² = 36 %."""
    assert hazard_quarter(0.2, np.array([0.5]))[0] == 12
    u = (np.arange(100_000) + 0.5) / 100_000
    quarters = hazard_quarter(0.2, u)
    assert np.mean(quarters <= 3) == pytest.approx(0.2, abs=1e-4)
    assert np.mean(quarters <= 7) == pytest.approx(0.36, abs=1e-4)
    assert quarters.max() <= NEVER


def test_a_hazard_entry_draws_quarters_and_needs_its_rate():
    s = scenario(tiny(uncertainty=[DEFAULT]))
    table = draw(s, 200, 1)
    assert np.all(table == np.floor(table)) and table.min() >= 0
    # 10 % a year over the six quarters of tiny: 1 − 0.9^1.5 = 14.6 % default inside the horizon
    assert np.mean(table[:, 0] < 6) == pytest.approx(1 - 0.9**1.5, abs=0.03)
    with pytest.raises(ValueError, match="per_year"):
        from fabnet.risk.sampling import inverse_cdf

        inverse_cdf(Uncertain(path="offtake.buyer_default_q", dist="hazard"), np.array([0.5]))


def small_buyer_fab(entries):
    """One mandatory 1,000 wspm module (3,000 wafers a quarter at capacity, one-quarter cycle)
    and a buyer that needs 100,000 small chips a quarter (a few hundred wafers), so take-or-pay
    tops the buyer's payments up to share × 3,000 × $10,000 a quarter (indexed at 100 % of the
    market price); no tax, a 10 % discount rate, and the fab valued at its book value after the
    horizon, so that what the contract changes inside the horizon can be counted by hand."""
    data = tiny(
        sites=[site("alpha", max_modules=1, mandatory=True)],
        offtake={"price": "indexed", "take_or_pay_share": 1.0},
        uncertainty=entries,
    )
    data["products"][0]["demand"] = {"per_quarter": {"2025Q1": 100_000}}
    data["finance"] = {
        "discount_rate": 0.1,
        "tax_regimes": [{"id": "T", "rate": 0.0}],
        "continuing_value": {"method": "book_value"},
    }
    return scenario(data)


def test_take_or_pay_share_and_buyer_default_move_the_fab_company_npv_by_hand():
    """The buyer pays $10,000 × max(share × capacity output, wafers out) a quarter. With the
    module's output at capacity c_t and the buyer's wafers w_t (from the plan), take-or-pay at
    50 % instead of 100 % loses $10,000 × (max(c_t, w_t) − max(c_t/2, w_t)) each quarter; the
    buyer defaulting in quarter 4 loses all it pays in quarters 4 and 5 (the wafers have no
    other market): $10,000 × max(c_t, w_t) each."""
    s = small_buyer_fab([TAKE_OR_PAY, DEFAULT])
    plan = plan_network(s)
    c, w = plan.capacity["capacity_out"].to_numpy(), plan.capacity["wafers_out"].to_numpy()
    assert c[4] == pytest.approx(3000) and c[5] == pytest.approx(3000)
    out = evaluate_fixed(s, plan, np.array([[1.0, NEVER], [0.5, NEVER], [1.0, 4.0]]))
    npv = out["fabco_npv_usd"].to_numpy()
    lost = [1e4 * (max(c[t], w[t]) - max(c[t] / 2, w[t])) for t in range(6)]
    assert sum(lost) > 0
    assert npv[0] - npv[1] == pytest.approx(sum(x * 1.1 ** (-t / 4) for t, x in enumerate(lost)), rel=1e-9)
    assert npv[0] - npv[2] == pytest.approx(sum(1e4 * max(c[t], w[t]) * 1.1 ** (-t / 4) for t in (4, 5)), rel=1e-9)
    # the deterministic finance of the same plan with the same terms: one rule
    for row, overrides in ((1, ["offtake.take_or_pay_share=0.5"]), (2, ["offtake.buyer_default_q=4"])):
        money = plan_finance(with_overrides(s, overrides), plan)
        assert money.fabco.metrics.fabco_npv_usd == pytest.approx(npv[row], rel=1e-9)
    assert plan_finance(s, plan).fabco.metrics.fabco_npv_usd == pytest.approx(npv[0], rel=1e-9)


def test_a_buyer_that_defaults_takes_the_fabs_future_with_it():
    """Valued as a going concern (a Gordon continuing value), the fab of a buyer that defaults
    before the horizon ends has no revenue after it either (no other market here): the default
    costs more than the payments of quarters 4 and 5, in the fixed-plan model and in the
    deterministic finance alike."""
    s = small_buyer_fab([TAKE_OR_PAY, DEFAULT])
    s = s.model_copy(
        update={
            "finance": s.finance.model_copy(
                update={"continuing_value": s.finance.continuing_value.model_copy(update={"method": "gordon"})}
            )
        }
    )
    plan = plan_network(s)
    c, w = plan.capacity["capacity_out"].to_numpy(), plan.capacity["wafers_out"].to_numpy()
    npv = evaluate_fixed(s, plan, np.array([[1.0, NEVER], [1.0, 4.0]]))["fabco_npv_usd"].to_numpy()
    inside = sum(1e4 * max(c[t], w[t]) * 1.1 ** (-t / 4) for t in (4, 5))
    assert npv[0] - npv[1] > inside * 1.5
    defaulted = plan_finance(with_overrides(s, ["offtake.buyer_default_q=4"]), plan)
    assert defaulted.fabco.metrics.fabco_npv_usd == pytest.approx(npv[1], rel=1e-9)


def test_a_foundry_cap_drawn_lower_holds_the_reservations_to_it():
    """foundry_only_case reserves the whole 1,000 wpm offer; at half the cap only 1,500 wafers a
    quarter can be reserved: half the accelerators (quarters 1–5), and the buyer pays for the
    1,500 wafers it uses in six quarters (the last quarter's serve demand just after the
    horizon, which its money does not count): 5 × supply/2 × $1,000 − 6 × 1,500 × $10,000."""
    s, supply, _ = foundry_only_case()
    cap = {"path": "foundry_offers.foundry-N.max_wafers_per_month", "dist": "uniform", "low": 0.5, "high": 1.5}
    s = s.model_copy(update={"uncertainty": (*s.uncertainty, Uncertain.model_validate({**cap, "apply": "multiply"}))})
    out = evaluate_fixed(s, plan_network(s), np.array([[1.0, 1.0], [1.0, 0.5]]))
    value = out["buyer_net_usd"]
    assert value.iloc[0] == pytest.approx(5 * supply * 1000 - 6 * 3000 * 10000.0, rel=1e-6)
    assert value.iloc[1] == pytest.approx(5 * (supply / 2) * 1000 - 6 * 1500 * 10000.0, rel=1e-6)


def test_hbm_supply_drawn_lower_limits_the_packages():
    """foundry_only_case with one free HBM stack per package and exactly `supply` stacks a
    quarter: at half the stacks, half the accelerators are packaged (quarters 1–5), while the
    buyer still pays for all the wafers it reserved, six quarters of them (the last quarter's
    serve demand after the horizon): 5 × supply/2 × $1,000 − 6 × 3,000 × $10,000."""
    s, supply, _ = foundry_only_case()
    data = s.model_dump(by_alias=True, mode="json")
    data["products"][0] |= {"hbm": "m", "hbm_stacks": 1}
    data["hbm"] = [{"id": "m", "price_usd": 1e-6, "stacks_per_quarter": supply}]
    data["uncertainty"].append(
        {"path": "hbm.m.stacks_per_quarter", "dist": "uniform", "apply": "multiply", "low": 0.5, "high": 1.5}
    )
    s = scenario(data)
    out = evaluate_fixed(s, plan_network(s), np.array([[1.0, 1.0], [1.0, 0.5]]))
    value = out["buyer_net_usd"]
    hbm_cost = 5 * supply * 1e-6  # the stacks' nominal price, undiscounted (rate 0)
    assert value.iloc[0] == pytest.approx(5 * supply * 1000 - 6 * 3000 * 10000.0 - hbm_cost, rel=1e-6)
    assert value.iloc[1] == pytest.approx(5 * (supply / 2) * 1000 - 6 * 3000 * 10000.0 - hbm_cost / 2, rel=1e-6)


def test_a_path_by_quarter_is_drawn_only_as_a_multiplier_and_others_need_reoptimise():
    s, _, _ = foundry_only_case()
    add = Uncertain(path="foundry_offers.foundry-N.max_wafers_per_month", dist="uniform", apply="add", low=0, high=100)
    s2 = s.model_copy(update={"uncertainty": (add,)})
    with pytest.raises(Unsupported, match="only as a multiplier"):
        evaluate_fixed(s2, plan_network(s2), np.array([[10.0]]))
    other = Uncertain(path="offtake.spare_wafer_price_share", dist="uniform", low=0.5, high=1.0)
    s3 = s.model_copy(update={"uncertainty": (other,)})
    with pytest.raises(Unsupported, match="use --reoptimise"):
        evaluate_fixed(s3, plan_network(s3), np.array([[0.7]]))
