"""The stored tables of the fab simulation and of a plan's check against it (load curves, the
checked fab's quarters and deliveries, the simulator's lots, families, WIP and operating curve),
declared as core.results declares the others and listed in its TABLES.
"""

from __future__ import annotations

from fabnet.core.tables import NODE, PRODUCT, QUARTER, SITE, YEAR, Column, Table

#: A plan's check against the simulated fab, and the load curves the planner reads.
CHECK_TABLES = (
    Table(
        "load_curves",
        (
            NODE,
            Column("curve", "text", "the stored load curve's name"),
            Column("kind", "text", "fitted (the curve) or simulated (the points it was fitted to)"),
            Column("load", "float", "wafer starts over capacity"),
            Column("cycle_days", "float", "cycle time at that load, scaled to the node's raw cycle time"),
        ),
    ),
    Table(
        "check_quarters",
        (
            QUARTER,
            Column("load", "float", "the checked site's planned load"),
            Column("wafer_starts", "float", "its planned wafer starts"),
            Column("planned_output", "float", "wafers out as planned", unit="count"),
            Column("simulated_output", "float", "wafers out as simulated", unit="count"),
            Column("planned_cycle_days", "float", "cycle time the plan implies"),
            Column(
                "simulated_cycle_days", "float", "simulated cycle time of the lots released (NaN: too few finished)"
            ),
            Column("lots_finished", "int", "simulated lots released that quarter that finished", unit="count"),
            SITE,
            NODE,
            Column("dataset", "text", "the SMT2020 dataset simulated"),
            Column("stretch", "float", "node days per simulated day", "simulated time per planned time", "multiple"),
        ),
    ),
    Table(
        "check_delivered",
        (
            PRODUCT,
            YEAR,
            Column("demand", "float", "accelerators wanted in the year"),
            Column("planned", "float", "accelerators delivered as planned", unit="count"),
            Column("simulated", "float", "accelerators delivered with the checked fab as simulated", unit="count"),
            Column("difference", "float", "simulated − planned", unit="count"),
        ),
    ),
)

#: What a fab simulation stores.
SIM_TABLES = (
    Table(
        "sim_lots",
        (
            PRODUCT,
            Column("class", "text", "priority class (normal, hot, super-hot) or all"),
            Column("lots", "int", "lots finished after the warm-up", unit="count"),
            Column("lots_per_day", "float", "throughput in lots"),
            Column("wafers_per_day", "float", "throughput in wafers"),
            Column("cycle_mean_days", "float", "mean cycle time"),
            Column("cycle_p50_days", "float", "median cycle time"),
            Column("cycle_p95_days", "float", "95th percentile of cycle time"),
            Column("x_factor", "float", "mean cycle time over raw processing time"),
            Column("on_time", "float", "share of lots finished by their due date"),
        ),
    ),
    Table(
        "sim_families",
        (
            Column("family", "text", "tool family"),
            Column("group", "text", "the family's tool group"),
            Column("tools", "int", "tools in the family"),
            Column("utilisation", "float", "busy and setup time over time available"),
            Column("availability", "float", "time not down or in maintenance over all time"),
            Column("setup_share", "float", "share of time in setups"),
            Column("down_share", "float", "share of time down"),
            Column("pm_share", "float", "share of time in preventive maintenance"),
            Column("mean_wait_min", "float", "mean wait before a start, minutes"),
            Column("starts", "int", "process starts"),
        ),
    ),
    Table(
        "sim_wip",
        (
            Column("day", "float", "simulated day"),
            Column("lots", "int", "lots in the fab that day"),
        ),
    ),
    Table(
        "sim_curve",
        (
            Column("release_scale", "float", "release rate as a multiple of the dataset's nominal"),
            Column("lots_per_day", "float", "throughput of all lots"),
            Column("released_per_day", "float", "lots released per day"),
            Column("bottleneck", "text", "the most utilised tool family"),
            Column("bottleneck_utilisation", "float", "its utilisation"),
            Column("bottleneck_busy", "float", "the highest busy share of any family, setups left out"),
            Column("cycle_mean_days", "float", "mean cycle time"),
            Column("cycle_p95_days", "float", "95th percentile of cycle time"),
            Column("x_factor", "float", "mean cycle time over raw processing time"),
            Column("wip_growth_per_day", "float", "lots the WIP grew by per measured day (past saturation: > 0)"),
        ),
    ),
)
