"""YAML text → data and node tree, bounded before anything is built from it.

A scenario file comes from anyone, so it is checked on the parser's event stream (which
PyYAML produces without recursion) before a node or an object exists: characters YAML does
not allow (NUL and other control characters, reported with line and column), nesting depth
with aliases expanded (the composer and everything after it recurse once per level), and the
number of values with aliases expanded (a few hundred bytes of nested aliases expand to
billions of values: an alias bomb). Then the node tree is checked for keys given twice, and
values are built by a safe loader that reads dates as text, refuses sexagesimal numbers
(1:30:00, quadratic to read) and turns any failure to build a value into a located error.
The size of a file is checked before it is read, in the loader.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from fabnet.core.errors import Loc, Problem, ScenarioError

MAX_FILE_BYTES = 1_000_000  # the default scenario is 16 kB
MAX_DEPTH = 32  # the schema's deepest field is 5 levels down
MAX_VALUES = 100_000  # counted with aliases expanded; the default scenario has ~1,500

# What YAML 1.1 forbids in a stream (PyYAML's Reader raises on the first one, without a line).
_NOT_ALLOWED = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_CONTROL_NAMES = {0: "NUL", 0x1B: "ESCAPE", 0x7F: "DELETE", 0x0B: "VERTICAL TAB", 0x0C: "FORM FEED"}
_STR, _INT, _FLOAT = "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_TIMESTAMP, _MERGE = "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:merge"


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """PyYAML's safe loader (libyaml's parser when PyYAML has it: 10-20x faster; its composer
    recurses in C, which the depth bound keeps shallow), with dates read as text (no field
    takes one, and a bad date raised), no sexagesimal numbers, and located errors only."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        tag: str = super().resolve(kind, value, implicit)
        if tag == _TIMESTAMP or (tag in (_INT, _FLOAT) and ":" in value):
            return _STR
        return tag

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except yaml.MarkedYAMLError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            # an explicit tag on text that is not of its kind (`!!int abc`), an integer of
            # more than 4,300 digits, ...: PyYAML raises these without a line
            kind = str(node.tag).removeprefix("tag:yaml.org,2002:")
            raise ConstructorError(
                None, None, f"a value that cannot be read as {kind} ({exc})", node.start_mark
            ) from None


#: Where a number may have underscores: between groups of three digits before the point
#: (1_000_000); YAML 1.1 and Python take them anywhere, so `0_0.095` would read as 0.095.
_GROUPED = re.compile(r"[-+]?\d{1,3}(_\d{3})+(\.\d*)?([eE][-+]?\d+)?")


def odd_underscores(text: str) -> bool:
    """A number written with underscores anywhere but between thousands (`0_0.095`, `20_24`)."""
    return "_" in text and not _GROUPED.fullmatch(text.strip())


def _decimal_only(number: Any) -> Any:
    def construct(loader: SafeConstructor, node: yaml.Node) -> Any:
        if ":" in str(node.value):
            raise ConstructorError(
                None, None, "a sexagesimal number (like 1:30:00): write it in decimal", node.start_mark
            )
        if odd_underscores(str(node.value)):
            raise ConstructorError(
                None, None, f"{node.value}: underscores only between thousands (1_000_000)", node.start_mark
            )
        return number(loader, node)

    return construct


_Loader.add_constructor(_INT, _decimal_only(SafeConstructor.construct_yaml_int))
_Loader.add_constructor(_FLOAT, _decimal_only(SafeConstructor.construct_yaml_float))


def parse(text: str, label: str) -> tuple[Any, yaml.Node | None]:
    """The data in `text` and its node tree (for error lines), or a ScenarioError naming
    `label`, the line and what to fix."""
    _reject_forbidden_characters(text, label)
    _reject_deep_or_huge(text, label)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None
        _reject_duplicate_keys(root, label, loader)
        return loader.construct_document(root), root
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, label) from None
    finally:
        loader.dispose()


def flow(value: Any) -> str:
    """A value as one line of YAML (`14`, `[1, 2]`, `{a: 1}`), the form --set reads back."""
    plain = value.item() if hasattr(value, "item") else value  # numpy scalars
    text = yaml.safe_dump(plain, default_flow_style=True, width=2**31, allow_unicode=True).strip()
    return text.removesuffix("...").strip()  # the end-of-document mark of a lone scalar


def _reject_forbidden_characters(text: str, label: str) -> None:
    bad = _NOT_ALLOWED.search(text)
    if bad is None:
        return
    breaks = list(_LINE_BREAK.finditer(text, 0, bad.start()))
    column = bad.start() - (breaks[-1].end() if breaks else 0) + 1
    char = bad.group()
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(ord(char), "a control character")
    raise ScenarioError(
        Problem(
            (),
            f"U+{ord(char):04X} ({name}) at column {column}",
            "printable text only: remove the character (often a paste from a binary file or a terminal)",
        ),
        file=label,
        line=len(breaks) + 1,
    )


