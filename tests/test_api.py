"""The Python API, as a notebook user meets it: load → run → tables → export → pandas."""

from __future__ import annotations

import importlib
import inspect
import math

import duckdb
import pandas as pd
import pytest

import fabnet
from fabnet.report.workbook import QUARTER_COLUMNS, heading, quarter_end
from tests.conftest import TIGRIS

API = (
    "load",
    "plan_network",
    "financials",
    "decide",
    "run",
    "refinance",
    "deal",
    "sensitivity",
    "break_even",
    "risk_samples",
    "simulate",
    "runs",
    "stored",
    "tables",
    "scenario_of",
    "export",
    "write_report",
    "import_run",
    "open_store",
)


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    """tigris with one override, run and stored as a notebook user would."""
    folder = tmp_path_factory.mktemp("notebook")
    scenario = fabnet.load(TIGRIS, {"finance.discount_rate": 0.08})
    result = fabnet.run(scenario, store=folder / "analysis.duckdb", label="8 %", check=False)
    return folder, scenario, result


def test_the_api_is_found_from_import_fabnet_with_docstrings():
    assert set(API) <= set(dir(fabnet))
    for name in API:
        function = getattr(fabnet, name)
        assert callable(function) and inspect.getdoc(function), name
    # no API name hides a package of fabnet (fabnet.plan is the planner, not a function)
    import importlib

    importlib.import_module("fabnet.plan")
    assert callable(fabnet.plan_network) and inspect.ismodule(fabnet.plan)


def test_every_engine_name_the_facade_passes_on_is_there():
    """fabnet.api passes on the names declared in fabnet/_engines.py (the CLI and the web app
    import them from the API only): each resolves to its module's object, and a name it does
    not declare is refused as a module would."""
    from fabnet import api

    names = api._engine_names()
    assert {"Plan", "SolveOptions", "RobustSpec", "Executors", "StoredRun", "report_html"} <= set(names)
    for name, (module, attribute) in names.items():
        assert getattr(api, name) is getattr(importlib.import_module(module), attribute), name
    assert api.simulate_fab is importlib.import_module("fabnet.fabsim").simulate  # aliased, not shadowing
    with pytest.raises(AttributeError, match="no attribute 'plan_json'"):
        api.plan_json  # noqa: B018


def test_load_applies_overrides_as_set_does_and_records_them():
    by_mapping = fabnet.load(TIGRIS, {"sites.kumamoto.lead_time_q": 12, "finance.discount_rate": 0.08})
    by_text = fabnet.load(TIGRIS, ["sites.kumamoto.lead_time_q=12", "finance.discount_rate=0.08"])
    assert by_mapping == by_text
    assert by_mapping.origin.overrides == ("sites.kumamoto.lead_time_q=12", "finance.discount_rate=0.08")
    with pytest.raises(fabnet.core.errors.ScenarioError, match="lead_time_q"):
        fabnet.load(TIGRIS, {"sites.kumamoto.lead_time_q": -1})


def test_notebook_path_export_reads_back_with_equal_values(analysed, tmp_path):
    folder, _, result = analysed
    assert result.run_id == 1
    stored = fabnet.tables(result.run_id, folder / "analysis.duckdb")
    workbook = fabnet.export(result.run_id, tmp_path, "xlsx", store=folder / "analysis.duckdb")
    sheets = pd.read_excel(workbook, sheet_name=None)
    assert set(sheets) == {"Summary", "inputs", "scenario_yaml", "columns", *stored}
    for name, frame in stored.items():
        sheet = sheets[name]
        assert list(sheet.columns) == [heading(c) for c in frame.columns], name
        assert len(sheet) == len(frame), name
        for column in frame.columns:
            expected = (
                frame[column].map(quarter_end).astype("datetime64[ns]") if column in QUARTER_COLUMNS else frame[column]
            )
            _assert_same_values(expected, sheet[heading(column)], f"{name}.{column}")
    # money is a number in the workbook, never text
    assert pd.api.types.is_float_dtype(sheets["fabco_quarterly"]["revenue (USD)"])
    inputs = sheets["inputs"].set_index(["section", "path"])["value"].astype(str)
    assert inputs[("scenario", "finance.discount_rate")] == inputs[("override", "finance.discount_rate")] == "0.08"
    assert inputs[("scenario", "sites.kumamoto.lead_time_q")] == "9"  # tigris.yaml, as written
    assert (sheets["inputs"]["section"] == "override").sum() == 1


