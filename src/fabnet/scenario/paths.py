"""Dotted paths into a scenario: `sites.arizona.lead_time_q` or `sites[2].lead_time_q`.

List entries are picked by their `id` or by `[index]`; mapping keys by their text (so
`products.h100.demand.per_year.2027` reaches the integer key 2027). The same paths serve
`--set` overrides, the uncertainty section and, later, parameter sweeps.
"""

from __future__ import annotations

import re
from typing import Any, cast

from fabnet.core.errors import Loc, format_loc

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class PathError(LookupError):
    """A path that does not lead anywhere; the message says where it stopped and what exists."""


def parse_path(text: str) -> tuple[str | int, ...]:
    segments: list[str | int] = []
    position = 0
    text = text.strip()
    while position < len(text):
        if text[position] == "." and segments:
            position += 1
        match = _SEGMENT.match(text, position)
        if match is None:
            raise PathError(f"cannot read path {text!r} at character {position + 1}")
        name, index = match.groups()
        segments.append(int(index) if index is not None else name)
        position = match.end()
    if not segments:
        raise PathError("empty path")
    return tuple(segments)


def resolve(data: Any, segments: tuple[str | int, ...]) -> Loc:
    """Turn ids into list indices and text keys into the mapping's own keys."""
    loc: list[str | int] = []
    node = data
    for segment in segments:
        key = _step(node, segment, loc)
        loc.append(key)
        node = node[key]
    return tuple(loc)


def _step(node: Any, segment: str | int, loc: list[str | int]) -> str | int:
    where = format_loc(tuple(loc))
    if isinstance(node, list | tuple):
        if isinstance(segment, int):
            if 0 <= segment < len(node):
                return segment
            raise PathError(f"{where} has {len(node)} entries; [{segment}] is not one of them")
        ids = [item.get("id") for item in node if isinstance(item, dict)]
        if segment in ids:
            return ids.index(segment)
        raise PathError(f"{where} has no entry with id {segment!r}; ids: {', '.join(map(str, ids))}")
    if isinstance(node, dict):
        for key in node:
            if str(key) == str(segment):
                return cast(str | int, key)
        keys = ", ".join(map(str, node)) or "none"
        raise PathError(f"{where} has no key {segment!r}; keys: {keys}")
    raise PathError(f"{where} is a value, not a section; cannot go on to {segment!r}")


def get_at(data: Any, loc: Loc) -> Any:
    for key in loc:
        data = data[key]
    return data


def set_at(data: Any, segments: tuple[str | int, ...], value: Any) -> Loc:
    """Set the value at a path in nested dicts/lists, in place. The last segment may be a new
    mapping key (so an override can add an optional field); everything before it must exist."""
    parent_loc = resolve(data, segments[:-1])
    parent = get_at(data, parent_loc)
    last = segments[-1]
    if isinstance(parent, dict):
        key = next((k for k in parent if str(k) == str(last)), last)
        parent[key] = value
        return (*parent_loc, key)
    key = _step(parent, last, list(parent_loc))
    parent[key] = value
    return (*parent_loc, key)


def change_at(data: Any, segments: tuple[str | int, ...], how: str, value: float) -> Loc:
    """Multiply (`how` = multiply), add to (add) or replace (replace) every number at a path,
    in place: one number, or each number of a list or mapping there. Integers stay integers."""
    loc = resolve(data, segments)
    set_at(data, segments, _changed(get_at(data, loc), how, value))
    return loc


def _changed(target: Any, how: str, value: float) -> Any:
    if isinstance(target, dict):
        return {k: _changed(v, how, value) for k, v in target.items()}
    if isinstance(target, list):
        return [_changed(v, how, value) for v in target]
    result = target * value if how == "multiply" else target + value if how == "add" else value
    return int(round(result)) if isinstance(target, int) and not isinstance(target, bool) else result
