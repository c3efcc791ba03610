"""`aidc check`: plan offline (or read a plan), judge it with the policy pack, report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from infra.cli.common import ProgramOpt, StackArg, StackFileOpt, TimeoutOpt, app, write_or_print
from infra.cli.plan import plan_of
from infra.errors import AidcError
from infra.files import check_output, is_stdout


@app.command()
def check(
    stack: StackArg = None,
    stack_file: StackFileOpt = None,
    program: ProgramOpt = None,
    timeout: TimeoutOpt = None,
    plan_path: Annotated[Optional[Path], typer.Option("--plan", help="Check a saved Plan JSON.")] = None,
    policy_pack: Annotated[Optional[Path], typer.Option("--policy-pack", help="Any Python policy pack (default: policies/).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text, json, sarif or markdown.")] = "text",
    output: Annotated[Optional[Path], typer.Option("--output", help="Write the report here.")] = None,
) -> None:
    """Plan offline (or read --plan), run the policy pack over the analyzer protocol, report.
    Exit 0: no mandatory violation; 1: at least one; 2: bad input or a pack that fails to start."""
    from infra.check.run import run_check
    from infra.config.load import STACKS_DIR
    from infra.engine.plan import Plan
    from infra.plan import project_name, resolve_stack
    from infra.report import FORMATS, render

    if fmt not in FORMATS:
        raise AidcError(f"--format {fmt!r}: accepted formats are {', '.join(FORMATS)}")
    inputs = (plan_path, stack_file, program, policy_pack)
    if not is_stdout(output):
        check_output(output, inputs)
    if plan_path is not None:
        saved = Plan.read(plan_path)
        if stack_file is None and stack:
            stack_file = resolve_stack(stack, None, program or STACKS_DIR)[1]
        result = run_check(lambda _: saved, project=saved.project, stack=saved.stack,
                           stack_file=stack_file, pack_dir=policy_pack)
    else:
        name, stack_file = resolve_stack(stack, stack_file, program or STACKS_DIR)
        result = run_check(lambda submit: plan_of(name, stack_file, program, on_resource=submit,
                                                   timeout=timeout),
                           project=project_name(), stack=name, stack_file=stack_file,
                           pack_dir=policy_pack)
    source = str(stack_file) if stack_file is not None else None
    write_or_print(render(result, fmt, source_file=source), output, inputs=inputs)
    if not is_stdout(output) and fmt != "text":
        from infra.report.text import verdict

        typer.echo(verdict(result), err=True)
    raise typer.Exit(result.exit_code)
