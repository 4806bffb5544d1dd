"""What the planner takes and gives, apart from the modelling libraries: the solve's options and
report, and the plan's tables. Importing this module imports neither linopy nor HiGHS, so a plan
kept from an earlier solve (fabnet.cache) is read, and everything downstream of the plan runs,
without them (0.3 s of every command that reuses a plan).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from fabnet.core.limits import MAX_PLAN_VARIABLES
from fabnet.core.units import MUSD


@dataclass(frozen=True)
class SolveOptions:
    time_limit_s: float = 60.0
    mip_gap: float = 0.01
    threads: int | None = None
    #: After the main solve, re-solve with each integer decision capped at its value, to
    #: a tight gap: removes builds a gap-limited search left in although they earn nothing.
    polish: bool = True
    #: The size budget (plan.size): a model estimated above this many variables is refused
    #: before it is built.
    max_variables: int = MAX_PLAN_VARIABLES
    #: Serve the plan kept from an earlier solve of the same model inputs and options
    #: (fabnet.cache; `fabnet run/plan/deal --fresh` or FABNET_CACHE=0 solve anew).
    reuse: bool = False


@dataclass(frozen=True)
class SolveResult:
    """What the solver reports. `optimal` is true only when HiGHS proved the plan optimal to
    within `mip_gap`; a plan stopped by the time limit carries its gap and is not optimal."""

    termination: str  # linopy's TerminationCondition, as its text ("optimal", "time_limit", …)
    has_solution: bool
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    options: SolveOptions
    #: Of `seconds`, what the polishing pass took (0 when it did not run).
    polish_s: float = 0.0
    #: The solve was done before, for the same model inputs and options, and kept (fabnet.cache):
    #: `seconds` are that solve's.
    reused: bool = False

    def __post_init__(self) -> None:
        # linopy's TerminationCondition is a str Enum: kept as its plain text, so a kept plan
        # unpickles without importing linopy
        object.__setattr__(self, "termination", str(getattr(self.termination, "value", self.termination)))

    @property
    def optimal(self) -> bool:
        return self.termination == "optimal"

    def describe(self) -> str:
        gap = "" if self.gap is None else f", gap {self.gap:.2%}"
        if self.optimal:
            reused = "; solved before for the same inputs and reused, --fresh solves anew" if self.reused else ""
            return f"optimal to within {self.options.mip_gap:.2%} of the best bound ({self.seconds:.1f} s{gap}{reused})"
        if self.has_solution:
            return (
                f"NOT proven optimal: stopped by {self.termination.replace('_', ' ')}{gap} "
                f"({self.seconds:.1f} s); raise --time-limit or --gap"
            )
        return f"no plan: {self.termination.replace('_', ' ')} ({self.seconds:.1f} s)"


@dataclass(frozen=True)
class Plan:
    """The network plan. Each table has exactly the columns (and meanings) core.results
    declares for the stored table of its name (`budget` is stored as `plan_budget`)."""

    builds: pd.DataFrame  # per site and quarter modules start
    packaging_builds: pd.DataFrame  # per line and quarter expansions start
    supply: pd.DataFrame  # product × quarter
    production: pd.DataFrame  # source (site or foundry offer) × product × quarter
    capacity: pd.DataFrame  # site × quarter
    foundry: pd.DataFrame  # offer × quarter
    packaging: pd.DataFrame  # line × quarter
    hbm: pd.DataFrame  # memory × quarter
    budget: pd.DataFrame  # quarter: the fab company's cash as the planner's budget saw it
    result: SolveResult
    cycle_time: str = "load"  # "load" (load-dependent) or "constant"
    messages: list[str] = field(default_factory=list)

    @property
    def optimal(self) -> bool:
        return self.result.optimal

    @property
    def objective_usd(self) -> float | None:
        """The planner's objective: the system's discounted cost, USD (not an NPV)."""
        return None if self.result.objective is None else self.result.objective * MUSD


def modules_built(builds: pd.DataFrame) -> int:
    """Fab modules a plan's builds table holds: whole modules and shells (tool sets fill shells;
    a conversion retools a fab already counted)."""
    return int(builds.loc[builds["kind"].isin(["module", "shell"]), "modules"].sum()) if len(builds) else 0


@dataclass(frozen=True)
class RiskMeasure:
    """What the robust plan minimises: (1 − weight) × the expected system cost + weight × its
    CVaR at `level` (the expected cost of the worst 1 − level share of futures)."""

    level: float = 0.9
    weight: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.level < 1.0:
            raise ValueError(f"the CVaR level must be in [0, 1), not {self.level}")
        if not 0.0 <= self.weight <= 1.0:
            raise ValueError(f"the risk weight must be in [0, 1], not {self.weight}")
