"""The one-way data flow of ARCHITECTURE.md, kept by walking every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parent.parent / "src" / "fabnet"

# package → fabnet packages it may import (besides itself), from ARCHITECTURE.md "Layout";
# None: any package (but never `fabnet` itself, and the CLI only from __main__).
ALLOWED = {
    "core": set(),
    "scenario": {"core"},
    "chips": {"core"},
    # scenario → engine inputs (issue 29): the planner's arrays, capacity from builds, a site's D0
    "network": {"core", "scenario", "chips"},
    # what fabnet keeps between commands (a solved plan, a parsed dataset, a fab's simulation):
    # a service beside core, which may not import platformdirs (ARCHITECTURE.md: stdlib + numpy)
    "cache": {"core"},
    "plan": {"core", "scenario", "chips", "network", "cache"},
    "fabsim": {"core", "cache"},
    "finance": {"core", "scenario"},
    # risk also reads the planner's arrays and chip yields for its fixed-plan mode (they sit below
    # it in the data flow, so no cycle): ARCHITECTURE.md listed only core, scenario, pipeline.
    # and it writes each sample to the store as it finishes (a killed sweep resumes from there)
    "risk": {"core", "scenario", "pipeline", "chips", "network", "plan", "finance", "store"},
    "store": {"core"},
    "report": {"core", "store"},
    "check": {"core", "scenario", "network", "plan", "fabsim", "cache"},
    "pipeline": {
        "core",
        "scenario",
        "chips",
        "network",
        "plan",
        "fabsim",
        "finance",
        "store",
        "check",
        "result",
        "simulated",
    },
    # the simulator's results as the network reads them (the pipeline's simulation stage)
    "simulated": {"core", "scenario", "network", "fabsim"},
    # how every result is read (issue 31: run, decide and refinance alike), and a stored run's
    # plan rebuilt from its tables: beside the pipeline, below the API
    "result": {"core", "plan", "finance", "store"},
    # fabnet.api is the one façade (issue 29): the CLI and the web app import it, the terminal
    # kit (cli.terminal, inside cli) and core, nothing else of fabnet; the API reaches every
    # engine, through its private helpers _jobs (the robust dispatch), _documents (the results'
    # JSON documents) and _engines (the engines' names it passes on, read by type checkers only)
    "cli": {"core", "api"},
    "web": {"core", "api"},
    "api": None,  # everything
    "_jobs": None,
    "_documents": None,
    "_engines": None,
    "__init__": {"api", "core"},
    "__main__": {"cli"},
}
#: Who may import the pipeline (the stages wired together): the API and its helpers, and risk,
#: which runs the pipeline for each sample; the CLI and the web app reach it through the API.
PIPELINE_CLIENTS = {"pipeline", "api", "_jobs", "_documents", "_engines", "risk"}
#: Nothing imports the CLI but itself and `python -m fabnet`.
CLI_CLIENTS = {"cli", "__main__"}
# Single modules a layer may import beyond its packages. The scenario schema takes the names of
# the simulator's dispatching rules from their registry (issue 16: a rule is named once);
# fabsim.rules imports nothing of fabnet and nothing heavy, and fabsim never imports scenario.
ALLOWED_MODULES = {"scenario": {"fabnet.fabsim.rules"}}
# Third-party packages the bottom layer may use (ARCHITECTURE.md: core is stdlib + numpy).
CORE_THIRD_PARTY = {"numpy"}


def modules():
    return sorted(SRC.rglob("*.py"))


def layer_of(path: Path) -> str:
    parts = path.relative_to(SRC).parts
    return parts[0] if len(parts) > 1 else path.stem


def imports_of(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def violations(path: Path, layer: str) -> list[str]:
    """fabnet imports of `path` that its layer may not make: a package outside its ALLOWED set,
    the pipeline outside PIPELINE_CLIENTS, the CLI outside CLI_CLIENTS, and `fabnet` itself
    (`import fabnet`, `from fabnet import __version__`: an arrow back up to the top)."""
    allowed = ALLOWED[layer]
    found = []
    for name in imports_of(path):
        top, _, rest = name.partition(".")
        if top != "fabnet" or name in ALLOWED_MODULES.get(layer, ()):
            continue
        target = rest.split(".")[0]  # "" for `import fabnet` or `from fabnet import __version__`
        outside = allowed is not None and target not in allowed
        restricted = (target == "pipeline" and layer not in PIPELINE_CLIENTS) or (
            target == "cli" and layer not in CLI_CLIENTS
        )
        if target == "" or (target != layer and (outside or restricted)):
            found.append(name)
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_follow_the_layers(path):
    layer = layer_of(path)
    assert layer in ALLOWED, f"{layer} is not in ARCHITECTURE.md's layout; add it to ALLOWED"
    assert violations(path, layer) == []


@pytest.mark.parametrize("path", sorted((SRC / "core").rglob("*.py")), ids=lambda p: p.name)
def test_core_uses_only_stdlib_and_numpy(path):
    import sys

    for name in imports_of(path):
        top = name.split(".")[0]
        if top in sys.stdlib_module_names or top in {"fabnet", "__future__"}:
            continue
        assert top in CORE_THIRD_PARTY, f"core/{path.name} imports {top}"


def test_the_check_catches_an_engine_importing_another(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from fabnet.plan import build_model\nimport fabnet.core.periods\n")
    assert violations(bad, "finance") == ["fabnet.plan"]


@pytest.mark.parametrize(
    ("layer", "line", "caught"),
    [
        ("cli", "from fabnet.pipeline import main_job", "fabnet.pipeline"),  # past the façade
        ("cli", "from fabnet.store.compare import distinct", "fabnet.store.compare"),
        ("web", "from fabnet.report import report_html", "fabnet.report"),
        ("web", "from fabnet.store.pg import is_postgres", "fabnet.store.pg"),
        ("store", "from fabnet import __version__", "fabnet"),  # back up to the top
        ("pipeline", "import fabnet", "fabnet"),
        ("api", "from fabnet import __version__", "fabnet"),
        ("report", "from fabnet.cli.terminal import out", "fabnet.cli.terminal"),
        ("api", "from fabnet.cli.terminal import out", "fabnet.cli.terminal"),  # nothing imports the CLI
        ("check", "from fabnet.pipeline import decide", "fabnet.pipeline"),
        ("_engines", "from fabnet.cli import app", "fabnet.cli"),
    ],
)
def test_the_check_catches_an_import_past_the_facade(tmp_path, layer, line, caught):
    bad = tmp_path / "bad.py"
    bad.write_text(f"{line}\nimport fabnet.core.periods\nfrom fabnet.api import load\n")
    assert caught in violations(bad, layer)


def test_the_cli_and_the_web_app_reach_fabnet_through_the_api_and_core_only():
    """What the rule above means for the two front ends, said once more by name (issue 29)."""
    for front in ("cli", "web"):
        for path in sorted((SRC / front).rglob("*.py")):
            reached = {name.split(".")[1] for name in imports_of(path) if name.startswith("fabnet.")}
            assert reached <= {"api", "core", front}, (path.name, reached)


def test_the_fab_simulators_modules_form_no_import_circle():
    """engine → fast → engine was a circle (issue 16): each fabsim module's fabnet.fabsim
    imports, functions' own included, must be acyclic."""
    folder = SRC / "fabsim"
    graph = {
        path.stem: {
            name.removeprefix("fabnet.fabsim.") for name in runtime_imports(path) if name.startswith("fabnet.fabsim.")
        }
        for path in folder.glob("*.py")
    }
    graph = {
        module: {m for m in uses if m in graph and m != module}
        for module, uses in graph.items()
        if module != "__init__"
    }
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import circle: {' → '.join((*path, module))}"
        if module not in done:
            for used in graph.get(module, ()):
                visit(used, (*path, module))
            done.add(module)

    for module in graph:
        visit(module, ())


def runtime_imports(path: Path) -> set[str]:
    """The modules `path` imports when it runs: those under `if TYPE_CHECKING:` are for type
    checkers only and make no circle."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            node.body = []
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_rule_registry_imports_nothing_heavy():
    """The schema and the CLI read fabsim.rules: it may import neither fabnet nor numpy."""
    names = imports_of(SRC / "fabsim" / "rules.py")
    import sys

    assert {name.split(".")[0] for name in names} <= set(sys.stdlib_module_names) | {"__future__"}, names