def _assert_same_values(stored: pd.Series, read: pd.Series, where: str) -> None:
    if pd.api.types.is_numeric_dtype(stored) and not pd.api.types.is_bool_dtype(stored):
        assert pd.api.types.is_numeric_dtype(read) or read.isna().all(), where
        for a, b in zip(stored, read, strict=True):
            assert (pd.isna(a) and pd.isna(b)) or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9), where
    else:
        assert [_text(v) for v in stored] == [_text(v) for v in read], where


def _text(value: object) -> str | None:
    """A text cell as Excel keeps it: empty and missing are one."""
    return None if value is None or value == "" or (isinstance(value, float) and math.isnan(value)) else str(value)


def test_csv_and_parquet_exports_hold_the_stored_tables(analysed, tmp_path):
    folder, _, result = analysed
    store = folder / "analysis.duckdb"
    stored = fabnet.tables(result.run_id, store)
    csv = fabnet.export(result.run_id, tmp_path / "csv", "csv", store=store)
    parquet = fabnet.export(result.run_id, tmp_path / "pq", "parquet", store=store)
    for name, frame in stored.items():
        from_csv = pd.read_csv(csv / f"{name}.csv")
        from_parquet = (
            duckdb.connect().execute("SELECT * FROM read_parquet(?)", [str(parquet / f"{name}.parquet")]).df()
        )
        assert list(from_csv.columns) == list(frame.columns) == list(from_parquet.columns), name
        for column in frame.select_dtypes("number").columns:
            assert from_parquet[column].tolist() == pytest.approx(frame[column].tolist(), nan_ok=True), name
    legend = pd.read_csv(csv / "columns.csv").set_index(["table", "column"])
    assert legend.at[("fabco_quarterly", "revenue_usd"), "unit"] == "USD"
    assert legend["meaning"].notna().all()  # every stored column's, as core/results.py declares it


def test_refinance_of_a_stored_run_reproduces_its_npv_without_planning(analysed):
    folder, _, result = analysed
    run = fabnet.stored(result.run_id, folder / "analysis.duckdb")
    assert fabnet.scenario_of(run).finance.discount_rate == 0.08
    again = fabnet.refinance(run)
    assert again.fabco.metrics.fabco_npv_usd == pytest.approx(result.figures["fabco_npv_usd"], rel=1e-9)


def test_run_decide_and_refinance_are_read_the_same_way(analysed):
    """One kind of result (issue 31): fabnet.run's (stored), the Decision fabnet.decide returns
    (here the run's own), and fabnet.refinance's of a result and of a stored run, each with the
    plan, the money, KeyFigures, the tables, a dict, a short repr and a notebook table."""
    import json

    from fabnet.api import json_text
    from fabnet.store.figures import KeyFigures

    folder, _, result = analysed
    stored = fabnet.stored(result.run_id, folder / "analysis.duckdb")
    results = {
        "run": result,
        "decide": result.decision,
        "refinance": fabnet.refinance(result),
        "refinance a stored run": fabnet.refinance(stored),
    }
    npv, builds = result.figures["fabco_npv_usd"], len(stored.tables["builds"])
    for how, each in results.items():
        assert isinstance(each.figures, KeyFigures), how
        # the same plan and inputs through one finance: the run's NPV, and as many builds as stored
        assert each.figures["fabco_npv_usd"] == pytest.approx(npv, rel=1e-9), how
        assert each.financials is each.money and each.fabco is each.money.fabco, how
        assert len(each.plan.builds) == builds and "fabco_quarterly" in each.tables, how
        assert json.loads(json_text(each.to_dict()))["figures"]["fabco_npv_usd"] == pytest.approx(npv), how
        assert len(repr(each)) < 500 and "<table" in each._repr_html_(), how
    assert [each.run_id for each in results.values()] == [result.run_id, None, None, None]
    # decision.figures(), as a Decision's figures were read before, is the same object
    assert result.decision.figures() is result.decision.figures


