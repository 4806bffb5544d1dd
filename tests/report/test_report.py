"""The HTML report: every figure, self-contained."""

from __future__ import annotations

import html
import json
import re

import duckdb
import pandas as pd
import pytest

from fabnet.core import format as fmt
from fabnet.report import FIGURES, figures, report_html, write_report
from fabnet.store import StoredRun, open_store
from tests.report import bare_run


def test_report_holds_every_figure_the_run_has_data_for(store_with_runs, tmp_path):
    path, _ = store_with_runs
    with open_store(path, read_only=True) as store:
        run = store.run(1)
    page = write_report(run, tmp_path / "r.html").read_text()
    # no simulation, no sweep, no sensitivity, no load curve on the tiny node; a plan check when
    # SMT2020 is here
    expected = set(FIGURES) - {
        "sensitivity",
        "operating-curve",
        "risk-fan",
        "npv-histogram",
        "tornado",
        "load-curves",
        "robust-npv",
        "robust-builds",
    }
    if "check_quarters" not in run.tables:
        expected -= {"plan-check", "plan-check-deliveries"}
    assert set(figures(run)) == expected
    for name in expected:
        assert f'id="plot-{name}"' in page
    assert "fabnet run 1: tiny" in page
    # the decision comes first: its figures head the table, its plots head the page
    assert list(figures(run))[:2] == ["network-adds", "deal"]
    assert (
        page.index("accelerators the network adds")
        < page.index("fab company NPV")
        < page.index("accelerators demanded")
    )
    # and the numbers are the stored run's: the NPV row, read back from its "$1.23 B" text, is the
    # figure the runs table holds (read by SQL, not by fabnet's reader) within the rounding of its text
    with duckdb.connect(str(path), read_only=True) as con:
        (stored,) = con.execute("SELECT figures FROM runs WHERE run_id = 1").fetchone()
    npv = json.loads(stored)["fabco_npv_usd"]
    shown = re.search(r"<tr><td>fab company NPV</td><td>(-?)\$([\d,.]+) ([BM])</td></tr>", page)
    assert shown is not None, "no NPV row in the key figures"
    sign, digits, scale = shown.groups()
    unit = {"B": 1e9, "M": 1e6}[scale]
    decimals = len(digits.partition(".")[2])  # half the last digit shown is the rounding
    assert (-1 if sign else 1) * float(digits.replace(",", "")) * unit == pytest.approx(
        npv, abs=0.5 * 10**-decimals * unit
    )


def test_report_opens_offline():
    run = bare_run(
        "{}",
        {
            "sim_curve": pd.DataFrame(
                {"release_scale": [0.5, 1.0], "bottleneck_utilisation": [0.5, 0.9], "x_factor": [1.2, 2.0]}
            )
        },
    )
    page = report_html(run)
    assert 'id="plot-operating-curve"' in page
    assert "<script src=" not in page  # plotly.js is inlined, nothing is fetched
    assert len(page) > 1_000_000 and "Plotly" in page


def test_dashboard_pages_link_plotly_once():
    run = bare_run(
        "{}",
        {"sim_curve": pd.DataFrame({"release_scale": [1.0], "bottleneck_utilisation": [0.9], "x_factor": [2.0]})},
    )
    page = report_html(run, plotlyjs="/static/plotly.js")
    assert page.count('<script src="/static/plotly.js">') == 1 and len(page) < 100_000


