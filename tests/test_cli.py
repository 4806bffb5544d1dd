"""The `fabnet` command: exit codes, one clear message, JSON that reproduces the references."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from fabnet import __version__
from fabnet.cli import app
from tests.conftest import MINIMAL, TIGRIS, line_of

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def chips_json(*args: str) -> dict:
    result = invoke("chips", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert __version__ in result.stdout


@pytest.mark.parametrize(
    "command", [[], ["validate"], ["chips"], ["wafers"], ["plan"], ["finance"], ["simulate"], ["run"], ["deal"]]
)
def test_every_command_has_help_with_an_example(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "Usage" in result.stdout
    if command:
        assert "Example" in result.stdout or "default" in result.stdout


def test_validate_good_file_prints_summary():
    result = invoke("validate", str(MINIMAL))
    assert result.exit_code == 0, result.output
    assert "valid scenario" in result.stdout
    assert "2025Q1 → 2026Q4" in result.stdout


def test_validate_bad_file_exits_2_with_one_message_and_no_traceback(variant):
    path, text = variant("lead_time_q: 2", "lead_time_q: -1")
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    message = result.stderr
    assert f"{path}, line {line_of(text, 'lead_time_q: -1')}: sites[2].lead_time_q" in message
    assert "found:    -1" in message
    assert "greater than 0" in message
    assert "Traceback" not in result.output
    assert message.count("error:") == 1


def test_error_text_in_brackets_is_printed_as_is(tmp_path):
    # rich would swallow "[a]" as markup if the message were not escaped
    path = tmp_path / "list.yaml"
    path.write_text("- a\n")
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    assert "found:    [a]" in result.stderr


@pytest.mark.parametrize("name", ["x[/b].yaml", "[blink]evil.yaml", ":warning:.yaml"])
def test_file_names_are_printed_as_they_are(tmp_path, name):
    """Names once went through rich markup: `x[/b].yaml` crashed, `[blink]` vanished, and
    `:warning:` became an emoji."""
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)  # "x[/b].yaml" is the file "b].yaml" in a folder "x["
    path.write_text(MINIMAL.read_text())
    result = invoke("validate", str(path))
    assert result.exit_code == 0, result.output
    assert f"{path} is a valid scenario" in result.stdout


def test_values_in_errors_are_printed_as_they_are(tmp_path):
    result = invoke("validate", str(MINIMAL), "--set", "name='[b]x[/b] :warning:'")
    assert result.exit_code == 2
    assert "found:    '[b]x[/b] :warning:'" in result.stderr


@pytest.mark.parametrize(
    ("store", "message"), [("/etc/passwd", "is not a fabnet results store"), ("/tmp", "is a folder; give a file")]
)
def test_a_store_that_is_not_one_is_one_clear_error(store, message):
    result = invoke("runs", "list", "--store", store)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_validate_missing_file_exits_2():
    result = invoke("validate", "no/such/scenario.yaml")
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_validate_with_override():
    result = invoke("validate", str(MINIMAL), "--set", "funding.total_usd=7e9")
    assert result.exit_code == 2
    assert "--set funding.total_usd=7e9" in result.stderr


def test_chips_json_reproduces_example_a():
    data = chips_json(
        "--die-w-mm", "10", "--die-h-mm", "10", "--edge-mm", "5", "--scribe-mm", "0.1", "--dpw-formula", "standard"
    )
    assert data["gross_dies"] == 583


def test_chips_json_reproduces_example_b():
    data = chips_json(
        "--wafer-mm",
        "210",
        "--edge-mm",
        "0",
        "--scribe-mm",
        "0",
        "--die-mm2",
        "230",
        "--model",
        "poisson",
        "--d0",
        "1",
        "--dpw-formula",
        "flynn",
    )
    assert data["gross_dies"] == 129  # Flynn: N = 129.63 (source: 130)
    assert round(data["yield"], 4) == 0.1003


@pytest.mark.parametrize(
    ("area", "d0", "model", "expected"),
    [(1.0, 0.75, "murphy", 0.4949), (2.0, 1.5, "seeds", 0.2500), (0.5, 0.5, "poisson", 0.7788)],
)
def test_chips_json_reproduces_example_d(area, d0, model, expected):
    data = chips_json("--die-mm2", str(area * 100), "--d0", str(d0), "--model", model)
    assert round(data["yield"], 4) == expected
    assert data["good_dies"] == pytest.approx(data["gross_dies"] * data["yield"])
    assert data["cost_per_good_die"] == pytest.approx(17000 / data["good_dies"])


def test_chips_issue_example_and_package_cost():
    data = chips_json(
        "--wafer-mm",
        "300",
        "--edge-mm",
        "3",
        "--scribe-mm",
        "0.1",
        "--die-w-mm",
        "26",
        "--die-h-mm",
        "31.3",
        "--d0",
        "0.1",
        "--model",
        "negbin",
        "--alpha",
        "2",
        "--wafer-cost",
        "17000",
        "--hbm-stacks",
        "5",
        "--hbm-cost",
        "290",
    )
    assert data["yield"] == pytest.approx((1 + 8.138 * 0.1 / 2) ** -2)  # NB, A = 8.138 cm²
    assert data["cost_breakdown"]["hbm"] == 1450
    assert data["cost_per_accelerator"] == pytest.approx(data["cost_per_good_die"] + 1450)


def test_chips_table_output():
    result = invoke("chips", "--die-mm2", "100")
    assert result.exit_code == 0
    assert "cost per good die" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--die-mm2", "-5"],
        ["--die-w-mm", "10"],
        ["--die-mm2", "100", "--d0", "-1"],
        ["--die-mm2", "100", "--model", "lucky"],
        ["--die-mm2", "100", "--die-w-mm", "3"],
        ["--die-mm2", "100", "--units", "4", "--max-bad-units", "4"],
    ],
)
def test_chips_rejects_bad_input_with_usage_error(args):
    result = invoke("chips", *args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_wafers_json_on_tigris():
    result = invoke("wafers", str(TIGRIS), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {row["product"] for row in data["economics"]} == {"tigris_n3"}  # the bought H100s need no wafers
    assert len(data["wafers"]) == 32


def test_wafers_prints_the_accelerators_to_wafers_table():
    result = invoke("wafers", str(TIGRIS))
    assert result.exit_code == 0, result.output
    assert "Accelerators → wafers by year" in result.stdout
    assert "tigris_n3" in result.stdout


def test_run_plans_stores_and_reports_the_default_scenario(tmp_path):
    store, reports = tmp_path / "runs.duckdb", tmp_path / "reports"
    args = ["run", str(TIGRIS), "--store", str(store), "--out", str(reports)]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "valid scenario" in result.stdout and "Fabs built" in result.stdout
    # the decision figures come before the tables
    decision = result.stdout.index("Decision: what the network adds")
    assert decision < result.stdout.index("Fabs built") < result.stdout.index("Key figures")
    for text in (
        "accelerators the network adds",
        "fab company IRR",
        "IRR of G42",  # each investor by the name tigris.yaml gives it
        "IRR of SoftBank",
        "buyer's cost per accelerator, with the network",
        "market price per accelerator",
        "Deal range:",
    ):
        assert text in result.stdout
    assert "optimal to within 0.20% of the best bound" in result.stdout
    assert f"run 1 stored in {store}" in result.stdout.replace("\n", "")
    assert (reports / "runs-run-1.html").exists()
    assert invoke(*args).exit_code == 0
    listed = invoke("runs", "list", "--store", str(store))
    assert listed.exit_code == 0 and "tigris" in listed.stdout
    shown = invoke("runs", "show", "2", "--store", str(store))
    assert "scenario hash" in shown.stdout and "fab company NPV" in shown.stdout
    compared = invoke("runs", "compare", "1", "2", "--store", str(store))
    assert "Inputs: what differs between run 1, run 2" in compared.stdout and "same" in compared.stdout
    redrawn = invoke("report", "1", "--store", str(store), "--out", str(tmp_path / "again.html"))
    assert redrawn.exit_code == 0 and (tmp_path / "again.html").exists()
    missing = invoke("runs", "show", "9", "--store", str(store))
    assert missing.exit_code == 2 and "no run 9" in missing.stderr


def test_installed_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "fabnet", "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == f"fabnet {__version__}"


def write_tiny(tmp_path, **site_changes):
    import yaml

    from tests.plan.conftest import site, tiny

    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny(sites=[site("alpha", **site_changes)])))
    return path


def test_plan_json_is_pure_json_with_status(tmp_path):
    result = invoke("plan", str(write_tiny(tmp_path)), "--json", "--gap", "0")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"]["optimal"] is True
    assert data["builds"][0]["site"] == "alpha"
    assert {"supply", "budget", "messages", "fabco_npv_usd", "system_cost_usd"} <= set(data)


def test_plan_that_cannot_be_paid_for_exits_3_with_the_numbers(tmp_path):
    path = write_tiny(tmp_path, mandatory=True, capex_per_module_usd={"building": 2e9, "tools": 10e9})
    result = invoke("plan", str(path))
    assert result.exit_code == 3
    assert "site 'alpha' needs $12.00 B by 2025Q1 but the investors commit $1.00 B by then" in result.stderr
    assert "Traceback" not in result.output


def test_plan_table_output(tmp_path):
    result = invoke("plan", str(write_tiny(tmp_path)), "--time-limit", "30")
    assert result.exit_code == 0, result.output
    for heading in (
        "Fabs built",
        "Accelerators delivered versus demand",
        "The fab company's budget per year",
        "Fab company NPV at",
        "planner objective: system cost",
    ):
        assert heading in result.stdout


def test_finance_prints_cash_flows_and_investors():
    result = invoke("finance", str(TIGRIS))
    assert result.exit_code == 0, result.output
    for text in (
        "The fab company: cash flows per year",
        "Investors",
        "softbank",
        "NPV at 9.5 %",
        "The buyer: costs per year",
        "The buyer per product",
    ):
        assert text in result.stdout


def test_finance_json(tmp_path):
    result = invoke("finance", str(write_tiny(tmp_path)), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["investors"][0]["investor"] == "i"
    assert {"fabco_npv_usd", "fabco_irr", "buyer_cost_per_accelerator_usd"} <= set(data["metrics"])


def test_finance_and_plan_json_are_the_apis_result_objects(tmp_path):
    """--json prints the API's result objects (issue 29): `fabnet finance --json` is
    fabnet.financials(…).to_dict(), `fabnet plan --json` fabnet.api.plan_dict(…), both written by
    fabnet.api.json_text; only the solver's wall time (and the status line naming it) may differ."""
    from fabnet import api

    path = write_tiny(tmp_path)
    scenario = api.load(path)
    plan = api.plan_network(scenario, gap=0)
    money = api.financials(scenario, plan)
    finance = invoke("finance", str(path), "--json", "--gap", "0")
    assert finance.exit_code == 0, finance.output
    assert json.loads(finance.stdout) == json.loads(api.json_text(money.to_dict()))
    planned = invoke("plan", str(path), "--json", "--gap", "0")
    assert planned.exit_code == 0, planned.output
    printed, expected = json.loads(planned.stdout), json.loads(api.json_text(api.plan_dict(plan, money, scenario)))
    for document in (printed, expected):
        document["status"].pop("seconds"), document["status"].pop("description")  # both name the time
    assert printed == expected
    assert {"builds", "supply", "budget", "status", "fabco_npv_usd"} <= set(printed)


