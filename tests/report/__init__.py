"""Helpers of the report's tests."""

from __future__ import annotations

import pandas as pd

from fabnet.store import StoredRun


def bare_run(figures: str = "{}", tables: dict[str, pd.DataFrame] | None = None) -> StoredRun:
    """A stored run with the least provenance a page needs, its key figures as stored JSON."""
    meta = {
        "run_id": 1,
        "scenario_name": "s",
        "created_at": "t",
        "fabnet_version": "v",
        "scenario_hash": "h",
        "seed": 0,
        "solver_status": "ok",
        "figures": figures,
    }
    return StoredRun(meta, tables or {})