def test_refinance_at_another_price_is_the_deals_point_for_that_price(analysed):
    """The deal sweeps the offtake price with the plan held: refinancing the result at one of its
    prices gives the same fab company NPV (two routes through one finance)."""
    _, _, result = analysed
    points = result.tables["deal_points"].set_index("share_of_market")
    share = float(points.index[len(points) // 2])
    money = fabnet.refinance(result, {"offtake.price": "indexed", "offtake.share_of_market_price": share})
    assert money.fabco.metrics.fabco_npv_usd == pytest.approx(points.at[share, "fabco_npv_usd"], rel=1e-9)


def test_runs_lists_the_label_and_kind(analysed):
    folder, _, _ = analysed
    runs = fabnet.runs(folder / "analysis.duckdb")
    assert list(runs.columns) == ["run_id", "label", "kind", "scenario_name", "created_at", "fabco_npv_usd"]
    assert runs.iloc[0][["label", "kind", "scenario_name"]].tolist() == ["8 %", "run", "tigris"]


@pytest.mark.parametrize(
    "change",
    [{"sites.kumamoto.lead_time_q": 14}, {"horizon.quarters": 16}, {"products.tigris_n3.demand.per_year.2029": 1}],
)
def test_refinance_refuses_what_would_change_the_plan(analysed, change):
    """A later first wafer with the planned revenue kept would sell wafers before the tools
    are bought; refinance keeps the plan, so it changes money only."""
    _, _, result = analysed
    with pytest.raises(fabnet.core.errors.FabnetError, match="changes what the plan is"):
        fabnet.refinance(result, change)
    money = fabnet.refinance(
        result, {"sites.kumamoto.capex_per_module_usd.tools": 9.0e9, "funding.investors.g42.hurdle_rate": 0.2}
    )
    assert money.fabco.metrics.fabco_npv_usd < result.figures["fabco_npv_usd"]


def test_api_misuse_is_a_clear_error(analysed):
    _, scenario, _ = analysed
    one = fabnet.load(TIGRIS, "finance.discount_rate=0.08")  # one text is one override
    assert one.finance.discount_rate == 0.08 and fabnet.load(TIGRIS, None) == fabnet.load(TIGRIS)
    with pytest.raises(TypeError, match="refinance takes"):
        fabnet.refinance(scenario)
    with pytest.raises(ValueError, match="low < high"):
        fabnet.deal(scenario, low=1.5, high=0.2)


def test_a_network_worth_less_than_nothing_to_both_parties_is_refused(monkeypatch):
    """decide() measures the planner's network after tax and with its life after the horizon
    (buyer's gain + fab company NPV); below zero it keeps the foundry route and says why."""
    from fabnet import pipeline

    tigris = fabnet.load()
    monkeypatch.setattr(pipeline, "system_value", lambda money, route: -1.5e9)
    decision = pipeline.make_decision(tigris)
    assert decision.plan.builds.empty
    assert decision.money.fabco.metrics.fabco_revenue_usd == 0
    assert decision.plan.messages[0].startswith("The planner's network (kumamoto) was refused")
    assert "$1.50 B worse off" in decision.plan.messages[0]


def test_a_stored_runs_quarters_are_pandas_periods(analysed):
    """Quarters as pandas Periods (issue 31): the first row of the fab company's quarters is the
    scenario's first quarter, tigris's 2024Q1, and the rows are one quarter apart."""
    folder, _, result = analysed
    quarterly = fabnet.tables(result.run_id, folder / "analysis.duckdb")["fabco_quarterly"]
    assert str(quarterly["quarter"].dtype) == "period[Q-DEC]"
    assert quarterly["quarter"].iloc[0] == pd.Period("2024Q1", freq="Q")
    steps = quarterly["quarter"].diff().dropna()
    assert (steps == pd.Period("2024Q2", freq="Q") - pd.Period("2024Q1", freq="Q")).all()
    builds = fabnet.tables(result.run_id, folder / "analysis.duckdb")["builds"]
    assert str(builds["started"].dtype) == "period[Q-DEC]"
    text = fabnet.tables(result.run_id, folder / "analysis.duckdb", periods=False)["fabco_quarterly"]
    assert text["quarter"].iloc[0] == "2024Q1"
