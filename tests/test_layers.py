"""The one-way data flow of ARCHITECTURE.md, kept by walking every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parent.parent / "src" / "fabnet"

# package → fabnet packages it may import (besides itself), from ARCHITECTURE.md "Layout".
ALLOWED = {
    "core": set(),
    "scenario": {"core"},
    "chips": {"core"},
    # scenario → engine inputs (issue 29): the planner's arrays, capacity from builds, a site's D0
    "network": {"core", "scenario", "chips"},
    "plan": {"core", "scenario", "chips", "network"},
    "fabsim": {"core"},
    "finance": {"core", "scenario"},
    # risk also reads the planner's arrays and chip yields for its fixed-plan mode (they sit below
    # it in the data flow, so no cycle): ARCHITECTURE.md listed only core, scenario, pipeline.
    # and it writes each sample to the store as it finishes (a killed sweep resumes from there)
    "risk": {"core", "scenario", "pipeline", "chips", "network", "plan", "finance", "store"},
    "store": {"core"},
    "report": {"core", "store"},
    # the deal room (web.dealroom) re-finances a stored plan under the terms a visitor sets,
    # through the Python API, the façade the CLI and the web app share
    "web": {"core", "store", "report", "api"},
    "check": {"core", "scenario", "network", "plan", "fabsim"},
    "pipeline": {"core", "scenario", "chips", "network", "plan", "fabsim", "finance", "store", "check"},
    # what the CLI prints: it reads the results of every stage below the pipeline (and names the
    # pipeline's and the store's result types), and none of them imports it
    "views": {
        "core",
        "scenario",
        "chips",
        "network",
        "plan",
        "fabsim",
        "finance",
        "store",
        "check",
        "pipeline",
        "risk",
    },
    "cli": None,  # everything
    "api": None,  # everything: the Python API, as the CLI
    "__init__": {"api"},
    "__main__": {"cli"},
}
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
    """fabnet imports of `path` that its layer may not make."""
    allowed = ALLOWED[layer]
    found = []
    for name in imports_of(path):
        top, _, rest = name.partition(".")
        target = rest.split(".")[0]  # "" for `from fabnet import __version__`
        if name in ALLOWED_MODULES.get(layer, ()):
            continue
        if top == "fabnet" and allowed is not None and target not in ("", layer, *allowed):
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
