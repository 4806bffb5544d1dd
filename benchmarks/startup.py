"""How long a user waits for fabnet's quick commands: `fabnet --help`, `fabnet validate`,
`import fabnet` and the shortest simulation, each a whole new process (Python's start included),
best and median of 7 after one warm-up (the first run after installing compiles bytecode, the
first simulation the kernel), in wall seconds and in CPU seconds (user + system, os.wait4: the
fairer figure on a shared machine, and issue 32's). Also the modules each imports, so a heavy import that creeps back
(linopy, pandas, plotly, numba) is named, and what the simulation's start-up is made of: the
libraries it cannot do without, each timed alone in a new process. Asserts nothing; issues 15
and 16 ask for under 1 s.

    .venv/bin/python benchmarks/startup.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).parent.parent
FABNET = Path(sys.executable).parent / "fabnet"
HEAVY = ("linopy", "highspy", "pandas", "plotly", "numba", "duckdb", "scipy", "xarray", "distributed")
COMMANDS = {
    "python -c pass (the floor)": [sys.executable, "-c", "pass"],
    "fabnet --help": [str(FABNET), "--help"],
    "fabnet validate scenarios/tigris.yaml": [str(FABNET), "validate", "scenarios/tigris.yaml"],
    "python -c 'import fabnet'": [sys.executable, "-c", "import fabnet"],
    "fabnet simulate --days 0.001": [str(FABNET), "simulate", "--days", "0.001"],
}
#: The floor under `fabnet simulate`: what its libraries cost before fabnet does anything.
PARTS = {
    "numpy": "import numpy",
    "typer + rich (+ click, typer's)": "import typer, click, rich.console, rich.table",
    "numba, its registries, a compiled rule (cache)": "from fabnet.fabsim import fast, rules\n"
    "fast.compiled(rules.fifo)",
}


def timed(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one whole process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        assert process.stderr is not None
        raise subprocess.CalledProcessError(os.waitstatus_to_exitcode(status), command, stderr=process.stderr.read())
    return wall, usage.ru_utime + usage.ru_stime


def _row(name: str, runs: list[tuple[float, float]]) -> str:
    walls, cpus = zip(*runs, strict=True)
    figures = (min(walls), statistics.median(walls), min(cpus), statistics.median(cpus))
    return f"{name:50s}" + "".join(f"{figure:9.3f}" for figure in figures)


def heavy_imports(code: str) -> list[str]:
    """The heavy libraries a piece of code imports (from sys.modules after it ran)."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    return done.stdout.split()


def main() -> None:
    print(f"{'command':50s}" + "".join(f"{h:>9s}" for h in ("best s", "median s", "best CPU", "med. CPU")))
    for name, command in COMMANDS.items():
        try:
            timed(command)
        except subprocess.CalledProcessError as error:
            print(f"{name:50s} not run: {error.stderr.decode().strip().splitlines()[-1]}")
            continue
        print(_row(name, [timed(command) for _ in range(7)]))
    for name, code in PARTS.items():
        print(_row(f"  of which {name}", [timed([sys.executable, "-c", code]) for _ in range(7)]))
    cli = heavy_imports("import sys; sys.argv = ['fabnet', '--help']\nfrom fabnet.cli import app")
    print(f"heavy libraries `fabnet --help` imports: {', '.join(cli) or 'none'}")
    print(f"heavy libraries `import fabnet` imports: {', '.join(heavy_imports('import fabnet')) or 'none'}")


if __name__ == "__main__":
    main()
