"""`aidc plan` and `aidc diff`: a stack's resource graph offline, and what changed between two."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from infra.cli.common import (
    JsonFlag,
    ProgramOpt,
    RefOpt,
    StackArg,
    StackFileOpt,
    TimeoutOpt,
    app,
    write_or_print,
)
from infra.errors import AidcError
from infra.files import check_output, is_stdout

if TYPE_CHECKING:
    from collections.abc import Callable

    from infra.engine.plan import Plan, PlanResource
    from infra.engine.references import StackName


def plan_of(stack: str | None, stack_file: Path | None, program: Path | None = None,
            on_resource: Callable[[PlanResource], None] | None = None,
            timeout: float | None = None, refs: list[str] | None = None) -> Plan:
    from infra.config.load import STACKS_DIR
    from infra.plan import References, find_project, plan_stack, resolve_stack

    program_dir = program or STACKS_DIR
    name, path = resolve_stack(stack, stack_file, program_dir)
    references = References(refs=saved_refs(refs or [], find_project(program).name),
                            timeout=timeout)
    return plan_stack(name, path, program_dir=program_dir, on_resource=on_resource,
                      timeout=timeout, references=references)


def saved_refs(given: list[str], project: str) -> dict[StackName, Path]:
    """`--ref NAME=PLAN.json` values by stack (a bare NAME is a stack of `project`), each file
    checked to exist before anything is planned."""
    from infra.engine.references import parse_stack_name

    out: dict[StackName, Path] = {}
    for value in given:
        name, sep, path = value.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise AidcError(f"--ref {value!r}: expected NAME=PLAN.json, e.g. "
                            "--ref organization/aidc-foundation/prod=foundation.json")
        stack = parse_stack_name(name.strip(), project)
        if stack in out:
            raise AidcError(f"--ref {value!r}: {stack} is already given by --ref")
        file = Path(path.strip())
        if not file.is_file():
            raise AidcError(f"--ref {value!r}: no file {file} (a Plan JSON written by "
                            "`aidc plan --json`)")
        out[stack] = file
    return out


@app.command()
def plan(stack: StackArg = None, stack_file: StackFileOpt = None, program: ProgramOpt = None,
         timeout: TimeoutOpt = None, ref: RefOpt = None,
         json_path: Annotated[Optional[Path], typer.Option("--json", help="Write the Plan JSON here.")] = None,
         quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the summary.")] = False) -> None:
    """Render a stack offline and print its resource tree, grouped by component, and what
    aidc's plan checks find: apply order, preconditions, budget (always exit 0: `aidc check`
    gates)."""
    from infra.check.plan_checks import run_plan_checks, summary_lines
    from infra.check.run import policy_settings
    from infra.config.load import STACKS_DIR
    from infra.plan import resolve_stack
    from infra.report.plan_text import render_plan

    inputs = (stack_file, program, *(Path(r.partition("=")[2]) for r in ref or ()))
    if json_path is not None:
        check_output(json_path, inputs)
    path = resolve_stack(stack, stack_file, program or STACKS_DIR)[1]
    result = plan_of(stack, stack_file, program, timeout=timeout, refs=ref)
    if json_path is not None:
        write_or_print(result.to_json(), json_path, inputs=inputs)
        if is_stdout(json_path):
            return  # `--json -`: the JSON alone on standard output
    checked = run_plan_checks(result, policy_settings(path))
    sys.stdout.write(render_plan(result, summary_only=quiet) + "\n"
                     + "\n".join(summary_lines(checked)) + "\n")


@app.command()
def diff(base: Annotated[Path, typer.Argument(help="A saved Plan JSON.")],
         target: Annotated[str, typer.Argument(help="A stack name or another Plan JSON.")],
         as_json: JsonFlag = False) -> None:
    """What differs between a saved plan and a stack (or another plan). Always exits 0."""
    from infra.engine.diff import diff_plans
    from infra.engine.plan import Plan
    from infra.report.plan_text import render_diff

    base_plan = Plan.read(base)
    target_path = Path(target)
    if target.endswith(".json") or target_path.is_file():
        target_plan = Plan.read(target_path)
    else:
        target_plan = plan_of(target, None)
    result = diff_plans(base_plan, target_plan)
    if as_json:
        write_or_print(json.dumps(result.as_dict(), indent=2), None)
    else:
        sys.stdout.write(render_diff(result, base_plan, target_plan))
