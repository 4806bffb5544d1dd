"""What an analyst waits for (issue 31): `fabnet run` on the default scenario with and without
the plan check, `fabnet plan` and `fabnet deal`, each a whole new process, warm (one untimed run
first, so bytecode and the simulator's compiled kernel are cached), best and median wall and
median CPU seconds (user + sys of the process and its children: the figure to trust on a
loaded machine) of `--repeat` runs, against issue 31's targets. Each command twice: "plan kept",
after a change the planner does not see (G42's hurdle: the plans and the plan check's simulations
the first run kept are reused, fabnet.cache; the money, the deal, the store and the report are
computed), and `--fresh` (everything solved and simulated anew, as after a change to what the
plan depends on; the cache is a scratch folder, never the user's). Then, for each command, where
its time goes: the same command once more in a new process with a stage timer around the
pipeline's seams (imports, scenario validation, model build, solve, the counterfactual, the
money, the deal sweep, the plan check, the store, the report); each stage's own time, the
stages it calls apart, so the shares add up to the whole. The stage timer lives here, not in
fabnet: normal output is untouched. Asserts nothing.

    .venv/bin/python benchmarks/command_speed.py [--repeat 5] [--no-stages]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).parent.parent
FABNET = Path(sys.executable).parent / "fabnet"
#: command → (arguments after `fabnet`, issue 31's target in seconds, warm)
COMMANDS: dict[str, tuple[list[str], float]] = {
    "run --no-check": (["run", "--no-check"], 3.0),
    "run": (["run"], 5.0),
    "plan": (["plan"], 2.0),
    "deal": (["deal"], 2.0),
}
#: The seams timed in the stage run: (module, attribute, stage). The attribute is replaced in
#: that module by a timing wrapper, so only calls that look the name up there are caught: the
#: module named is the caller's. Imports are timed apart (stages_in_process), from the start.
SEAMS = (
    ("fabnet.cli.network", "load_scenario", "scenario validation"),
    ("fabnet.plan", "prepare", "model inputs"),
    ("fabnet.plan.planner", "build_from_inputs", "model build"),
    ("fabnet.plan.planner", "solve", "solve"),
    ("fabnet.plan.planner", "extract", "extract and explain"),
    ("fabnet.plan.planner", "explain_shortfalls", "extract and explain"),
    ("fabnet.pipeline", "compute_financials", "financials"),
    ("fabnet.pipeline", "make_deal", "deal sweep"),
    ("fabnet.pipeline", "plan_check", "plan check"),
    ("fabnet.pipeline", "run_tables", "run tables"),
    ("fabnet.pipeline", "store_run", "store"),
    ("fabnet.cli.network", "_write_run_report", "report writing"),
)


#: How each command is run after the first: an input changed that leaves the plan as it was, or
#: everything solved anew.
MODES = {"plan kept": ["--set", "funding.investors.g42.hurdle_rate=0.11"], "--fresh": ["--fresh"]}


def timed_process(command: list[str], cache: str) -> tuple[float, float]:
    """Wall and CPU seconds (user + sys, its children included) of one process, with fabnet's
    cache in the folder `cache`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    environment = os.environ | {"FABNET_CACHE_DIR": cache, "FABNET_CACHE": "1"}
    subprocess.run(command, cwd=REPO, capture_output=True, check=True, env=environment)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def with_store(arguments: list[str], folder: str) -> list[str]:
    """`run` stores (and writes a report): into a scratch folder, never the user's store."""
    if arguments[0] != "run":
        return arguments
    return [*arguments, "--store", f"{folder}/bench.duckdb", "--report-dir", folder]


def measure(repeat: int) -> None:
    print(f"uptime: {os.getloadavg()[0]:.1f} load average (1 min) on {os.cpu_count()} cores")
    print(f"{'fabnet …':18s} {'mode':12s} {'best wall':>10s} {'median wall':>12s} {'median CPU':>11s} {'target':>7s}")
    for name, (arguments, target) in COMMANDS.items():
        with tempfile.TemporaryDirectory() as folder:
            cache = f"{folder}/cache"
            timed_process([str(FABNET), *with_store(arguments, folder)], cache)  # warm: bytecode, kernel, cache
            for mode, extra in MODES.items():
                command = [str(FABNET), *with_store([*arguments, *extra], folder)]
                runs = [timed_process(command, cache) for _ in range(repeat)]
                walls, cpus = [wall for wall, _ in runs], [cpu for _, cpu in runs]
                print(
                    f"{name:18s} {mode:12s} {min(walls):9.2f}s {statistics.median(walls):11.2f}s "
                    f"{statistics.median(cpus):10.2f}s {target:6.1f}s"
                )


