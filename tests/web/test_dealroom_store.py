"""The deal room's debt terms and its "store as a run": a DSCR change re-finances the stored plan
as `fabnet.refinance` does with the same override (sculpted debt is CFADS / DSCR, so the debt
falls in proportion), and a state stored as a run keeps the plan, records the terms as its
overrides and holds the money, deal and figures that refinance gives under them."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

import pandas as pd
import pytest

import fabnet
from fabnet.pipeline import main_job
from tests.plan.conftest import scenario, tiny
from tests.web.test_web import browser_page, get, serving

LOAN = {"id": "bank", "kind": "senior", "interest_rate": 0.06, "tenor_q": 8, "target_dscr": 1.3, "gearing": 0.6}
TERMS = fabnet.DealTerms(share=0.7, take_or_pay=0.4, debt={"bank.target_dscr": 2.0})


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A store of its own (the tests add runs to it) with one run of the tiny scenario that
    borrows from a senior lender."""
    path = tmp_path_factory.mktemp("room") / "room.duckdb"
    equity = {"id": "i", "kind": "equity", "amount_usd": 1e9, "available_from": "2025Q1"}
    main_job(scenario(tiny(funding={"investors": [equity], "project_debt": [LOAN]})), path, check=False)
    return path


@pytest.fixture(scope="module")
def server(store):
    with serving(store) as address:
        yield address


def post(server: str, path: str, origin: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(server + path, method="POST", headers={"Origin": origin} if origin else {})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _debt(money) -> float:
    return float(money.fabco.quarterly["debt_draws_usd"].sum())


def test_a_dscr_change_moves_the_debt_and_equity_irr_as_refinance_does(server, store):
    original = fabnet.stored(1, store)
    answers = {}
    for dscr in (4.0, 6.0):  # targets above the gearing cap's DSCR, so the DSCR sizes the debt
        status, body = get(server, f"/api/runs/1/deal?debt.bank.target_dscr={dscr}")
        assert status == 200
        answers[dscr] = json.loads(body)
        money = fabnet.refinance(original, {"funding.project_debt.bank.target_dscr": dscr})
        assert answers[dscr]["debt_draws_usd"] == pytest.approx(_debt(money))
        assert answers[dscr]["equity_irr"] == pytest.approx(money.fabco.metrics.equity_irr)
        assert answers[dscr]["min_dscr"] == pytest.approx(money.fabco.metrics.min_dscr)
        assert answers[dscr]["min_dscr"] >= dscr - 1e-9  # sculpted to the target: no quarter below it
    # debt service = CFADS / DSCR: the same CFADS carries 4/6 of the debt at 6× as at 4×
    assert answers[6.0]["debt_draws_usd"] == pytest.approx(answers[4.0]["debt_draws_usd"] * 4 / 6, rel=1e-6)
    assert answers[6.0]["equity_irr"] < answers[4.0]["equity_irr"]  # less leverage, more equity


@pytest.mark.parametrize("query", ["debt.bank.target_dscr=0.5", "debt.bank.gearing=2", "debt.bank.tenor_q=x"])
def test_a_bad_debt_term_is_refused_by_name(server, query):
    status, body = get(server, "/api/runs/1/deal?" + query)
    assert status == 400 and query.split("=")[0] in body


def test_stored_terms_are_a_run_with_the_plan_kept_and_the_terms_as_overrides(store):
    original = fabnet.stored(1, store)
    new = fabnet.stored(fabnet.store_terms(original, TERMS, store, label="at 70 %"), store)
    assert (new.meta["label"], new.kind) == ("at 70 %", "run")
    assert json.loads(new.meta["overrides"])[-len(TERMS.overrides()) :] == TERMS.overrides()
    pd.testing.assert_frame_equal(new.tables["builds"], original.tables["builds"])
    money = fabnet.refinance(original, TERMS.overrides())
    assert new.figures["fabco_npv_usd"] == pytest.approx(money.fabco.metrics.fabco_npv_usd)
    assert new.figures["irr_i"] == pytest.approx(float(money.fabco.investors.set_index("investor").loc["i", "irr"]))
    assert new.figures["min_dscr"] == pytest.approx(money.fabco.metrics.min_dscr)
    # the buyer's gain moves by what the buyer's savings move: the foundry route is the same
    moved = money.buyer.metrics.buyer_savings_vs_market_usd - original.figures["buyer_savings_vs_market_usd"]
    assert new.figures["network_adds_buyer_gain_usd"] == pytest.approx(
        original.figures["network_adds_buyer_gain_usd"] + moved
    )
    # the deal is swept again under the new terms: each point is refinance at its price
    point = new.tables["deal_points"].iloc[5]
    at = fabnet.refinance(
        original, [*TERMS.overrides(), f"offtake.share_of_market_price={float(point.share_of_market)!r}"]
    )
    assert point.fabco_npv_usd == pytest.approx(at.fabco.metrics.fabco_npv_usd)
    verdict = new.tables["deal_range"]["verdict"].iloc[0]
    assert list(new.tables["messages"]["message"]).count(verdict) == 1
    if verdict != original.tables["deal_range"]["verdict"].iloc[0]:
        assert original.tables["deal_range"]["verdict"].iloc[0] not in list(new.tables["messages"]["message"])
    changed = fabnet.compare(original, new, changed_only=True)
    inputs = changed[changed["kind"] == "input"].set_index("name")
    column = f"run_{new.run_id}"
    assert float(inputs.loc["offtake.take_or_pay_share", column]) == pytest.approx(0.4)
    assert float(inputs.loc["funding.project_debt.bank.target_dscr", column]) == pytest.approx(2.0)


def test_the_store_button_route_stores_the_terms_and_links_the_new_run(server, store):
    query = urllib.parse.urlencode({"share": "0.7", "take_or_pay": "0.4", "label": "from the room"})
    status, body = post(server, "/api/runs/1/deal/store?" + query, origin=server)
    assert status == 200
    answer = json.loads(body)
    new = fabnet.stored(answer["run_id"], store)
    assert answer["report"] == f"/runs/{answer['run_id']}" and new.meta["label"] == "from the room"
    money = fabnet.refinance(fabnet.stored(1, store), fabnet.DealTerms(share=0.7, take_or_pay=0.4).overrides())
    assert new.figures["fabco_npv_usd"] == pytest.approx(money.fabco.metrics.fabco_npv_usd)
    assert get(server, answer["report"])[0] == 200


def test_another_site_cannot_store_a_run(server):
    assert post(server, "/api/runs/1/deal/store?share=0.7", origin="http://elsewhere.example")[0] == 403
    assert post(server, "/api/runs/1/deal/store?end=soon", origin=server)[0] == 400


def test_the_button_stores_the_state_and_shows_a_link(server, store):
    errors: list[str] = []
    with browser_page(errors) as page:
        page.goto(server + "/runs/1/deal?share=0.9&debt.bank.target_dscr=4")
        page.locator("body[data-drawn='1']").wait_for(timeout=30_000)
        page.fill("#label", "clicked")
        page.click("#store")
        link = page.locator("#stored-run")
        link.wait_for(timeout=60_000)
        href = link.get_attribute("href")
    assert errors == []
    new = fabnet.stored(int(href.rsplit("/", 1)[-1]), store)
    assert new.meta["label"] == "clicked"
    assert json.loads(new.meta["overrides"])[-1] == "funding.project_debt.bank.target_dscr=4.0"
