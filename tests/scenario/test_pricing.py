"""Price paths that move: a decline per year after a given year, applied once (scenario.pricing)
and read the same way by the planner, finance and the fixed-plan risk model."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from pydantic import ValidationError

from fabnet.core.periods import Quarter, quarter_range
from fabnet.core.units import MUSD
from fabnet.finance.buyer import market_prices
from fabnet.finance.fabco import Operations, wafer_payments
from fabnet.network import prepare
from fabnet.scenario.loader import load_scenario
from fabnet.scenario.prices import hbm_prices, node_prices, offtake_prices, product_prices
from fabnet.scenario.pricing import PriceDecline, declined
from fabnet.scenario.schema import Scenario
from tests.plan.conftest import tiny


def years(start: str, n: int) -> list[Quarter]:
    return quarter_range(Quarter.parse(start), n)


def test_the_decline_compounds_yearly_after_its_year_worked_by_hand():
    """N7's price went from ~$10,000 (2018) to $9,346 (2020) (ai-fab-facts §2.1): −3.3 %/yr. A
    $10,000 path falling 3.3 % a year after 2018 gives, by hand, 10,000 in 2018, 9,670 in 2019
    and 10,000 × 0.967² = 9,350.89 in 2020 — within 0.1 % of CSET's $9,346."""
    periods = years("2018Q1", 12)
    prices = declined(np.full(12, 10000.0), PriceDecline(per_year=0.033, after=2018), periods)
    assert list(prices[:4]) == [10000.0] * 4  # every quarter of 2018 at the path's price
    assert prices[4:8] == pytest.approx([9670.0] * 4)
    assert prices[8:12] == pytest.approx([9350.89] * 4)
    assert prices[8] == pytest.approx(9346, rel=1e-3)


def test_the_path_is_kept_up_to_the_year_and_multiplied_after_it():
    """A path {2024: 20000, 2026: 25000} (tigris N3) interpolates to 22,500 in 2025 and holds
    25,000 after 2026; with −2 %/yr after 2027: 2028 = 25,000 × 0.98 = 24,500, 2029 = 24,010."""
    periods = years("2024Q1", 24)
    path = np.interp([q.year for q in periods], [2024, 2026], [20000, 25000])
    prices = declined(path, PriceDecline(per_year=0.02, after=2027), periods)
    yearly = prices[::4]
    assert yearly == pytest.approx([20000, 22500, 25000, 25000, 24500, 24010])


def test_no_decline_leaves_the_path_as_given():
    periods = years("2024Q1", 8)
    path = np.arange(8, dtype=float) + 1
    assert np.array_equal(declined(path, None, periods), path)


def test_a_decline_is_a_share_below_one_and_a_year():
    with pytest.raises(ValidationError):
        PriceDecline(per_year=1.0, after=2027)
    with pytest.raises(ValidationError):
        PriceDecline.model_validate({"per_year": True, "after": 2027})
    with pytest.raises(ValidationError):
        PriceDecline.model_validate({"per_year": 0.1, "after": 2027.5})


def declining() -> Scenario:
    """tiny with every price path falling: the wafer 10 %/yr after 2025, the accelerator 20 %/yr
    after 2025, HBM 50 %/yr after 2025 (a one-stack product), horizon 2025Q1–2026Q4."""
    data = tiny()
    data["horizon"] = {"start": "2025Q1", "quarters": 8}
    data["nodes"][0]["wafer_price_decline"] = {"per_year": 0.1, "after": 2025}
    data["products"][0]["market_price_decline"] = {"per_year": 0.2, "after": 2025}
    data["products"][0]["hbm"] = "m"
    data["products"][0]["hbm_stacks"] = 1
    data["hbm"] = [{"id": "m", "price_usd": 100, "price_decline": {"per_year": 0.5, "after": 2025}}]
    data["offtake"] = {"price": "indexed", "share_of_market_price": 0.9}
    return Scenario.model_validate(data)


def test_the_owner_gives_each_path_its_decline():
    s = declining()
    periods = s.horizon.periods
    # by hand: 2025 at the path's price, 2026 one year of decline
    assert node_prices(s, periods)["N"] == pytest.approx([10000] * 4 + [9000] * 4)
    assert product_prices(s, periods)[0] == pytest.approx([1000] * 4 + [800] * 4)
    assert hbm_prices(s, periods)[0] == pytest.approx([100] * 4 + [50] * 4)


def test_the_planner_and_finance_read_the_same_prices():
    """One owner: the planner's inputs (MUSD) and finance's prices are the same arrays."""
    s = declining()
    periods = s.horizon.periods
    x = prepare(s, "constant")
    assert x.price_musd * MUSD == pytest.approx(market_prices(s))
    assert x.price_musd * MUSD == pytest.approx(product_prices(s, periods))
    assert x.hbm_price_musd * MUSD == pytest.approx(hbm_prices(s, periods))
    # the offtake price: 90 % of the falling wafer price, in the planner and in finance alike
    assert x.offtake_price_musd * MUSD == pytest.approx(offtake_prices(s, periods))
    assert offtake_prices(s, periods)[0] == pytest.approx([9000] * 4 + [8100] * 4)


def test_finance_pays_the_declined_offtake_price():
    """A site's 100 wafers out a quarter are paid at 0.9 × the declining wafer price: $900,000
    a quarter in 2025, $810,000 in 2026."""
    s = declining()
    ops = Operations(*(np.zeros((2, 8)) for _ in range(5)))
    ops = dataclasses.replace(ops, wafers_out=np.full((2, 8), 100.0))
    paid = wafer_payments(s, ops)["wafers"][0]
    assert paid == pytest.approx([900_000] * 4 + [810_000] * 4)


def test_tigris_prices_fall_after_their_sourced_years():
    """scenarios/tigris.yaml: N3 −2 %/yr after 2027 (finance-and-markets §4), tigris_n3 −10 %/yr
    after 2027, HBM3e −5 %/yr after 2026 (assumptions). By hand: N3 2031 = 25,000 × 0.98⁴ =
    23,059.2; tigris_n3 2031 = 40,000 × 0.9⁴ = 26,244; HBM 2031 = 500 × 0.95⁵ = 386.89."""
    s = load_scenario("scenarios/tigris.yaml")
    periods = s.horizon.periods
    assert node_prices(s, periods)["N3"][-1] == pytest.approx(23059.2)
    products = [p.id for p in s.products]
    assert product_prices(s, periods)[products.index("tigris_n3")][-1] == pytest.approx(26244)
    assert hbm_prices(s, periods)[0][-1] == pytest.approx(386.890469, rel=1e-6)
