"""Hostile scenario files: how long `fabnet validate` takes to refuse each one, and its peak
memory, as a whole process (what a user waits for) and inside one (the loader alone). Asserts
nothing; issue 14 asks for each under 2 s to a clear error.

    .venv/bin/python benchmarks/hostile_inputs.py

The whole-process figure includes Python's start and fabnet's imports: the first row (the
default scenario, valid) is that floor.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fabnet.core.errors import ScenarioError
from fabnet.scenario import load_scenario

TIGRIS = Path(__file__).parent.parent / "scenarios" / "tigris.yaml"
FABNET = Path(sys.executable).parent / "fabnet"


def cases() -> dict[str, str]:
    tigris = TIGRIS.read_text()
    bomb = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    return {
        "default scenario (valid)": tigris,
        f"alias bomb ({len(bomb)} bytes, 9^9 values)": bomb,
        "10,000-deep nesting": tigris + "x: " + "[" * 10_000 + "]" * 10_000 + "\n",
        "NUL byte in a key": tigris.replace("name:", "na\x00me:", 1),
        "50 MB description": tigris.replace("description: ", "description: " + "x" * 50_000_000, 1),
        "50 MB of products": tigris + "more:\n" + "  - {id: p, demand: 1}\n" * 2_200_000,
        "990 kB of numbers (under the size limit)": tigris + "extra: [" + "1, " * 320_000 + "1]\n",
        "95,000 bad numbers in one ramp": tigris.replace("ramp: [", "ramp: [" + "-1, " * 95_000 + "1] #", 1),
        "1e15 wafers per month": tigris.replace("module_wspm: 20000", "module_wspm: 1.0e15", 1),
    }


def in_process(path: Path) -> tuple[float, str]:
    start = time.perf_counter()
    try:
        load_scenario(path)
        outcome = "valid"
    except ScenarioError as error:
        outcome = error.problem.found[:60]
    return time.perf_counter() - start, outcome


# A child's peak memory on Linux starts at its parent's size at fork, so the command is started
# from a small launcher rather than from this process, which has loaded fabnet.
LAUNCHER = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:], capture_output=True).returncode; "
    "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def whole_process(path: Path) -> tuple[float, float, int]:
    """Seconds, peak resident MB and exit status of `fabnet validate FILE` in a new process."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, str(FABNET), "validate", str(path)], capture_output=True, text=True, check=True
    )
    seconds = time.perf_counter() - start
    code, peak_kb = map(int, done.stdout.split())
    return seconds, peak_kb / 1024, code


def main() -> None:
    print(f"{'input':42} {'file':>9} {'loader':>8} {'command':>8} {'peak MB':>8} exit  what it says")
    with tempfile.TemporaryDirectory() as folder:
        for name, text in cases().items():
            path = Path(folder) / "case.yaml"
            path.write_text(text)
            loader_s, outcome = in_process(path)
            command_s, peak_mb, code = whole_process(path)
            size = f"{len(text.encode()) / 1e6:.2f} MB" if len(text) > 1e5 else f"{len(text.encode())} B"
            print(f"{name:42} {size:>9} {loader_s:7.3f}s {command_s:7.2f}s {peak_mb:8.0f} {code:4}  {outcome}")


if __name__ == "__main__":
    main()
