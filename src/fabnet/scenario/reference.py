"""The scenario reference, generated from the schema: one table row per field with its path,
type, default, allowed range and meaning (the Field descriptions), and the JSON Schema export."""

from __future__ import annotations

import json
import re
import types
import typing
from dataclasses import dataclass
from typing import Any

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from fabnet.core import columns
from fabnet.core.periods import Quarter
from fabnet.scenario.fields import Choices
from fabnet.scenario.paths import PathError, parse_path
from fabnet.scenario.problems import unwrap
from fabnet.scenario.schema import Scenario

HEADER = """# Scenario file reference

Generated from the schema by `fabnet schema --markdown` — do not edit by hand; a test fails
when this file and the schema disagree. `scenario.schema.json` beside it is the same schema as
JSON Schema (`fabnet schema --json`), for editors that validate YAML as you type.

Paths: `a.b` is a field of a mapping, `a[].b` a field of every entry of a list. Quarters are
written like `2025Q3`. Units are in the field names (`_usd`, `_mm`, `_q` for quarters, `wspm`
for wafer starts per month) or in the meaning. Lists of entries with an `id` are referred to by
that id elsewhere (a product's `node` is the `id` of an entry of `nodes`).

| field | type | default | allowed | meaning |
|---|---|---|---|---|
"""


def markdown_reference() -> str:
    rows = list(_rows(Scenario, ""))
    return HEADER + "\n".join(rows) + "\n"


def json_schema() -> str:
    return json.dumps(Scenario.model_json_schema(by_alias=True), indent=2, sort_keys=True) + "\n"


def _rows(model: type[BaseModel], prefix: str) -> typing.Iterator[str]:
    for name, field in model.model_fields.items():
        key = field.alias or name
        path = f"{prefix}{key}"
        inner, many, mapping = _shape(field.annotation)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            suffix = "[]" if many else ("{}" if mapping else "")
            yield _row(path + suffix, field, _type_name(field.annotation))
            yield from _rows(inner, f"{path}{suffix}.")
        else:
            choices = [m for m in field.metadata if isinstance(m, Choices)]  # a registry's names, as they are now
            yield _row(path, field, _listed(choices[0].names()) if choices else _type_name(field.annotation))


def _row(path: str, field: FieldInfo, type_name: str) -> str:
    if field.is_required():
        default = "required"
    elif field.default_factory is not None:
        default = "see fields" if isinstance(field.default_factory, type) else "(empty)"
    else:
        shown = _show(field.default) or '""'
        default = "–" if field.default in (None, PydanticUndefined) else f"`{shown}`"
    cells = [f"`{path}`", type_name, default, _limits(field), (field.description or "").replace("|", "\\|")]
    return "| " + " | ".join(cells) + " |"


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return "[]" if not value else str(list(value))
    return str(value).lower() if isinstance(value, bool) else str(value)


def _limits(field: FieldInfo) -> str:
    bounds, lengths = [], []
    for item in [*field.metadata, *_annotated_metadata(field.annotation)]:
        for kind, symbol, attribute in ((Gt, ">", "gt"), (Ge, "≥", "ge"), (Lt, "<", "lt"), (Le, "≤", "le")):
            if isinstance(item, kind):
                value = getattr(item, attribute)
                bounds.append(f"{symbol} {value:,}" if isinstance(value, int) else f"{symbol} {value:g}")
        if isinstance(item, MinLen) and item.min_length:
            lengths.append(f"at least {item.min_length}")
        if isinstance(item, MaxLen):
            lengths.append(f"at most {item.max_length}")
    unit = "characters" if unwrap(field.annotation) is str else "entries"
    found = list(dict.fromkeys(bounds)) + ([f"{', '.join(dict.fromkeys(lengths))} {unit}"] if lengths else [])
    return ", ".join(found) or "–"


def _annotated_metadata(annotation: Any) -> list[Any]:
    """Constraints anywhere in a field's type: its own, its union members', and those of the
    values of its mappings and lists (a price path's every price is bounded)."""
    found: list[Any] = []
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        for item in typing.get_args(annotation)[1:]:
            # Field(...) inside Annotated arrives whole when pydantic has not flattened it (in a union)
            found += item.metadata if isinstance(item, FieldInfo) else [item]
        found += _annotated_metadata(typing.get_args(annotation)[0])
    elif origin in (typing.Union, types.UnionType):
        for member in typing.get_args(annotation):
            found += _annotated_metadata(member)
    elif origin in (tuple, list, dict):  # the entries' bounds, not their own lengths
        inner = _annotated_metadata(typing.get_args(annotation)[-1 if origin is dict else 0])
        found += [item for item in inner if isinstance(item, Gt | Ge | Lt | Le)]
    return found


def _shape(annotation: Any) -> tuple[Any, bool, bool]:
    """(inner type, is a list, is a mapping) with Optional and Annotated peeled off."""
    annotation = unwrap(annotation)
    origin = typing.get_origin(annotation)
    if origin in (tuple, list):
        return typing.get_args(annotation)[0], True, False
    if origin is dict:
        return typing.get_args(annotation)[1], False, True
    return annotation, False, False


