"""What an analyst waits for (issue 31): `fabnet run` on the default scenario with and without
the plan check, `fabnet plan` and `fabnet deal`, each a whole new process, warm (one untimed run
first, so bytecode and the simulator's compiled kernel are cached), best and median wall and
median CPU seconds (user + sys of the process and its children: the figure to trust on a
loaded machine) of `--repeat` runs, against issue 31's targets. Then, for each command, where
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
    ("fabnet.plan", "build_from_inputs", "model build"),
    ("fabnet.plan", "solve", "solve"),
    ("fabnet.plan", "extract", "extract and explain"),
    ("fabnet.plan", "explain_shortfalls", "extract and explain"),
    ("fabnet.pipeline", "compute_financials", "financials"),
    ("fabnet.pipeline", "make_deal", "deal sweep"),
    ("fabnet.pipeline", "plan_check", "plan check"),
    ("fabnet.pipeline", "run_tables", "run tables"),
    ("fabnet.pipeline", "store_run", "store"),
    ("fabnet.cli.network", "_write_run_report", "report writing"),
)


def timed_process(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + sys, its children included) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, capture_output=True, check=True)
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
    print(f"{'fabnet …':18s} {'best wall':>10s} {'median wall':>12s} {'median CPU':>11s} {'target':>7s}")
    for name, (arguments, target) in COMMANDS.items():
        with tempfile.TemporaryDirectory() as folder:
            command = [str(FABNET), *with_store(arguments, folder)]
            timed_process(command)  # warm: bytecode, the simulator's compiled kernel
            runs = [timed_process(command) for _ in range(repeat)]
        walls, cpus = [wall for wall, _ in runs], [cpu for _, cpu in runs]
        print(
            f"{name:18s} {min(walls):9.2f}s {statistics.median(walls):11.2f}s "
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


def install(timer: StageTimer) -> None:
    for module_name, attribute, stage in SEAMS:
        module = importlib.import_module(module_name)
        setattr(module, attribute, timer.wrap(getattr(module, attribute), stage))
    pipeline = importlib.import_module("fabnet.pipeline")
    pipeline.make_plan = timer.wrap_plan(pipeline.make_plan)  # type: ignore[attr-defined]


def stages_in_process(arguments: list[str], out: str) -> None:
    """Run one command in this process with the stage timer, and write its stages to `out`."""
    timer = StageTimer()
    bootstrap = importlib.import_module("importlib._bootstrap")  # what every `import` statement calls
    bootstrap._find_and_load = timer.wrap(bootstrap._find_and_load, "imports")  # type: ignore[attr-defined]
    from fabnet.cli import app  # imports timed from here on (the interpreter's own start is not)

    install(timer)
    try:
        app(arguments, standalone_mode=False)
    finally:
        timer._charge()
        Path(out).write_text(json.dumps({"wall": timer.wall, "cpu": timer.cpu}))


def stages(name: str, arguments: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        out = f"{folder}/stages.json"
        command = [sys.executable, __file__, "--in-process", out, "--", *with_store(arguments, folder)]
        subprocess.run(command, cwd=REPO, capture_output=True, check=True)
        found = json.loads(Path(out).read_text())
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
