"""The `fabnet` command. Thin: each command parses its options, calls the Python API
(fabnet.api, the one façade) and prints with the terminal kit (fabnet.cli.terminal) through
the printers beside it.

Every error a user can cause arrives as a FabnetError and is printed as one message without a
traceback, with exit status 2. The planner, finance and pandas are imported where a command
needs them: they take two seconds to import, and `--help` or `validate` should not wait.
"""

from __future__ import annotations

from typing import Annotated

from fabnet.cli.start import one_blas_thread, uncollected
from fabnet.core import interrupts

one_blas_thread()
with uncollected():  # start-up, without the collector's walks (cli/start.py)
    import typer

    from fabnet.cli.terminal import out

app = typer.Typer(
    name="fabnet",
    help=(
        "Plan, simulate and finance a network of AI-chip fabs.\n\n"
        "Start with `fabnet run` on the default scenario, `fabnet validate FILE` on your own, "
        "or `fabnet chips` as a dies-per-wafer and yield calculator. Every command has --help."
    ),
    no_args_is_help=True,
    add_completion=True,  # `fabnet --install-completion` (bash, zsh, fish, PowerShell)
    rich_markup_mode="markdown",
)


def _version(value: bool) -> None:
    if value:
        from fabnet.core.version import __version__

        out.print(f"fabnet {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Plan, simulate and finance a network of AI-chip fabs."""
    # SIGTERM stops a command as Ctrl-C does: through KeyboardInterrupt, so that worker
    # processes are stopped and the message says what was kept (cli.options.user_errors); both
    # are remembered, in case the interrupt lands where Python swallows it (core.interrupts)
    interrupts.install()


# The commands register themselves on `app` as their modules load; the order here is the order
# of `fabnet --help`.
with uncollected():
    from fabnet.cli import scenario, fab, network, uncertainty, sensitivity, runs  # noqa: F401, I001
