"""Scenario files → a validated, frozen `Scenario`, or one `ScenarioError` that says what to fix.

The steps: read YAML (keeping the parser's node tree so errors can name a line), follow
`extends:` chains, apply `--set` overrides, validate with the schema, then run the semantic
checks. Whatever goes wrong is reported as the first problem found, located in the file (or
the override) it came from.
"""

from __future__ import annotations

import copy
import errno
import json
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from fabnet.core.errors import Loc, Problem, ScenarioError
from fabnet.scenario import yamltext
from fabnet.scenario.checks import check_scenario
from fabnet.scenario.paths import PathError, parse_path, set_at
from fabnet.scenario.problems import first_problem, shorten, show
from fabnet.scenario.schema import Origin, Scenario

#: --set texts ("path=value") or a mapping {path: value}
Overrides = Sequence[str] | Mapping[str, Any]

EXTENDS_KEY = "extends"
MAX_EXTENDS = 16  # files in one chain of extends


@dataclass
class _Source:
    label: str
    root: yaml.Node


@dataclass
class _Raw:
    """Merged data plus where each part of it came from, for error locations."""

    data: dict[str, Any]
    files: list[_Source] = field(default_factory=list)  # most derived first
    overrides: list[tuple[Loc, str]] = field(default_factory=list)


def load_scenario(path: str | Path, overrides: Overrides | str | None = ()) -> Scenario:
    """Read, merge, override, validate and check a scenario file. Overrides are "path=value"
    texts, as --set takes them, or a mapping {path: value}. A run's workbook (.xlsx, from
    `fabnet export`) is its scenario as run with the edits of its inputs sheet (scenario.workbook)."""
    if Path(path).suffix.lower() == ".xlsx":
        from fabnet.scenario.workbook import load_workbook_scenario  # it reads this module

        return load_workbook_scenario(path, overrides)
    raw = _read_with_extends(Path(path), chain=())
    return _checked(raw, Origin(str(path), ()), overrides)


def with_overrides(scenario: Scenario, overrides: Overrides | str | None) -> Scenario:
    """The scenario with overrides applied, validated and checked again as a file would be."""
    raw = _Raw(scenario.model_dump(by_alias=True, mode="json"))
    return _checked(raw, scenario.origin, overrides)


def _checked(raw: _Raw, origin: Origin, overrides: Overrides | str | None) -> Scenario:
    texts = override_texts(overrides)
    for assignment in texts:
        _apply_override(raw, assignment)
    scenario = _validate(raw)
    problems = check_scenario(scenario)
    if problems:
        raise _error(raw, problems[0], more=len(problems) - 1)
    scenario._origin = Origin(origin.file, (*origin.overrides, *texts))
    return scenario


def override_texts(overrides: Overrides | str | None) -> tuple[str, ...]:
    """Overrides as "path=value" texts; a mapping's values written as YAML flow (`[1, 2]`); one
    text is one override (not a sequence of characters)."""
    if overrides is None:
        return ()
    if isinstance(overrides, str):
        return (overrides,)
    if isinstance(overrides, Mapping):
        return tuple(f"{path}={yamltext.flow(value)}" for path, value in overrides.items())
    return tuple(overrides)


def parse_override(assignment: str, label: str = "--set") -> tuple[tuple[str | int, ...], Any]:
    """'sites.arizona.lead_time_q=14' -> (('sites', 'arizona', 'lead_time_q'), 14).
    The value is read as YAML, so numbers, lists and null work as in a file."""
    path_text, sep, value_text = assignment.partition("=")
    if not sep or not path_text.strip():
        raise ValueError("an override looks like path.to.field=value")
    value = yamltext.parse(value_text, label)[0] if value_text.strip() else None
    return parse_path(path_text), value


# --- reading -------------------------------------------------------------------------------


