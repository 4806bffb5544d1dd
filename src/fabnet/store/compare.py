"""Stored runs compared: first what went in differently (scenario values, overrides, label),
then what came out (key figures). One owner for the CLI, the dashboard and the API."""

from __future__ import annotations

import json

import pandas as pd

from fabnet.store.base import StoredRun
from fabnet.store.export import overrides_of, scenario_paths

#: Provenance that differs between any two runs and says nothing about their inputs.
_ABOUT = ("label", "source")


def distinct(run_ids: list[int]) -> list[int]:
    """The ids in order, each once: `compare 1 1` compares run 1 with nothing."""
    return list(dict.fromkeys(run_ids))


def input_differences(runs: list[StoredRun]) -> pd.DataFrame:
    """One row per scenario path (and label, file, overrides) whose value differs between the
    runs: columns `path` and one per run (`run_<id>`), values as text; missing as "–"."""
    values = [_inputs(run) for run in runs]
    paths = list(dict.fromkeys(path for v in values for path in v))
    rows = []
    for path in paths:
        texts = [v.get(path, "–") for v in values]
        if len(set(texts)) > 1:
            rows.append({"path": path, **{_column(run): text for run, text in zip(runs, texts, strict=True)}})
    return pd.DataFrame(rows, columns=["path", *map(_column, runs)])


def _inputs(run: StoredRun) -> dict[str, str]:
    about = {name: run.meta.get(name) for name in _ABOUT}
    about["overrides"] = " ".join(f"--set {text}" for text in overrides_of(run)) or None
    scenario = {path: _text(value) for path, value in scenario_paths(run).items()}
    return {**{k: _text(v) for k, v in about.items()}, **scenario}


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    return value if isinstance(value, str) else json.dumps(value)


def figure_differences(runs: list[StoredRun], changed_only: bool = False) -> pd.DataFrame:
    """Key figures side by side: columns `figure`, one per run (`run_<id>`), and for two runs
    the `difference` (second − first for numbers, "same"/"differs" otherwise); with
    `changed_only`, the figures that are not the same in every run."""
    figures = [run.figures for run in runs]
    rows = []
    for key in dict.fromkeys(k for f in figures for k in f):
        values = [f.get(key) for f in figures]
        if changed_only and not _changed(values):
            continue
        row = {"figure": key, **{_column(run): v for run, v in zip(runs, values, strict=True)}}
        if len(runs) == 2:
            row["difference"] = _difference(*values)
        rows.append(row)
    return pd.DataFrame(rows, columns=["figure", *map(_column, runs), *(["difference"] if len(runs) == 2 else [])])


def comparison(runs: list[StoredRun], changed_only: bool = False) -> pd.DataFrame:
    """Runs compared in one tidy table: a row per input that differs (`kind` "input", `name`
    its --set path) and per key figure (`kind` "figure"; with `changed_only`, those that moved),
    a column per run (`run_<id>`) and, for two runs, the figures' `difference`. What
    fabnet.compare and `fabnet runs compare --format csv|json` give."""
    inputs = input_differences(runs).rename(columns={"path": "name"}).assign(kind="input")
    figures = figure_differences(runs, changed_only).rename(columns={"figure": "name"}).assign(kind="figure")
    parts = [part for part in (inputs, figures) if len(part)]
    table = pd.concat(parts, ignore_index=True) if parts else inputs.iloc[0:0]
    ordered = ["kind", "name", *map(_column, runs), *(["difference"] if len(runs) == 2 else [])]
    return table.reindex(columns=ordered)


def _changed(values: list[object]) -> bool:
    """Whether figures differ between runs: numbers beyond rounding, anything else at all."""
    if all(_number(v) for v in values):
        first = float(values[0])  # type: ignore[arg-type]
        return any(abs(float(v) - first) > 1e-9 * max(1.0, abs(first)) for v in values)  # type: ignore[arg-type]
    return len({json.dumps(v, default=str) for v in values}) > 1


def _difference(first: object, second: object) -> object:
    if _number(first) and _number(second):
        return second - first  # type: ignore[operator]
    return "same" if first == second else "differs"


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _column(run: StoredRun) -> str:
    return f"run_{run.run_id}"


def build_differences(central: pd.DataFrame, robust: pd.DataFrame) -> pd.DataFrame:
    """Modules started by site and quarter where a robust plan's builds and the central-value
    plan's differ: site, node, started, modules_central, modules_robust (0 where one starts none)."""
    key = ["site", "node", "started"]
    both = central[[*key, "modules"]].merge(
        robust[[*key, "modules"]], on=key, how="outer", suffixes=("_central", "_robust")
    )
    both = both.fillna({"modules_central": 0, "modules_robust": 0})
    return both[both["modules_central"] != both["modules_robust"]].sort_values(key).reset_index(drop=True)
