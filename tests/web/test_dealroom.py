"""The deal room: a change of terms re-finances the stored plan and answers what
`fabnet.refinance` gives; a bad term is a 400; the page, in Chromium, redraws the investors'
IRRs when the price control moves and keeps the terms in its address."""

from __future__ import annotations

import json
import urllib.parse

import pytest

import fabnet
from fabnet.core import columns
from fabnet.finance.dealroom import SUGGEST_RANGE
from fabnet.store import open_store
from tests.web.test_web import browser_page, get, serving


@pytest.fixture(scope="module")
def server(store_with_runs):
    with serving(store_with_runs[0]) as address:
        yield address


@pytest.fixture(scope="module")
def stored(store_with_runs):
    with open_store(store_with_runs[0], read_only=True) as store:
        return store.run(1)


def _irrs(money) -> dict[str, str]:
    return {row.investor: columns.show("irr", row.irr) for row in money.fabco.investors.itertuples()}


def test_a_change_of_terms_answers_what_refinance_gives(server, stored):
    query = {"share": "0.7", "take_or_pay": "0.4", "hurdle_i": "0.2"}
    status, body = get(server, "/api/runs/1/deal?" + urllib.parse.urlencode(query))
    assert status == 200
    answer = json.loads(body)
    money = fabnet.refinance(
        stored,
        {
            "offtake.price": "indexed",
            "offtake.share_of_market_price": 0.7,
            "offtake.take_or_pay_share": 0.4,
            "funding.investors.i.hurdle_rate": 0.2,
        },
    )
    assert answer["fabco_npv_usd"] == pytest.approx(money.fabco.metrics.fabco_npv_usd)
    assert {i["investor"]: i["irr_text"] for i in answer["investors"]} == _irrs(money)
    assert {i["investor"]: i["hurdle"] for i in answer["investors"]} == {"i": 0.2}
    # the buyer's gain is measured against the run's own foundry route, as the run measured it
    base = json.loads(get(server, "/api/runs/1/deal")[1])
    assert base["buyer_gain_usd"] == pytest.approx(stored.figures["network_adds_buyer_gain_usd"], rel=1e-9)


def test_the_python_api_gives_the_rooms_money_as_refinance_does(stored):
    """fabnet.deal_room, the façade the dashboard's room reads through, is refinance with the
    terms turned into overrides."""
    terms = fabnet.DealTerms(share=0.7, take_or_pay=0.4, hurdles={"i": 0.2})
    money = fabnet.deal_room(stored).money(terms)
    same = fabnet.refinance(stored, terms.overrides())
    assert money.fabco.metrics.fabco_npv_usd == pytest.approx(same.fabco.metrics.fabco_npv_usd)
    assert money.fabco.investors["hurdle"].tolist() == [0.2]


@pytest.mark.parametrize("query", ["share=abc", "share=99", "take_or_pay=-1", "end=soon", "hurdle_i=x"])
def test_a_bad_term_is_refused_by_name(server, query):
    status, body = get(server, "/api/runs/1/deal?" + query)
    assert status == 400 and query.split("=")[0] in body


def test_an_unknown_run_has_no_deal_room(server):
    assert get(server, "/runs/999/deal")[0] == 404 and get(server, "/api/runs/abc/deal")[0] == 404


def _lead(server, share: float, take_or_pay: str) -> float:
    """The fab company's NPV less the buyer's gain at a price."""
    at = json.loads(get(server, f"/api/runs/1/deal?share={share}&take_or_pay={take_or_pay}")[1])
    return at["fabco_npv_usd"] - at["buyer_gain_usd"]


@pytest.mark.parametrize("take_or_pay", ["0.8", "0.0"])
def test_the_suggested_price_splits_the_value_evenly_or_says_none_can(server, take_or_pay):
    suggested = json.loads(get(server, f"/api/runs/1/deal/suggest?take_or_pay={take_or_pay}")[1])
    if suggested["share"] is None:  # the lead has one sign over the whole control
        assert (_lead(server, SUGGEST_RANGE[0], take_or_pay) > 0) == (_lead(server, SUGGEST_RANGE[1], take_or_pay) > 0)
    else:
        assert SUGGEST_RANGE[0] < suggested["share"] < SUGGEST_RANGE[1]
        below, above = (_lead(server, suggested["share"] + d, take_or_pay) for d in (-0.002, 0.002))
        assert below < 0 < above


def test_moving_the_price_redraws_the_investors_irrs(server, stored):
    errors: list[str] = []
    with browser_page(errors) as page:
        page.goto(server + "/runs/1/deal")
        page.wait_for_selector("#plot-deal-room .main-svg", timeout=30_000)
        page.fill("#share", "1.3")  # a range input: fill sets its value and fires input
        # selectors, not script: the dashboard's content security policy refuses eval
        page.locator("body[data-drawn='2']").wait_for(timeout=30_000)
        shown = {
            row.get_attribute("data-investor"): row.locator("td.irr").inner_text()
            for row in page.locator("#investors tr[data-investor]").all()
        }
        address = page.url
    assert errors == []
    money = fabnet.refinance(stored, {"offtake.price": "indexed", "offtake.share_of_market_price": 1.3})
    assert shown == _irrs(money)
    assert "share=1.3" in address  # the link reproduces the state