def _reject_deep_or_huge(text: str, label: str) -> None:
    """Walk the event stream once. An alias stands for the whole of its anchor: it adds the
    anchor's values to the count and the anchor's height to the depth where it stands."""
    values = 0
    open_collections: list[list[Any]] = []  # per open collection: anchor, values before it, height
    sizes: dict[str, int] = {}
    heights: dict[str, int] = {}
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                if len(open_collections) >= MAX_DEPTH:
                    _too_deep(label, event)
                open_collections.append([event.anchor, values, 0])
                values += 1
            elif isinstance(event, yaml.CollectionEndEvent):
                anchor, before, height = open_collections.pop()
                _raise_height(open_collections, height + 1)
                if anchor is not None:
                    sizes[anchor], heights[anchor] = values - before, height + 1
            elif isinstance(event, yaml.ScalarEvent):
                values += 1
                if event.anchor is not None:
                    sizes[event.anchor], heights[event.anchor] = 1, 0
            elif isinstance(event, yaml.AliasEvent):
                _check_alias(label, event, open_collections, sizes)
                alias = str(event.anchor)  # an alias always names its anchor
                values += sizes[alias]
                if len(open_collections) + heights[alias] > MAX_DEPTH:
                    _too_deep(label, event)
                _raise_height(open_collections, heights[alias])
            if values > MAX_VALUES:
                _too_much(
                    label,
                    event,
                    f"more than {MAX_VALUES:,} values once aliases are expanded",
                    f"at most {MAX_VALUES:,} (a scenario needs a few thousand; check for aliases of aliases)",
                )
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, label) from None


def _raise_height(open_collections: list[list[Any]], child_height: int) -> None:
    if open_collections:
        open_collections[-1][2] = max(open_collections[-1][2], child_height)


def _check_alias(label: str, event: yaml.AliasEvent, open_collections: list[list[Any]], sizes: dict[str, int]) -> None:
    if event.anchor in sizes:
        return
    if any(anchor == event.anchor for anchor, *_ in open_collections):
        _too_much(
            label,
            event,
            f"the alias *{event.anchor} inside its own anchor &{event.anchor}",
            "an alias after the whole of its anchor (a value cannot contain itself)",
        )
    _too_much(
        label,
        event,
        f"the alias *{event.anchor} with no anchor &{event.anchor} before it",
        f"an anchor &{event.anchor} on a value before the alias, or the value itself",
    )


def _too_deep(label: str, event: yaml.Event) -> None:
    _too_much(
        label,
        event,
        f"values nested more than {MAX_DEPTH} levels deep (aliases expanded)",
        f"at most {MAX_DEPTH} levels (a scenario needs about 6)",
    )


def _too_much(label: str, event: yaml.Event, found: str, expected: str) -> None:
    line = event.start_mark.line + 1 if event.start_mark is not None else None
    raise ScenarioError(Problem((), found, expected), file=label, line=line)


def _reject_duplicate_keys(root: yaml.Node, label: str, loader: _Loader) -> None:
    """PyYAML silently keeps the last of two equal keys; a scenario with both is a mistake.
    Keys are compared as the schema will read them (key_identity), so `2024` and `0x7E8` are
    one key. Walked with a list, not recursion, and each node once (an alias shares its
    anchor's); a merge key (`<<: *base`) may repeat what it merges."""
    todo: list[tuple[yaml.Node, Loc]] = [(root, ())]
    visited: set[int] = set()
    while todo:
        node, loc = todo.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        children: list[tuple[yaml.Node, Loc]] = []
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, str] = {}
            for key, value in node.value:
                if key.tag == _MERGE:
                    children.append((value, loc))
                    continue
                text = key.value if isinstance(key, yaml.ScalarNode) else id(key)
                identity = key_identity(key, loader)
                if identity in seen:
                    twice = "" if seen[identity] == str(text) else f" ({seen[identity]} and {text} are one key)"
                    raise ScenarioError(
                        Problem((*loc, str(text)), f"the same key twice in one mapping{twice}", "each key once"),
                        file=label,
                        line=key.start_mark.line + 1,
                    )
                seen[identity] = str(text)
                children.append((value, (*loc, str(text))))
        elif isinstance(node, yaml.SequenceNode):
            children = [(item, (*loc, i)) for i, item in enumerate(node.value)]
        todo.extend(reversed(children))  # so the first problem in the file is found first


_QUARTER = re.compile(r"\d{1,4}[qQ][1-4]")


def key_identity(key: yaml.Node, loader: _Loader) -> Any:
    """What a key means to the schema: a number whatever its spelling (2024, 0x7E8, 2024.0,
    +2024, 2_024 and the text "2024" are one year), a quarter whatever its case (2024Q1,
    2024q1); other text as written. A key that is not a scalar is itself."""
    if not isinstance(key, yaml.ScalarNode):
        return id(key)
    value = loader.construct_object(key)
    if isinstance(value, str):
        text = value.strip()
        if _QUARTER.fullmatch(text):
            return text.upper()
        try:
            value = float(text) if not odd_underscores(text) else text
        except ValueError:
            return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _syntax_error(exc: yaml.MarkedYAMLError, label: str) -> ScenarioError:
    mark = exc.problem_mark or exc.context_mark
    context = exc.context or ""
    if context and exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
        where = "opened on line" if context.startswith("while") else "line"
        context += f" ({where} {exc.context_mark.line + 1})"
    found = ", ".join(part for part in (context, exc.problem) if part)
    return ScenarioError(
        Problem((), f"invalid YAML: {found}", "valid YAML (check indentation, colons and quotes)"),
        file=label,
        line=mark.line + 1 if mark else None,
    )
