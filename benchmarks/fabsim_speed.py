"""The fab simulator side by side with its peer PySCFabSim: both as whole processes on the same
SMT2020 dataset, days, dispatching rule and seed, interleaved (peer, fabnet, peer, fabnet, …) so
that a load on the machine falls on both. Prints wall and CPU seconds, peak memory and what each
simulated (lots finished, lot-weighted mean cycle time, on-time share), the CPU ratio and
fabnet's events per second (its simulation's own wall time, start-up excluded); asserts nothing.

    .venv/bin/python benchmarks/fabsim_speed.py                        # HVLM/LVHM × fifo/cr × 90/365 d
    .venv/bin/python benchmarks/fabsim_speed.py --datasets HVLM --rules fifo --days 365 --repeat 3
    .venv/bin/python benchmarks/fabsim_speed.py --conventions fabnet     # fabnet's own model

The peer runs when PYSCFABSIM_DIR points at a checkout of prosysscience/PySCFabSim-release (its
datasets/SMT2020_HVLM and _LVHM are the same files as ours) and `pypy3` is installed (Debian's
package; the peer's own scripts run it with PyPy); its command is the one its
reproduce_dispatcher_experiments.sh uses: `pypy3 main.py --days N --dataset SMT2020_HVLM
--dispatcher fifo --seed S --alg l4m`. Without the peer, fabnet's figures are printed alone and
no ratio is made up.

CPU seconds are the process's user + system time (os.wait4), the fairer figure on a loaded
machine; fabnet's include its start-up (imports, reading the dataset, loading the compiled kernel
from its cache). Peak memory is the process's maximum resident set.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

PEER_ENV = "PYSCFABSIM_DIR"


@dataclass(frozen=True)
class Measured:
    wall_s: float
    cpu_s: float
    peak_mb: float
    lots: int
    cycle_days: float
    on_time: float
    events_per_s: float = float("nan")  # fabnet's: events over its simulation's own wall seconds


def timed(command: list[str], cwd: Path | None = None) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds and peak MB of one whole process, and what it printed."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, output


def fabnet(dataset: str, rule: str, days: float, seed: int, conventions: str = "fabnet") -> Measured:
    wall, cpu, mb, output = timed(
        [
            sys.executable,
            "-m",
            "fabnet",
            "simulate",
            "--dataset",
            dataset,
            "--days",
            f"{days:g}",
            "--rule",
            rule,
            "--seed",
            str(seed),
            "--json",
            "--conventions",
            conventions,
        ]
    )
    document = json.loads(output)
    rows = [r for r in document["lots"] if r["product"] != "all"]  # per product and class, no total
    speed = document["speed"]
    return Measured(
        wall,
        cpu,
        mb,
        *_summary([(r["lots"], r["cycle_mean_days"], r["on_time"]) for r in rows]),
        events_per_s=speed["events"] / speed["wall_s"],
    )


def peer(folder: Path, dataset: str, rule: str, days: float, seed: int) -> Measured:
    (folder / "greedy").mkdir(exist_ok=True)  # the peer writes its statistics there, as its script makes it
    wall, cpu, mb, output = timed(
        [
            "pypy3",
            "main.py",
            "--days",
            f"{days:g}",
            "--dataset",
            f"SMT2020_{dataset}",
            "--dispatcher",
            rule,
            "--seed",
            str(seed),
            "--alg",
            "l4m",
        ],
        cwd=folder,
    )
    return Measured(wall, cpu, mb, *_summary(_peer_lots(output)))


def _peer_lots(output: str) -> list[tuple[int, float, float]]:
    """(lots, mean cycle days, on-time share) per lot type from the peer's statistics table:
    the rows between its `Lot APT DL ACT TH ONTIME …` heading and the `-----` line."""
    lines = output.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("Lot APT DL ACT TH ONTIME"))
    rows = []
    for line in lines[first + 1 :]:
        if line.startswith("---"):
            break
        fields = line.split()
        rows.append((int(fields[4]), float(fields[3]), float(fields[5]) / 100))
    return rows


def _summary(rows: list[tuple[int, float, float]]) -> tuple[int, float, float]:
    """Lots finished, lot-weighted mean cycle time (days) and on-time share."""
    lots = sum(n for n, _, _ in rows)
    if lots == 0:
        return 0, float("nan"), float("nan")
    return (lots, sum(n * c for n, c, _ in rows) / lots, sum(n * o for n, _, o in rows) / lots)


def peer_folder() -> Path | None:
    """The peer's checkout, when it and pypy3 are here; else None and why, on stderr."""
    folder = os.environ.get(PEER_ENV)
    if not folder or not (Path(folder) / "main.py").exists():
        print(f"peer not run: set {PEER_ENV} to a checkout of prosysscience/PySCFabSim-release", file=sys.stderr)
        return None
    if shutil.which("pypy3") is None:
        print("peer not run: pypy3 is not installed (apt-get install pypy3)", file=sys.stderr)
        return None
    return Path(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["HVLM", "LVHM"])
    parser.add_argument("--rules", nargs="+", default=["fifo", "cr"])
    parser.add_argument("--days", nargs="+", type=float, default=[90.0, 365.0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each, interleaved")
    parser.add_argument("--conventions", default="pyscfabsim", help="fabnet's: pyscfabsim (like for like) or fabnet")
    args = parser.parse_args()
    folder = peer_folder()
    fabnet("HVLM", "fifo", 0.001, args.seed)  # compile the kernel once, or load it from the cache
    print(
        f"{'dataset':<7} {'rule':<5} {'days':>5}  {'who':<7} {'wall s':>7} {'CPU s':>7} {'MB':>6} "
        f"{'lots':>7} {'CT days':>8} {'on time':>8}  {'CPU ×':>6} {'M events/s':>10}"
    )
    for dataset in args.datasets:
        for rule in args.rules:
            for days in args.days:
                for _ in range(args.repeat):
                    theirs = peer(folder, dataset, rule, days, args.seed) if folder else None
                    ours = fabnet(dataset, rule, days, args.seed, args.conventions)
                    for who, m in (("peer", theirs), ("fabnet", ours)):
                        if m is None:
                            continue
                        ratio = f"{theirs.cpu_s / ours.cpu_s:6.1f}" if theirs and who == "fabnet" else " " * 6
                        rate = f"{m.events_per_s / 1e6:10.2f}" if who == "fabnet" else ""
                        print(
                            f"{dataset:<7} {rule:<5} {days:>5g}  {who:<7} {m.wall_s:>7.1f} {m.cpu_s:>7.1f} "
                            f"{m.peak_mb:>6.0f} {m.lots:>7,} {m.cycle_days:>8.2f} {m.on_time:>8.1%}  {ratio} {rate}",
                            flush=True,
                        )
    start = fabnet("HVLM", "fifo", 0.001, args.seed)
    print(f"start-up: `fabnet simulate --days 0.001` {start.wall_s:.2f} s wall, {start.cpu_s:.2f} s CPU")


if __name__ == "__main__":
    main()