def _read_with_extends(path: Path, chain: tuple[Path, ...]) -> _Raw:
    data, root = _read_yaml(path, echo=not chain)
    source = _Source(str(path), root)
    if EXTENDS_KEY not in data:
        return _Raw(data=data, files=[source])
    line = _line_of(root, data, (EXTENDS_KEY,))
    base_name = data.pop(EXTENDS_KEY)
    if not isinstance(base_name, str) or not base_name.strip() or "\0" in base_name:
        raise ScenarioError(
            Problem((EXTENDS_KEY,), show(base_name), "the path of another scenario file"),
            file=str(path),
            line=line,
        )
    if len(chain) + 2 > MAX_EXTENDS:  # this file, those before it and the one it extends
        raise ScenarioError(
            Problem(
                (EXTENDS_KEY,),
                f"a chain of more than {MAX_EXTENDS} files",
                f"at most {MAX_EXTENDS} files extending one another",
            ),
            file=str(path),
            line=line,
        )
    here, base_path = _resolved(path, path, line), _resolved(path.parent / base_name, path, line)
    if base_path in chain or base_path == here:
        cycle = " → ".join(str(p) for p in (*chain, here, base_path))
        raise ScenarioError(
            Problem((EXTENDS_KEY,), f"a cycle: {cycle}", "a chain of extends that ends"),
            file=str(path),
        )
    base = _read_with_extends(base_path, (*chain, here))
    return _Raw(data=_merge(base.data, data), files=[source, *base.files])


def _resolved(path: Path, owner: Path, line: int) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError) as exc:  # a loop of symbolic links (RuntimeError before 3.13)
        raise ScenarioError(
            Problem((EXTENDS_KEY,), f"{path}, which cannot be followed ({exc})", "the path of another scenario file"),
            file=str(owner),
            line=line,
        ) from None


def _read_yaml(path: Path, echo: bool = True) -> tuple[dict[str, Any], yaml.Node]:
    """The file's mapping. What else a file holds is shown only for the file the user named:
    one reached by `extends:` may be anyone's (extends: /etc/passwd), and is named, not quoted."""
    data, root = yamltext.parse(_read_text(path), str(path))
    if not isinstance(data, dict) or root is None:
        found = (
            show(data) if echo else f"a {type(data).__name__ if data is not None else 'empty'} document, not a scenario"
        )
        raise ScenarioError(
            Problem((), found, "a mapping with keys such as name, horizon, nodes, products"),
            file=str(path),
            line=root.start_mark.line + 1 if root is not None else None,
        )
    return data, root


