"""Scenario files → a validated, frozen `Scenario`, or one `ScenarioError` that says what to fix.

The steps: read YAML (keeping the parser's node tree so errors can name a line), follow
`extends:` chains, apply `--set` overrides, validate with the schema, then run the semantic
checks. Whatever goes wrong is reported as the first problem found, located in the file (or
the override) it came from.
"""

from __future__ import annotations

import copy
import difflib
import re
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from fabnet.core.errors import Loc, Problem, ScenarioError
from fabnet.scenario import yamltext
from fabnet.scenario.checks import check_scenario
from fabnet.scenario.paths import PathError, parse_path, set_at
from fabnet.scenario.schema import Scenario

EXTENDS_KEY = "extends"


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


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Read, merge, override, validate and check a scenario file."""
    raw = _read_with_extends(Path(path), chain=())
    for assignment in overrides:
        _apply_override(raw, assignment)
    scenario = _validate(raw)
    problems = check_scenario(scenario)
    if problems:
        raise _error(raw, problems[0], more=len(problems) - 1)
    return scenario


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
    data, root = _read_yaml(path)
    source = _Source(str(path), root)
    if EXTENDS_KEY not in data:
        return _Raw(data=data, files=[source])
    base_name = data.pop(EXTENDS_KEY)
    if not isinstance(base_name, str) or not base_name.strip():
        raise ScenarioError(
            Problem((EXTENDS_KEY,), _show(base_name), "the path of another scenario file"),
            file=str(path),
            line=_line_of(root, data, (EXTENDS_KEY,)),
        )
    base_path = (path.parent / base_name).resolve()
    if base_path in chain or base_path == path.resolve():
        cycle = " → ".join(str(p) for p in (*chain, path.resolve(), base_path))
        raise ScenarioError(
            Problem((EXTENDS_KEY,), f"a cycle: {cycle}", "a chain of extends that ends"),
            file=str(path),
        )
    base = _read_with_extends(base_path, (*chain, path.resolve()))
    return _Raw(data=_merge(base.data, data), files=[source, *base.files])


def _read_yaml(path: Path) -> tuple[dict[str, Any], yaml.Node]:
    data, root = yamltext.parse(_read_text(path), str(path))
    if not isinstance(data, dict) or root is None:
        raise ScenarioError(
            Problem((), _show(data), "a mapping with keys such as name, horizon, nodes, products"),
            file=str(path),
            line=root.start_mark.line + 1 if root is not None else None,
        )
    _reject_duplicate_keys(root, str(path))
    return data, root


def _read_text(path: Path) -> str:
    try:
        with path.open("rb") as stream:
            # read one byte more than allowed, so a large (or endless) file is never read whole
            content = stream.read(yamltext.MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError(
            Problem((), "no such file", "an existing scenario file (YAML), e.g. scenarios/tigris.yaml"),
            file=str(path),
        ) from None
    except OSError as exc:
        raise ScenarioError(
            Problem((), f"a file that cannot be read ({exc.strerror or exc.__class__.__name__})",
                    "a readable YAML file"),
            file=str(path),
        ) from None
    if len(content) > yamltext.MAX_FILE_BYTES:
        raise ScenarioError(
            Problem((), f"a file larger than {yamltext.MAX_FILE_BYTES:,} bytes",
                    f"a scenario of at most {yamltext.MAX_FILE_BYTES:,} bytes (the default one has "
                    "16 kB); long series belong in a path by year or quarter"),
            file=str(path),
        )
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(
            Problem((), f"bytes that are not UTF-8 (byte {exc.start + 1})", "a UTF-8 text file"),
            file=str(path), line=line,
        ) from None


def _reject_duplicate_keys(node: yaml.Node, file: str, loc: Loc = ()) -> None:
    """PyYAML silently keeps the last of two equal keys; a scenario with both is a mistake."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key_loc = (*loc, str(key_node.value))
            if key_node.value in seen:
                raise ScenarioError(
                    Problem(key_loc, "the same key twice in one mapping", "each key once"),
                    file=file,
                    line=key_node.start_mark.line + 1,
                )
            seen.add(key_node.value)
            _reject_duplicate_keys(value_node, file, key_loc)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _reject_duplicate_keys(item, file, (*loc, i))


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
    return isinstance(value, list) and all(isinstance(v, dict) and "id" in v for v in value)


def _apply_override(raw: _Raw, assignment: str) -> None:
    label = f"--set {_shorten(assignment)}"
    try:
        segments, value = parse_override(assignment, label)
        raw.data = copy.deepcopy(raw.data)
        loc = set_at(raw.data, segments, value)
    except (ValueError, PathError, yaml.YAMLError) as exc:
        raise ScenarioError(
            Problem((), str(exc).splitlines()[0], "path.to.field=value with a path that exists, "
                    "e.g. sites.arizona.lead_time_q=14"),
            file=label,
        ) from None
    raw.overrides.append((loc, label))


