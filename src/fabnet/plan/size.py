"""The planner's size budget: how large the MILP of some inputs will be, estimated from their
dimensions before anything is built, and a refusal, in words, above a limit.

The estimate counts the model's families of variables and rows (plan.model, plan.capacity)
from the dimensions that size them, each family at its largest (masks only shrink it), so it
is an upper bound: tests/plan/test_size.py holds it between the built model's counts and twice
them. Memory and model-building time follow a rule fitted to benchmarks/plan_scale.py (2
cores): 170 MB + 10 kB per variable (322 MB at 24,729 variables, 658 MB at 47,298) and
1.3 s + 20 µs per variable to build (2.2 s at 47,298); the solve is bounded by the time limit,
not estimated: the same size solved in 0.4 s or stopped at 120 s (docs/design.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from fabnet.core.errors import FabnetError
from fabnet.core.limits import MAX_PLAN_VARIABLES
from fabnet.core.units import DAYS_PER_QUARTER
from fabnet.network import node_curve
from fabnet.network.loadcurve import clearing_function
from fabnet.scenario.schema import Node, Scenario

_BASE_MB, _MB_PER_VARIABLE = 170.0, 0.010
_BASE_BUILD_S, _BUILD_S_PER_VARIABLE = 1.3, 20e-6


@dataclass(frozen=True)
class ModelSize:
    """An upper estimate of one planning model, or of several solved together."""

    variables: int
    rows: int

    @property
    def memory_mb(self) -> float:
        return _BASE_MB + _MB_PER_VARIABLE * self.variables

    @property
    def build_s(self) -> float:
        return _BASE_BUILD_S + _BUILD_S_PER_VARIABLE * self.variables

    def __add__(self, other: ModelSize) -> ModelSize:
        return ModelSize(self.variables + other.variables, self.rows + other.rows)

    def describe(self) -> str:
        return (
            f"about {self.variables:,} variables and {self.rows:,} rows "
            f"(~{self.memory_mb / 1000:.1f} GB and ~{self.build_s:.0f} s to build)"
        )


def estimate(scenario: Scenario, cycle_time: str = "load") -> ModelSize:
    """Variables and rows of the planning MILP of `scenario`, at most (each family unmasked),
    from its dimensions alone: preparing the inputs of a model too large takes minutes itself."""
    t = scenario.horizon.quarters
    sites, products = scenario.sites, scenario.products
    offers = scenario.offer_ids()
    made = [p.node or "" for p in products if p.made]
    site_nodes = [s.node for s in sites]
    segments = {n.id: _segments(n, cycle_time) for n in scenario.nodes}
    loaded = [segments.get(node, 0) for node in site_nodes if segments.get(node, 0)]
    on_site = _pairs(site_nodes, made)
    on_offer = _pairs([o.node for o in scenario.foundry_offers], made)
    queued = _pairs([node for node in site_nodes if segments.get(node, 0)], made)
    phased = 2 * int(any(s.tool_phases is not None for s in sites))
    per_site = 2 + phased + int(bool(loaded)) + 2  # builds; shells; capacity online; spare; a capped grant
    variables = t * (
        len(sites) * per_site
        + on_site
        + 2 * queued
        + on_offer
        + len(offers)
        + 2 * len(made)
        + 2 * len(products)
        + len(scenario.packaging)
        + 2
    )
    rows = t * (
        len(sites) * (3 + phased)  # cumulative builds, capacity, a capped grant or a conversion; shells
        + sum(1 + k for k in loaded)
        + queued
        + 2 * len(offers)
        + 2 * len(products)
        + len(scenario.packaging)
        + len(scenario.hbm)
        + len(scenario.wafer_markets)
        + 2
    )
    return ModelSize(int(variables), int(rows))


def _segments(node: Node, cycle_time: str) -> int:
    """Segments of a node's clearing function (0 at a constant cycle time)."""
    curve = node_curve(node, cycle_time)
    if curve is None:
        return 0
    return len(clearing_function(curve, node.cycle_time_days / DAYS_PER_QUARTER).slopes)


def _pairs(nodes: list[str], product_nodes: list[str]) -> int:
    """Entity × product pairs that share a node (a site or offer makes that product's wafers)."""
    wanted = {node: product_nodes.count(node) for node in set(product_nodes)}
    return sum(wanted.get(node, 0) for node in nodes)


class ModelTooLarge(FabnetError):
    """A planning model above the size budget: refused before it is built."""


def check_size(size: ModelSize, limit: int = MAX_PLAN_VARIABLES, what: str = "The plan") -> None:
    """Refuse a model above `limit` variables, saying how large it is and how to make it fit."""
    if size.variables <= limit:
        return
    raise ModelTooLarge(
        f"{what} would be {size.describe()}, above the limit of {limit:,} variables. "
        "Plan fewer quarters (a shorter horizon), fewer candidate sites or products, or fewer "
        "futures; or raise the limit with --max-model-size if the machine has the memory"
    )
