"""Sweeps: plan and finance every sample anew (`--reoptimise`), on local processes or a Dask
cluster, writing each sample to the store as it finishes so that a killed sweep resumes.

Code against concurrent.futures: a ProcessPoolExecutor by default, or a dask.distributed
Client's executor (a LocalCluster, or any scheduler by address) — the tasks are the same."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.context
import multiprocessing.forkserver
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fabnet.core import results
from fabnet.core.interrupts import raise_if_interrupted
from fabnet.pipeline import plan_finance
from fabnet.plan import SolveOptions, make_plan, modules_built
from fabnet.risk.sampling import apply_sample, draw
from fabnet.scenario.schema import Scenario
from fabnet.store import store_rows, stored_rows
from fabnet.store.figures import investor_irr

SAMPLES_TABLE = "risk_samples"
#: How a sample's plan is solved: one thread per worker, the sweep's 1 % gap, a minute at most.
SAMPLE_OPTIONS = SolveOptions(time_limit_s=60, mip_gap=0.01, threads=1)


@dataclass(frozen=True)
class SweepSpec:
    samples: int
    seed: int
    method: str = "lhs"


def evaluate_sample(scenario_json: dict[str, Any], index: int, row: list[float]) -> dict[str, float]:
    """Plan and finance one sample; a flat record of its inputs and outcomes."""
    base = Scenario.model_validate(scenario_json)
    scenario = apply_sample(base, np.array(row))
    plan = make_plan(scenario, SAMPLE_OPTIONS)
    money = plan_finance(scenario, plan)
    record: dict[str, float] = {"sample": index}
    record.update({f"input_{j}": float(v) for j, v in enumerate(row)})
    record["fabco_npv_usd"] = money.fabco.metrics.fabco_npv_usd
    record["buyer_net_usd"] = money.buyer.metrics.buyer_savings_vs_market_usd
    record["modules_built"] = modules_built(plan.builds)
    by_year = plan.supply.groupby("year")[["demand", "delivered", "unmet"]].sum()
    for year, values in by_year.iterrows():
        record[f"demand_{year}"] = float(values["demand"])
        record[f"delivered_{year}"] = float(values["delivered"])
    record["unmet"] = float(plan.supply["unmet"].sum())
    for investor in money.fabco.investors.itertuples():
        # NaN, not None: a first sample without an IRR must not type the column as NULL
        record[investor_irr(investor.investor)] = float(investor.irr)
    return record


@contextlib.contextmanager
def make_executor(workers: int = 2, dask_local: int | None = None, scheduler: str | None = None) -> Iterator[Executor]:
    """Local worker processes, a Dask LocalCluster, or an existing Dask cluster by address. The
    local ones die with this process, however it ends (a `kill -9` included): each watches it;
    and an interrupted sweep (Ctrl-C, SIGTERM) stops them at once rather than waiting for the
    solves they are in (stop_local_workers)."""
    if scheduler or dask_local:
        from dask.distributed import Client, LocalCluster

        if scheduler:
            with Client(scheduler) as client:
                yield client.get_executor()
        else:
            with LocalCluster(
                n_workers=dask_local, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster:
                worker_pids: dict[str, int] = {}
                try:
                    with Client(cluster) as client:
                        client.run(watch_parent, os.getpid())
                        client.run(watch_parent, os.getpid(), nanny=True)
                        client.run(quiet_on_interrupt)
                        worker_pids = client.run(os.getpid)
                        yield client.get_executor()
                except BaseException:
                    # the workers are killed, so the scheduler and client here log every comm
                    # they lose, tracebacks included, as the cluster closes: news to nobody after
                    # an interrupt (the sweep's own message says what happened and how to resume)
                    logging.getLogger("distributed").setLevel(logging.CRITICAL + 1)
                    # a nanny gives a busy worker 4 s to finish before it kills it; a worker
                    # outliving its nanny would log its lost scheduler to the same terminal
                    kill_all(
                        [*(getattr(nanny, "pid", None) for nanny in cluster.workers.values()), *worker_pids.values()]
                    )
                    raise
    else:
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=fresh_workers(), initializer=worker_start, initargs=(os.getpid(),)
        )
        try:
            yield pool
        except BaseException:
            stop_local_workers(pool)
            raise
        pool.shutdown(wait=True)


def worker_start(parent: int) -> None:
    """A local worker: it leaves Ctrl-C to the sweep (a terminal sends it to the whole process
    group; the sweep decides, and stops the workers itself) and watches the sweep's process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch_parent(parent)


