"""YAML text → data and node tree, bounded before anything is built from it.

A scenario file comes from anyone, so three things are checked on the parser's event stream
(which PyYAML produces without recursion) before a node or an object exists: characters YAML
does not allow (NUL and other control characters, reported with line and column), nesting
depth (the composer recurses once per level) and the number of values once aliases are
expanded (a few hundred bytes of nested aliases expand to billions of values: an alias bomb).
The size of the file is checked before it is read, in the loader.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import yaml

from fabnet.core.errors import Problem, ScenarioError

MAX_FILE_BYTES = 1_000_000  # the default scenario is 16 kB
MAX_DEPTH = 32  # the schema's deepest field is 5 levels down
MAX_VALUES = 100_000  # counted with aliases expanded; the default scenario has ~1,500

# libyaml when PyYAML was built with it (10-20x faster); its composer recurses in C, which the
# depth bound keeps shallow.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# What YAML 1.1 forbids in a stream (PyYAML's Reader raises on the first one, without a line).
_NOT_ALLOWED = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def parse(text: str, label: str) -> tuple[Any, yaml.Node | None]:
    """The data in `text` and its node tree (for error lines), or a ScenarioError naming
    `label`, the line and what to fix."""
    _reject_forbidden_characters(text, label)
    _reject_deep_or_huge(text, label)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        return (loader.construct_document(root) if root is not None else None), root
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, label) from None
    finally:
        loader.dispose()


def _reject_forbidden_characters(text: str, label: str) -> None:
    bad = _NOT_ALLOWED.search(text)
    if bad is None:
        return
    line = text.count("\n", 0, bad.start()) + 1
    column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
    char = bad.group()
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(ord(char), "a control character")
    raise ScenarioError(
        Problem((), f"U+{ord(char):04X} ({name}) at column {column}",
                "printable text only: remove the character (often a paste from a binary file or a "
                "terminal)"),
        file=label, line=line,
    )


_CONTROL_NAMES = {0: "NUL", 0x1B: "ESCAPE", 0x7F: "DELETE", 0x0B: "VERTICAL TAB", 0x0C: "FORM FEED"}


def _reject_deep_or_huge(text: str, label: str) -> None:
    """Walk the event stream once: depth of nesting, and values counted with every alias
    expanded to the size of what its anchor holds."""
    depth, values = 0, 0
    open_anchors: list[tuple[str | None, int]] = []  # per open collection: anchor, values before it
    sizes: dict[str, int] = {}
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    _too_much(label, event, f"values nested more than {MAX_DEPTH} levels deep",
                              f"at most {MAX_DEPTH} levels (a scenario needs about 6)")
                open_anchors.append((event.anchor, values))
                values += 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
                anchor, before = open_anchors.pop()
                if anchor is not None:
                    sizes[anchor] = values - before
            elif isinstance(event, yaml.ScalarEvent):
                values += 1
                if event.anchor is not None:
                    sizes[event.anchor] = 1
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in sizes:  # unknown, or an alias inside its own anchor
                    _too_much(label, event, f"an alias *{event.anchor} to an anchor that is not "
                              "complete before it", "an alias after the whole of its anchor (no loops)")
                values += sizes[event.anchor]
            if values > MAX_VALUES:
                _too_much(label, event, f"more than {MAX_VALUES:,} values once aliases are expanded",
                          f"at most {MAX_VALUES:,} (a scenario needs a few thousand; "
                          "check for aliases of aliases)")
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, label) from None


def _too_much(label: str, event: yaml.Event, found: str, expected: str) -> None:
    raise ScenarioError(Problem((), found, expected), file=label, line=event.start_mark.line + 1)


def _syntax_error(exc: yaml.MarkedYAMLError, label: str) -> ScenarioError:
    mark = exc.problem_mark or exc.context_mark
    context = exc.context or ""
    if exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
        context += f" (opened on line {exc.context_mark.line + 1})"
    found = " ".join(part for part in (context, exc.problem) if part)
    return ScenarioError(
        Problem((), f"invalid YAML: {found}", "valid YAML (check indentation, colons and quotes)"),
        file=label,
        line=mark.line + 1 if mark else None,
    )
