"""Fab simulator: discrete-event simulation of one wafer fab in the SMT2020 format, KPIs and
operating curves (cycle time against load).

Names are imported on first use (PEP 562), so that `fabnet simulate` pays for numba only, and
the schema can read the rule registry without the engines: pandas comes with kpis and curves."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_HOME = {
    "operating_curve": "curve",
    "SimOptions": "options",
    "SimResult": "options",
    "simulate": "run",
    "Kpis": "kpi_tables",
    "bottleneck": "kpi_tables",
    "kpis": "kpi_tables",
    "RULES": "rules",
    "Rule": "rules",
    "register": "rules",
    "DatasetError": "smt2020",
    "FabData": "smt2020",
    "find_dataset": "smt2020",
    "load_smt2020": "smt2020",
}
__all__ = [
    "RULES",
    "DatasetError",
    "FabData",
    "Kpis",
    "Rule",
    "SimOptions",
    "SimResult",
    "bottleneck",
    "find_dataset",
    "kpis",
    "load_smt2020",
    "operating_curve",
    "register",
    "simulate",
]

if TYPE_CHECKING:
    from fabnet.fabsim.curve import operating_curve
    from fabnet.fabsim.kpi_tables import Kpis, bottleneck, kpis
    from fabnet.fabsim.options import SimOptions, SimResult
    from fabnet.fabsim.rules import RULES, Rule, register
    from fabnet.fabsim.run import simulate
    from fabnet.fabsim.smt2020 import DatasetError, FabData, find_dataset, load_smt2020


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'fabnet.fabsim' has no attribute {name!r}")
    return getattr(importlib.import_module(f"fabnet.fabsim.{_HOME[name]}"), name)
