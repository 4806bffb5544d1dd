"""`fabnet sensitivity`: one input at a time, the headline at each input's low and high, and a
break-even."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from fabnet.api import records
from fabnet.cli import app
from fabnet.cli.options import (
    DEFAULT_SCENARIO,
    AsJson,
    LabelOption,
    Overrides,
    ScenarioFile,
    load_scenario,
    user_errors,
)
from fabnet.cli.terminal import err, out, print_frame, print_json
from fabnet.core.breakeven import break_even_sentence
from fabnet.core.secrets import redact

if TYPE_CHECKING:
    import pandas as pd


@app.command()
def sensitivity(
    file: ScenarioFile = DEFAULT_SCENARIO,
    overrides: Overrides = None,
    vary: Annotated[
        list[str] | None,
        typer.Option(
            "--vary",
            metavar="PATH=LOW:HIGH",
            help="Also swing this input between two values, e.g. --vary nodes.N3.wafer_price_usd=18000:27000. "
            "Repeatable.",
        ),
    ] = None,
    replan: Annotated[
        bool,
        typer.Option(
            "--replan",
            help="Plan every point anew, with and without fabs (two solves a point; any input may vary). "
            "Default: hold the plan and follow the money again (money inputs only, 0.2 s a point).",
        ),
    ] = False,
    deal: Annotated[bool, typer.Option("--deal", help="Also find the deal's ends at every point (~6 s each).")] = False,
    solve: Annotated[
        str,
        typer.Option(
            "--solve",
            help="The break-even's target: 'g42 irr = hurdle', 'fabco npv = 0', 'buyer gain = 0' "
            "(default: the investor closest to its hurdle, at its hurdle).",
        ),
    ] = "",
    for_path: Annotated[
        str | None,
        typer.Option(
            "--for", metavar="PATH", help="The input the break-even moves (default: the one that moves the NPV most)."
        ),
    ] = None,
    between: Annotated[
        str | None,
        typer.Option(metavar="LOW:HIGH", help="Where to search the break-even (default: ¼× to 4× the scenario's)."),
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="Also store the decision as a run in this store (a DuckDB file or postgresql://…), with the "
            "tornado and the break-even: `fabnet report ID` shows them. Default: nothing stored.",
        ),
    ] = None,
    label: LabelOption = None,
    as_json: AsJson = False,
) -> None:
    """One input at a time: the fab company's NPV and IRR, each investor's IRR and the buyer's
    gain against the foundry route with each uncertain input of the scenario at its P10 and P90
    (and each --vary input at its two values), the others as they are, the inputs that move the
    NPV most first; then a break-even: the value of one input at which a figure reaches its
    target. The plan is held unless --replan. With --store, the decision is stored as a run (with
    its deal, as `fabnet run --no-check` stores it) and the tornado and break-even with it, so
    the run's report has them.

    Example: `fabnet sensitivity scenarios/tigris.yaml --solve "g42 irr = hurdle" --for
    nodes.N3.wafer_price_usd`
    """
    from fabnet.api import (
        SensitivityModel,
        SolveOptions,
        decide,
        default_path,
        find_break_even,
        parse_solve,
        run,
        search_range,
        store_sensitivity,
        swings,
        tornado,
    )
    from fabnet.core.results import DECISION_GAP

    with user_errors():
        scenario = load_scenario(file, overrides or ())
        try:
            with err.status(f"{scenario.name}: planning with and without fabs…"):
                job = None if store is None else run(scenario, store, label=label, check=False)
                decision = decide(scenario, gap=DECISION_GAP, deal_shares=()) if job is None else job.decision
            model = SensitivityModel(decision, replan, deal, SolveOptions(mip_gap=DECISION_GAP))
            inputs, left_out = swings(scenario, list(vary or ()), replan)
            with err.status("one input at a time…"):
                table = tornado(model, inputs)
            path = for_path or default_path(scenario, table)
            found = None
            if path is not None:
                key, target = parse_solve(solve, decision.money)
                how, low, high = search_range(scenario, path, between)
                with err.status(f"break-even of {path}…"):
                    found = find_break_even(model, path, key, target, low, high, how)
        except ValueError as error:
            raise typer.BadParameter(str(error)) from None
        if job is not None and job.run_id is not None and store is not None:
            store_sensitivity(job.run_id, table, found, store)
            err.print(f"stored as run {job.run_id} in {redact(store)}: `fabnet report {job.run_id}` shows it")
        elif job is not None:
            err.print(f"not stored: {job.store_error}")
    if as_json:
        print_json({"tornado": records(table.to_dict("list")), "break_even": None if found is None else vars(found)})
        return
    _print_tornado(table, replan)
    if left_out:
        out.print(
            "  Not varied with the plan held (they change what the plan is; --replan varies them): "
            + ", ".join(left_out)
        )
    if found is not None:
        out.print(break_even_sentence(found))


def _print_tornado(table: pd.DataFrame, replan: bool) -> None:
    """The base, then each input's low and high rows, the input named on its first row."""
    shown = table.assign(  # the path names the input: its words would make every row three lines
        input=[path or "base" if end != "high" else "" for path, end in zip(table["path"], table["end"], strict=True)],
        value=table["setting"],
    )
    figures = [c for c in table.columns if c not in ("input", "path", "end", "setting")]
    held = "planned anew at each point" if replan else "the plan held"
    print_frame(
        shown[["input", "value", *figures]],
        f"One input at a time ({held}): the headline at each input's low and high",
        text_columns=2,
    )