def quiet_on_interrupt() -> None:
    """A Dask worker leaves Ctrl-C to the sweep, which kills it (a terminal sends the signal to
    the whole process group), and from then on logs nothing: the scheduler it loses in the
    meantime is news to nobody, and its tracebacks would bury the sweep's own message. (A
    nanny runs `client.run` off its main thread, where no signal handler can be set.)"""
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers live in the main thread; without one the worker logs as before

    def quiet(signum: int, frame: object) -> None:
        logging.getLogger("distributed").setLevel(logging.CRITICAL + 1)

    signal.signal(signal.SIGINT, quiet)


def stop_local_workers(pool: ProcessPoolExecutor) -> None:
    """End the pool now: samples not started are dropped, the workers (deep in a solve that
    would not notice a signal until it ends) killed, their queues closed so that no semaphore
    is left for the resource tracker to report. The samples already stored stay: a resume
    computes the rest."""
    kill_all(process.pid for process in (getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=True, cancel_futures=True)
    # the fork server would take a second to unload the planner it preloaded; the next pool
    # (if this process goes on) starts a new one, as it does after any death of the server
    server = getattr(multiprocessing.forkserver, "_forkserver", None)
    kill_all([getattr(server, "_forkserver_pid", None)])


def kill_all(pids: Iterable[int | None]) -> None:
    """SIGKILL to each process (one already gone is no error)."""
    for pid in pids:
        if pid is not None:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def fresh_workers() -> multiprocessing.context.BaseContext:
    """Worker processes forked from a server that has solved nothing: a process forked from
    one that has solved a MIP inherits HiGHS's thread pool broken and can hang on its next MIP.
    The server imports the planner once, so each worker starts without importing it again."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["fabnet.risk.runner", "fabnet.plan.decompose"])
    return context


#: How often a worker looks whether the process it works for still lives, in seconds.
WATCH_EVERY_S = 0.5


def watch_parent(pid: int) -> None:
    """Exit this worker process as soon as process `pid` is gone (a killed sweep leaves no
    worker behind); a daemon thread, so it costs nothing while the work goes on."""

    def watch() -> None:
        while True:
            time.sleep(WATCH_EVERY_S)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # alive, but another user's: keep working
                continue

    threading.Thread(target=watch, name="fabnet-watch-parent", daemon=True).start()


def missing_samples(store_path: str | Path, run_id: int, spec: SweepSpec) -> list[int]:
    """Indices of the sweep's samples not yet stored under `run_id`."""
    table = stored_rows(store_path, run_id, SAMPLES_TABLE)
    done = set() if table is None or table.empty else set(table["sample"].astype(int))
    return [i for i in range(spec.samples) if i not in done]


def run_sweep(
    scenario: Scenario,
    run_id: int,
    store_path: str | Path,
    spec: SweepSpec,
    executor: Executor,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Evaluate the samples of `spec` not yet stored under `run_id`; returns how many ran.
    `limit` stops after that many (as a kill would), for tests."""
    table = draw(scenario, spec.samples, spec.seed, spec.method)
    todo = missing_samples(store_path, run_id, spec)
    if limit is not None:
        todo = todo[:limit]
    payload = scenario.model_dump(by_alias=True, mode="json")
    futures = [executor.submit(evaluate_sample, payload, i, table[i].tolist()) for i in todo]
    finished = 0
    for future in finishing(futures):
        store_rows(
            store_path, run_id, SAMPLES_TABLE, results.table(SAMPLES_TABLE).conform(pd.DataFrame([future.result()]))
        )
        finished += 1
        if progress is not None:
            progress(finished, len(todo))
    return finished


#: How long the sweep waits for a sample before it looks at its signals again, in seconds.
POLL_S = 0.2


def finishing(futures: list[Future[Any]]) -> Iterator[Future[Any]]:
    """The futures as they finish, as as_completed gives them, but waiting in short steps: a
    signal the kernel hands to another thread (the pool's manager) does not wake a main thread
    blocked on a lock, so Ctrl-C would wait for the next sample to finish."""
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
        raise_if_interrupted()  # one Python swallowed (core.interrupts)
        yield from done


def on_local_workers(function: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """`function` of each item on local worker processes (one per core, at most one per item),
    the results in order; waited for as `finishing` does, so that Ctrl-C stops every worker
    (make_executor). `fabnet run` checks a plan's fabs with it (pipeline.plan_check)."""
    with make_executor(min(len(items), os.cpu_count() or 1)) as pool:
        futures = [pool.submit(function, item) for item in items]
        for _ in finishing(futures):
            pass
        return [future.result() for future in futures]
