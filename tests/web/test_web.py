"""The dashboard: pages, 404s, a real browser, and 100 concurrent requests."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from fabnet.web import create_app

CHROMIUM = "/usr/bin/chromium"


@contextmanager
def serving(store):
    """The dashboard over `store` on a free loopback port, in a thread, as `fabnet serve` runs it."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(store), host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not instance.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(store_with_runs):
    with serving(store_with_runs[0]) as address:
        yield address


def get(server, path):
    """(status, body) of a GET on the running dashboard; error statuses are answers too."""
    try:
        with urllib.request.urlopen(server + path, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_index_lists_the_runs(server):
    status, body = get(server, "/")
    assert status == 200
    assert 'href="/runs/1"' in body and 'href="/runs/2"' in body


def test_run_page_has_the_figures(server):
    status, body = get(server, "/runs/1")
    assert status == 200
    assert 'id="plot-delivered-vs-demand"' in body and "/static/plotly.js" in body
    # the decision first: what the network adds and the deal, before the plan's details
    assert body.index("accelerators the network adds") < body.index("accelerators demanded")
    assert body.index('id="plot-network-adds"') < body.index('id="plot-deal"') < body.index('id="plot-fab-timeline"')


def test_compare_page(server):
    status, body = get(server, "/compare?a=1&b=2")
    assert status == 200 and "run 1 against run 2" in body and "fab company NPV" in body
    # run 2 of store_with_runs differs by its investor's commitment: named before the figures
    assert body.index("funding.investors.i.amount_usd") < body.index("fab company NPV")
    for plot in ("compare-delivered", "compare-cash", "compare-irr"):
        assert f'id="plot-{plot}"' in body


def test_compare_a_run_with_itself_is_a_page_not_an_error(server):
    status, body = get(server, "/compare?a=1&b=1")
    assert status == 200 and "nothing differs" in body


def test_the_compare_form_starts_at_the_two_newest_runs(server):
    _, body = get(server, "/")
    assert "<select name='a'><option selected>1</option><option>2</option>" in body
    assert "<select name='b'><option>1</option><option selected>2</option>" in body


def test_errors_are_pages_with_the_way_back(server):
    for path, status in (("/compare?a=1&b=999", 404), ("/compare?a=1", 400), ("/runs/abc", 404)):
        code, body = get(server, path)
        assert code == status and "<p><a href='/'>← all runs</a></p>" in body and '{"detail"' not in body, path


def test_a_run_page_names_its_label_kind_and_overrides(runs_one_set_apart):
    with serving(runs_one_set_apart) as address:
        first, second = get(address, "/runs/1")[1], get(address, "/runs/2")[1]
    assert "“as written”" in first and " · run · " in first
    assert "--set finance.discount_rate=0.12" in second


def test_a_runs_tables_download_as_a_workbook(server):
    import io

    import openpyxl

    page = get(server, "/runs/1")[1]
    assert 'href="/runs/1/export.xlsx"' in page
    with urllib.request.urlopen(server + "/runs/1/export.xlsx", timeout=60) as response:
        assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
        book = openpyxl.load_workbook(io.BytesIO(response.read()))
    assert {"inputs", "fabco_quarterly", "supply"} <= set(book.sheetnames)
    assert get(server, "/runs/999/export.xlsx")[0] == 404


@pytest.mark.parametrize(
    "path",
    [
        "/runs/999",
        "/runs/abc",
        "/runs/..%2F..%2Fetc%2Fpasswd",
        "/compare?a=1&b=999",
        "/static/..%2Fpyproject.toml",
        "/etc/passwd",
        "/reports/run-1.html",
        # digits str.isdigit accepts and int refuses, or reads as another run
        "/runs/%C2%B2",
        "/runs/%D9%A1",
        "/compare?a=%D9%A1&b=2",
        "/runs/" + "9" * 5000,
        "/runs/-1",
        "/runs/+1",
        "/runs/1.0",
        "/runs/%201",
    ],
)
def test_unknown_runs_and_crafted_paths_are_404(server, path):
    assert get(server, path)[0] == 404


def test_plotly_is_served(server):
    # the very file the plotly wheel ships (package_data/plotly.min.js), read from disk, and the
    # plotly.js release it says it is: pages built offline and served pages run the same script
    import plotly
    from plotly.offline import get_plotlyjs_version

    status, body = get(server, "/static/plotly.js")
    shipped = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text(encoding="utf-8")
    assert status == 200 and body == shipped
    assert body.splitlines()[1] == f"* plotly.js v{get_plotlyjs_version()}"


def test_one_hundred_concurrent_requests(server):
    urls = [f"{server}/", f"{server}/runs/1", f"{server}/runs/2", f"{server}/api/runs"] * 25

    def fetch(url):
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.read().decode()

    with ThreadPoolExecutor(max_workers=100) as pool:
        answers = list(pool.map(fetch, urls))
    assert len(answers) == 100
    for url, (status, body) in zip(urls, answers, strict=True):
        assert status == 200
        if url.endswith("/runs/1"):
            assert "fabnet run 1: tiny" in body
        elif url.endswith("/api/runs"):
            assert '"run_id":2' in body.replace(" ", "")


@contextmanager
def browser_page(errors: list[str]):
    """A page of headless Debian Chromium that records console errors in `errors` (skips, or
    fails under CI, without the browser)."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs Debian's chromium package")
        pytest.skip(f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        yield page
        browser.close()


def test_browser_opens_a_run_and_sees_the_charts(server):
    errors: list[str] = []
    with browser_page(errors) as page:
        page.goto(server + "/")
        page.click("a[href='/runs/1']")
        page.wait_for_selector("#plot-delivered-vs-demand .main-svg", timeout=30_000)
        drawn = page.locator(".js-plotly-plot").count()
    assert drawn >= 5
    assert errors == []


@pytest.fixture(scope="module")
def runs_one_set_apart(tmp_path_factory):
    """Two runs of one scenario file, the second with one --set."""
    import yaml

    from fabnet.pipeline import main_job
    from fabnet.scenario import load_scenario
    from tests.plan.conftest import tiny

    folder = tmp_path_factory.mktemp("set")
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny()))
    store = folder / "set.duckdb"
    main_job(load_scenario(path), store, check=False, label="as written")
    main_job(load_scenario(path, ["finance.discount_rate=0.12"]), store, check=False)
    return store


def test_browser_compares_two_runs_one_set_apart(runs_one_set_apart):
    from tests.plan.conftest import tiny

    base = tiny()["finance"]["discount_rate"]
    errors: list[str] = []
    with serving(runs_one_set_apart) as address, browser_page(errors) as page:
        page.goto(address + "/")
        page.click("form button")  # the form starts at the two newest runs
        page.wait_for_selector("#plot-compare-delivered .main-svg", timeout=30_000)
        rows = page.locator("#inputs tr").all_inner_texts()
    changed = next(row for row in rows if row.startswith("finance.discount_rate"))
    assert changed.split() == ["finance.discount_rate", str(base), "0.12"]
    assert any("--set finance.discount_rate=0.12" in row for row in rows)
    assert errors == []


def test_serving_a_missing_store_fails_in_words(tmp_path):
    from fabnet.core.errors import FabnetError

    with pytest.raises(FabnetError, match="no results store"):
        create_app(tmp_path / "none.duckdb")


def test_chromium_path_is_the_debian_one():
    # The browser test relies on the distribution's build, never a downloaded one.
    assert shutil.which("chromium") == CHROMIUM or not shutil.which("chromium")


def test_head_is_answered_like_get(server):
    request = urllib.request.Request(server + "/", method="HEAD")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200 and response.read() == b""


def test_every_answer_carries_the_security_headers(server):
    for path in ("/", "/runs/1", "/runs/999", "/static/plotly.js"):
        try:
            response = urllib.request.urlopen(server + path, timeout=60)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            headers = response.headers
        policy = headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-eval" not in policy
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"


def test_eight_clients_polling_while_a_run_stores_see_no_error_and_the_run_lands(tmp_path):
    import subprocess
    import sys

    import yaml

    from fabnet.pipeline import main_job
    from fabnet.store import open_store
    from tests.plan.conftest import scenario, tiny

    store = tmp_path / "busy.duckdb"
    main_job(scenario(tiny()), store, check=False)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny()))
    statuses: list[int] = []
    with serving(store) as address:
        run = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fabnet",
                "run",
                str(path),
                "--store",
                str(store),
                "--report-dir",
                str(tmp_path / "reports"),
                "--no-check",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

        def poll(i):
            seen = []
            while run.poll() is None:
                seen.append(get(address, "/" if i % 2 else "/runs/1")[0])
            seen.append(get(address, "/")[0])
            return seen

        with ThreadPoolExecutor(max_workers=8) as pool:
            for seen in pool.map(poll, range(8)):
                statuses += seen
        _stdout, stderr = run.communicate(timeout=300)
        final = get(address, "/")[1]
    assert run.returncode == 0, stderr
    assert len(statuses) > 8 and set(statuses) == {200}
    assert 'href="/runs/2"' in final  # the index sees the new run once it is stored
    with open_store(store, read_only=True) as s:
        assert s.runs()["run_id"].tolist() == [1, 2]
