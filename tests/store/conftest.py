"""Store locations for the store tests: a DuckDB file, and a PostgreSQL schema of its own on the
server `FABNET_TEST_POSTGRES` names (.ci/run starts one from Debian's package; elsewhere the
PostgreSQL cases skip with a pointer, and fail when CI=true)."""

from __future__ import annotations

import os
import uuid

import pytest

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