def quarterly_money() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two quarters of 2025 and one of 2026, with amounts whose sums are easy to read."""
    fabco = pd.DataFrame({"quarter": ["2025Q1", "2025Q2", "2026Q1"], "year": [2025, 2025, 2026]})
    for column in (
        "revenue_usd",
        "wafer_revenue_usd",
        "spare_revenue_usd",
        "take_or_pay_usd",
        "opex_usd",
        "fixed_opex_usd",
        "operator_fees_usd",
        "capex_building_usd",
        "capex_tools_usd",
        "capex_usd",
        "grants_usd",
        "itc_usd",
        "tax_usd",
        "project_fcf_usd",
        "equity_calls_usd",
        "debt_draws_usd",
        "distributions_usd",
    ):
        fabco[column] = 0.0
    fabco["revenue_usd"] = [1.5e9, 0.5e9, 3e9]
    fabco["opex_usd"] = [1e8, 1e8, 2e8]
    fabco["fixed_opex_usd"] = [5e7, 5e7, 5e7]
    fabco["tax_usd"] = [0.0, 1e6, 2.5e6]  # millions only: its own scale
    fabco["project_fcf_usd"] = [-4e9, 1e9, 2e9]
    buyer = pd.DataFrame({"quarter": ["2025Q1", "2025Q2", "2026Q1"], "year": [2025, 2025, 2026]})
    for column in (
        "fabco_wafers_usd",
        "foundry_usd",
        "design_usd",
        "masks_usd",
        "hbm_usd",
        "packaging_usd",
        "packaging_capex_usd",
        "bought_usd",
        "market_value_usd",
    ):
        buyer[column] = 0.0
    buyer["fabco_wafers_usd"] = [1.5e9, 0.5e9, 3e9]
    buyer["hbm_usd"] = [2e8, 3e8, 4e8]
    buyer["delivered"] = [1000.4, 234.0, 5000.0]
    buyer["market_value_usd"] = [4e9, 1e9, 6e9]
    return fabco, buyer


def test_report_has_each_partys_cash_flows_per_year():
    fabco, buyer = quarterly_money()
    run = StoredRun(
        {
            "run_id": 1,
            "scenario_name": "<s>",
            "created_at": "t",
            "fabnet_version": "v",
            "scenario_hash": "h",
            "seed": 0,
            "solver_status": "ok",
            "figures": '{"fabco_npv_usd": 1e9}',
        },
        {
            "fabco_quarterly": fabco,
            "buyer_quarterly": buyer,
            "sim_curve": pd.DataFrame({"release_scale": [1.0], "bottleneck_utilisation": [0.9], "x_factor": [2.0]}),
        },
    )
    page = report_html(run, plotlyjs="/static/plotly.js")
    fab_at, buyer_at = page.index("The fab company: cash flows per year"), page.index("The buyer: what it pays")
    # after the key figures, before the plots
    assert page.index("fab company NPV") < fab_at < buyer_at < page.index('id="plot-')
    fab_table = page[fab_at:buyer_at]
    billions, millions, ones = (fmt.scale_for([v]).unit for v in (1e9, 1e6, 0.0))
    headings = [
        "year",
        f"revenue, {billions}",
        f"operating costs, {millions}",
        f"capex, {ones}",
        f"grants and credits, {ones}",
        f"tax, {millions}",
        f"project free cash flow, {billions}",
        f"equity called, {ones}",
        f"distributed, {ones}",
    ]
    assert [h for h in headings if f"<th>{h}</th>" not in fab_table] == []
    assert "debt drawn" not in fab_table  # no debt in this run
    # 2025: revenue $2.00 B; costs 2 × ($100 M + $50 M) = $300 M; tax $1.0 M; FCF -$3.00 B
    assert "<tr><td>2025</td><td>2.00</td><td>300.0</td>" in fab_table
    assert "<td>1.0</td><td>-3.00</td>" in fab_table
    assert "<tr><td>2026</td><td>3.00</td><td>250.0</td>" in fab_table
    buyer_table = page[buyer_at : page.index('id="plot-')]
    for heading in (
        f"fab company wafers, {billions}",
        f"HBM, {millions}",
        "accelerators delivered",
        f"market value, {billions}",
    ):
        assert f"<th>{heading}</th>" in buyer_table
    assert "<td>500.0</td>" in buyer_table and f"<td>{fmt.count(1234.4)}</td>" in buyer_table
    assert "<td>5.00</td></tr>" in buyer_table  # market value in 2025
    assert "&lt;s&gt;" in page and "<s>" not in page  # text is escaped


def test_a_run_without_money_has_no_cash_flow_tables():
    run = bare_run(
        "{}",
        {"sim_curve": pd.DataFrame({"release_scale": [1.0], "bottleneck_utilisation": [0.9], "x_factor": [2.0]})},
    )
    assert 'class="money"' not in report_html(run, plotlyjs="/static/plotly.js")


def test_report_lists_the_runs_messages_escaped():
    """The run's messages (e.g. the plan's capex against the ambition) follow the key figures."""
    sentence = "The plan's capex (…) is $100.25 B: 1.4 % of the $7,000.00 B ambition."
    run = bare_run(
        '{"fabco_npv_usd": 1e9}',
        {"messages": pd.DataFrame({"message": [sentence, "<b>not markup</b>"]})},
    )
    page = report_html(run, plotlyjs="/static/plotly.js")
    assert page.index("fab company NPV") < page.index(f"<li>{html.escape(sentence)}</li>")
    assert "<li>&lt;b&gt;not markup&lt;/b&gt;</li>" in page
