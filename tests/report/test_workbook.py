"""The workbook a financial model reads: Summary first, the tables in the report's order,
quarters as dates, money in USD or millions, a unit in every numeric heading, booleans as
booleans, and inputs that, edited, run again as the same change made with --set."""

from __future__ import annotations

import datetime

import openpyxl
import pandas as pd
import pytest

from fabnet.core.errors import ScenarioError
from fabnet.core.workbook import INPUTS_SHEET
from fabnet.pipeline import main_job
from fabnet.report.workbook import REPORT_ORDER, heading, quarter_end, write_workbook
from fabnet.scenario import load_scenario
from fabnet.scenario.loader import stored_scenario, with_overrides
from fabnet.store import open_store


@pytest.fixture(scope="module")
def run(store_with_runs):
    path, _ = store_with_runs
    with open_store(path, read_only=True) as store:
        return store.run(1)


@pytest.fixture(scope="module")
def book(run, tmp_path_factory):
    return write_workbook(run, tmp_path_factory.mktemp("book") / "run-1.xlsx")


def test_the_workbook_opens_on_its_summary_then_the_reports_order(run, book):
    names = openpyxl.load_workbook(book, read_only=True).sheetnames
    assert names[0] == "Summary"
    tables = [n for n in names if n in run.tables]
    assert tables[: len([n for n in REPORT_ORDER if n in run.tables])] == [n for n in REPORT_ORDER if n in run.tables]
    assert names.index("deal_range") < names.index("builds") < names.index("fabco_quarterly")
    assert names[-3:] == [INPUTS_SHEET, "scenario_yaml", "columns"]
    summary = [row[0] for row in openpyxl.load_workbook(book)["Summary"].iter_rows(values_only=True)]
    assert {"Headline", "The deal", "Investors", "Builds"} <= set(summary)
    assert str(run.tables["deal_range"]["verdict"].iloc[0]) in summary


def test_quarters_are_quarter_end_dates_and_booleans_booleans(run, book):
    sheet = openpyxl.load_workbook(book)["fabco_quarterly"]
    head = [c.value for c in sheet[1]]
    quarters = [row[head.index(heading("quarter"))] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert all(isinstance(q, datetime.datetime) for q in quarters)
    assert [q.date() for q in quarters] == [quarter_end(q) for q in run.tables["fabco_quarterly"]["quarter"]]
    assert quarter_end("2027Q1") == datetime.date(2027, 3, 31) and quarter_end("2027Q4") == datetime.date(2027, 12, 31)
    investors = openpyxl.load_workbook(book)["investors"]
    column = [c.value for c in investors[1]].index("clears hurdle")
    assert {type(row[column]) for row in investors.iter_rows(min_row=2, values_only=True)} == {bool}


def test_every_numeric_column_names_its_unit(run, book):
    read = pd.read_excel(book, sheet_name=None)
    for name, frame in run.tables.items():
        for column in frame.columns:
            numeric = pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_bool_dtype(frame[column])
            if numeric and column not in ("year", "run_id", "seed"):
                assert heading(column).endswith(")"), f"{name}.{column}"
                assert heading(column) in read[name[:31]].columns


def test_money_in_millions(run, tmp_path):
    musd = write_workbook(run, tmp_path / "m.xlsx", unit="musd")
    sheet = pd.read_excel(musd, sheet_name="fabco_quarterly")
    stored = run.tables["fabco_quarterly"]["revenue_usd"].to_numpy()
    assert sheet["revenue (USD M)"].to_numpy() == pytest.approx(stored / 1e6)


def _edit(book, tmp_path, path: str, value: object):
    workbook = openpyxl.load_workbook(book)
    sheet = workbook[INPUTS_SHEET]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "scenario" and r[1].value == path)
    row[2].value = value
    edited = tmp_path / "edited.xlsx"
    workbook.save(edited)
    return edited


def test_inputs_edited_in_the_workbook_run_as_the_same_set_does(run, book, tmp_path):
    edited = _edit(book, tmp_path, "finance.discount_rate", 0.125)
    from_book = load_scenario(edited)  # what `fabnet run edited.xlsx` reads
    by_set = with_overrides(stored_scenario(run.meta), ["finance.discount_rate=0.125"])
    assert from_book.model_dump() == by_set.model_dump()
    assert from_book.origin.overrides == ("finance.discount_rate=0.125",)
    store = tmp_path / "again.duckdb"
    again, same = (main_job(s, store, check=False) for s in (from_book, by_set))
    assert again.figures == same.figures and again.figures != run.figures


def test_an_unedited_workbook_is_the_scenario_as_run(run, book):
    assert load_scenario(book).model_dump() == stored_scenario(run.meta).model_dump()


def test_a_bad_edit_is_the_error_set_gives(run, book, tmp_path):
    edited = _edit(book, tmp_path, "finance.discount_rate", -5)
    with pytest.raises(ScenarioError) as from_book:
        load_scenario(edited)
    with pytest.raises(ScenarioError) as by_set:
        with_overrides(stored_scenario(run.meta), ["finance.discount_rate=-5"])
    assert from_book.value.problem == by_set.value.problem


def test_a_workbook_not_of_a_run_says_so(tmp_path):
    other = tmp_path / "other.xlsx"
    openpyxl.Workbook().save(other)
    with pytest.raises(ScenarioError, match="without the sheet inputs"):
        load_scenario(other)
