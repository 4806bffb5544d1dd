"""The scenario reference, generated from the schema: one table row per field with its path,
type, default, allowed range and meaning (the Field descriptions), and the JSON Schema export."""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from fabnet.core.periods import Quarter
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
            yield _row(path, field, _type_name(field.annotation))


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
        return " \\| ".join(f"`{v}`" for v in typing.get_args(annotation))
    if annotation is Quarter:
        return "quarter"
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return "section"
        return {"float": "number", "int": "integer", "str": "text", "bool": "true/false"}.get(
            annotation.__name__, annotation.__name__)
    return str(annotation)
