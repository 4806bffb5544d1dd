"""Store locations for the store tests: a DuckDB file, and a PostgreSQL schema of its own on the
server `FABNET_TEST_POSTGRES` names (.ci/run starts one from Debian's package; elsewhere the
PostgreSQL cases skip with a pointer, and fail when CI=true)."""

from __future__ import annotations

import os
import uuid

import pytest

from fabnet.core import results
from fabnet.core.results import Column, Table

POSTGRES = os.environ.get("FABNET_TEST_POSTGRES")


def postgres_location() -> str:
    """A fresh schema on the test server, as a store address whose search path is that schema."""
    if not POSTGRES:
        if os.environ.get("CI") == "true":
            raise RuntimeError("CI=true but FABNET_TEST_POSTGRES is not set: .ci/run starts PostgreSQL")
        pytest.skip(
            "no PostgreSQL server: set FABNET_TEST_POSTGRES=postgresql://user:password@host/db "
            "(Debian's postgresql package; .ci/run starts one)"
        )
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in POSTGRES else "?"
    return f"{POSTGRES}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["duckdb", "postgres"])
def location(request, tmp_path):
    """Where a store lives: a DuckDB file, or a PostgreSQL schema dropped after the test."""
    if request.param == "duckdb":
        yield str(tmp_path / "s.duckdb")
        return
    address = postgres_location()
    yield address
    import psycopg

    schema = address.rsplit("%3D", 1)[1]
    with psycopg.connect(POSTGRES, autocommit=True) as con:
        con.execute(f"DROP SCHEMA {schema} CASCADE")


#: Tables only the store tests store: declared for them as core.results declares fabnet's own.
AD_HOC = (
    Table(
        "sites",
        (Column("site", "text", "a site"), Column("modules", "int", "modules"), Column("started", "text", "when")),
    ),
    Table("cash", (Column("quarter", "text", "a quarter"), Column("capex_usd", "float", "capex"))),
    Table(
        "t",
        (
            Column("flag", "bool", "a flag"),
            Column("count", "int", "a count"),
            Column("share", "float", "a share"),
            Column("label", "text", "a label"),
            Column("when", "time", "a time"),
        ),
    ),
    Table("loads", (Column("node", "text", "a node"), Column("load", "float", "a load"))),
    Table(
        "samples",
        (Column("sample", "int", "a sample"), Column("npv", "float", "an NPV")),
        families=(Column("irr_{investor}", "float", "IRR of {investor}"),),
    ),
)


@pytest.fixture(autouse=True)
def ad_hoc_tables(monkeypatch):
    for table in AD_HOC:
        monkeypatch.setitem(results.TABLES, table.name, table)
