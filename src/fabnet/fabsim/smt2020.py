"""Reader of the SMT2020 testbed (Kopp, Hassoun, Kalir, Mönch, IEEE TSM 2020) in its text form.

Files and columns are described in ../shared/data/smt2020/FORMAT.md. The reader turns them
into `FabData`: plain lists and numpy arrays with integer ids, every time in minutes, ready for
an event loop that must not touch strings or pandas.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import os
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

import fabnet.cache as cache
from fabnet.core.errors import FabnetError

DATA_ENV = "FABNET_SMT2020_DIR"
WAFERS_PER_LOT = 25
START = datetime(2018, 1, 1)
MINUTES = {"sec": 1 / 60, "min": 1.0, "hr": 60.0, "day": 1440.0}
PER_LOT, PER_PIECE, PER_BATCH = 0, 1, 2
PTPER = {"per_lot": PER_LOT, "per_piece": PER_PIECE, "per_batch": PER_BATCH}
WHERE_TO_GET = (
    "the SMT2020 testbed: `fabnet data fetch smt2020` downloads, verifies and installs it "
    "(or set FABNET_SMT2020_DIR to a folder holding its HVLM/ and LVHM/ text files)"
)


class DatasetError(FabnetError):
    """An SMT2020 dataset that cannot be found or read."""


@dataclass(frozen=True)
class Route:
    """One product route; every array has one entry per step (0-based)."""

    name: str
    desc: list[str]
    family: np.ndarray  # tool family index
    ptime: np.ndarray  # minutes (per lot, per wafer or per batch, see per)
    ptime_spread: np.ndarray  # minutes: the uniform draw is ptime ± spread/2
    per: np.ndarray  # PER_LOT, PER_PIECE, PER_BATCH
    batch_min: np.ndarray  # wafers (0: not a batch step)
    batch_max: np.ndarray
    setup: np.ndarray  # setup id (-1: none)
    setup_time: np.ndarray  # step-level setup minutes (nan: use the setup table)
    ltl_step: np.ndarray  # later step that must use the same tool (-1: none)
    batch_interval: np.ndarray  # cascading per-lot: tool free after this (nan: not cascading)
    part_interval: np.ndarray  # cascading per-piece: minutes between wafers (nan)
    rework_step: np.ndarray  # step to return to (-1: none)
    rework_prob: np.ndarray  # probability of rework
    sample_prob: np.ndarray  # probability the step is performed
    cqt_step: np.ndarray  # step whose start must follow within cqt (-1: none)
    cqt_min: np.ndarray

    @property
    def steps(self) -> int:
        return len(self.family)


@dataclass(frozen=True)
class Stream:
    name: str
    route: int
    priority: int
    start_min: float
    interval_min: float
    count: int
    due_allowance_min: float
    exponential: bool = False  # RDIST: constant intervals (all SMT2020 streams) or exponential


@dataclass(frozen=True)
class WipLot:
    name: str
    route: int
    priority: int
    step: int  # 0-based
    due_min: float
    release_min: float  # back-dated: due − its stream's allowance


@dataclass(frozen=True)
class PmCalendar:
    family: int
    by_pieces: bool
    interval: float  # minutes, or wafers when by_pieces
    first: float  # minutes or wafers to the first PM
    duration_min: float
    duration_spread_min: float


@dataclass(frozen=True)
class FabData:
    name: str
    families: list[str]
    family_group: list[str]
    family_tools: np.ndarray  # identical tools per family
    family_load_min: np.ndarray  # load + unload
    family_cascading: np.ndarray  # bool
    family_delay: np.ndarray  # bool: the Delay location (no transport)
    family_rule: list[str]
    family_rank: list[str]
    routes: list[Route]
    route_part: list[str]
    streams: list[Stream]
    wip: list[WipLot]
    setups: list[str]
    setup_table: dict[tuple[int, int], float]  # (from, to) → minutes; from -1 = any
    min_run: dict[int, int]
    breakdown_mttf_min: dict[str, float]  # by tool group
    breakdown_mttr_min: dict[str, float]
    breakdown_first_min: dict[str, float]
    pms: list[PmCalendar] = field(default_factory=list)
    transport_min: tuple[float, float] = (6.25, 8.75)
    #: The SHA-256 of the files and reader it was parsed from ("" when built otherwise): what
    #: names its content in a cache key (fabnet.cache), as its pickle cannot.
    source: str = ""

    @property
    def tools(self) -> int:
        return int(self.family_tools.sum())


def find_dataset(name: str, data_dir: str | Path | None = None) -> Path:
    """The folder of dataset `name` (HVLM or LVHM): `data_dir`, else $FABNET_SMT2020_DIR, else
    ../shared/data/smt2020 from the working directory or from this repository, else the per-user
    folder `fabnet data fetch smt2020` installs into."""
    candidates: list[Path] = []
    if data_dir is not None:  # the folder the user named, and only it: not silently another
        folder = Path(data_dir)
        for place in (folder / name, folder):
            if (place / "tool.txt.1l").is_file():
                return place
        raise DatasetError(
            f"--data {folder} holds no SMT2020 dataset {name!r} (no {folder / name / 'tool.txt.1l'} "
            f"nor {folder / 'tool.txt.1l'}); give the folder holding HVLM/ and LVHM/, or leave --data out: "
            f"fabnet needs {WHERE_TO_GET}"
        )
    if os.environ.get(DATA_ENV):
        candidates.append(Path(os.environ[DATA_ENV]))
    candidates += [*shared_folders(), user_folder()]
    candidates = list(dict.fromkeys(path.resolve() for path in candidates))  # each place once
    for base in candidates:
        for folder in (base / name, base):
            if (folder / "tool.txt.1l").is_file():
                return folder
    raise DatasetError(f"no SMT2020 dataset {name!r} in {', '.join(map(str, candidates))}; fabnet needs {WHERE_TO_GET}")


def shared_folders() -> list[Path]:
    """../shared/data/smt2020 beside the working directory and beside this repository."""
    return [
        Path.cwd().parent / "shared" / "data" / "smt2020",
        Path(__file__).resolve().parents[3].parent / "shared" / "data" / "smt2020",
    ]


def user_folder() -> Path:
    """The per-user data folder `fabnet data fetch` installs the testbed into (platformdirs:
    ~/.local/share/fabnet/smt2020 on Linux, honouring XDG_DATA_HOME)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("fabnet")) / "smt2020"


