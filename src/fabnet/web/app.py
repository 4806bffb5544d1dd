"""A small read-only dashboard over the results store: the runs, a run's report page, and two
runs compared. FastAPI was chosen over Panel because the pages are the report's own plotly
figures: no widget server is needed, only HTTP, and FastAPI's test client and uvicorn are light.

Every page is built from the store through a read-only connection opened per request, so a
`fabnet run` in another process can still write. Runs never change once stored, so a run's
page is built once and kept. Only integer run ids reach the store: anything else is a 404, and
no file is ever served from a path a request names.
"""

from __future__ import annotations

import functools
import html
from pathlib import Path

from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response
from plotly.offline import get_plotlyjs

from fabnet import __version__
from fabnet.report import format_difference, format_figure, label, report_html
from fabnet.store import Store, UnknownRun

PLOTLY_URL = "/static/plotly.js"
STYLE = ("body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222}"
         "table{border-collapse:collapse}td,th{padding:.3rem .8rem;border-bottom:1px solid #eee;text-align:left}"
         "a{color:#1565c0}")


def create_app(store_path: str | Path) -> FastAPI:
    path = Path(store_path)
    Store(path, read_only=True).close()  # fail now, in words, if there is no store
    app = FastAPI(title="fabnet", docs_url=None, redoc_url=None, openapi_url=None)

    def open_store() -> Store:
        return Store(path, read_only=True)

    @functools.lru_cache(maxsize=64)
    def run_page(run_id: int) -> str:
        with open_store() as store:
            page = report_html(store.run(run_id), plotlyjs=PLOTLY_URL)
        return page.replace("<body>", '<body><p><a href="/">← all runs</a></p>', 1)

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        with open_store() as store:
            runs = store.runs()
        rows = "".join(
            f'<tr><td><a href="/runs/{r.run_id}">run {r.run_id}</a></td><td>{html.escape(str(r.scenario_name))}</td>'
            f"<td>{html.escape(str(r.created_at)[:19])}</td><td>{html.escape(str(r.solver_status))}</td></tr>"
            for r in runs.itertuples())
        ids = "".join(f"<option>{r}</option>" for r in runs["run_id"])
        return (f"<!doctype html><html><head><meta charset='utf-8'><title>fabnet runs</title><style>{STYLE}</style>"
                f"</head><body><h1>fabnet runs</h1><p>store {html.escape(str(path))} · fabnet {__version__}</p>"
                f"<table id='runs'><tr><th>run</th><th>scenario</th><th>time (UTC)</th><th>solver</th></tr>{rows}"
                f"</table><h2>Compare two runs</h2><form action='/compare'><select name='a'>{ids}</select> "
                f"<select name='b'>{ids}</select> <button>compare</button></form></body></html>")

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    def run(run_id: str) -> str:
        try:
            return run_page(_run_id(run_id))
        except UnknownRun as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None

    @app.get("/compare", response_class=HTMLResponse)
    def compare(a: str = Query(...), b: str = Query(...)) -> str:
        first, second = _run_id(a), _run_id(b)
        try:
            with open_store() as store:
                table = store.compare(first, second)
        except UnknownRun as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
        a, b = str(first), str(second)
        rows = "".join(
            f"<tr><td>{html.escape(label(r[0]))}</td><td>{html.escape(format_figure(r[0], r[1]))}</td>"
            f"<td>{html.escape(format_figure(r[0], r[2]))}</td>"
            f"<td>{html.escape(format_difference(r[0], r[1], r[2], r[3]))}</td></tr>"
            for r in table.itertuples(index=False))
        return (f"<!doctype html><html><head><meta charset='utf-8'><title>run {a} vs {b}</title><style>{STYLE}"
                f"</style></head><body><p><a href='/'>← all runs</a></p><h1>Run {a} against run {b}</h1>"
                f"<table id='compare'><tr><th>figure</th><th>run {a}</th><th>run {b}</th><th>difference</th></tr>"
                f"{rows}</table></body></html>")

    @app.get("/api/runs")
    def api_runs() -> JSONResponse:
        with open_store() as store:
            runs = store.runs()
        runs["created_at"] = runs["created_at"].astype(str)
        return JSONResponse(runs.to_dict("records"))

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status_code=204)  # browsers ask; an answer keeps their consoles clean

    script = get_plotlyjs()

    @app.get(PLOTLY_URL)
    def plotly_js() -> Response:
        return Response(script, media_type="application/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})

    return app


def _run_id(text: str) -> int:
    """Run ids are whole numbers; anything else is no run (404), not a malformed request."""
    if not text.isdigit():
        raise HTTPException(status_code=404, detail=f"no run {text!r}")
    return int(text)
