"""A report's "what changed" section against a base run (issue 31)."""

from __future__ import annotations

import html
import re

import pytest

from fabnet.api import stored, write_report
from fabnet.core import columns


@pytest.fixture(scope="module")
def two_prices(tmp_path_factory):
    """tests/plan/conftest.py's tiny scenario at the market wafer price and at 80 % of it."""
    from fabnet.pipeline import main_job
    from tests.plan.conftest import scenario, tiny

    path = tmp_path_factory.mktemp("diff") / "runs.duckdb"
    for share in (1.0, 0.8):
        main_job(scenario(tiny(offtake={"share_of_market_price": share})), path, check=False)
    return path


def rows(section: str) -> list[list[str]]:
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", section)
        if "<td>" in row
    ]


def test_the_report_of_a_run_says_what_changed_against_its_base(two_prices, tmp_path):
    page = write_report(2, two_prices, tmp_path / "r.html", base=1).read_text()
    section = page.split('id="section-diff"')[1].split("<h2")[0]
    assert "What changed against run 1" in page
    table = {row[0]: row[1:] for row in rows(section)}
    assert table["--set offtake.share_of_market_price"] == ["100.0 %", "80.0 %", ""]
    first, second = stored(1, two_prices).figures, stored(2, two_prices).figures
    # the fab company's revenue moved with the price (the plan, the same, does not)
    label = columns.label("fabco_revenue_usd")
    assert table[label][:2] == [columns.show("fabco_revenue_usd", f["fabco_revenue_usd"]) for f in (first, second)]
    assert second["fabco_revenue_usd"] < first["fabco_revenue_usd"]
    assert columns.label("system_cost_usd") not in table  # the same plan: unchanged, left out


def test_without_a_base_there_is_no_such_section(two_prices, tmp_path):
    assert "section-diff" not in write_report(2, two_prices, tmp_path / "plain.html").read_text()
