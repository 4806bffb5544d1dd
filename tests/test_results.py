"""core/results.py declares every stored table: the producers make exactly those columns, the
store holds only declared columns with the declared types, and refuses anything else."""

from __future__ import annotations

import importlib

import duckdb
import pandas as pd
import pytest

from fabnet.core import columns, figures, results, units
from fabnet.core.results import PANDAS_DTYPES, TABLES, MissingColumn, UndeclaredColumn, UndeclaredTable
from fabnet.store import open_store

#: How DuckDB's DESCRIBE names each declared type.
DUCKDB_TYPES = {"int": "BIGINT", "float": "DOUBLE", "text": "VARCHAR", "bool": "BOOLEAN", "time": "TIMESTAMP"}


def stored_types(path, table: str) -> dict[str, str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {name: kind for name, kind, *_ in con.execute(f"DESCRIBE {table}").fetchall()}


def declared_types(name: str, stored: list[str]) -> dict[str, str]:
    """The DuckDB types core.results declares for the stored columns `stored` of table `name`."""
    table = TABLES[name]
    found = {c: results.RUN_ID if c == "run_id" and name != "runs" else table.column(c) for c in stored}
    undeclared = [c for c, column in found.items() if column is None]
    assert undeclared == [], f"{name} holds undeclared columns {undeclared}"
    return {c: DUCKDB_TYPES[column.dtype] for c, column in found.items() if column is not None}


def test_every_declared_column_has_a_meaning_a_type_and_a_unique_name():
    for name, table in TABLES.items():
        assert table.name == name
        every = [*table.columns, *table.families]
        assert len({c.name for c in every}) == len(every), f"{name} declares a column twice"
        for column in every:
            assert column.meaning.strip(), f"{name}.{column.name} has no meaning"
            assert column.dtype in PANDAS_DTYPES
            assert columns.meaning(column.name).unit in columns.UNIT_WORDS  # declared, or read from the name
        assert set(table.dtypes()) == set(table.names)


def test_a_columns_label_and_unit_are_read_from_its_one_declaration(monkeypatch):
    # cfads_usd is declared in fabco_quarterly with "CFADS" (its suffix alone would say "cfads")
    assert columns.meaning("cfads_usd") == columns.Meaning("CFADS", "usd")
    assert columns.heading("cfads_usd") == "CFADS, $" and columns.export_heading("cfads_usd") == "CFADS (USD)"
    # a column declared with a label and unit is shown with them, in every table that has it
    added = results.Table(
        "added", (results.Column("stacks_bought", "float", "HBM stacks bought", "stacks bought", "count"),)
    )
    monkeypatch.setattr(columns, "TABLES", {**TABLES, "added": added})
    columns._declared.cache_clear()
    assert columns.meaning("stacks_bought") == columns.Meaning("stacks bought", "count")
    # … and one declared twice must say the same both times
    twice = results.Table("twice", (results.Column("stacks_bought", "float", "again", "stacks", "count"),))
    monkeypatch.setattr(columns, "TABLES", {**TABLES, "added": added, "twice": twice})
    columns._declared.cache_clear()
    with pytest.raises(ValueError, match="stacks_bought"):
        columns.meaning("stacks_bought")
    monkeypatch.undo()
    columns._declared.cache_clear()
    assert columns.meaning("stacks_bought") == columns.Meaning("stacks bought", "number")  # undeclared: from its name
    with pytest.raises(ValueError, match="unit 'dollars'"):
        results.Column("x_usd", "float", "x", unit="dollars")


def test_a_family_matches_its_columns_and_fills_in_the_meaning():
    samples = results.table("risk_samples")
    irr = samples.column("irr_g42")
    assert irr is not None and irr.dtype == "float" and "g42" in irr.meaning
    delivered = samples.column("delivered_2027")
    assert delivered is not None and "2027" in delivered.meaning
    assert samples.column("input_3") is not None
    # a year and a counter are digits; a declared name is not a family's
    assert samples.column("delivered_p50") is None and samples.column("input_x") is None
    assert samples.column("sample") == samples.columns[0]


def test_check_refuses_an_undeclared_column_and_says_where_to_declare_it():
    table = results.table("investor_flows")
    with pytest.raises(UndeclaredColumn) as raised:
        table.check(pd.DataFrame(columns=[*table.names, "colour"]))
    message = str(raised.value)
    assert "'investor_flows'" in message and "'colour'" in message and "src/fabnet/core/results.py" in message
    with pytest.raises(UndeclaredTable, match=r"'cashflow'.*src/fabnet/core/results\.py"):
        results.table("cashflow")


def test_conform_orders_the_columns_and_types_an_empty_frame():
    table = results.table("investor_flows")
    frame = pd.DataFrame({name: [i] for i, name in enumerate(reversed(table.names))})
    assert list(table.conform(frame).columns) == table.names
    with pytest.raises(MissingColumn, match="flow_usd"):
        table.conform(frame.drop(columns="flow_usd"))
    empty = results.table("builds").conform(pd.DataFrame())
    assert empty.empty and {c: str(t) for c, t in empty.dtypes.items()} == results.table("builds").dtypes()


def test_the_main_jobs_tables_are_exactly_the_declared_ones(store_with_runs):
    _, jobs = store_with_runs
    for name, frame in jobs[0].tables.items():
        assert list(frame.columns) == TABLES[name].names, name


def test_the_store_holds_only_declared_columns_with_the_declared_types(store_with_runs):
    path, _ = store_with_runs
    with duckdb.connect(str(path), read_only=True) as con:
        names = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
    assert "runs" in names and len(names) > 20
    for stored in names:
        name = stored.removeprefix("result_")
        types = stored_types(path, stored)
        assert types == declared_types(name, list(types)), name
        assert set(TABLES[name].names) <= set(types), f"{name} lacks declared columns"


def test_a_first_frame_without_rows_gets_the_declared_types(tmp_path):
    path = tmp_path / "s.duckdb"
    empty = ("investors", "deal_range", "load_curves", "check_quarters")
    with open_store(path) as store:
        store.save_run({"scenario_name": "x"}, {name: pd.DataFrame() for name in empty})
    for name in empty:
        types = stored_types(path, f"result_{name}")
        assert types == declared_types(name, list(types)) and set(types) == {"run_id", *TABLES[name].names}


def test_storing_an_undeclared_column_fails_and_names_core_results(tmp_path):
    frame = pd.DataFrame({"message": ["hello"], "colour": ["red"]})
    with open_store(tmp_path / "s.duckdb") as store:
        with pytest.raises(UndeclaredColumn, match=r"'messages' has no column 'colour'.*src/fabnet/core/results\.py"):
            store.save_run({"scenario_name": "x"}, {"messages": frame})
        assert store.runs().empty


def test_the_served_share_figures_take_their_names_and_labels_from_its_one_number(monkeypatch):
    # core.units.SERVED_SHARE = 0.9: "90 %" in words, "90pct" in the names stored runs hold
    assert columns.label(figures.P_MEET_SERVED) == "chance of meeting 90 % of demand"
    assert columns.label(figures.P_YEAR_SERVED) == "share of years that get 90 % of their demand"
    assert (figures.P_MEET_SERVED, figures.P_YEAR_SERVED) == ("p_meet_90pct", "p_year_meets_90pct")
    monkeypatch.setattr(units, "SERVED_SHARE", 0.95)  # another rule renames and relabels them together
    try:
        other = importlib.reload(figures)
        declared = {c.name: c.label for c in other.FIGURES}
        assert declared["p_meet_95pct"] == "chance of meeting 95 % of demand"
        assert declared["p_year_meets_95pct"] == "share of years that get 95 % of their demand"
    finally:
        monkeypatch.undo()
        importlib.reload(figures)