# --- validating ----------------------------------------------------------------------------


def _validate(raw: _Raw) -> Scenario:
    try:
        return Scenario.model_validate(raw.data)
    except ValidationError as exc:
        first, count = _first_problem(exc)
        raise _error(raw, first, more=count - 1) from None


def _first_problem(exc: ValidationError) -> tuple[Problem, int]:
    """The problem to report, and how many fields have one (each told once: a file may hold
    100,000 bad values, and only the first is worth the words)."""
    problems: dict[Loc, Any] = {}
    # An unknown key is usually a misspelt known one, which then also shows as missing:
    # report the unknown key first, since fixing it fixes both.
    errors = sorted(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
    located = [(_field_loc(err["loc"]), err) for err in errors]
    # Noise to leave out: a value that may be a number or a mapping (a price path) fails as
    # both, and when one member got further (a bad entry in the mapping, an empty mapping)
    # that is the useful message; a list whose entries failed is also "too short".
    has_deeper = {loc[:n] for loc, _ in located for n in range(len(loc))}
    has_better = {loc for loc, err in located if not _wrong_kind(err)}
    for loc, err in located:
        if loc in problems or (loc in has_deeper and (_wrong_kind(err) or err["type"] == "too_short")):
            continue
        if _wrong_kind(err) and loc in has_better:
            continue
        problems[loc] = err
    loc, err = next(iter(problems.items()))
    return _problem_from_error(loc, err, key_error="[key]" in err["loc"]), len(problems)


def _wrong_kind(err: Any) -> bool:
    return str(err["type"]).endswith(("_type", "_parsing"))


def _field_loc(loc: tuple[str | int, ...]) -> Loc:
    """The path of the field, without the names pydantic gives the members of a union
    (`function-after[...]`, `float`, `dict[int,...]`), which mean nothing in a file."""
    return tuple(key for key in loc if key != "[key]" and not (isinstance(key, str) and _UNION_TAG.match(key)))


_UNION_TAG = re.compile(r"^(function-\w+\[.*|float|int|str|bool|dict\[.*|tuple\[.*|list\[.*)$")


def _problem_from_error(loc: Loc, err: Any, *, key_error: bool) -> Problem:
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return Problem(loc, f"unknown key {loc[-1]!r}", f"{hint}keys here: {', '.join(allowed)}")
    description = _description(loc)
    if kind == "missing":
        return Problem(loc, "nothing: this field is required", description or f"a value for {loc[-1]!r}")
    expected = err["msg"].removeprefix("Input should be ").removeprefix("Value error, ")
    if key_error:
        expected = f"keys that are {expected}"
    if description:
        expected += f" ({description})"
    return Problem(loc, _show(err.get("input")), expected)


def _error(raw: _Raw, problem: Problem, more: int = 0) -> ScenarioError:
    file, line = _locate(raw, problem.loc)
    return ScenarioError(problem, file=file, line=line, more=more)


# --- where in which file -------------------------------------------------------------------


def _locate(raw: _Raw, loc: Loc) -> tuple[str, int | None]:
    for override_loc, label in reversed(raw.overrides):
        shared = min(len(override_loc), len(loc))
        if override_loc[:shared] == loc[:shared]:
            return label, None
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


# --- the schema as documentation -----------------------------------------------------------


def _schema_at(loc: Loc) -> tuple[Any, tuple[type[BaseModel], str] | None]:
    """The type that `loc` leads to in the schema, and the (model, field) it ends at, if any."""
    current: Any = Scenario
    owner: tuple[type[BaseModel], str] | None = None
    for key in loc:
        current, owner = unwrap(current), None
        if isinstance(current, type) and issubclass(current, BaseModel):
            name = next((n for n, f in current.model_fields.items() if key in (n, f.alias)), None)
            if name is None:
                return None, None
            owner, current = (current, name), current.model_fields[name].annotation
        elif typing.get_origin(current) in (tuple, list):
            current = typing.get_args(current)[0]
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return None, None
    return unwrap(current), owner


def unwrap(annotation: Any) -> Any:
    """The type under Annotated[...] and Optional[...] (a real union is returned as it is)."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _description(loc: Loc) -> str:
    owner = _schema_at(loc)[1]
    if owner is None:
        return ""
    model, name = owner
    return (model.model_fields[name].description or "").rstrip(".")


def _allowed_keys(loc: Loc) -> list[str]:
    model = _schema_at(loc)[0]
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return []
    return [f.alias or n for n, f in model.model_fields.items()]


def _show(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    return _shorten(text.removesuffix("\n...").removesuffix("...").strip())


def _shorten(text: str, most: int = 80) -> str:
    return text if len(text) <= most else text[: most - 3] + "..."
