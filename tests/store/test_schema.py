"""The store's tables: twelve writers reaching a new store at once all store their run (the
tables are created once, whoever comes second finds them made: PostgreSQL by an advisory lock,
DuckDB one writer process at a time and in one process one transaction at a time); a store
shaped otherwise is refused on opening, naming what differs and the fabnet that last wrote it."""

from __future__ import annotations

import threading

import pytest

from fabnet.store import StoreError, open_store

WRITERS = 12


def test_twelve_writers_on_a_new_store_all_land(location):
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []
    ids: list[int] = []

    def write(k: int) -> None:
        barrier.wait()
        try:
            with open_store(location) as store:
                ids.append(store.save_run({"scenario_name": f"w{k}", "seed": k, "figures": {}}, {}))
        except BaseException as error:  # collected: the test names every failure
            errors.append(error)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(ids) == list(range(1, WRITERS + 1))
    with open_store(location, read_only=True) as store:
        assert sorted(store.runs()["scenario_name"]) == sorted(f"w{k}" for k in range(WRITERS))


def execute(location, statements):
    """Run SQL on the store as another program would."""
    if location.startswith("postgresql"):
        import psycopg

        with psycopg.connect(location, autocommit=True) as con:
            for statement in statements:
                con.execute(statement)
    else:
        import duckdb

        with duckdb.connect(location) as con:
            for statement in statements:
                con.execute(statement)


def test_a_store_shaped_otherwise_is_refused_on_opening_naming_what_and_who(location):
    with open_store(location) as store:
        store.save_run({"scenario_name": "s", "seed": 1, "figures": {}, "fabnet_version": "0.0.9"}, {})
    execute(
        location,
        [
            "ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT 'x'",
            "ALTER TABLE runs ALTER COLUMN owner DROP DEFAULT",
        ],
    )
    with pytest.raises(StoreError) as info:
        open_store(location)
    text = str(info.value)
    assert "runs.owner, unknown to this fabnet, demands a value" in text
    assert "its last run was stored by fabnet 0.0.9" in text and "use another --store" in text
    with open_store(location, read_only=True) as store:  # still readable
        assert list(store.runs()["run_id"]) == [1]
