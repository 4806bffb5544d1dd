"""The deal: the offtake price range that serves the investors and the buyer, against a case
whose break-even price is worked by hand."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from fabnet.cli import app
from tests.plan.conftest import site, tiny

HURDLE = 0.10


def one_fab(tmp_path, hurdle=HURDLE):
    """One $80 M module (tools only), built at once (it is mandatory and demand is large),
    online a quarter later with 3,000 wafers a quarter, $1 M of fixed opex a quarter; the buyer
    pays for all of the output under take-or-pay, at a share k of the $10,000 market price;
    no tax, no reinvestment; one investor with a 10 % hurdle."""
    data = tiny(
        sites=[
            site(
                "alpha",
                max_modules=1,
                mandatory=True,
                capex_per_module_usd={"building": 0, "tools": 80e6},
                fixed_opex_per_module_q_usd=1e6,
            )
        ],
        offtake={"price": "indexed", "take_or_pay_share": 1.0},
        funding={
            "investors": [
                {"id": "i", "kind": "equity", "amount_usd": 100e6, "available_from": "2025Q1", "hurdle_rate": hurdle}
            ]
        },
    )
    data["products"][0]["demand"] = {"per_quarter": {"2025Q1": 5_000_000}}
    data["finance"] = {
        "discount_rate": 0.1,
        "tax_regimes": [{"id": "T", "rate": 0.0}],
        "continuing_value": {"method": "book_value"},  # the break-even below is worked at book value
    }
    path = tmp_path / "one_fab.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def break_even_share() -> float:
    """By hand. The investor pays $80 M at the start of 2025Q1 and $1 M at the start of 2025Q2
    (opex before the first wafers are out); from 2025Q3 to 2026Q2 the buyer pays k × $30 M a
    quarter for 3,000 wafers, less $1 M of opex, distributed at the end of each quarter
    (quarter-ends 3 to 6); the module's book value, $80 M × (1 − 5/20) = $60 M, comes back at the
    end of 2026Q2 (6). With v = 1.1^(−1/4) and S = v³ + v⁴ + v⁵ + v⁶, the IRR is the hurdle when
    −80 − v + (30k − 1)·S + 60·v⁶ = 0."""
    v = 1.1**-0.25
    s = sum(v**j for j in (3, 4, 5, 6))
    return (80 + v + s - 60 * v**6) / (30 * s)


def deal_json(path, *args):
    result = CliRunner().invoke(app, ["deal", str(path), "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_low_end_is_the_break_even_price_worked_by_hand(tmp_path):
    deal = deal_json(one_fab(tmp_path), "--low", "0.2", "--high", "0.6", "--steps", "5")
    assert abs(deal["low_share"] - break_even_share()) < 1e-3  # 0.302 of the market price
    assert deal["exists"] and deal["high_share"] > deal["low_share"]
    assert deal["verdict"].startswith("Deal range: $3,020 a wafer (30 % of the market price)")
    points = {p["share_of_market"]: p for p in deal["points"]}
    cleared = {p["share_of_market"]: p["cleared"] for p in deal["investors"]}
    assert not cleared[0.2] and not points[0.2]["investors_clear"]
    assert cleared[0.4] and points[0.4]["investors_clear"]
    assert points[0.4]["price_per_wafer_usd"] == 4000


def test_the_table_shows_each_price_and_the_verdict(tmp_path):
    result = CliRunner().invoke(app, ["deal", str(one_fab(tmp_path)), "--low", "0.2", "--high", "0.6", "--steps", "3"])
    assert result.exit_code == 0, result.output
    # the investor's heading, named as the scenario names it (here by its id, i), wrapped to fit
    # 80 columns: "IRR of i (hurdle 10.0 %)"
    assert "IRR of" in result.stdout and "(hurdle" in result.stdout and "10.0 %)" in result.stdout
    assert "Deal range:" in result.stdout


def test_no_price_serves_both_when_the_hurdle_cannot_be_met(tmp_path):
    deal = deal_json(one_fab(tmp_path, hurdle=100.0), "--steps", "3")
    assert deal["low_share"] is None and not deal["exists"]
    assert deal["verdict"].startswith("No price serves both: even at 500 % of the market price i earns")
    assert "below its hurdle of 10,000.0 %" in deal["verdict"]


def hand_irr(share: float) -> float:
    """By hand (the flows of break_even_share at `share`): −80 at quarter 0, −1 at 1, 30·share − 1
    at quarter-ends 3 to 6 and the $60 M book value at 6; the annual rate r at which they sum to
    zero with v = (1 + r)^(−1/4), found by bisection (the sum falls as r rises)."""

    def value(r: float) -> float:
        v = (1 + r) ** -0.25
        return -80 - v + (30 * share - 1) * sum(v**j for j in (3, 4, 5, 6)) + 60 * v**6

    lo, hi = -0.5, 1.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if value(mid) > 0 else (lo, mid)
    return lo


def test_a_contract_below_the_low_end_and_a_missed_hurdle_are_run_messages(tmp_path):
    """At 20 % of the market price (below the hand-worked break-even 30.2 %) the run says the
    contract is below the deal's low end and that the investor misses its 10 % hurdle, with its
    IRR (−0.9 % a year by hand); the same sentences go to the stored messages the report shows."""
    from fabnet.core.format import percent
    from fabnet.pipeline import make_decision as decide
    from fabnet.scenario.loader import load_scenario

    decision = decide(load_scenario(one_fab(tmp_path), ["offtake.share_of_market_price=0.2"]))
    notes = decision.sentences()
    assert decision.deal.contract_share == pytest.approx(0.2)
    below = [n for n in notes if "below the deal's low end" in n]
    assert below and below[0].startswith("The offtake contract pays $2,000 a wafer (20.0 % of the market price)")
    assert "$3,020 a wafer (30.2 % of the market price)" in below[0]
    missed = [n for n in notes if "misses its hurdle" in n]
    assert missed == [
        f"i misses its hurdle under the offtake contract: it earns an IRR of {percent(hand_irr(0.2))}, "
        "below its hurdle of 10.0 %."
    ]
    assert percent(hand_irr(0.2)) == "-0.9 %"


def test_a_contract_inside_the_range_says_nothing_more(tmp_path):
    """At 40 % (above the 30.2 % break-even, the buyer gaining far beyond) no contract message."""
    from fabnet.pipeline import make_decision as decide
    from fabnet.scenario.loader import load_scenario

    notes = decide(load_scenario(one_fab(tmp_path), ["offtake.share_of_market_price=0.4"])).sentences()
    assert not [n for n in notes if "offtake contract" in n]


def test_a_high_end_at_the_search_limit_says_so(tmp_path):
    """The buyer of one_fab gains at any price up to the search's bound of 500 % (a chip worth
    $1,000 from each of hundreds of 100 mm² dies on a $10,000 wafer: a wafer is worth far more than
    5 × its price),
    so the high end is the search's limit: the deal says "at least", in the verdict and JSON."""
    deal = deal_json(one_fab(tmp_path), "--steps", "3")
    assert deal["high_share"] == 5.0 and deal["high_is_search_limit"] is True
    assert "to at least $50,000 a wafer (500 % of the market price), the search's limit," in deal["verdict"]
    assert deal["contract_share"] == pytest.approx(1.0)  # tiny's default offtake: indexed at 100 %
