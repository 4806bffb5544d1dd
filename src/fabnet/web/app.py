"""A small read-only dashboard over the results store: the runs, a run's report page, and two
runs compared (inputs that differ, figures, curves overlaid), a run's tables as a workbook.
FastAPI was chosen over Panel because the pages are the report's own plotly figures: no widget
server is needed, only HTTP, and FastAPI's test client and uvicorn are light.

Every page is built from the store through a read-only connection opened per request and closed
at once, so a `fabnet run` in another process can still write. A few requests read at a time,
and one waits a second at most for a writer to finish before it answers 503 with Retry-After
(and so do the others for a second after), so a busy store never holds every worker thread;
what needs no store (plotly.js, the icon, a run page already built: a stored run never changes)
is answered on the event loop at once. The list of runs is kept until the store changes on disk.
Run ids are ASCII digits of bounded length: anything else is a 404, and no file is ever served
from a path a request names. Every answer carries security headers (a content security policy
that lets the plotly figures run and nothing load from elsewhere, no sniffing, no framing, no
referrer).
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from plotly.offline import get_plotlyjs
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from fabnet.api import (
    READER_WAIT_S,
    Store,
    StoreBusy,
    StoredRun,
    UnknownRun,
    change_files,
    compare_figures,
    distinct,
    figure_differences,
    input_differences,
    open_store,
    report_html,
    write_workbook,
)
from fabnet.core import format as fmt
from fabnet.core.columns import label, show, show_difference, show_input
from fabnet.core.secrets import redact
from fabnet.core.version import __version__
from fabnet.web.dealroom import add_deal_room

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Requests reading the store at once; how long one waits for a store another process holds
#: before it answers 503 (Retry-After: 1).
STORE_READERS = 8
STORE_WAIT_S = 1.0
#: Run pages kept built.
PAGES_KEPT = 64

PLOTLY_URL = "/static/plotly.js"
STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222}"
    "table{border-collapse:collapse}td,th{padding:.3rem .8rem;border-bottom:1px solid #eee;text-align:left}"
    "a{color:#1565c0}"
)
#: Run ids: ASCII digits only (`str.isdigit` also accepts "²" and "١"), at most this many.
RUN_ID = re.compile(r"[1-9][0-9]{0,11}")  # as the store numbers runs: 01 is not run 1
#: plotly draws from inline scripts and styles; nothing is loaded from anywhere but here.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def create_app(store_location: str | Path) -> FastAPI:
    location = str(store_location)
    open_store(location, read_only=True).close()  # fail now, in words, if there is no store
    app = FastAPI(title="fabnet", docs_url=None, redoc_url=None, openapi_url=None)

    readers = threading.BoundedSemaphore(STORE_READERS)
    held = [0.0]  # until when (time.monotonic) another process was last found holding the store

    @contextlib.contextmanager
    def reader() -> Iterator[Store]:
        """The store, read by STORE_READERS requests at a time (each DuckDB connection attempt
        on a held file is slow, and many at once hold every worker thread). A store another
        process holds is waited for STORE_WAIT_S, and then, for as long again, answers 503 at
        once for every request."""
        if not readers.acquire(timeout=READER_WAIT_S):
            raise StoreBusy(f"the results store {redact(location)} is busy: {STORE_READERS} requests are reading it")
        try:
            if time.monotonic() < held[0]:
                raise StoreBusy(f"the results store {redact(location)} is held by another process")
            try:
                store = open_store(location, read_only=True, wait_s=STORE_WAIT_S)
            except StoreBusy:
                held[0] = time.monotonic() + STORE_WAIT_S
                raise
            with store:
                yield store
        finally:
            readers.release()

    @contextlib.contextmanager
    def writer() -> Iterator[None]:
        """No request of this process reads while it writes (the deal room's "store as a run"):
        DuckDB refuses a read-write connection to a file the same process holds read-only."""
        taken = 0
        try:
            for _ in range(STORE_READERS):
                if not readers.acquire(timeout=READER_WAIT_S):
                    raise StoreBusy(f"the results store {redact(location)} is busy: requests are reading it")
                taken += 1
            yield
        finally:
            for _ in range(taken):
                readers.release()

    @app.middleware("http")
    async def headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.exception_handler(StarletteHTTPException)
    def not_found(request: Request, exc: StarletteHTTPException) -> Response:
        page = _error_page(exc.status_code, str(exc.detail))
        page.headers.update(exc.headers or {})  # a 405 says which methods are allowed
        return page

    @app.exception_handler(RequestValidationError)
    def bad_request(request: Request, exc: RequestValidationError) -> Response:
        missing = ", ".join(str(e["loc"][-1]) for e in exc.errors())
        return _error_page(400, f"this page needs {missing}: e.g. /compare?a=1&b=2")

    @app.exception_handler(StoreBusy)
    def busy(request: Request, exc: StoreBusy) -> Response:
        return HTMLResponse(f"<p>{html.escape(redact(exc))}</p>", status_code=503, headers={"Retry-After": "1"})

    built: dict[int, str] = {}  # a stored run never changes: its page is built once
    keeping = threading.Lock()

    building: dict[int, threading.Lock] = {}

    def run_page(run_id: int) -> str:
        """A run's page, built by one request while the others asking for it wait for it."""
        with keeping:
            lock = building.setdefault(run_id, threading.Lock())
        with lock:
            return built.get(run_id) or build_page(run_id)

    def build_page(run_id: int) -> str:
        with reader() as store:
            page = report_html(store.run(run_id), plotlyjs=PLOTLY_URL)
        links = (
            f'<p><a href="/">← all runs</a> · <a id="download" href="/runs/{run_id}/export.xlsx">'
            f'download its tables (xlsx)</a> · <a id="deal-room" href="/runs/{run_id}/deal">deal room</a></p>'
        )
        page = page.replace("<body>", f"<body>{links}", 1)
        with keeping:
            if len(built) >= PAGES_KEPT:
                built.pop(next(iter(built)))
            built[run_id] = page
        return page

    index_page = _ChangeCache(location, lambda: _index(reader, location))

    @app.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
    def index() -> str:
        return index_page.get()

    @app.api_route("/runs/{run_id}", methods=["GET", "HEAD"], response_class=HTMLResponse)
    async def run(run_id: str) -> str:
        number = _run_id(run_id)
        if number in built:  # served on the event loop: no worker thread, no store
            return built[number]
        try:
            return await run_in_threadpool(run_page, number)
        except UnknownRun as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None

    @app.api_route("/compare", methods=["GET", "HEAD"], response_class=HTMLResponse)
    def compare(a: str = Query(...), b: str = Query(...)) -> str:
        ids = distinct([_run_id(a), _run_id(b)])
        try:
            with reader() as store:
                runs = [store.run(i) for i in ids]
        except UnknownRun as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
        return _compare_page(runs)

    @app.api_route("/runs/{run_id}/export.xlsx", methods=["GET", "HEAD"])
    def workbook(run_id: str) -> Response:
        number = _run_id(run_id)
        try:
            with reader() as store:
                stored = store.run(number)
        except UnknownRun as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
        with tempfile.TemporaryDirectory() as folder:
            data = write_workbook(stored, Path(folder) / f"run-{number}.xlsx").read_bytes()
        return Response(
            data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="run-{number}.xlsx"'}
        )

    @app.api_route("/api/runs", methods=["GET", "HEAD"])
    def api_runs() -> JSONResponse:
        with reader() as store:
            runs = store.runs()
        runs["created_at"] = runs["created_at"].astype(str)
        return JSONResponse(runs.astype(object).where(runs.notna(), None).to_dict("records"))  # JSON has no NaN

    # what needs no store is answered on the event loop, never queued behind store readers
    @app.api_route("/favicon.ico", methods=["GET", "HEAD"])
    async def favicon() -> Response:
        return Response(status_code=204)  # browsers ask; an answer keeps their consoles clean

    script = get_plotlyjs()

    @app.api_route(PLOTLY_URL, methods=["GET", "HEAD"])
    async def plotly_js() -> Response:
        return Response(script, media_type="application/javascript", headers={"Cache-Control": "public, max-age=86400"})

    add_deal_room(app, reader, writer, _run_id, PLOTLY_URL, location)
    return app


def _index(reader: Callable[[], contextlib.AbstractContextManager[Store]], location: str) -> str:
    with reader() as store:
        runs = store.runs()
    rows = "".join(
        f'<tr><td><a href="/runs/{r.run_id}">run {r.run_id}</a></td><td>{html.escape(str(r.label or ""))}</td>'
        f"<td>{html.escape(str(r.kind))}</td><td>{html.escape(str(r.scenario_name))}</td>"
        f"<td>{html.escape(fmt.minute(r.created_at))}</td><td>{html.escape(show('fabco_npv_usd', r.fabco_npv_usd))}"
        "</td></tr>"
        for r in runs.itertuples()
    )
    ids = list(runs["run_id"])
    # the two newest runs, the older first: what one usually compares after a change
    first, second = (ids[-2], ids[-1]) if len(ids) >= 2 else (ids[0], ids[0]) if ids else (None, None)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>fabnet runs</title><style>{STYLE}</style>"
        f"</head><body><h1>fabnet runs</h1><p>store {html.escape(redact(location))} · fabnet {__version__}</p>"
        f"<table id='runs'><tr><th>run</th><th>label</th><th>kind</th><th>scenario</th><th>time (UTC)</th>"
        f"<th>fab company NPV</th></tr>{rows}</table><h2>Compare two runs</h2><form action='/compare'>"
        f"<select name='a'>{_options(ids, first)}</select> <select name='b'>{_options(ids, second)}</select> "
        "<button>compare</button></form></body></html>"
    )