def test_simulate_prints_kpis(hvlm):
    result = invoke("simulate", "--days", "2", "--rule", "cr", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert "HVLM, cr, 2 days" in result.stdout and "Busiest tool families" in result.stdout


def test_simulate_json_and_the_reference_kernel_agree(hvlm):
    fast = json.loads(invoke("simulate", "--days", "1", "--json").stdout)
    slow = json.loads(invoke("simulate", "--days", "1", "--json", "--kernel", "python").stdout)
    assert fast["lots"] == slow["lots"]


def test_load_curve_writes_a_curve_the_planner_can_read(hvlm, tmp_path):
    from fabnet.network.loadcurve import curve_from_rows

    out = tmp_path / "curve.json"
    result = invoke(
        "load-curve", "--loads", "0.3,0.5,0.7", "--seeds", "1", "--days", "40", "--warmup-days", "20", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "fit: x_factor = " in result.stdout and f"written to {out}" in result.stdout
    document = json.loads(out.read_text())
    assert [r["load"] for r in document["points"]] == [0.3, 0.5, 0.7]
    refit = curve_from_rows("x", document["points"])
    assert document["fit"]["x0"] == pytest.approx(refit.x0)
    assert document["provenance"]["dataset"] == "HVLM"


def test_load_curve_refuses_bad_loads():
    result = invoke("load-curve", "--loads", "0.5,high")
    assert result.exit_code == 2 and "--loads" in result.output


def test_simulate_missing_data_exits_2(tmp_path, monkeypatch):
    monkeypatch.setenv("FABNET_SMT2020_DIR", str(tmp_path))
    result = invoke("simulate", "--dataset", "NOPE", "--data", str(tmp_path), "--days", "1")
    assert result.exit_code == 2
    assert "FABNET_SMT2020_DIR" in result.stderr


def test_simulate_curve_json(hvlm):
    result = invoke("simulate", "--curve", "--days", "4", "--warmup-days", "2", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["release_scale"] for r in rows] == [0.5, 0.7, 0.85, 0.95, 1.0, 1.05]


def test_risk_sweep_and_resume_from_the_command_line(tmp_path, monkeypatch):
    import yaml

    import fabnet.pipeline
    from tests.plan.conftest import tiny

    data = tiny(
        uncertainty=[
            {"path": "products.chip.demand.per_quarter", "dist": "normal", "apply": "multiply", "mean": 1.0, "sd": 0.2}
        ]
    )
    path = tmp_path / "risky.yaml"
    path.write_text(yaml.safe_dump(data))
    store = str(tmp_path / "risk.duckdb")
    plans, make_plan = [], fabnet.pipeline.make_plan
    monkeypatch.setattr(fabnet.pipeline, "make_plan", lambda *args: plans.append(args) or make_plan(*args))
    monkeypatch.setattr(fabnet.pipeline, "plan_check", lambda *args: pytest.fail("checked without --check"))
    fixed = invoke("risk", str(path), "--samples", "500", "--store", store)
    assert fixed.exit_code == 0, fixed.output
    assert "Risk of run 1 (builds fixed): 500 samples" in fixed.stdout
    assert len(plans) == 1  # the base plan, which the sweep reuses; no counterfactual: a sweep never reads it
    base = fabnet.stored(1, store)
    assert base.kind == "risk" and len(base.tables["risk_samples"]) == 500
    assert "deal_points" not in base.tables and "counterfactual_supply" not in base.tables
    assert "network_adds_accelerators" not in base.figures and "fabco_npv_usd" in base.figures
    monkeypatch.undo()
    store = str(tmp_path / "risk2.duckdb")
    result = invoke("risk", str(path), "--samples", "3", "--reoptimise", "--workers", "1", "--store", store)
    assert result.exit_code == 0, result.output
    assert "Risk of run 1: 3 samples" in result.stdout and "What moves the fab company's NPV most" in result.stdout
    again = invoke("risk", "--resume", "1", "--reoptimise", "--workers", "1", "--store", store)
    assert again.exit_code == 0 and "Risk of run 1: 3 samples" in again.stdout
    not_a_sweep = invoke("run", str(MINIMAL), "--store", store, "--out", str(tmp_path))
    assert not_a_sweep.exit_code == 0
    refused = invoke("risk", "--resume", "2", "--reoptimise", "--store", store)
    assert refused.exit_code == 2 and "not a risk sweep" in refused.stderr


def test_a_robust_plan_from_the_command_line_is_printed_and_stored(tmp_path):
    import yaml

    import fabnet
    from tests.plan.conftest import tiny

    demand = {
        "path": "products.chip.demand.per_quarter",
        "dist": "uniform",
        "apply": "multiply",
        "low": 0.4,
        "high": 1.6,
    }
    path = tmp_path / "uncertain.yaml"
    path.write_text(yaml.safe_dump(tiny(uncertainty=[demand])))
    store = str(tmp_path / "robust.duckdb")
    args = ("plan", str(path), "--robust", "3", "--out-of-sample", "40", "--risk-weight", "0.5", "--cvar", "0.8")
    result = invoke(*args, "--store", store, "--label", "mean-CVaR")
    assert result.exit_code == 0, result.output
    assert "Robust plan for 3 futures" in result.stdout and "(CVaR at 0.8: the worst 20 % of futures)" in result.stdout
    assert "Both plans on 40 fresh futures" in result.stdout and "robust run 1 stored in" in result.stdout
    stored = fabnet.stored(1, store)
    assert stored.kind == "robust" and stored.tables["robust_spec"].iloc[0]["risk_weight"] == 0.5
    refused = invoke("plan", str(MINIMAL), "--robust", "3")
    assert refused.exit_code == 2 and "no uncertainty section" in refused.stderr
    asked = tiny(uncertainty=[demand], planning={"robust": {"futures": 2, "out_of_sample": 25, "solver": "benders"}})
    path.write_text(yaml.safe_dump(asked))
    from_file = invoke("plan", str(path), "--workers", "1")
    assert from_file.exit_code == 0, from_file.output
    assert "Robust plan for 2 futures" in from_file.stdout and "Both plans on 25 fresh futures" in from_file.stdout
    # `fabnet run` plans a scenario's robust section too: stored as kind robust, with its report
    whole = invoke("run", str(path), "--store", store, "--out", str(tmp_path), "--workers", "1")
    assert whole.exit_code == 0, whole.output
    assert "Robust plan for 2 futures" in whole.stdout and "Decision:" in whole.stdout
    assert fabnet.stored(2, store).kind == "robust" and (tmp_path / "robust-run-2.html").exists()


def test_run_takes_a_seed_and_keeps_it_with_the_run(tmp_path):
    from fabnet.api import scenario_of, stored

    store = str(tmp_path / "s.duckdb")
    result = invoke("run", str(MINIMAL), "--seed", "42", "--no-check", "--store", store, "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    run = stored(1, store)
    assert scenario_of(run).seed == 42
    assert "seed=42" in str(run.meta["overrides"])


def test_shell_completion_is_installable():
    """Typer's completion (issue 31): `fabnet --show-completion bash` prints the script that
    `--install-completion` installs, and completing `fabnet ru` offers run, runs."""
    result = invoke("--show-completion", "bash")
    assert result.exit_code == 0, result.output
    assert "_FABNET_COMPLETE=complete_bash" in result.stdout
    import os
    import subprocess
    import sys

    env = os.environ | {"_FABNET_COMPLETE": "complete_bash", "COMP_WORDS": "fabnet ru", "COMP_CWORD": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "fabnet"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert {"run", "runs"} <= set(done.stdout.split()), done.stdout + done.stderr


def _commands():
    import typer.main

    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group, e.g. `runs`, `data`
            yield from ((f"{name} {sub}", c) for sub, c in command.commands.items())
        else:
            yield name, command


#: Each shared option has one name on every command that takes it (issue 31).
SHARED = {"store": "--store", "overrides": "--set", "as_json": "--json", "seed": "--seed", "label": "--label"}
#: Where a command writes its file or folder: always --out.
OUTPUT = {"report_dir", "output", "folder", "save_to"}


@pytest.mark.parametrize(("name", "command"), list(_commands()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_command_names_its_shared_options_alike(name, command):
    for param in command.params:
        if param.name in SHARED:
            assert SHARED[param.name] in param.opts, f"fabnet {name}: {param.opts} should be {SHARED[param.name]}"
        if param.name in OUTPUT:
            assert "--out" in param.opts, f"fabnet {name}: its output is {param.opts}, not --out"
    assert invoke(*name.split(), "--help").exit_code == 0


def test_run_risk_and_the_runs_commands_print_json_a_pipe_can_read(tmp_path):
    """--json on every command that prints figures (issue 31): one JSON document on stdout, the
    same figures the API's stored run holds."""
    from fabnet.api import stored

    store = str(tmp_path / "s.duckdb")
    ran = invoke("run", str(MINIMAL), "--no-check", "--json", "--store", store, "--out", str(tmp_path))
    assert ran.exit_code == 0, ran.output
    document = json.loads(ran.stdout)
    run = stored(document["run_id"], store)
    assert document["figures"]["fabco_npv_usd"] == pytest.approx(run.figures["fabco_npv_usd"])
    assert document["report"].endswith(".html") and document["store_error"] is None
    listed = json.loads(invoke("runs", "list", "--json", "--store", store).stdout)
    assert [row["run_id"] for row in listed] == [document["run_id"]]
    shown = json.loads(invoke("runs", "show", str(document["run_id"]), "--json", "--store", store).stdout)
    assert shown["figures"].keys() == document["figures"].keys()
    assert shown["figures"]["fabco_npv_usd"] == pytest.approx(document["figures"]["fabco_npv_usd"])
    assert "builds" in shown["tables"]
    again = invoke("run", str(MINIMAL), "--no-check", "--json", "--store", store, "--out", str(tmp_path))
    second = json.loads(again.stdout)["run_id"]
    compared = invoke("runs", "compare", str(document["run_id"]), str(second), "--json", "--store", store)
    assert compared.exit_code == 0, compared.output
    rows = json.loads(compared.stdout)
    npv = next(row for row in rows if row["name"] == "fabco_npv_usd")
    assert npv["difference"] == pytest.approx(0.0)  # the same inputs, the same figures
    assert (
        compared.stdout
        == invoke("runs", "compare", str(document["run_id"]), str(second), "--format", "json", "--store", store).stdout
    )


def test_risk_prints_its_summary_as_json(tmp_path):
    store = str(tmp_path / "s.duckdb")
    result = invoke("risk", str(TIGRIS), "--samples", "16", "--json", "--store", store)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert {row["figure"] for row in document["headline"]} >= {"fabco_npv_usd"}
    assert len(document["per_year"]) == 8  # tigris: 2024-2031


def test_init_writes_a_starter_that_validates_and_never_overwrites(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no scenarios/ here: the shipped copy is found beside fabnet
    result = invoke("init", "mine.yaml")
    assert result.exit_code == 0, result.output
    written = (tmp_path / "mine.yaml").read_text()
    assert written.startswith("# A starter scenario written by `fabnet init`")
    assert written.endswith(TIGRIS.read_text())  # the shipped tigris.yaml, comments and sources kept
    assert invoke("validate", "mine.yaml").exit_code == 0
    again = invoke("init", "mine.yaml")
    assert again.exit_code != 0 and "--force" in again.output
    assert invoke("init", "mine.yaml", "--from", "global", "--force").exit_code == 0
    assert invoke("init", "other.yaml", "--from", "nowhere").exit_code == 2