def cache_folder() -> Path:
    """Where parsed datasets are kept (fabnet.cache: ~/.cache/fabnet/smt2020 on Linux)."""
    return cache.folder("smt2020")


def load_smt2020(name: str = "HVLM", data_dir: str | Path | None = None) -> FabData:
    """Dataset `name` as FabData, parsed once per content: a later load reads the parse back from
    the cache folder, keyed by the SHA-256 of the dataset's files and of this reader (7 ms instead
    of the parse's 60; an edited file or reader is parsed afresh)."""
    folder = find_dataset(name, data_dir)
    source = _content_key(folder)
    entry = f"{name}-{source[:24]}"
    fab = cache.read("smt2020", entry, FabData)
    if isinstance(fab, FabData) and fab.name == name:
        return fab
    fab = dataclasses.replace(_parse(folder, name), source=source)
    cache.keep("smt2020", entry, fab, replaces=f"{name}-")
    return fab


def _content_key(folder: Path) -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(f"{sys.version_info[:2]} numpy {np.__version__}".encode())
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _parse(folder: Path, name: str) -> FabData:
    tools = _rows(folder / "tool.txt.1l")
    families = [r["STNFAM"] for r in tools]
    fam_index = {f: i for i, f in enumerate(families)}
    setups: list[str] = []
    setup_index: dict[str, int] = {}

    def setup_id(label: object) -> int:
        if label in ("", None):
            return -1
        if label not in setup_index:
            setup_index[str(label)] = len(setups)
            setups.append(str(label))
        return setup_index[str(label)]

    parts = _rows(folder / "part.txt")
    route_part = [r["PART"] for r in parts]
    routes = [_route(folder / r["ROUTEFILE"], r["ROUTE"], fam_index, setup_id) for r in parts]
    part_route = {part: i for i, part in enumerate(route_part)}
    streams = [_stream(r, part_route) for r in _rows(folder / "order.txt")]
    allowance = {(s.route, s.priority): s.due_allowance_min for s in streams}
    wip = [_wip(r, part_route, allowance) for r in _rows(folder / "WIP.txt")]
    setup_table = {
        (setup_id(r["CURSETUP"]), setup_id(r["NEWSETUP"])): _minutes(r["STIME"], r["STUNITS"])
        for r in _rows(folder / "setup.txt")
    }
    min_run = {setup_id(r["SETUP"]): int(r["MINRUN"]) for r in _rows(folder / "setupgrp.txt")}
    down = {r["DOWNCALNAME"]: r for r in _rows(folder / "downcal.txt")}
    pm_rows = {r["PMCALNAME"]: r for r in _rows(folder / "pmcal.txt")}
    mttf, mttr, first, pms = {}, {}, {}, []
    for a in _rows(folder / "attach.txt"):
        if a["CALTYPE"] == "down":
            cal = down[a["CALNAME"]]
            mttf[a["RESNAME"]] = _minutes(cal["MTTF"], cal["MTTFUNITS"])
            mttr[a["RESNAME"]] = _minutes(cal["MTTR"], cal["MTTRUNITS"])
            first[a["RESNAME"]] = _minutes(a["FOA"], a["FOAUNITS"])
        elif a["RESNAME"] in fam_index:
            cal = pm_rows[a["CALNAME"]]
            by_pieces = cal["PMCALTYPE"] == "mtbpm_by_pieces"
            pms.append(
                PmCalendar(
                    family=fam_index[a["RESNAME"]],
                    by_pieces=by_pieces,
                    interval=float(cal["MTBPM"]) if by_pieces else _minutes(cal["MTBPM"], cal["MTBPMUNITS"]),
                    first=float(a["FOA"]) if by_pieces or not a["FOAUNITS"] else _minutes(a["FOA"], a["FOAUNITS"]),
                    duration_min=_minutes(cal["MTTR"], cal["MTTRUNITS"]),
                    duration_spread_min=_minutes(cal["MTTR2"] or 0, cal["MTTRUNITS"]),
                )
            )
    transport = _rows(folder / "fromto.txt")[0]
    centre = _minutes(transport["DTIME"], transport["DUNITS"])
    spread = _minutes(transport["DTIME2"], transport["DUNITS"])
    return FabData(
        name=name,
        families=families,
        family_group=[r["STNGRP"] for r in tools],
        family_tools=np.array([int(float(r["STNQTY"])) for r in tools]),
        family_load_min=np.array(
            [
                _minutes(r["LTIME"] or 0, r["LTUNITS"] or "min") + _minutes(r["ULTIME"] or 0, r["ULTUNITS"] or "min")
                for r in tools
            ]
        ),
        family_cascading=np.array([float(r["STNCAP"] or 1) == 2.0 for r in tools]),
        family_delay=np.array([r["STNFAMLOC"] != "Fab" for r in tools]),
        family_rule=[r["RULE"] for r in tools],
        family_rank=[r["FWLRANK"] for r in tools],
        routes=routes,
        route_part=route_part,
        streams=streams,
        wip=wip,
        setups=setups,
        setup_table=setup_table,
        min_run=min_run,
        breakdown_mttf_min=mttf,
        breakdown_mttr_min=mttr,
        breakdown_first_min=first,
        pms=pms,
        transport_min=(centre - spread / 2, centre + spread / 2),
    )


