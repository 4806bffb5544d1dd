"""Hand-made fabs whose answers are known."""

from __future__ import annotations

import numpy as np

from fabnet.fabsim.smt2020 import PER_LOT, FabData, PmCalendar, Route, Stream

NAN = float("nan")


def one_step_fab(
    *,
    ptime: float = 60.0,
    spread: float = 0.0,
    per: int = PER_LOT,
    interval: float = 100.0,
    count: int = 100,
    batch: tuple[int, int] = (0, 0),
    tools: int = 1,
    exponential: bool = False,
    pms: tuple[PmCalendar, ...] = (),
    load: float = 0.0,
) -> FabData:
    """One tool family running a one-step route, fed by one release stream."""
    one = lambda value: np.array([value])  # noqa: E731
    route = Route(
        name="r",
        desc=["step"],
        family=one(0),
        ptime=one(ptime),
        ptime_spread=one(spread),
        per=one(per),
        batch_min=one(batch[0]),
        batch_max=one(batch[1]),
        setup=one(-1),
        setup_time=one(NAN),
        ltl_step=one(-1),
        batch_interval=one(NAN),
        part_interval=one(NAN),
        rework_step=one(-1),
        rework_prob=one(0.0),
        sample_prob=one(1.0),
        cqt_step=one(-1),
        cqt_min=one(NAN),
    )
    return FabData(
        name="one-step",
        families=["F"],
        family_group=["G"],
        family_tools=one(tools),
        family_load_min=one(load),
        family_cascading=one(False),
        family_delay=one(False),
        family_rule=["rule_HotLotFIRST"],
        family_rank=["rank_HP;rank_RSETUP;rank_FIFO"],
        routes=[route],
        route_part=["p"],
        streams=[Stream("s", 0, 10, 0.0, interval, count, 1e9, exponential)],
        wip=[],
        setups=[],
        setup_table={},
        min_run={},
        breakdown_mttf_min={},
        breakdown_mttr_min={},
        breakdown_first_min={},
        pms=list(pms),
    )
