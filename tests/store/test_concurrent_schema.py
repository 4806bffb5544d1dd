"""Twelve writers reaching a new store at once all store their run: the tables are created once,
whoever comes second finds them made (PostgreSQL: an advisory lock; DuckDB: one writer process
at a time, and in one process one transaction at a time)."""

from __future__ import annotations

import threading

from fabnet.store import open_store

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