def _rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return [
                {k: (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(handle, delimiter="\t")
            ]
    except FileNotFoundError:
        raise DatasetError(f"{path} is missing; fabnet needs {WHERE_TO_GET}") from None


def _minutes(value: str | float, unit: str) -> float:
    return float(value) * MINUTES[unit or "min"]


def _optional_minutes(value: str, unit: str) -> float:
    return _minutes(value, unit) if value else float("nan")


def _date_minutes(text: str) -> float:
    return (datetime.strptime(text, "%m/%d/%y %H:%M:%S") - START).total_seconds() / 60.0


def _route(path: Path, name: str, fam_index: dict[str, int], setup_id) -> Route:
    rows = _rows(path)
    n = len(rows)

    def step_index(value: str) -> int:
        return int(value) - 1 if value else -1

    return (
        Route(
            name=name,
            desc=[r["DESC"] for r in rows],
            family=np.array([fam_index[r["STNFAM"]] for r in rows]),
            ptime=np.array([_minutes(r["PTIME"], r["PTUNITS"]) for r in rows]),
            ptime_spread=np.array([_minutes(r["PTIME2"] or 0, r["PTUNITS"]) for r in rows]),
            per=np.array([PTPER[r["PTPER"]] for r in rows]),
            batch_min=np.array([int(r["BATCHMN"] or 0) for r in rows]),
            batch_max=np.array([int(r["BATCHMX"] or 0) for r in rows]),
            setup=np.array([setup_id(r["SETUP"]) for r in rows]),
            setup_time=np.array([_optional_minutes(r["STIME"], r["STUNITS"]) for r in rows]),
            ltl_step=np.array([step_index(r["FORSTEP"]) if r["SVESTN"] == "yes" else -1 for r in rows]),
            batch_interval=np.array([_optional_minutes(r["BatchInterval"], r["BatchIntUnits"]) for r in rows]),
            part_interval=np.array([_optional_minutes(r["PartInterval"], r["PartIntUnits"]) for r in rows]),
            rework_step=np.array([step_index(r["RWKSTEP"]) if r["REWORK"] else -1 for r in rows]),
            rework_prob=np.array([float(r["REWORK"] or 0) / 100 for r in rows]),
            sample_prob=np.array([float(r["StepPercent"]) / 100 if r["StepPercent"] else 1.0 for r in rows]),
            cqt_step=np.array([step_index(r["STEP_CQT"]) for r in rows]),
            cqt_min=np.array([_optional_minutes(r["CQT"], r["CQTUNITS"]) for r in rows]),
        )
        if n
        else Route(name, [], *(np.zeros(0) for _ in range(17)))
    )


def _stream(row: dict[str, str], part_route: dict[str, int]) -> Stream:
    start = _date_minutes(row["START"])
    return Stream(
        name=row["LOT"],
        route=part_route[row["PART"]],
        priority=int(row["PRIOR"]),
        start_min=start,
        interval_min=_minutes(row["REPEAT"], row["RUNITS"]),
        count=int(row["RPT#"]),
        due_allowance_min=_date_minutes(row["DUE"]) - start,
        exponential=row["RDIST"] == "exponential",
    )


def _wip(row: dict[str, str], part_route: dict[str, int], allowance: dict[tuple[int, int], float]) -> WipLot:
    route, priority = part_route[row["PART"]], int(row["PRIOR"])
    due = _date_minutes(row["DUE"])
    back = allowance.get((route, priority), allowance.get((route, 10), 0.0))
    return WipLot(
        name=row["LOT"],
        route=route,
        priority=priority,
        step=int(row["CURSTEP"]) - 1,
        due_min=due,
        release_min=due - back,
    )
