"""One input at a time, the plan held: each point is the money `fabnet.refinance` gives for the
same change; a break-even lands where the figure meets its target; the command prints both."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

import fabnet
from fabnet.cli import app
from fabnet.finance import compute_financials
from fabnet.pipeline import buyer_gain, plan_tables, without_fabs
from fabnet.pipeline import make_decision as decide
from fabnet.risk.sensitivity import (
    GAIN,
    NPV,
    Model,
    break_even,
    hurdle_of,
    parse_solve,
    parse_vary,
    search_range,
    swings,
    tornado,
)
from fabnet.scenario.loader import with_overrides
from tests.plan.conftest import scenario, tiny

UNCERTAIN = [
    {"path": "nodes.N.wafer_price_usd", "dist": "uniform", "apply": "multiply", "low": 0.8, "high": 1.2},
    {"path": "sites.alpha.lead_time_q", "dist": "uniform", "apply": "add", "low": 0, "high": 2},
]


def data():
    investor = {"id": "i", "kind": "equity", "amount_usd": 1e9, "available_from": "2025Q1", "hurdle_rate": 0.1}
    return tiny(
        uncertainty=UNCERTAIN,
        offtake={"price": "indexed", "share_of_market_price": 0.9},
        funding={"investors": [investor]},
    )


@pytest.fixture(scope="module")
def decision():
    return decide(scenario(data()), deal_shares=())


def _refinanced(decision, override: str) -> dict[str, float]:
    """The headline as fabnet.refinance gives it (and the foundry route's money, planned again
    for nothing but the same change)."""
    money = fabnet.refinance(decision, [override])
    changed = with_overrides(decision.scenario, [override])
    route = compute_financials(without_fabs(changed), plan_tables(decision.counterfactual))
    return {NPV: money.fabco.metrics.fabco_npv_usd, GAIN: buyer_gain(money, route)}


def test_with_the_plan_held_only_money_inputs_swing(decision):
    inputs, left_out = swings(decision.scenario, [])
    assert [s.path for s in inputs] == ["nodes.N.wafer_price_usd"]
    assert left_out == ["sites.alpha.lead_time_q"]  # it changes what the plan is
    swing = inputs[0]
    assert swing.shown == ("×0.84", "×1.16")  # P10 and P90 of uniform(0.8, 1.2)
    low, high = (override.partition("=") for override in (swing.low, swing.high))
    assert low[0] == high[0] == "nodes.N.wafer_price_usd"
    assert (float(low[2]), float(high[2])) == pytest.approx((8400.0, 11600.0))  # the scenario's 10,000 × each


def test_each_point_is_what_refinance_gives_for_the_same_change(decision):
    inputs, _ = swings(decision.scenario, ["finance.discount_rate=0.05:0.15"])
    table = tornado(Model(decision), inputs)
    assert table.equals(fabnet.sensitivity(decision, ["finance.discount_rate=0.05:0.15"]))  # the API's
    assert table.loc[0, "end"] == "base"
    assert table.loc[0, NPV] == pytest.approx(decision.money.fabco.metrics.fabco_npv_usd)
    assert table.loc[0, GAIN] == pytest.approx(buyer_gain(decision.money, decision.foundry_route))
    for swing in inputs:
        for end, override in (("low", swing.low), ("high", swing.high)):
            row = table[(table["path"] == swing.path) & (table["end"] == end)].iloc[0]
            expected = _refinanced(decision, override)
            assert row[NPV] == pytest.approx(expected[NPV], rel=1e-9), override
            assert row[GAIN] == pytest.approx(expected[GAIN], rel=1e-9, abs=1.0), override
    # ranked by how far each input moves the NPV, widest first
    spread = table[table["end"] != "base"].groupby("path", sort=False)[NPV].agg(lambda v: v.max() - v.min())
    assert list(spread) == sorted(spread, reverse=True)


def test_the_break_even_price_gives_the_investor_its_hurdle(decision):
    key, target = parse_solve("i irr = hurdle", decision.money)
    assert key == "irr_i" and target(decision.money) == hurdle_of("i")(decision.money)
    how, low, high = search_range(decision.scenario, "nodes.N.wafer_price_usd", None)
    assert (how, low, high) == ("replace", 2500.0, 40000.0)
    found = break_even(Model(decision), "nodes.N.wafer_price_usd", key, target, low, high, how)
    assert found.at is not None and low < found.at < high
    irr = fabnet.refinance(decision, [f"nodes.N.wafer_price_usd={found.at}"]).fabco.investors.set_index("investor")
    assert irr.at["i", "irr"] == pytest.approx(found.target, abs=1e-3)
    assert fabnet.break_even(decision, "nodes.N.wafer_price_usd", "i irr = hurdle").at == pytest.approx(found.at)
    # where the range never reaches the target, it says so and gives both ends
    nowhere = break_even(Model(decision), "nodes.N.wafer_price_usd", key, -0.99, low, high, how)
    assert nowhere.at is None and nowhere.at_low > -0.99 and nowhere.at_high > -0.99


def test_solve_and_vary_are_read_or_refused_with_an_example(decision):
    assert parse_solve("fabco npv = 0", decision.money) == (NPV, 0.0)
    assert parse_solve("buyer gain = 1.5e9", decision.money) == (GAIN, 1.5e9)
    assert parse_solve("fabco irr = 12%", decision.money)[1] == pytest.approx(0.12)
    assert parse_solve("", decision.money)[0] == "irr_i"  # the equity investor nearest its hurdle
    for bad in ("nobody irr = hurdle", "fabco npv", "fabco npv = hurdle", "fabco npv = lots"):
        with pytest.raises(ValueError, match="--solve"):
            parse_solve(bad, decision.money)
    assert parse_vary("a.b=1:2") == ("a.b", "1", "2")
    with pytest.raises(ValueError, match="path=low:high"):
        parse_vary("a.b=1")


def test_the_command_prints_the_tornado_and_a_break_even(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data()))
    args = ["sensitivity", str(path), "--vary", "finance.discount_rate=0.05:0.15", "--solve", "i irr = hurdle"]
    result = CliRunner().invoke(app, [*args, "--for", "nodes.N.wafer_price_usd"])
    assert result.exit_code == 0, result.output
    assert "One input at a time (the plan held)" in result.stdout
    assert "finance.discount_rate" in result.stdout and "nodes.N.wafer_price_usd" in result.stdout
    assert "Break-even: IRR of investor i reaches" in result.stdout
    assert "sites.alpha.lead_time_q" in result.stdout  # named as not varied with the plan held
    bad = CliRunner().invoke(app, ["sensitivity", str(path), "--solve", "nobody irr = hurdle"])
    assert bad.exit_code == 2 and "--solve" in bad.output


def test_replanning_swings_every_input_and_plans_each_point_anew(decision):
    inputs, left_out = swings(decision.scenario, [], replan=True)
    assert [s.path for s in inputs] == [u["path"] for u in UNCERTAIN] and left_out == []
    # a change of money alone: the plan made anew is the plan held, and so is the headline
    override = ["funding.investors.i.hurdle_rate=0.2"]
    again, held = (Model(decision, replan=replan).headline(override) for replan in (True, False))
    assert again == pytest.approx(held, rel=1e-6)
    # a site that comes later changes what the plan is: planned anew, the buyer's gain moves
    later = Model(decision, replan=True).headline(["sites.alpha.lead_time_q=3"])
    assert later[GAIN] != pytest.approx(held[GAIN])
