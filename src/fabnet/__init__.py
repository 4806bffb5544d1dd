"""fabnet: plan, simulate and finance a network of AI-chip fabs.

The Python API (fabnet.api, docs/python-api.md) is here:

    import fabnet
    scenario = fabnet.load("scenarios/tigris.yaml", {"funding.total_usd": 1.0e10})
    result = fabnet.run(scenario, store="fabnet.duckdb", label="base")
    result.tables["fabco_quarterly"]
"""

from importlib.metadata import version as _version

__version__ = _version("fabnet")

# the API imports the planner, finance and pandas only when a function needs them
from fabnet.api import (  # noqa: E402  (after __version__, which the pipeline reads)
    decide,
    deal,
    export,
    financials,
    load,
    open_store,
    plan_network,
    refinance,
    risk_samples,
    run,
    runs,
    scenario_of,
    simulate,
    stored,
    tables,
)

__all__ = ["__version__", "decide", "deal", "export", "financials", "load", "open_store", "plan_network",
           "refinance", "risk_samples", "run", "runs", "scenario_of", "simulate", "stored", "tables"]
