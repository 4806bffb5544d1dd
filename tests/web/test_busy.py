"""The dashboard while another process holds the store (a run writing): what needs no store —
plotly.js, the icon, a run page already built — is served at once; what needs the store answers
503 with Retry-After within seconds, never a stalled request."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from tests.web.test_web import get, serving

HOLD = "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(60)"


def fetch(server, path):
    """(path, status, Retry-After, seconds) of a GET."""
    start = time.monotonic()
    try:
        with urllib.request.urlopen(server + path, timeout=60) as response:
            response.read()
            status, retry = response.status, response.headers.get("Retry-After")
    except urllib.error.HTTPError as error:
        status, retry = error.code, error.headers.get("Retry-After")
    return path, status, retry, time.monotonic() - start


def test_a_held_store_leaves_static_files_and_built_pages_served(store_with_runs, tmp_path):
    store = tmp_path / "held.duckdb"
    shutil.copy(store_with_runs[0], store)
    with serving(store) as server:
        assert get(server, "/runs/1")[0] == 200  # built now, kept
        holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store)], stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "held"
            # more requests that need the store than the server has worker threads (40)
            paths = ["/runs/2", "/api/runs"] * 24 + ["/favicon.ico", "/static/plotly.js", "/runs/1"] * 8
            with ThreadPoolExecutor(len(paths)) as pool:
                answers = list(pool.map(lambda p: fetch(server, p), paths))
        finally:
            holder.kill()
            holder.wait()
            holder.stdout.close()
    for path, status, retry, seconds in answers:
        if path in ("/favicon.ico", "/static/plotly.js", "/runs/1"):
            assert status in (200, 204) and seconds < 5, (path, status, seconds)
        else:
            assert status == 503 and retry == "1" and seconds < 15, (path, status, retry, seconds)
