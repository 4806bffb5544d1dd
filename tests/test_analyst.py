"""The analyst's workflow from the command line: labels, comparisons that say what changed,
exports, output a person can read at 80 columns, and the bugs issue 15 listed (each test here
failed before the change)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from typer.testing import CliRunner

from fabnet.cli import app
from fabnet.core.figures import P_MEET_SERVED
from fabnet.core.format import points
from tests.conftest import TIGRIS

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def fabnet(*args: str, cwd: Path | None = None, columns: int = 80) -> subprocess.CompletedProcess[str]:
    """The command in a new process, its output piped (not a terminal), as a script sees it."""
    env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run(
        [sys.executable, "-m", "fabnet", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=600
    )


def stored_runs(store: str) -> list:
    from fabnet.store import open_store

    with open_store(store, read_only=True) as opened:
        return [opened.run(i) for i in (1, 2)]


def stored_npvs(store: str) -> list[float]:
    return [run.figures["fabco_npv_usd"] for run in stored_runs(store)]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """tigris as written (labelled) and with one --set, in one store."""
    folder = tmp_path_factory.mktemp("analyst")
    store = str(folder / "a.duckdb")
    first = invoke(
        "run",
        str(TIGRIS),
        "--store",
        store,
        "--no-check",
        "--label",
        "base case",
        "--report-dir",
        str(folder / "reports"),
    )
    assert first.exit_code == 0, first.output
    second = invoke(
        "run",
        str(TIGRIS),
        "--store",
        store,
        "--no-check",
        "--set",
        "offtake.share_of_market_price=0.6",
        "--report-dir",
        str(folder / "reports"),
    )
    assert second.exit_code == 0, second.output
    return folder, store


def test_runs_list_is_one_line_per_run_with_label_kind_and_npv(two_runs):
    _, store = two_runs
    listed = invoke("runs", "list", "--store", store)
    assert listed.exit_code == 0, listed.output
    # the runs as the store holds them, read by SQL (not by fabnet's reader): one line each
    with duckdb.connect(store, read_only=True) as con:
        held = con.execute("SELECT run_id, label, kind, scenario_name, figures FROM runs ORDER BY run_id").fetchall()
    ids = "|".join(str(run_id) for run_id, *_ in held)
    rows = [line for line in listed.stdout.splitlines() if re.match(rf"\s+({ids})\s", line)]
    assert [int(row.split()[0]) for row in rows] == [run_id for run_id, *_ in held]
    assert "base case" in rows[0] and " run " in rows[0] and "tigris" in rows[0]
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d\s", rows[0]) and not re.search(r":\d\d:\d\d", rows[0])
    assert "fab company NPV, $B" in " ".join(listed.stdout.split())
    # each run's label, kind and scenario, and its NPV as stored, in $B with two decimals, ending its line
    npvs = []
    for row, (_, label, kind, name, figures) in zip(rows, held, strict=True):
        assert (label or "") in row and f" {kind} " in row and name in row
        npvs.append(json.loads(figures)["fabco_npv_usd"])
        assert row.rstrip().endswith(f"{npvs[-1] / 1e9:.2f}")
    # run 2 sells the same wafers at 0.6 of the market price against tigris's 0.9: the fab company
    # earns less for the same fabs, so its NPV is lower (and the NPVs read are the runs' own)
    assert npvs == stored_npvs(store) and npvs[1] < npvs[0]


def test_compare_names_the_input_that_differs_before_the_figures(two_runs):
    _, store = two_runs
    compared = invoke("runs", "compare", "1", "2", "--store", store)
    assert compared.exit_code == 0, compared.output
    text = compared.stdout
    assert text.index("offtake.share_of_market_price") < text.index("fab company NPV")
    row = next(line for line in text.splitlines() if line.split()[:1] == ["offtake.share_of_market_price"])
    # tigris.yaml's 0.9, then the override's 0.6, read as the shares they are
    assert row.split()[1:] == ["90.0", "%", "60.0", "%"]
    # the fab company IRR's difference, as stored, in percentage points
    first, second = (run.figures["fabco_irr"] for run in stored_runs(store))
    assert points(second - first) in text
    wide = fabnet("runs", "compare", "1", "2", "--store", store, columns=160).stdout
    assert "--set offtake.share_of_market_price=0.6" in wide and "base case" in wide


def test_compare_as_a_tidy_frame_and_as_csv_or_json_for_a_pipe(two_runs):
    """fabnet.compare: a row per input that differs and per figure that moved, a column per run,
    the difference; `runs compare --format csv|json` writes the same rows."""
    import io

    import pandas as pd

    import fabnet as api

    _, store = two_runs
    first, second = stored_runs(store)
    table = api.compare(1, 2, store=store, changed_only=True)
    assert list(table.columns) == ["kind", "name", "run_1", "run_2", "difference"]
    inputs = table[table["kind"] == "input"].set_index("name")
    assert inputs.loc["offtake.share_of_market_price", ["run_1", "run_2"]].tolist() == ["0.9", "0.6"]
    figures = table[table["kind"] == "figure"].set_index("name")
    assert figures.at["fabco_npv_usd", "difference"] == pytest.approx(
        second.figures["fabco_npv_usd"] - first.figures["fabco_npv_usd"]
    )
    # a lower offtake price leaves the demand and the plan as they were: those figures are not listed
    unchanged = [k for k in first.figures if first.figures[k] == second.figures[k]]
    assert unchanged and not set(unchanged) & set(figures.index)
    assert len(api.compare(first, second)) == len(inputs) + len(first.figures)
    piped = fabnet("runs", "compare", "1", "2", "--store", store, "--changed-only", "--format", "csv")
    assert piped.returncode == 0, piped.stderr
    assert pd.read_csv(io.StringIO(piped.stdout))["name"].tolist() == table["name"].tolist()
    as_json = json.loads(invoke("runs", "compare", "1", "2", "--store", store, "--format", "json").stdout)
    assert [row["name"] for row in as_json] == api.compare(1, 2, store=store)["name"].tolist()


def test_compare_as_a_workbook(two_runs, tmp_path):
    """`runs compare --format xlsx`: fabnet.compare's rows in a sheet, each labelled, with the
    stored values (money in USD)."""
    import pandas as pd

    _, store = two_runs
    first, second = stored_runs(store)
    done = invoke(
        "runs", "compare", "1", "2", "--store", store, "--changed-only", "--format", "xlsx", "--out", str(tmp_path)
    )
    assert done.exit_code == 0, done.output
    sheet = pd.read_excel(tmp_path / "compare-1-2.xlsx", sheet_name="comparison")
    assert list(sheet.columns) == ["kind", "label", "name", "run 1", "run 2", "difference"]
    npv = sheet.set_index("name").loc["fabco_npv_usd"]
    assert npv["label"] == "fab company NPV"
    assert [npv["run 1"], npv["run 2"]] == pytest.approx(
        [first.figures["fabco_npv_usd"], second.figures["fabco_npv_usd"]]
    )
    share = sheet.set_index("name").loc["offtake.share_of_market_price"]
    assert [float(share["run 1"]), float(share["run 2"])] == [0.9, 0.6]  # tigris.yaml's, then the --set


def test_dir_of_fabnet_lists_the_api_not_its_helpers():
    import fabnet

    names = dir(fabnet)
    assert "compare" in names and "run" in names and "__version__" in names
    assert "Any" not in names and "import_module" not in names


def test_compare_a_run_with_itself_is_a_sentence_not_a_traceback(two_runs):
    _, store = two_runs
    same = invoke("runs", "compare", "1", "1", "--store", store)
    assert same.exit_code == 0 and "nothing differs" in same.stdout and same.exception is None


def test_compare_three_runs(two_runs):
    _, store = two_runs
    three = invoke("runs", "compare", "1", "2", "1", "--store", store)  # repeated ids count once
    assert three.exit_code == 0 and "run 2" in three.stdout


def test_runs_show_names_label_kind_file_and_overrides(two_runs):
    _, store = two_runs
    shown = " ".join(invoke("runs", "show", "2", "--store", store).stdout.split())
    assert "kind run" in shown and "--set offtake.share_of_market_price=0.6" in shown
    assert str(TIGRIS) in shown


def tigris_names() -> dict[str, str]:
    """Each investor's and lender's id → its name, as tigris.yaml writes them."""
    funding = yaml.safe_load(TIGRIS.read_text())["funding"]
    return {who["id"]: who["name"] for who in (*funding["investors"], *funding["project_debt"])}


def test_an_investors_figures_are_labelled_with_its_name_from_the_scenario(two_runs):
    _, store = two_runs
    names = tigris_names()
    assert names["company"] == "the buyer's own stake"  # what "IRR of company" meant (issue 31)
    for command in (["runs", "show", "1"], ["runs", "compare", "1", "2"]):
        shown = " ".join(invoke(*command, "--store", store).stdout.split())
        assert all(f"IRR of {name} " in shown for name in names.values()), command
        assert "IRR of investor" not in shown


def test_the_deal_at_80_columns_keeps_each_price_whole_and_names_the_investors():
    done = fabnet("deal", str(TIGRIS), "--steps", "4")
    assert done.returncode == 0, done.stderr
    _assert_fits(done.stdout, 80)
    lines = done.stdout.splitlines()
    # a figure per row, a price per column: 20 %, 63 %, 107 %, 150 % (--steps 4 from 0.2 to 1.5)
    header = lines[next(i for i, line in enumerate(lines) if "─" in line) - 1]
    assert header.split()[-8:] == ["20", "%", "63", "%", "107", "%", "150", "%"]
    # each investor's IRR row, named as tigris.yaml names it, its four IRRs on its first line
    # and its hurdle whole (g42: hurdle_rate 0.10)
    for investor in ("g42", "softbank", "company"):
        row = next(line for line in lines if line.strip().startswith(f"IRR of {tigris_names()[investor]}"))
        assert len(re.findall(r"-?[\d.]+ %(?!\))", row)) == 4, row
    assert "IRR of G42 (hurdle 10.0 %)" in " ".join(done.stdout.split())


def test_reports_of_two_stores_do_not_overwrite_each_other(two_runs, tmp_path):
    folder, _store = two_runs
    other = tmp_path / "other.duckdb"
    assert (
        invoke(
            "run", str(TIGRIS), "--store", str(other), "--no-check", "--report-dir", str(folder / "reports")
        ).exit_code
        == 0
    )
    assert (folder / "reports" / "a-run-1.html").exists() and (folder / "reports" / "other-run-1.html").exists()


def test_finance_json_is_json_without_nan(tmp_path):
    """An investor who is never called has no IRR: null, not NaN (which JSON does not have)."""
    data = yaml.safe_load(TIGRIS.read_text())
    data["funding"]["investors"].append(
        {"id": "late", "kind": "equity", "amount_usd": 1.0e9, "available_from": "2031Q4"}
    )
    data["funding"]["total_usd"] = 11.0e9
    path = tmp_path / "late.yaml"
    path.write_text(yaml.safe_dump(data))
    result = invoke("finance", str(path), "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout, parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))
    late = next(i for i in document["investors"] if i["investor"] == "late")
    assert late["called_usd"] == 0 and late["irr"] is None


def test_read_only_commands_do_not_claim_to_create_a_store(tmp_path):
    for command in (["report", "--help"], ["serve", "--help"], ["runs", "list", "--help"], ["export", "--help"]):
        assert "created" not in " ".join(invoke(*command).stdout.split()), command
    missing = invoke("runs", "list", "--store", str(tmp_path / "none.duckdb"))
    assert missing.exit_code == 2 and "no results store" in missing.stderr


def test_serve_on_a_busy_port_says_so_before_announcing_an_address(two_runs):
    _, store = two_runs
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke("serve", "--store", store, "--port", str(port))
    assert result.exit_code == 2
    assert "dashboard on" not in result.stdout and f"cannot serve on 127.0.0.1:{port}" in result.stderr


def test_export_writes_each_format(two_runs, tmp_path):
    _, store = two_runs
    for kind, made in (("xlsx", "run-1.xlsx"), ("csv", "run-1/supply.csv"), ("parquet", "run-1/supply.parquet")):
        result = invoke("export", "1", "--store", store, "--format", kind, "--out", str(tmp_path))
        assert result.exit_code == 0, result.output
        assert (tmp_path / made).exists()
    bad = invoke("export", "1", "--store", store, "--format", "ods")
    assert bad.exit_code == 2 and "xlsx" in bad.output


def test_risk_fixed_plan_samples_are_stored_in_a_store_that_already_has_a_sweep(tmp_path):
    """A fixed-plan sweep after a re-optimising one in the same store: its samples were lost
    (the samples table existed, so the empty answer for the new run read as 'already stored')."""
    from fabnet.store import stored_rows
    from tests.plan.conftest import tiny

    data = tiny(
        uncertainty=[
            {
                "path": "products.chip.demand.per_quarter",
                "dist": "uniform",
                "apply": "multiply",
                "low": 0.8,
                "high": 1.2,
            }
        ]
    )
    path = tmp_path / "risky.yaml"
    path.write_text(yaml.safe_dump(data))
    store = str(tmp_path / "r.duckdb")
    assert (
        invoke(
            "risk", str(path), "--samples", "2", "--reoptimise", "--workers", "1", "--store", store, "--label", "sweep"
        ).exit_code
        == 0
    )
    fixed = invoke("risk", str(path), "--samples", "50", "--store", store)
    assert fixed.exit_code == 0, fixed.output
    assert len(stored_rows(store, 2, "risk_samples")) == 50
    listed = invoke("runs", "list", "--store", store).stdout
    assert len(re.findall(r"\brisk\b", listed)) == 2 and "sweep" in listed


def test_bose_einstein_takes_a_real_complexity_factor(tmp_path):
    """Bose–Einstein with n layers and D0 spread over them equals the negative binomial with
    α = n (Stapper): n = 11.5 as fitted in the literature."""
    die = ["--die-mm2", "100", "--d0", "0.2", "--json"]
    bose = json.loads(invoke("chips", "--model", "bose", "--layers", "11.5", *die).stdout)
    negbin = json.loads(invoke("chips", "--model", "negbin", "--alpha", "11.5", *die).stdout)
    assert bose["yield"] == pytest.approx((1 + 1.0 * 0.2 / 11.5) ** -11.5) == pytest.approx(negbin["yield"])
    data = yaml.safe_load(TIGRIS.read_text())
    data["nodes"][0]["yield_model"] = {"kind": "bose_einstein", "critical_layers": 11.5}
    path = tmp_path / "bose.yaml"
    path.write_text(yaml.safe_dump(data))
    assert invoke("validate", str(path)).exit_code == 0


COMMANDS_AT_80 = [
    ["finance", str(TIGRIS)],
    ["plan", str(TIGRIS)],
    ["deal", str(TIGRIS), "--steps", "4"],
    ["wafers", str(TIGRIS)],
    ["validate", str(TIGRIS)],
]


@pytest.mark.parametrize("command", COMMANDS_AT_80, ids=lambda c: c[0])
def test_tables_fit_80_columns_when_piped(command):
    done = fabnet(*command)
    assert done.returncode == 0, done.stderr
    _assert_fits(done.stdout, 80)


def test_risk_and_runs_tables_fit_80_columns_and_keep_their_headings(two_runs):
    folder, store = two_runs
    risk = fabnet("risk", str(TIGRIS), "--samples", "200", "--store", str(folder / "risk.duckdb"))
    assert risk.returncode == 0, risk.stderr
    _assert_fits(risk.stdout, 80)
    text = " ".join(risk.stdout.split())
    # headings wrap onto lines of whole words, so each quantile stays itself
    header = next(line for line in risk.stdout.splitlines() if line.split()[:1] == ["year"])
    assert header.split() == ["year", "P10", "P50", "P90", "P50", "demand"]
    assert "chance the fab company's npv is below 0" in text.lower()
    for raw in ("delivered_p10", P_MEET_SERVED, "rank_correlation_with_npv", "npv usd", "$-"):
        assert raw not in text, raw
    for command in (["runs", "list"], ["runs", "compare", "1", "2"], ["runs", "show", "1"]):
        done = fabnet(*command, "--store", store)
        assert done.returncode == 0, done.stderr
        _assert_fits(done.stdout, 80)


def test_wider_terminals_get_wider_tables(two_runs):
    _, store = two_runs
    wide = fabnet("runs", "compare", "1", "2", "--store", store, columns=160)
    assert max(len(line) for line in wide.stdout.splitlines()) > 80
    _assert_fits(wide.stdout, 160)


def _assert_fits(text: str, width: int) -> None:
    """Every table line within `width`, nothing cut. Sentences are left whole for the terminal
    to wrap (a command or a path in one stays copyable): a line is a table's when it has a
    column gap (three spaces inside it) or a rule."""
    tables = [line for line in text.splitlines() if "   " in line.strip() or "─" in line]
    assert len(tables) >= 3
    long = [line for line in tables if len(line.rstrip()) > width]
    assert not long, "\n".join(long[:5])
    assert "…" not in text  # nothing cut


def test_a_deal_can_be_stored_as_a_run_of_its_kind(tmp_path):
    store = str(tmp_path / "d.duckdb")
    result = invoke("deal", str(TIGRIS), "--steps", "3", "--store", store, "--label", "price talk")
    assert result.exit_code == 0, result.output
    assert "deal stored as run 1" in result.stdout
    listed = invoke("runs", "list", "--store", store).stdout
    assert re.search(r"1\s+price talk\s+deal\s+tigris", listed)


def test_a_store_from_before_kinds_names_its_sweeps_risk_and_the_rest_run(tmp_path):
    """Runs stored before `kind` existed: a sweep is the run whose settings are in risk_spec
    (every run of such a store has that table, most of them empty)."""
    import duckdb
    import pandas as pd

    from fabnet.store import open_store
    from fabnet.store.base import figures_json

    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:  # the runs table as fabnet 6c97bf5 wrote it
        con.execute(
            "CREATE TABLE runs (run_id BIGINT PRIMARY KEY, created_at TIMESTAMP, scenario_name VARCHAR, "
            "scenario_hash VARCHAR, scenario_text VARCHAR, seed BIGINT, fabnet_version VARCHAR, "
            "solver_status VARCHAR, solver_gap DOUBLE, figures VARCHAR)"
        )
        for run_id in (1, 2):
            con.execute(
                "INSERT INTO runs VALUES (?, now(), 's', 'h', 'name: s', 0, 'old', 'ok', 0, ?)",
                [run_id, figures_json({"fabco_npv_usd": 1.0e9 * run_id})],
            )
        con.execute("CREATE TABLE result_risk_spec (run_id BIGINT, samples BIGINT, seed BIGINT, method VARCHAR)")
        con.execute("INSERT INTO result_risk_spec VALUES (2, 10, 0, 'lhs')")
    with open_store(path, read_only=True) as store:
        listed = store.runs()
        kinds = [store.run(i).kind for i in (1, 2)]
    assert listed["kind"].tolist() == kinds == ["run", "risk"]
    assert listed["label"].tolist() == ["", ""] and listed["fabco_npv_usd"].tolist() == [1.0e9, 2.0e9]
    assert isinstance(listed, pd.DataFrame)


def test_the_inputs_sheet_keeps_numbers_as_numbers(two_runs, tmp_path):
    import openpyxl

    _, store = two_runs
    assert invoke("export", "2", "--store", store, "--out", str(tmp_path)).exit_code == 0
    sheet = openpyxl.load_workbook(tmp_path / "run-2.xlsx")["inputs"]
    values = {row[1]: row[2] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0] == "scenario"}
    assert values["offtake.share_of_market_price"] == 0.6 and values["sites.kumamoto.lead_time_q"] == 9
    assert values["name"] == "tigris"


def test_compare_needs_two_ids_and_signs_its_differences(two_runs):
    _, store = two_runs
    one = invoke("runs", "compare", "1", "--store", store)
    assert one.exit_code == 2 and "two or more run ids" in one.output
    compared = invoke("runs", "compare", "2", "1", "--store", store).stdout
    npv = next(line for line in compared.splitlines() if line.strip().startswith("fab company NPV"))
    first, second = stored_npvs(store)
    assert npv.split()[-2:] == [f"+${(first - second) / 1e9:.2f}", "B"]  # run 1's NPV above run 2's


def test_the_calculator_says_no_good_die_instead_of_infinity():
    result = invoke("chips", "--die-w-mm", "400", "--die-h-mm", "400", "--wafer-cost", "20000")
    assert result.exit_code == 0 and "inf" not in result.stdout and "no good die" in result.stdout
