"""What every `aidc` command shares: the app, the common arguments, and writing output.

Every user-input problem is an AidcError: printed as one paragraph on stderr, exit code 2, no
traceback (unless --debug). Files are written whole or not at all.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from infra.errors import AidcError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Plan, check and inspect aidc stacks offline (no cloud credentials).")

state = {"debug": False}

StackArg = Annotated[Optional[str], typer.Argument(help="Stack name: stacks/Pulumi.<STACK>.yaml.")]
StackFileOpt = Annotated[Optional[Path], typer.Option("--stack-file", help="Any stack file.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ProgramOpt = Annotated[Optional[Path], typer.Option(
    "--program", help="Another Pulumi Python program directory (default: stacks/).")]


@app.callback()
def _main(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False) -> None:
    state["debug"] = debug


def write_or_print(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    tmp = output.with_name(output.name + ".tmp")
    try:
        tmp.write_text(text if text.endswith("\n") else text + "\n")
        tmp.replace(output)
    except OSError as exc:
        raise AidcError(f"{output}: cannot write ({exc.strerror})") from None


def table(rows: list[dict], columns: list[str]) -> str:
    cells = [[str(r.get(c, "")) if r.get(c) is not None else "-" for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) if cells else len(c)
              for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines) + "\n"