class StageTimer:
    """Exclusive time per stage: a stage's clock stops while a stage it calls runs. A stage
    inside the counterfactual's plan (the scenario without sites) is named as its part."""

    def __init__(self) -> None:
        self.wall: defaultdict[str, float] = defaultdict(float)
        self.cpu: defaultdict[str, float] = defaultdict(float)
        self.stack = ["other (CLI, printing)"]
        self.mark = (time.perf_counter(), time.process_time())

    def _charge(self) -> None:
        now = (time.perf_counter(), time.process_time())
        self.wall[self.stack[-1]] += now[0] - self.mark[0]
        self.cpu[self.stack[-1]] += now[1] - self.mark[1]
        self.mark = now

    def wrap(self, function: Callable[..., Any], stage: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._charge()
            inside = next((s for s in reversed(self.stack) if s.startswith("counterfactual")), None)
            named = stage if inside is None or stage == "imports" else f"counterfactual: {stage}"
            self.stack.append(named)
            try:
                return function(*args, **kwargs)
            finally:
                self._charge()
                self.stack.pop()

        return timed

    def wrap_plan(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """pipeline.make_plan: the second plan of a decision (no sites) is the counterfactual."""

        def planned(scenario: Any, *args: Any, **kwargs: Any) -> Any:
            if scenario.sites:
                return function(scenario, *args, **kwargs)
            return self.wrap(function, "counterfactual")(scenario, *args, **kwargs)

        return planned


#: Modules imported only when a command needs them (fabnet.plan.planner: only when a plan is
#: solved): their seams are wrapped when they are first imported, so timing them imports nothing.
ON_IMPORT = ("fabnet.plan.planner",)


def install(timer: StageTimer, module_name: str | None = None) -> None:
    """Wrap the seams of `module_name` (all seams of modules imported at start when None)."""
    for name, attribute, stage in SEAMS:
        if (name != module_name) if module_name else (name in ON_IMPORT):
            continue
        module = importlib.import_module(name)
        setattr(module, attribute, timer.wrap(getattr(module, attribute), stage))
    if module_name is None:
        pipeline = importlib.import_module("fabnet.pipeline")
        pipeline.make_plan = timer.wrap_plan(pipeline.make_plan)  # type: ignore[attr-defined]


def stages_in_process(arguments: list[str], out: str) -> None:
    """Run one command in this process with the stage timer, and write its stages to `out`."""
    timer = StageTimer()
    bootstrap = importlib.import_module("importlib._bootstrap")  # what every `import` statement calls
    timed_import = timer.wrap(bootstrap._find_and_load, "imports")  # type: ignore[attr-defined]

    pending = set(ON_IMPORT)  # every `import` of a loaded module passes here again: wrap once

    def find_and_load(name: str, *args: Any) -> Any:
        module = timed_import(name, *args)
        if name in pending:
            pending.discard(name)
            install(timer, name)
        return module

    bootstrap._find_and_load = find_and_load  # type: ignore[attr-defined]
    from fabnet.cli import app  # imports timed from here on (the interpreter's own start is not)

    install(timer)
    try:
        app(arguments, standalone_mode=False)
    finally:
        timer._charge()
        Path(out).write_text(json.dumps({"wall": timer.wall, "cpu": timer.cpu}))


def stages(name: str, arguments: list[str]) -> None:
    """Where one command's time goes, fresh (everything solved and simulated, in an empty cache)
    and then with the plan kept."""
    with tempfile.TemporaryDirectory() as folder:
        for mode, extra in (("--fresh", []), ("plan kept", MODES["plan kept"])):
            out = f"{folder}/stages.json"
            command = [sys.executable, __file__, "--in-process", out, "--", *with_store([*arguments, *extra], folder)]
            environment = os.environ | {"FABNET_CACHE_DIR": f"{folder}/cache", "FABNET_CACHE": "1"}
            subprocess.run(command, cwd=REPO, capture_output=True, check=True, env=environment)
            print_stages(f"{name} ({mode})", json.loads(Path(out).read_text()))


def print_stages(name: str, found: dict[str, dict[str, float]]) -> None:
    wall, cpu = found["wall"], found["cpu"]
    total_wall, total_cpu = sum(wall.values()), sum(cpu.values())
    print(f"\nfabnet {name}: {total_wall:.2f} s wall, {total_cpu:.2f} s CPU in process (start-up apart)")
    for stage in sorted(wall, key=lambda s: -cpu[s]):
        print(f"  {stage:40s} {wall[stage]:6.2f} s wall {cpu[stage]:6.2f} s CPU {cpu[stage] / total_cpu:6.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-stages", action="store_true")
    parser.add_argument("--in-process", metavar="OUT", help=argparse.SUPPRESS)
    parser.add_argument("arguments", nargs="*", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.in_process:
        stages_in_process(options.arguments, options.in_process)
        return
    measure(options.repeat)
    if not options.no_stages:
        for name, (arguments, _) in COMMANDS.items():
            stages(name, arguments)


if __name__ == "__main__":
    main()
