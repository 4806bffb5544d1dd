"""Pydantic's validation errors → one Problem in the words of the scenario file: the field's
path (without pydantic's names for union members), what was found, what is expected, with the
field's description from the schema. The loader reports it; the uncertainty checks use it for
what a draw would do to a field."""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from fabnet.core.errors import Loc, Problem
from fabnet.scenario.schema import Scenario


def first_problem(exc: ValidationError) -> tuple[Problem, int]:
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
    return Problem(loc, show(err.get("input")), expected)


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


def show(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    return shorten(text.removesuffix("\n...").removesuffix("...").strip())


def shorten(text: str, most: int = 80) -> str:
    return text if len(text) <= most else text[: most - 3] + "..."
