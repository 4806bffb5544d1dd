"""The event engine on small fabs whose answers are known."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from fabnet.fabsim import SimOptions, simulate
from fabnet.fabsim.engine import CONVENTIONS
from fabnet.fabsim.kpi_tables import kpis
from fabnet.fabsim.rules import RULES, Rule, critical_ratio, register
from fabnet.fabsim.smt2020 import PER_BATCH, PmCalendar
from tests.fabsim.conftest import one_step_fab

KERNELS = ["numba", "python"]


@pytest.fixture(params=KERNELS)
def kernel(request):
    return request.param


def cycle_minutes(result):
    ordered = sorted(result.lots, key=lambda lot: lot[3])
    return [done - release for _, _, _, release, done, _, _ in ordered]


def test_one_tool_deterministic_cycle_times(kernel):
    # A 60-minute step fed every 100 minutes: every lot takes exactly 60 minutes.
    result = simulate(one_step_fab(interval=100, count=5), SimOptions(days=1, kernel=kernel))
    assert cycle_minutes(result) == pytest.approx([60.0] * 5)


def test_one_tool_queue_grows_by_the_difference(kernel):
    # Fed every 50 minutes, lot k waits 10·k minutes: cycle time 60 + 10·k.
    result = simulate(one_step_fab(interval=50, count=6), SimOptions(days=1, kernel=kernel))
    assert cycle_minutes(result) == pytest.approx([60.0 + 10 * k for k in range(6)])


def test_load_and_unload_add_to_the_cycle_time(kernel):
    result = simulate(one_step_fab(interval=100, count=3, load=2.0), SimOptions(days=1, kernel=kernel))
    assert cycle_minutes(result) == pytest.approx([62.0] * 3)


def test_m_d_1_mean_wait_matches_pollaczek_khinchine(kernel):
    # Poisson arrivals every 12.5 min on average, 10-minute service: ρ = 0.8 and
    # Wq = ρ · s / (2 (1 − ρ)) = 20 minutes (M/D/1, Pollaczek–Khinchine).
    fab = one_step_fab(ptime=10.0, interval=12.5, count=60_000, exponential=True)
    result = simulate(fab, SimOptions(days=60_000 * 12.5 / 1440 + 1, seed=3, kernel=kernel))
    wait = result.family_wait[0] / result.family_starts[0]
    assert wait == pytest.approx(20.0, rel=0.08)


def test_batch_sizes_stay_within_minimum_and_maximum(kernel):
    # Batches of 2–4 lots (50–100 wafers); lots every 20 minutes, 100-minute batches.
    fab = one_step_fab(per=PER_BATCH, ptime=100.0, interval=20.0, count=300, batch=(50, 100))
    result = simulate(fab, SimOptions(days=10, kernel=kernel))
    assert set(result.batch_sizes) <= {2, 3, 4}
    assert sum(size * n for size, n in result.batch_sizes.items()) == len(result.lots) == 300
    # The idle tool starts the first batch at the minimum rather than wait for a full one.
    assert result.batch_sizes[2] >= 1


def test_under_the_peers_conventions_only_full_batches_start(kernel):
    """PySCFabSim starts a batch only with int(max / 25) lots (greedy.py: `if len(lots) <
    batch_max: lots = None`): 110 wafers at most is 4 lots, never fewer."""
    fab = one_step_fab(per=PER_BATCH, ptime=100.0, interval=20.0, count=300, batch=(50, 110))
    result = simulate(fab, SimOptions(days=10, kernel=kernel, conventions="pyscfabsim"))
    assert set(result.batch_sizes) == {4} and result.batch_sizes[4] == 300 // 4


def test_a_tool_in_maintenance_starts_nothing(kernel):
    # A 50-minute PM at t = 0: the lot released at 0 starts at 50 and is done at 60.
    pm = PmCalendar(family=0, by_pieces=False, interval=1e9, first=0.0, duration_min=50.0, duration_spread_min=0.0)
    result = simulate(one_step_fab(ptime=10.0, interval=1e6, count=1, pms=(pm,)), SimOptions(days=1, kernel=kernel))
    assert cycle_minutes(result) == pytest.approx([60.0])
    assert result.family_pm[0] == pytest.approx(50.0)


def test_under_the_peers_conventions_an_outage_delays_a_busy_tool_and_spares_an_idle_one(kernel):
    """PySCFabSim's handle_breakdown pushes back the events of a tool's running operation by the
    outage's length and leaves an idle tool usable. A 50-minute PM at t = 0, before the lot
    released then reaches the idle tool, costs it nothing (fabnet's model: 60 minutes, see the
    test above); one at t = 5, while the 10-minute operation runs, makes it end at 60."""
    lots = []
    for first in (0.0, 5.0):
        pm = PmCalendar(
            family=0, by_pieces=False, interval=1e9, first=first, duration_min=50.0, duration_spread_min=0.0
        )
        fab = one_step_fab(ptime=10.0, interval=1e6, count=1, pms=(pm,))
        result = simulate(fab, SimOptions(days=1, kernel=kernel, conventions="pyscfabsim"))
        lots.append(cycle_minutes(result))
        assert result.family_pm[0] == pytest.approx(50.0)
    assert lots == [pytest.approx([10.0]), pytest.approx([60.0])]


def test_a_piece_count_pm_follows_the_wafers(kernel):
    # PM after 50 wafers (2 lots): the third lot waits for a 30-minute PM.
    pm = PmCalendar(family=0, by_pieces=True, interval=1e9, first=50.0, duration_min=30.0, duration_spread_min=0.0)
    result = simulate(one_step_fab(ptime=10.0, interval=10.0, count=3, pms=(pm,)), SimOptions(days=1, kernel=kernel))
    assert cycle_minutes(result) == pytest.approx([10.0, 10.0, 40.0])


def test_same_seed_same_result_and_another_seed_differs(kernel):
    fab = one_step_fab(ptime=10.0, spread=4.0, interval=12.0, count=500, exponential=True)
    a = simulate(fab, SimOptions(days=10, seed=7, kernel=kernel))
    b = simulate(fab, SimOptions(days=10, seed=7, kernel=kernel))
    c = simulate(fab, SimOptions(days=10, seed=8, kernel=kernel))
    assert a.lots == b.lots
    assert a.lots != c.lots


def test_unknown_rule_or_kernel_is_refused():
    with pytest.raises(ValueError, match="unknown rule"):
        simulate(one_step_fab(), SimOptions(rule="guess"))
    with pytest.raises(ValueError, match="unknown kernel"):
        simulate(one_step_fab(), SimOptions(kernel="guess"))


@pytest.mark.parametrize("rule", ["fifo", "cr", "edd", "spt", "dataset"])
def test_hvlm_smoke_every_rule(hvlm, rule):
    result = simulate(hvlm, SimOptions(days=2, rule=rule, seed=1))
    assert len(result.lots) > 50  # initial WIP near the end of its route finishes
    assert result.lot_steps > 30_000  # about 23 k lot-steps a simulated day (FORMAT.md)
    families = kpis(hvlm, result).families
    assert families["utilisation"].max() <= 1 + 1e-9
    assert ((families["availability"] > 0.5) & (families["availability"] <= 1)).all()


def test_lvhm_smoke(lvhm):
    result = simulate(lvhm, SimOptions(days=1, rule="cr"))
    assert len(result.lots) > 20 and result.lot_steps > 15_000


@pytest.mark.parametrize("conventions", CONVENTIONS)
@pytest.mark.parametrize("rule", list(RULES))
def test_compiled_kernel_equals_the_reference_engine_on_hvlm(hvlm, rule, conventions):
    # Same seed, same random streams, same model: every lot, counter and sample identical
    # (time sums may differ in the last bit: the compiler may order the additions otherwise).
    assert_kernel_equals_reference(hvlm, dict(days=2, rule=rule, seed=5, warmup_days=1, conventions=conventions))


def least_work_remaining(queued, due, remaining, ratio, mean, now, family_by_cr):
    return remaining


@pytest.fixture
def lwkr():
    """A rule that is not built in, registered for one test (at module level, so numba caches it)."""
    rule = register(Rule("lwkr", least_work_remaining, "least work remaining"))
    yield rule
    del RULES[rule.name]


def test_a_rule_registered_once_runs_in_both_engines(hvlm, lwkr):
    options = dict(days=2, rule="lwkr", seed=5, warmup_days=1)
    assert_kernel_equals_reference(hvlm, options)
    ranked = simulate(hvlm, SimOptions(**options))
    fifo = simulate(hvlm, SimOptions(**options | {"rule": "fifo"}))
    assert ranked.lots != fifo.lots
    # least work remaining favours lots near their route's end: more of the WIP finishes
    assert len(ranked.lots) > len(fifo.lots)


@pytest.mark.parametrize("name", list(RULES))
def test_a_rule_said_timeless_ranks_a_waiting_lot_alike_at_every_minute(name):
    # the kernel keeps such a family's queue sorted once, on arrival (kernel.F_RANKED): a rule
    # that said so wrongly would start other lots than the reference engine
    rule = RULES[name]
    for by_cr in (False, True):
        if rule.timeless(by_cr):
            ranks = {
                rule.criterion(100.0, 5_000.0, 900.0, critical_ratio(5_000.0, now, 900.0), 60.0, now, by_cr)
                for now in (100.0, 2_000.0, 4_999.0)
            }
            assert len(ranks) == 1
    assert not RULES["cr"].timeless(False) and RULES["fifo"].timeless(False)


def assert_kernel_equals_reference(fab, options: dict) -> None:
    fast = simulate(fab, SimOptions(**options, kernel="numba"))
    reference = simulate(fab, SimOptions(**options, kernel="python"))
    assert fast.lots == reference.lots
    assert fast.lot_steps == reference.lot_steps and fast.events == reference.events
    for name in ("family_busy", "family_setup", "family_down", "family_pm", "family_wait", "family_starts"):
        np.testing.assert_allclose(getattr(fast, name), getattr(reference, name), rtol=1e-12)
    assert fast.cqt_checks == reference.cqt_checks and fast.cqt_violations == reference.cqt_violations
    assert fast.batch_sizes == reference.batch_sizes and fast.wip == reference.wip


def test_a_release_schedule_changes_the_rate_day_by_day(kernel):
    # 12 lots a day at scale 1; day 0 at ×1 (every 120 min, the release at minute 1440 still
    # belongs to day 0), day 1 at ×0.5 (every 240 min), day 2 at ×2 (every 60 min).
    fab = one_step_fab(interval=120, count=1000)
    result = simulate(fab, SimOptions(days=3, release_schedule=(1.0, 0.5, 2.0), kernel=kernel))
    expected = [*range(0, 1441, 120), *range(1560, 2761, 240), *range(3000, 4321, 60)]
    assert result.released == len(expected) == 42
    released = sorted(lot[3] for lot in result.lots)  # the lot released at 4320 is still running
    assert released == pytest.approx(expected[:-1])


def test_release_multiples_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        simulate(one_step_fab(), SimOptions(days=1, release_schedule=(1.0, 0.0)))


@pytest.mark.parametrize("kernel", ["numba", "python"])
def test_initial_wip_under_each_convention(hvlm, kernel):
    """fabnet starts every lot of WIP.txt (one at its last step still has that operation to do);
    the peer keeps a lot only when its 1-based CURSTEP < steps − 1 (PySCFabSim
    simulation/file_instance.py), read here from the file itself."""
    import csv

    from fabnet.fabsim.smt2020 import find_dataset

    with open(find_dataset("HVLM") / "WIP.txt", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    steps = {lot.name: hvlm.routes[lot.route].steps for lot in hvlm.wip}
    peer_keeps = sum(1 for r in rows if int(r["CURSTEP"]) < steps[r["LOT"]] - 1)
    assert (len(rows), peer_keeps) == (2255, 2244)
    released_at_zero = sum(1 for st in hvlm.streams if st.start_min == 0)
    for conventions, kept in (
        ("fabnet", len(rows)),
        ("pyscfabsim", peer_keeps),
        ("wip", peer_keeps),
        ("batches,outages", len(rows)),
    ):
        result = simulate(hvlm, SimOptions(days=0.01, conventions=conventions, kernel=kernel))
        assert result.wip[0] == (0.0, kept + released_at_zero)
    for bad in ("peer", "wip,lifo", ""):
        with pytest.raises(ValueError, match="conventions"):
            simulate(hvlm, SimOptions(days=0.01, conventions=bad, kernel=kernel))


def test_the_peers_remaining_time_is_its_process_time_from_the_route_file(hvlm):
    """Under the peer's conventions the critical ratio's remaining time is the sum of the steps'
    mean process times as PySCFabSim's Step computes them (per piece × 25; a cascading step as
    PTIME + PartInterval × 24; no load or unload), here re-read from route_3.txt itself."""
    import csv

    from fabnet.fabsim.engine import remaining_minutes, step_minutes
    from fabnet.fabsim.smt2020 import MINUTES, find_dataset

    route = next(r for r in hvlm.routes if r.name.endswith("3"))
    with open(find_dataset("HVLM") / "route_3.txt", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    total = 0.0
    for row in rows:
        ptime = float(row["PTIME"]) * MINUTES[row["PTUNITS"]]
        if row["PartInterval"]:
            total += ptime + float(row["PartInterval"]) * MINUTES[row["PartIntUnits"]] * 24
        else:
            total += ptime * (25 if row["PTPER"] == "per_piece" else 1)
    peer = remaining_minutes(hvlm, route, "pyscfabsim")
    assert len(rows) == route.steps and peer[0] == pytest.approx(total, rel=1e-12) and peer[-1] == 0.0
    ours = remaining_minutes(hvlm, route)
    assert ours[0] == pytest.approx(step_minutes(hvlm, route).sum()) and ours[0] > peer[0]


def test_calendar_pms_are_staggered_in_fabnets_model_and_fall_together_in_the_peers():
    from fabnet.fabsim.engine import start_of
    from fabnet.fabsim.model import PM_DUE

    pm = PmCalendar(family=0, by_pieces=False, interval=1000.0, first=100.0, duration_min=10.0, duration_spread_min=0.0)
    fab = one_step_fab(tools=4, pms=(pm,))
    for conventions, expected in (
        ("fabnet", [100.0, 350.0, 600.0, 850.0]),
        ("pms", [100.0] * 4),
        ("pyscfabsim", [100.0] * 4),
    ):
        start = start_of(fab, SimOptions(conventions=conventions), [[0, 1, 2, 3]], lambda: 0.5)
        assert [time for time, kind, _, _ in start.events if kind == PM_DUE] == expected


def test_the_kernel_loads_without_numbas_optional_probes_which_then_import_as_usual(tmp_path):
    """numba_import.py keeps numba from importing coverage, scipy, yaml and scipy.linalg for its
    probes (start-up): numba's np.convolve takes its plain loop, and each library imports and
    works afterwards; a process that has imported coverage keeps numba's coverage support, and
    one whose folder holds a numba configuration file has it read."""
    code = """
