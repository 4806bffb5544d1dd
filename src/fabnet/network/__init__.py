"""The network room: scenario → the inputs of every engine (issue 29).

The planner's arrays (`PlanInputs`, `prepare`), capacity from builds, the build costs over the
horizon, a site's defect density and learning, each product's chip figures and wafer demand,
and the nodes' load curves: planner, finance tables, plan check, risk and `fabnet wafers` read
them from here, so one site has one D0 and one ramp everywhere.
"""

from fabnet.network.capacity import capacity_from_builds
from fabnet.network.dies import d0_at, good_dies_per_wafer, product_economics, site_d0, site_learning, wafer_demand
from fabnet.network.inputs import CYCLE_TIMES, PlanInputs, made_on, node_curve, packaged_on, prepare

__all__ = [
    "CYCLE_TIMES",
    "PlanInputs",
    "capacity_from_builds",
    "d0_at",
    "good_dies_per_wafer",
    "made_on",
    "node_curve",
    "packaged_on",
    "prepare",
    "product_economics",
    "site_d0",
    "site_learning",
    "wafer_demand",
]
