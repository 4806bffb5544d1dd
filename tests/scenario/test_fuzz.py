"""Hostile scenario files: hypothesis mutates tigris.yaml (types, numbers including inf, nan
and huge ones, deletions, duplications, aliases and chains of them, raw YAML such as tags,
dates and merge keys, control characters, nesting, documents, line ends) and `validate` and
`plan` must end in a clear error or a result: never another exception, never a hang.

The examples are the same on every run (derandomised, so CI cannot fail by luck); set
FABNET_FUZZ_EXAMPLES=2000 to search further with fresh random examples.
"""

from __future__ import annotations

import copy
import math
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabnet.core.errors import FabnetError, ScenarioError
from fabnet.scenario import Scenario, load_scenario
from fabnet.scenario.schema import MAX_UNITS, MAX_USD
from tests.conftest import TIGRIS

TEXT = TIGRIS.read_text()
DATA = yaml.safe_load(TEXT)
VALIDATE_LIMIT_S = 10.0  # a valid tigris takes ~0.02 s; every bad input is refused in well under 1 s
PLAN_LIMIT_S = 120.0  # the solver's own limit below is 10 s per solve; a plan solves at most twice

RANDOM = "FABNET_FUZZ_EXAMPLES" in os.environ
FUZZ = settings(
    max_examples=int(os.environ.get("FABNET_FUZZ_EXAMPLES", 300)),
    derandomize=not RANDOM,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        yield from _paths(child, (*path, key))


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


PATHS = [p for p in _paths(DATA) if p]
NUMBER_PATHS = [p for p in PATHS if isinstance(_get(DATA, p), int | float) and not isinstance(_get(DATA, p), bool)]
LIST_PATHS = [p for p in PATHS if isinstance(_get(DATA, p), list) and _get(DATA, p)]

STRANGE_VALUES = st.sampled_from(
    [
        math.inf,
        -math.inf,
        math.nan,
        1e308,
        -1e308,
        1e15,
        -1e15,
        2**70,
        -(2**70),
        0,
        -1,
        0.5,
        1e-300,
        True,
        False,
        None,
        "",
        "x",
        "1e3",
        "2025Q9",
        "market_price",
        [],
        {},
        [1, 2],
        {"a": 1},
        "x" * 20_000,
        "[b]bold[/b] :warning:",
    ]
)


@st.composite
def mutated_data(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(DATA)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        try:
            parent, key = _get(data, path[:-1]), path[-1]
            parent[key]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed it
        action = draw(st.sampled_from(["replace", "replace", "delete", "duplicate", "scale"]))
        if action == "replace":
            parent[key] = draw(STRANGE_VALUES)
        elif action == "delete":
            del parent[key]
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        elif action == "scale" and isinstance(parent[key], int | float) and not isinstance(parent[key], bool):
            parent[key] = parent[key] * draw(st.sampled_from([-1, 0, 1e-12, 1e6, 1e12, 1e300]))
    return data


ALIAS_BOMB = "bomb:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"  {n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


# What yaml.safe_dump never writes, as values a hand or a hostile script could put anywhere.
RAW_VALUES = st.sampled_from(
    [
        "!!int abc",
        "!!float x",
        "!!timestamp abc",
        "!!bool maybe",
        "!!binary aGVsbG8=",
        "!!set {a, b}",
        "!!omap [a: 1]",
        "!!python/object:os.system ls",
        "!!str 5",
        "2024-02-30",
        "2024-01-19",
        "1:30:00",
        "1" + "0" * 5000,
        "0x7e9",
        "0o17",
        "1_000",
        ".inf",
        "-.INF",
        ".NaN",
        "~",
        "'1.0e8'",
        "1.0e+8",
        "{<<: {a: 1}, a: 2}",
        "[*nowhere]",
        "&self [*self]",
        "{? [a, b] : 1}",
        "{[1]: 2}",
        "|\n  text",
        "!custom x",
        "'\u00e9\u2028'",
    ]
)


@st.composite
def mutated_text(draw: st.DrawFn) -> str:
    text = yaml.safe_dump(draw(mutated_data()), sort_keys=False, allow_unicode=True, width=120)
    kind = draw(
        st.sampled_from(
            [
                "none",
                "none",
                "char",
                "alias",
                "nesting",
                "line",
                "cut",
                "anchor",
                "raw",
                "raw",
                "chain",
                "document",
                "line ends",
            ]
        )
    )
    if kind == "raw":  # a value of the file replaced by raw YAML text
        lines = text.splitlines(keepends=True)
        i = draw(st.integers(0, len(lines) - 1))
        key, colon, _ = lines[i].partition(": ")
        return "".join([*lines[:i], f"{key}{colon or ': '}{draw(RAW_VALUES)}\n", *lines[i + 1 :]])
    if kind == "chain":  # aliases of aliases, each a little deeper: the depth a file does not show
        width = draw(st.sampled_from([2, 10, 30]))
        levels = ["c0: &c0 " + "[" * width + "x" + "]" * width]
        levels += [f"c{k}: &c{k} " + "[" * width + f"*c{k - 1}" + "]" * width for k in range(1, 60)]
        return text + "\n".join(levels) + "\n"
    if kind == "document":
        return draw(
            st.sampled_from(["---\n" + text + "---\nname: again\n", "\ufeff" + text, "%YAML 1.1\n---\n" + text])
        )
    if kind == "line ends":
        return text.replace("\n", draw(st.sampled_from(["\r", "\r\n", "\u2028"])))
    at = draw(st.integers(0, len(text)))
    if kind == "char":
        char = draw(st.sampled_from(["\x00", "\x07", "\x1b", "\x7f", "\ufffe", "\ud800", "\t", "\x85"]))
        return text[:at] + char + text[at:]
    if kind == "alias":
        return text + ALIAS_BOMB
    if kind == "nesting":
        depth = draw(st.sampled_from([40, 1000, 50_000]))
        return text + "deep: " + "[" * depth + "]" * depth + "\n"
    if kind == "line":
        lines = text.splitlines(keepends=True)
        i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
        return "".join([*lines[:i], lines[j], *lines[i:]])
    if kind == "cut":
        return text[:at]
    if kind == "anchor":  # an alias that refers to itself, or to nothing
        return text + draw(st.sampled_from(["loop: &l [*l]\n", "missing: *nowhere\n", "m: &m {a: 1}\nn: *m\n"]))
    return text


@contextmanager
def time_limit(seconds: float, what: str) -> Iterator[None]:
    """Fail the example (instead of hanging the suite) when it runs past `seconds`."""

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"{what} ran longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


FOLDER = Path(tempfile.gettempdir()) / f"fabnet-fuzz-{os.getpid()}"


@pytest.fixture(scope="module", autouse=True)
def _folder_made_and_removed() -> Iterator[None]:
    """The mutated scenarios' folder, made when the module's tests run (not at import: every
    xdist worker imports the module) and removed after them. Autouse, so the tests keep their
    signatures, which seed hypothesis's derandomised examples under CI."""
    FOLDER.mkdir(exist_ok=True)
    yield
    shutil.rmtree(FOLDER, ignore_errors=True)


def _validate(text: str) -> Scenario | ScenarioError:
    path = FOLDER / "mutated.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    with time_limit(VALIDATE_LIMIT_S, "validate"):
        try:
            return load_scenario(path)
        except ScenarioError as error:
            return error


def _assert_clear(error: ScenarioError) -> None:
    """One message that names the file and says what was found and what is expected, short
    enough to read (a value is shown cut, never whole)."""
    text = str(error)
    assert error.file is not None and error.problem.found and error.problem.expected, text
    assert len(text) < 2_000, text


@FUZZ
@given(mutated_text())
def test_validate_ends_in_a_scenario_or_a_clear_error(text: str) -> None:
    outcome = _validate(text)
    if isinstance(outcome, ScenarioError):
        _assert_clear(outcome)
        return
    # a text that validates is a scenario a file can hold: written out as YAML and read back,
    # it is the same scenario (a value the schema took but cannot write would differ here)
    again = _validate(yaml.safe_dump(outcome.model_dump(by_alias=True, mode="json"), sort_keys=False))
    assert again == outcome


NUMBERS = st.sampled_from(NUMBER_PATHS)
PLAUSIBLE_EXTREMES = st.sampled_from([0, 1, 1e-9, 0.999, 400, 1000, 1e7, 1e8, MAX_UNITS, MAX_USD])


@settings(FUZZ, max_examples=int(os.environ.get("FABNET_FUZZ_EXAMPLES", 25)))
@given(st.lists(st.tuples(NUMBERS, PLAUSIBLE_EXTREMES), min_size=1, max_size=2))
def test_plan_ends_in_a_plan_or_a_clear_error(changes: list[tuple[tuple[Any, ...], float]]) -> None:
    """Numbers at the edges of what validates (zero, tiny, the largest allowed) reach the
    planner and finance: they must give a plan and its money, or a FabnetError."""
    from fabnet.pipeline import make_plan as plan_network
    from fabnet.pipeline import plan_finance
    from fabnet.plan import SolveOptions

    data = copy.deepcopy(DATA)
    for path, value in changes:
        old = _get(data, path)
        _get(data, path[:-1])[path[-1]] = int(value) if isinstance(old, int) and value == int(value) else value
    outcome = _validate(yaml.safe_dump(data, sort_keys=False))
    if isinstance(outcome, ScenarioError):
        _assert_clear(outcome)
        return
    started = time.perf_counter()
    with time_limit(PLAN_LIMIT_S, "plan"):
        try:
            plan = plan_network(outcome, SolveOptions(time_limit_s=10.0))
            plan_finance(outcome, plan)
        except FabnetError as error:  # any other exception fails the example
            assert str(error).strip()
    assert time.perf_counter() - started < PLAN_LIMIT_S