import sys
from fabnet.fabsim import fast, rules
from numba.misc import coverage_support
fast.compiled(rules.fifo)  # numba's registries load here
assert not {"coverage", "scipy", "scipy.linalg", "yaml"} & set(sys.modules), "numba imported a probe"
assert not coverage_support.coverage_available
import numba
import numpy as np
convolve = numba.njit(lambda a, b: np.convolve(a, b))
a, b = np.arange(5.0), np.array([1.0, -2.0, 0.5])
assert np.allclose(convolve(a, b), np.convolve(a, b))
import coverage, scipy.linalg, yaml
assert np.allclose(scipy.linalg.inv(2 * np.eye(2)), np.eye(2) / 2)
assert yaml.safe_load("a: 1") == {"a": 1} and coverage.Coverage.current() is None
"""
    unmeasured = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_PROCESS_")}  # coverage's .pth
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=unmeasured)
    assert done.returncode == 0, done.stderr
    measured = "import coverage\nfrom fabnet.fabsim import fast\nfrom numba.misc import coverage_support as s\n"
    done = subprocess.run([sys.executable, "-c", measured + "assert s.coverage_available"], capture_output=True)
    assert done.returncode == 0, done.stderr
    (tmp_path / ".numba_config.yaml").write_text("opt: '1'\n")
    configured = "from fabnet.fabsim import fast\nfrom numba.core import config\nassert config.OPT == 1, config.OPT"
    done = subprocess.run([sys.executable, "-c", configured], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr


def test_a_fab_too_big_for_the_kernels_event_queue_is_refused_in_words():
    """The kernel packs an event's lot or tool into 28 bits; a run with more lots says so
    before it allocates anything."""
    fab = one_step_fab(interval=1e-6, count=10**9)
    with pytest.raises(ValueError, match=r"more than the kernel's event queue entries address \(2\*\*28\)"):
        simulate(fab, SimOptions(days=1.0, kernel="numba"))


def test_a_batch_wider_than_the_kernels_rows_is_refused_in_words():
    fab = one_step_fab(per=PER_BATCH, batch=(25, 300))
    with pytest.raises(ValueError, match="more than the kernel's 8 lots a start"):
        simulate(fab, SimOptions(days=1.0, kernel="numba"))
    assert simulate(fab, SimOptions(days=1.0, kernel="python")).lot_steps > 0


def test_the_kernel_finds_a_steps_dedication_in_the_one_slot_that_can_hold_it():
    from fabnet.fabsim.fast import _dedicating_slot
    from fabnet.fabsim.kernel import LTL_SLOTS

    # steps 0 and 1 dedicate step 3 (slots 0 and 1: searched), step 2 dedicates step 4 (slot 2)
    assert _dedicating_slot([3, 3, 4, -1, -1]).tolist() == [-1, -1, -1, LTL_SLOTS, 2]