def _read_text(path: Path) -> str:
    try:
        # non-blocking, and regular files only: a FIFO or /dev/stdin would wait for a writer forever
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            os.close(descriptor)
            raise OSError(errno.EINVAL, "not a regular file")
        with os.fdopen(descriptor, "rb") as stream:
            # one byte more than allowed, so a large (or sparse, or growing) file is never read whole
            content = stream.read(yamltext.MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError(
            Problem((), "no such file", "an existing scenario file (YAML), e.g. scenarios/tigris.yaml"),
            file=str(path),
        ) from None
    except OSError as exc:
        raise ScenarioError(
            Problem(
                (), f"a file that cannot be read ({exc.strerror or exc.__class__.__name__})", "a readable YAML file"
            ),
            file=str(path),
        ) from None
    if len(content) > yamltext.MAX_FILE_BYTES:
        raise ScenarioError(
            Problem(
                (),
                f"a file larger than {yamltext.MAX_FILE_BYTES:,} bytes",
                f"a scenario of at most {yamltext.MAX_FILE_BYTES:,} bytes (the default one has "
                "16 kB); long series belong in a path by year or quarter",
            ),
            file=str(path),
        )
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(
            Problem((), f"bytes that are not UTF-8 (byte {exc.start + 1})", "a UTF-8 text file"),
            file=str(path),
            line=line,
        ) from None


def _merge(base: Any, override: Any) -> Any:
    """Deep merge for `extends`: mappings merge key by key; lists of entries with ids merge by
    id (an entry with a known id updates it, a new id is appended); anything else is replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    if _is_id_list(base) and _is_id_list(override):
        merged_list = list(base)
        position = {item["id"]: i for i, item in enumerate(merged_list)}
        for item in override:
            if item["id"] in position:
                merged_list[position[item["id"]]] = _merge(merged_list[position[item["id"]]], item)
            else:
                merged_list.append(item)
        return merged_list
    return override


def _is_id_list(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, dict) and isinstance(v.get("id"), str | int) and not isinstance(v["id"], bool) for v in value
    )


def _apply_override(raw: _Raw, assignment: str) -> None:
    label = f"--set {shorten(assignment)}"
    try:
        segments, value = parse_override(assignment, label)
        raw.data = copy.deepcopy(raw.data)
        loc = set_at(raw.data, segments, value)
    except (ValueError, PathError, yaml.YAMLError) as exc:
        raise ScenarioError(
            Problem(
                (),
                str(exc).splitlines()[0],
                "path.to.field=value with a path that exists, e.g. sites.arizona.lead_time_q=14",
            ),
            file=label,
        ) from None
    raw.overrides.append((loc, label))


# --- validating ----------------------------------------------------------------------------


def _validate(raw: _Raw) -> Scenario:
    try:
        return Scenario.model_validate(raw.data)
    except ValidationError as exc:
        first, count = first_problem(exc)
        raise _error(raw, first, more=count - 1) from None


def _error(raw: _Raw, problem: Problem, more: int = 0) -> ScenarioError:
    file, line = _locate(raw, problem.loc)
    return ScenarioError(problem, file=file, line=line, more=more)


# --- where in which file -------------------------------------------------------------------


def _locate(raw: _Raw, loc: Loc) -> tuple[str | None, int | None]:
    for override_loc, label in reversed(raw.overrides):
        shared = min(len(override_loc), len(loc))
        if override_loc[:shared] == loc[:shared]:
            return label, None
    if not raw.files:  # a scenario changed in code (with_overrides): no file to point into
        return None, None
    best = max(raw.files, key=lambda source: _walk(source.root, raw.data, loc)[0])
    return best.label, _walk(best.root, raw.data, loc)[1]


def _line_of(root: yaml.Node, data: Any, loc: Loc) -> int:
    return _walk(root, data, loc)[1]


def _walk(node: yaml.Node, data: Any, loc: Loc) -> tuple[int, int]:
    """How deep `loc` goes into this file's node tree, and the line it reaches.
    List entries are matched by id, so a merged list still finds the file that set a field."""
    depth, line = 0, node.start_mark.line + 1
    for key in loc:
        child = _child(node, data, key)
        if child is None:
            break
        node, depth, line = child, depth + 1, child.start_mark.line + 1
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            data = None
    return depth, line


def _child(node: yaml.Node, data: Any, key: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        return next((v for k, v in node.value if str(k.value) == str(key)), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int):
        entry = data[key] if isinstance(data, list) and key < len(data) else None
        if isinstance(entry, dict) and "id" in entry:
            for item in node.value:
                if isinstance(item, yaml.MappingNode) and any(
                    k.value == "id" and v.value == str(entry["id"]) for k, v in item.value
                ):
                    return item
            return None
        return node.value[key] if key < len(node.value) else None
    return None


def scenario_text(scenario: Scenario) -> str:
    """The scenario as resolved (extends and --set applied), as YAML: what a run really used."""
    return yaml.safe_dump(scenario.model_dump(by_alias=True, mode="json"), sort_keys=False)


def stored_names(meta: Mapping[str, Any]) -> dict[str, str]:
    """The names a stored run's scenario gives its investors and lenders (Funding.shown_names);
    none for a run whose scenario this fabnet no longer reads: its figures keep their ids."""
    try:
        return stored_scenario(meta).funding.shown_names()
    except (ValueError, yaml.YAMLError):  # ValueError: pydantic's ValidationError
        return {}


def stored_scenario(meta: Mapping[str, Any]) -> Scenario:
    """The resolved scenario a stored run used, from its provenance (`scenario_text`, `source`,
    `overrides`: core.results' runs table), with its file and overrides as `origin`."""
    scenario = Scenario.model_validate(yaml.safe_load(meta["scenario_text"]))
    scenario._origin = Origin(meta.get("source"), tuple(json.loads(meta.get("overrides") or "[]")))
    return scenario
