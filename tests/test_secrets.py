"""A store's password is never shown: not by a command, an error, a page of the dashboard or a
file a run is kept in. Every PostgreSQL address here opens a DuckDB store instead (a stand-in
server), so each command and page really runs with the address a user gave; a second address
points where no server listens, for the error paths."""

from __future__ import annotations

import shutil

import pytest
import yaml
from typer.testing import CliRunner

import fabnet.store
from fabnet.cli import app
from fabnet.core.secrets import redact
from fabnet.store import DuckStore
from tests.plan.conftest import tiny
from tests.web.test_web import get, serving

SECRET = "s3cret-Pw0rd"
ADDRESS = f"postgresql://analyst:{SECRET}@db.example:5432/fabnet?sslpassword={SECRET}&application_name=fabnet"
NOWHERE = f"postgresql://analyst:{SECRET}@127.0.0.1:1/fabnet?password={SECRET}&connect_timeout=2"

runner = CliRunner()


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("postgresql://u:pw@h/db", "postgresql://u:***@h/db"),
        ("postgres://u:p:w@h:5/db?x=1", "postgres://u:***@h:5/db?x=1"),
        ("postgresql://u@h/db?password=pw&sslmode=require", "postgresql://u@h/db?password=***&sslmode=require"),
        ("postgresql://h/db?sslpassword=pw", "postgresql://h/db?sslpassword=***"),
        ("PGPASSWORD=pw fabnet runs list", "PGPASSWORD=*** fabnet runs list"),
        ("cannot open postgresql://u:pw@h/db: refused", "cannot open postgresql://u:***@h/db: refused"),
        ("runs.duckdb", "runs.duckdb"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
    ],
)
def test_redact_removes_every_form_of_password(text, shown):
    assert redact(text) == shown


@pytest.fixture
def stand_in(store_with_runs, tmp_path, monkeypatch):
    """ADDRESS opens a copy of the two-run store; NOWHERE stays a PostgreSQL address."""
    copy = tmp_path / "server.duckdb"
    shutil.copy(store_with_runs[0], copy)
    real = fabnet.store.PgStore

    def pg_store(url, *args):
        return DuckStore(copy, *args) if "db.example" in url else real(url, *args)

    monkeypatch.setattr(fabnet.store, "PgStore", pg_store)
    monkeypatch.chdir(tmp_path)
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(tiny()))
    return scenario


def shown(args):
    result = runner.invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.output + result.stderr


def test_no_command_shows_the_password(stand_in, tmp_path):
    outputs = {
        "run": shown(["run", str(stand_in), "--store", ADDRESS, "--no-check", "--report-dir", str(tmp_path)]),
        "runs list": shown(["runs", "list", "--store", ADDRESS]),
        "runs show": shown(["runs", "show", "1", "--store", ADDRESS]),
        "runs compare": shown(["runs", "compare", "1", "2", "--store", ADDRESS]),
        "report": shown(["report", "1", "--store", ADDRESS, "--output", str(tmp_path / "r.html")]),
        "export": shown(["export", "1", "--store", ADDRESS, "--out", str(tmp_path / "x")]),
        "deal": shown(["deal", str(stand_in), "--store", ADDRESS, "--steps", "2"]),
        "unknown run": shown(["runs", "show", "99", "--store", ADDRESS]),
        "no server: runs list": shown(["runs", "list", "--store", NOWHERE]),
        "no server: run": shown(
            ["run", str(stand_in), "--store", NOWHERE, "--no-check", "--report-dir", str(tmp_path)]
        ),
    }
    kept = list(tmp_path.glob("tiny-*.fabnetrun"))
    assert kept, outputs["no server: run"]
    outputs["runs import"] = shown(["runs", "import", str(kept[0]), "--store", ADDRESS])
    assert "stored as run 5" in outputs["runs import"], outputs["runs import"]
    assert "postgresql://analyst:***@db.example" in outputs["runs import"]
    leaks = [name for name, text in outputs.items() if SECRET in text]
    assert not leaks, {name: outputs[name] for name in leaks}
    assert "analyst" in outputs["no server: runs list"]  # the address is shown, less its password


def test_no_page_of_the_dashboard_shows_the_password(stand_in):
    from fabnet.store import StoreBusy

    with serving(ADDRESS) as server:
        pages = {path: get(server, path) for path in ("/", "/runs/1", "/compare?a=1&b=2", "/api/runs", "/runs/99")}
        assert pages["/"][0] == 200 and "analyst:***@db.example" in pages["/"][1]

        def busy(*args, **kwargs):
            raise StoreBusy(f"the results store {ADDRESS} is held by another process")

        fabnet.store.PgStore = busy  # undone by the fixture's monkeypatch
        pages["busy"] = get(server, "/runs/2/export.xlsx")
    assert pages["busy"][0] == 503
    leaks = [path for path, (_, body) in pages.items() if SECRET in body]
    assert not leaks
