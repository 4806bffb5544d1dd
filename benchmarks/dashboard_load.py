"""Dashboard under load: `fabnet serve` in its own process over a store of the default scenario's
run, 50 clients at once on loopback asking for `/` and for a run's page; prints p50, p99 and
the slowest answer per page, and the errors. Asserts nothing.

    .venv/bin/python benchmarks/dashboard_load.py [--requests 2000] [--clients 50]

The clients are Python threads in this process (urllib), so the figures include their own
overhead; the target of issue 14 is p99 under 300 ms for both pages.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np

TIGRIS = Path(__file__).parent.parent / "scenarios" / "tigris.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed_get(url: str) -> tuple[float, int]:
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return time.perf_counter() - start, status


@contextmanager
def served(store: str | Path) -> Iterator[str]:
    """`fabnet serve` over `store` in its own process on a free port, once it answers; its
    address. Stopped on leaving."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "fabnet", "serve", "--store", str(store), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                timed_get(base + "/")
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.communicate(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "s.duckdb"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "fabnet",
                "run",
                str(TIGRIS),
                "--store",
                str(store),
                "--no-check",
                "--report-dir",
                folder,
            ],
            check=True,
            capture_output=True,
        )
        with served(store) as base:
            timed_get(base + "/runs/1")  # the first request builds the page; later ones are served from memory
            print(
                f"{'page':<12}{'requests':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}"
                f"  ({args.clients} clients)"
            )
            for page in ("/", "/runs/1"):
                with ThreadPoolExecutor(max_workers=args.clients) as pool:
                    answers = list(pool.map(timed_get, [base + page] * args.requests))
                seconds = np.array([a[0] for a in answers]) * 1e3
                errors = sum(1 for _, status in answers if status != 200)
                print(
                    f"{page:<12}{len(answers):>9}{np.percentile(seconds, 50):>9.1f}{np.percentile(seconds, 99):>9.1f}"
                    f"{seconds.max():>9.1f}{errors:>8}"
                )


if __name__ == "__main__":
    main()