def _listed(values: typing.Iterable[object]) -> str:
    return " \\| ".join(f"`{v}`" for v in values)


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base = typing.get_args(annotation)[0]
        return "quarter" if base is Quarter else _type_name(base)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        text = " or ".join(_type_name(m) for m in members)
        return text + (" (optional)" if len(members) < len(typing.get_args(annotation)) else "")
    if origin in (tuple, list):
        return f"list of {_type_name(typing.get_args(annotation)[0])}"
    if origin is dict:
        key, value = typing.get_args(annotation)
        return f"mapping {_type_name(key)} → {_type_name(value)}"
    if origin is typing.Literal:
        return _listed(typing.get_args(annotation))
    if annotation is Quarter:
        return "quarter"
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return "section"
        return {"float": "number", "int": "integer", "str": "text", "bool": "true/false"}.get(
            annotation.__name__, annotation.__name__
        )
    return str(annotation)


# --- a field path in words, for charts and tables ------------------------------------------

#: Where a description's first clause ends: what follows is detail (a unit's forms, an example).
_CLAUSE_END = re.compile(r":\s|;\s|\.\s|,?\se\.g\.")
#: A leading qualifier, "design only: …", "Debt only: …", "indexed: …": it says when the field
#: applies, which the path already does.
_QUALIFIER = re.compile(r"^[\w\-, ]{1,30}?:\s+(?=\S)")
#: A range written after a description, "(0–1]": the chart's axis shows the value already.
_RANGE_NOTE = re.compile(r"\s*\(\s*[\d.]+\s*[–-]\s*[\d.]+\s*[\])]$")


def path_words(path: str) -> str:
    """A scenario field path (`sites.arizona.lead_time_q`, `products[0].demand.per_year.2027`)
    in words, from the schema's field descriptions: whose field it is (entry ids, the sections
    passed through), then what it is, then any mapping key after it — "arizona: quarters from
    construction start to first wafer", "tigris demand: accelerators per calendar year, 2027".
    A path the schema does not know comes back as it is, so an old stored run still reads."""
    try:
        steps = _schema_steps(parse_path(path))
    except PathError:
        return path
    fields = [i for i, step in enumerate(steps) if step.field is not None]
    if not fields:
        return path
    leaf = fields[-1]
    whose = [words for i in range(leaf) if (words := _whose(steps, i))]
    field = steps[leaf].field
    assert field is not None
    what = _first_clause(field.description or "") or str(steps[leaf].segment).replace("_", " ")
    after = ", ".join(_key_text(steps, i) for i in range(leaf + 1, len(steps)))
    text = f"{' '.join(whose)}: {what}" if whose else what
    return f"{text}, {after}" if after else text


@dataclass(frozen=True)
class _Step:
    segment: str | int
    field: FieldInfo | None  # the schema field this segment names; None for an entry or a key
    is_entry: bool = False  # an entry of a list or mapping of sections (named by id, key or index)


def _schema_steps(segments: tuple[str | int, ...]) -> list[_Step]:
    """Each segment of a path with what it names in the schema; PathError where it leaves it."""
    steps: list[_Step] = []
    current: Any = Scenario
    for segment in segments:
        current = _container_of(unwrap(current))
        origin = typing.get_origin(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            name = next((n for n, f in current.model_fields.items() if segment in (n, f.alias)), None)
            if name is None:
                raise PathError(f"no field {segment!r}")
            field = current.model_fields[name]
            steps.append(_Step(field.alias or name, field))
            current = field.annotation
        elif origin in (tuple, list, dict):
            current = typing.get_args(current)[-1 if origin is dict else 0]
            inner = unwrap(current)
            steps.append(_Step(segment, None, isinstance(inner, type) and issubclass(inner, BaseModel)))
        else:
            raise PathError(f"{segment!r} goes past a value")
    return steps


def _container_of(annotation: Any) -> Any:
    """Of a union such as "one number or a path per year", the member a path can go into."""
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return annotation
    for member in map(unwrap, typing.get_args(annotation)):
        if typing.get_origin(member) in (tuple, list, dict) or (
            isinstance(member, type) and issubclass(member, BaseModel)
        ):
            return member
    return annotation


def _whose(steps: list[_Step], i: int) -> str:
    """What step `i`, before the field itself, says about whose field it is: an entry's id (or
    the list and its index), a section's name; a list of entries says nothing (its entry does)."""
    step = steps[i]
    if step.is_entry:
        named = isinstance(step.segment, str)
        return str(step.segment) if named else f"{steps[i - 1].segment}[{step.segment}]"
    if step.field is not None and steps[i + 1].field is not None:
        return columns.label(str(step.segment))  # "capex_per_module_usd" → "capex per module"
    return ""


def _key_text(steps: list[_Step], i: int) -> str:
    segment = steps[i].segment
    return str(segment) if isinstance(segment, str) else f"entry {segment + 1}"


def _first_clause(description: str) -> str:
    """A description's first clause, as the middle of a sentence: "design only: compute die
    width, mm." → "compute die width, mm"."""
    text = _QUALIFIER.sub("", description.strip())
    text = _CLAUSE_END.split(text, maxsplit=1)[0].rstrip(" .")
    text = _RANGE_NOTE.sub("", text)
    first, _, rest = text.partition(" ")
    if first[:1].isupper() and first[1:].islower():  # "Market" → "market"; "D0", "USD" stay
        first = first.lower()
    return f"{first} {rest}".strip()
