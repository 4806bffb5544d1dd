"""fabnet: plan, simulate and finance a network of AI-chip fabs.

The Python API (fabnet.api, docs/python-api.md) is here:

    import fabnet
    scenario = fabnet.load("scenarios/tigris.yaml", {"funding.total_usd": 1.0e10})
    result = fabnet.run(scenario, store="fabnet.duckdb", label="base")
    result.tables["fabco_quarterly"]
"""

from importlib import import_module
from typing import Any

__all__ = [
    "DealTerms",
    "__version__",
    "break_even",
    "compare",
    "deal",
    "deal_room",
    "decide",
    "export",
    "financials",
    "import_run",
    "load",
    "open_store",
    "plan_network",
    "refinance",
    "risk_samples",
    "run",
    "runs",
    "scenario_of",
    "sensitivity",
    "simulate",
    "store_sensitivity",
    "store_terms",
    "stored",
    "tables",
    "write_report",
]


def __getattr__(name: str) -> Any:
    # The API is imported on first use: `import fabnet.fabsim` (a simulation, a risk worker)
    # should not pay for pydantic and the scenario schema (0.6 s) it never uses.
    if name == "__version__":  # importlib.metadata costs 40 ms of every command's start-up
        from fabnet.core.version import __version__

        return __version__
    if name in __all__:
        return getattr(import_module("fabnet.api"), name)
    raise AttributeError(f"module 'fabnet' has no attribute {name!r}")


def __dir__() -> list[str]:
    # the API and the module's dunders; not the helpers this file imports (Any, import_module)
    return sorted({*__all__, *(name for name in globals() if name.startswith("__"))})
