"""The defects of issue 28 (Reliability II), each reproduced as a user meets it, and how each ends:
a clear message (no traceback), a kept `.fabnetrun` archive, a served page, or a failure.
Asserts nothing; prints one line per probe and the counts.

    .venv/bin/python benchmarks/reliability_probe.py            # about two minutes
    FABNET_TEST_POSTGRES=postgresql://… .venv/bin/python benchmarks/reliability_probe.py

Needs root for the read-only file system probe (a tmpfs remounted read-only); skips it otherwise.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import duckdb
import yaml

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT))

from fabnet.store import open_store  # noqa: E402
from tests.plan.conftest import tiny  # noqa: E402
from tests.risk.test_risk import DEMAND_NOISE, _alive, _descendants  # noqa: E402

FABNET = [sys.executable, "-m", "fabnet"]
SECRET = "s3cret-Pw0rd"


def fabnet(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FABNET, *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def outcome(done: subprocess.CompletedProcess[str], folder: Path) -> str:
    text = done.stdout + done.stderr
    if "Traceback" in text:
        return "traceback"
    if SECRET in text:
        return "secret shown"
    if list(folder.rglob("*.fabnetrun")) and done.returncode == 4:
        return "archive"
    return "clear message" if done.returncode in (2, 130) else f"exit {done.returncode}"


def command_lines(folder: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    return {
        " ".join(args): fabnet(*args, cwd=folder)
        for args in (
            ["simulate", "--days", "nan"],
            ["simulate", "--days", "inf"],
            ["simulate", "--days", "1e308"],
            ["simulate", "--seed", str(2**64)],
            ["risk", "--seed", str(2**64)],
            ["risk", "--samples", str(10**8)],
            ["simulate", "--data", "/etc", "--days", "1"],
            ["simulate", "--data", "/no/such/folder", "--days", "1"],
            ["runs", "list", "--store", f"postgresql://u:{SECRET}@127.0.0.1:1/db?password={SECRET}"],
        )
    }


def scenarios(folder: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    text = (ROOT / "tests" / "data" / "minimal.yaml").read_text()
    demand = "      per_year: {2025: 40000, 2026: 80000}"
    cases = {
        **{
            f"per_year 2025 and {spelling}": text.replace(demand, f"      per_year: {{2025: 40000, {spelling}: 1}}")
            for spelling in ("0x7E9", "2025.0", "+2025", "2_025", "'2025'")
        },
        "per_quarter 2025Q1 and 2025q1": text.replace(demand, "      per_quarter: {2025Q1: 40000, 2025q1: 1}"),
        "discount_rate '0_0.095'": text.replace("  discount_rate: 0.1", "  discount_rate: '0_0.095'"),
        "simulation warmup_days > days": text + "simulation: {days: 10, warmup_days: 20}\n",
        "extends: /etc/passwd": "extends: /etc/passwd\n",
    }
    results = {}
    for name, content in cases.items():
        path = folder / f"case-{len(results)}.yaml"
        path.write_text(content)
        results[name] = fabnet("validate", str(path), cwd=folder)
    return results


def large_models(folder: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """Valid scenarios near the documented bounds (issue 28, item 7): each should be refused by
    the size budget at once, not planned for minutes."""
    base = yaml.safe_load((ROOT / "tests" / "data" / "minimal.yaml").read_text())

    def sized(sites: int, products: int, quarters: int, max_modules: int = 2) -> dict:
        data = yaml.safe_load(yaml.safe_dump(base))
        data["horizon"]["quarters"] = quarters
        site = data["sites"][0]
        data["sites"] = [site | {"id": f"s{i}", "max_modules": max_modules} for i in range(sites)]
        chip = data["products"][0]
        data["products"] = [chip | {"id": f"chip{j}"} for j in range(products)]
        return data

    cases = {
        "500 products x 400 quarters": (sized(1, 500, 400), []),
        "500 sites x 1000 modules x 400 quarters": (sized(500, 1, 400, 1000), []),
        "200 sites x 200 products x 400 quarters": (sized(200, 200, 400), []),
        "tiny --max-model-size 10": (sized(1, 1, 8), ["--max-model-size", "10"]),
    }
    results = {}
    for name, (data, extra) in cases.items():
        path = folder / f"large-{len(results)}.yaml"
        path.write_text(yaml.safe_dump(data))
        results[name] = fabnet("plan", str(path), *extra, cwd=folder)
    return results


def store_faults(folder: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    scenario = folder / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(tiny()))
    damages = {
        "runs with an extra NOT NULL column": [
            "ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT 'x'",
            "ALTER TABLE runs ALTER owner DROP DEFAULT",
        ],
        "runs with a changed column type": ["ALTER TABLE runs ALTER scenario_name TYPE INTEGER"],
        "runs as a view": ["ALTER TABLE runs RENAME TO r", "CREATE VIEW runs AS SELECT * FROM r"],
    }
    results = {}
    for name, statements in damages.items():
        here = folder / uuid.uuid4().hex[:6]
        here.mkdir()
        store = here / "s.duckdb"
        open_store(store).close()  # a new store, as fabnet makes it
        with duckdb.connect(str(store)) as con:
            for statement in statements:
                con.execute(statement)
        results[name] = fabnet("run", str(scenario), "--store", str(store), "--no-check", cwd=here)
    results["read-only file system"] = read_only_store(folder, scenario)
    return results


def read_only_store(folder: Path, scenario: Path) -> subprocess.CompletedProcess[str]:
    mount = folder / "ro"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True).returncode:
        return subprocess.CompletedProcess([], 0, "", "skipped: cannot mount a tmpfs here")
    try:
        duckdb.connect(str(mount / "s.duckdb")).close()
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        here = folder / "cwd"
        here.mkdir()
        return fabnet("run", str(scenario), "--store", str(mount / "s.duckdb"), "--no-check", cwd=here)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def interrupted_sweep(folder: Path, executor: list[str]) -> tuple[str, float]:
    """Ctrl-C to the process group of a re-optimising sweep: processes left 2 s later, and
    how long until none was."""
    path = folder / "risky.yaml"
    path.write_text(yaml.safe_dump(tiny(uncertainty=[DEMAND_NOISE])))
    sweep = subprocess.Popen(
        [*FABNET, "risk", str(path), "--samples", "400", "--reoptimise", *executor],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(_alive(_descendants(sweep.pid))) < 2:
        time.sleep(0.5)
    time.sleep(3)
    everyone = _alive(_descendants(sweep.pid)) | {sweep.pid}
    sent = time.monotonic()
    os.killpg(sweep.pid, signal.SIGINT)
    while _alive(everyone) and time.monotonic() - sent < 30:
        time.sleep(0.05)
    gone_s = time.monotonic() - sent
    _, err = sweep.communicate(timeout=30)
    left = "0 left" if gone_s <= 2 else f"{len(everyone)} processes for {gone_s:.1f} s"
    leaked = "; semaphores leaked" if b"leaked" in err else ""
    resume = "; names --resume" if b"--resume" in err else ""
    return f"{left}{leaked}{resume}", gone_s


def concurrent_postgres_imports(address: str) -> str:
    import psycopg

    schema = f"probe_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(address, autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {schema}")
    location = f"{address}{'&' if '?' in address else '?'}options=-csearch_path%3D{schema}"
    barrier, failures = threading.Barrier(12), []

    def one(k: int) -> None:
        barrier.wait()
        try:
            with open_store(location) as store:
                store.save_run({"scenario_name": f"w{k}", "seed": k, "figures": {}}, {})
        except Exception as error:
            failures.append(error)

    threads = [threading.Thread(target=one, args=(k,)) for k in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with psycopg.connect(address, autocommit=True) as con:
        con.execute(f"DROP SCHEMA {schema} CASCADE")
    return f"{12 - len(failures)}/12 stored"


def main() -> None:
    counts: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for group, probes in (
            ("command line", command_lines(folder)),
            ("scenario", scenarios(folder)),
            ("model size", large_models(folder)),
            ("store fault", store_faults(folder)),
        ):
            for name, done in probes.items():
                if done.stderr.startswith("skipped"):
                    print(f"{group:13} {name:45} skipped")
                    continue
                result = outcome(done, folder)
                counts[result] += 1
                line = (done.stderr.strip().splitlines() or [""])[-1][:90]
                print(f"{group:13} {name:45} {result:14} {line}")
        for executor in (["--workers", "2"], ["--dask-local", "2"]):
            here = folder / uuid.uuid4().hex[:6]
            here.mkdir()
            said, gone_s = interrupted_sweep(here, executor)
            counts["stopped within 2 s" if gone_s <= 2 else "interrupt too slow"] += 1
            print(f"{'interrupt':13} {'Ctrl-C, risk --reoptimise ' + ' '.join(executor):45} {said}")
    address = os.environ.get("FABNET_TEST_POSTGRES")
    if address:
        print(f"{'postgres':13} {'12 concurrent writers, new schema':45} {concurrent_postgres_imports(address)}")
    print("counts:", dict(counts))


if __name__ == "__main__":
    main()
