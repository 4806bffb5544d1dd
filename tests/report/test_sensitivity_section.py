"""`fabnet sensitivity --store`: the decision is stored as a run with its tornado and break-even,
and the run's report shows them — the tornado's bars at the NPVs `fabnet.refinance` gives for
each input's low and high, the break-even in the terminal's words."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

import fabnet
from fabnet.cli import app
from fabnet.core.breakeven import break_even_sentence
from fabnet.report.figures import figures
from fabnet.report.html import report_html
from tests.risk.test_sensitivity import data

VARY = "finance.discount_rate=0.05:0.15"


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sensitivity")
    path, store = folder / "tiny.yaml", str(folder / "s.duckdb")
    path.write_text(yaml.safe_dump(data()))
    args = ["sensitivity", str(path), "--vary", VARY, "--solve", "i irr = hurdle", "--for", "nodes.N.wafer_price_usd"]
    result = CliRunner().invoke(app, [*args, "--store", store, "--label", "with its tornado"])
    assert result.exit_code == 0, result.output
    assert "stored as run 1" in result.output
    return fabnet.stored(1, store)


def test_the_stored_run_holds_the_tornado_and_the_break_even(stored):
    assert stored.meta["label"] == "with its tornado" and stored.kind == "run"
    table = stored.tables["sensitivity"]
    assert list(table["end"][:1]) == ["base"]
    assert table.loc[0, "fabco_npv_usd"] == pytest.approx(stored.figures["fabco_npv_usd"])
    rate = table[table["path"] == "finance.discount_rate"].set_index("end")
    for end, value in (("low", 0.05), ("high", 0.15)):  # the --vary values themselves
        money = fabnet.refinance(stored, {"finance.discount_rate": value})
        assert rate.loc[end, "fabco_npv_usd"] == pytest.approx(money.fabco.metrics.fabco_npv_usd)
    found = stored.tables["break_even"].iloc[0]
    assert (found["path"], found["key"]) == ("nodes.N.wafer_price_usd", "irr_i")
    assert found["how"] == "replace" and (found["low"], found["high"]) == (2500.0, 40000.0)  # ¼× to 4× 10,000
    at = fabnet.refinance(stored, {"nodes.N.wafer_price_usd": float(found["at"])})
    irr = float(at.fabco.investors.set_index("investor").loc["i", "irr"])
    assert irr == pytest.approx(0.1, abs=1e-3)  # the investor's hurdle


def test_the_report_shows_the_tornado_and_the_break_even(stored):
    page = report_html(stored)
    assert 'id="section-sensitivity"' in page
    assert break_even_sentence(next(stored.tables["break_even"].itertuples(index=False))) in page
    assert "Break-even: IRR of investor i reaches 10.0 %" in page
    tornado = figures(stored)["sensitivity"]
    base = stored.figures["fabco_npv_usd"] / 1e9
    low = next(trace for trace in tornado.data if trace.name == "input at its low")
    drawn = dict(zip(low.y, low.base + low.x, strict=True))
    at_low = fabnet.refinance(stored, {"finance.discount_rate": 0.05}).fabco.metrics.fabco_npv_usd / 1e9
    assert low.base == pytest.approx(base)
    assert next(v for k, v in drawn.items() if "discount" in k.lower()) == pytest.approx(at_low)


def test_a_run_without_a_sensitivity_has_no_such_section(store_with_runs):
    run = fabnet.stored(1, store_with_runs[0])
    assert "sensitivity" not in figures(run) and 'id="section-sensitivity"' not in report_html(run)
