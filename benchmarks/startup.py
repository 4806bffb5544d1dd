"""How long a user waits for fabnet's quick commands: `fabnet --help`, `fabnet validate` and
`import fabnet`, each a whole new process (Python's start included), best and median of 7 after
one warm-up (the first run after installing compiles bytecode). Also the modules each imports, so
a heavy import that creeps back (linopy, pandas, plotly, numba) is named. Asserts nothing;
issue 15 asks for under 1 s.

    .venv/bin/python benchmarks/startup.py
"""

from __future__ import annotations

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
}


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, capture_output=True, check=True)
    return time.perf_counter() - start


def heavy_imports(code: str) -> list[str]:
    """The heavy libraries a piece of code imports (from sys.modules after it ran)."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    return done.stdout.split()


def main() -> None:
    print(f"{'command':40s} {'best s':>8s} {'median s':>9s}")
    for name, command in COMMANDS.items():
        timed(command)
        times = [timed(command) for _ in range(7)]
        print(f"{name:40s} {min(times):8.3f} {statistics.median(times):9.3f}")
    cli = heavy_imports("import sys; sys.argv = ['fabnet', '--help']\nfrom fabnet.cli import app")
    print(f"heavy libraries `fabnet --help` imports: {', '.join(cli) or 'none'}")
    print(f"heavy libraries `import fabnet` imports: {', '.join(heavy_imports('import fabnet')) or 'none'}")


if __name__ == "__main__":
    main()