def _error_page(status: int, message: str) -> HTMLResponse:
    """An error a browser user reads: what went wrong and the way back (not JSON)."""
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{status}</title>"
        f"<style>{STYLE}</style></head><body><p><a href='/'>← all runs</a></p>"
        f"<p id='error'>{html.escape(redact(message))}</p></body></html>",
        status_code=status,
    )


def _options(ids: list[int], chosen: int | None) -> str:
    return "".join(f"<option{' selected' if i == chosen else ''}>{i}</option>" for i in ids)


def _compare_page(runs: list[StoredRun]) -> str:
    """Inputs that differ, key figures side by side, and the main curves overlaid."""
    names = [run.name for run in runs]
    title = " against ".join(names)
    head = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style><script src='{PLOTLY_URL}'></script></head><body>"
        f"<p><a href='/'>← all runs</a></p><h1>{html.escape(title)}</h1>"
    )
    if len(runs) < 2:
        return head + f"<p id='same'>{html.escape(names[0])} compared with itself: nothing differs.</p></body></html>"
    headings = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    inputs = input_differences(runs)
    input_rows = (
        "".join(
            f"<tr><td>{html.escape(str(path))}</td>"
            + "".join(f"<td>{html.escape(show_input(str(path), v))}</td>" for v in values)
            + "</tr>"
            for path, *values in inputs.itertuples(index=False)
        )
        or f"<tr><td colspan='{len(runs) + 1}'>none: the same scenario, label and overrides</td></tr>"
    )
    figures = figure_differences(runs)
    figure_rows = "".join(
        f"<tr><td>{html.escape(label(r[0]))}</td><td>{html.escape(show(r[0], r[1]))}</td>"
        f"<td>{html.escape(show(r[0], r[2]))}</td><td>{html.escape(show_difference(r[0], r[1], r[2], r[3]))}</td></tr>"
        for r in figures.itertuples(index=False)
    )
    plots = "".join(
        f'<div class="figure" id="{name}">'
        + fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"plot-{name}")
        + "</div>"
        for name, fig in compare_figures(runs).items()
    )
    return (
        head + f"<h2>Inputs that differ</h2><table id='inputs'><tr><th>input</th>{headings}</tr>{input_rows}"
        f"</table><h2>Key figures</h2><table id='compare'><tr><th>figure</th>{headings}<th>difference</th></tr>"
        f"{figure_rows}</table>{plots}</body></html>"
    )


class _ChangeCache:
    """A page kept until the store's file changes (its size or modification time); a
    PostgreSQL store, whose changes cannot be seen from here, is asked every time."""

    def __init__(self, location: str, build: Callable[[], str]) -> None:
        self._files = change_files(location)
        self._build = build
        self._lock = threading.Lock()
        self._stamp: tuple[tuple[int, int], ...] | None = None
        self._page = ""

    def get(self) -> str:
        if not self._files:
            return self._build()
        stamp = tuple((s.st_mtime_ns, s.st_size) for s in _stats(*self._files))
        with self._lock:
            if stamp != self._stamp:
                self._page, self._stamp = self._build(), stamp
            return self._page


def _stats(*files: Path) -> list[os.stat_result]:
    """Stat results of the files that exist (a store's write-ahead log comes and goes)."""
    found = []
    for file in files:
        try:
            found.append(file.stat())
        except FileNotFoundError:
            continue
    return found


def _run_id(text: str) -> int:
    """Run ids are whole numbers written in ASCII digits; anything else is no run (404)."""
    if not RUN_ID.fullmatch(text):
        raise HTTPException(status_code=404, detail=f"no run {text[:40]!r}")
    return int(text)
