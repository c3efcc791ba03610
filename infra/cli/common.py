"""What every `aidc` command shares: the app, the common arguments, and writing output.

Every user-input problem is an AidcError: printed as one paragraph on stderr, exit code 2, no
traceback (unless --debug). Files are written whole or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Optional

import typer

from infra.files import write_text

# `-h` as well as `--help`, on every command (click hands the setting down to subcommands).
CONTEXT = {"help_option_names": ["-h", "--help"]}
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  context_settings=CONTEXT,
                  help="Plan, check and inspect aidc stacks offline (no cloud credentials).")

state = {"debug": False}

StackArg = Annotated[Optional[str], typer.Argument(help="Stack name: stacks/Pulumi.<STACK>.yaml.")]
StackFileOpt = Annotated[Optional[Path], typer.Option("--stack-file", help="Any stack file.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
TimeoutOpt = Annotated[Optional[float], typer.Option(
    "--timeout", help="Seconds the program may run before it is stopped (default 180, or "
                      "$AIDC_PROGRAM_TIMEOUT); a stopped program is exit 2.")]
RefOpt = Annotated[Optional[list[str]], typer.Option(
    "--ref", metavar="NAME=PLAN.json",
    help="Resolve the stack reference NAME (organization/<project>/<stack>, <project>/<stack> "
         "or <stack>) to a saved `aidc plan --json` and its outputs, instead of planning the "
         "repository's program of that name (repeatable).")]
ProgramOpt = Annotated[Optional[Path], typer.Option(
    "--program", help="Another Pulumi Python program directory (default: stacks/).")]


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"aidc {version('aidc')}")
        except PackageNotFoundError:  # run from a checkout that was never installed
            typer.echo("aidc (not installed)")
        raise typer.Exit(0)


@app.callback()
def _main(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
          _: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False) -> None:
    state["debug"] = debug


def write_or_print(text: str, output: Path | None, *, inputs: Iterable[Path | None] = ()) -> None:
    """Standard output when `output` is None or "-", else the file, atomically; never one of
    the command's `inputs`."""
    write_text(output, text, inputs=inputs)


def table(rows: list[dict], columns: list[str]) -> str:
    cells = [[str(r.get(c, "")) if r.get(c) is not None else "-" for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) if cells else len(c)
              for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines) + "\n"
