"""`aidc cost`: what a stack costs a month, and `aidc cost diff`: what a change adds.

    aidc cost STACK | --stack-file F | --plan PLAN.json [--json OUT|-] [assumptions]
    aidc cost diff BASE HEAD [--json OUT|-]     (each a cost report, a plan, or a stack)

`show` is the group's default command, so `aidc cost prod` and `aidc cost show prod` are one.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import click
import typer
from typer.core import TyperGroup

from infra.cli.common import ProgramOpt, StackArg, StackFileOpt, write_or_print
from infra.errors import AidcError

if TYPE_CHECKING:
    from infra.cost import Assumptions, CostReport


class _DefaultShow(TyperGroup):
    """Arguments that do not start with a subcommand's name go to `show`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["show", *args]
        elif not args:
            args = ["show"]
        return super().parse_args(ctx, args)


cost_app = typer.Typer(cls=_DefaultShow, help="Monthly cost of a stack at its pools' minimum and "
                                                "maximum size, and the cost of a change.")

JsonOut = Annotated[Optional[str], typer.Option(
    "--json", metavar="OUT", help="Write the JSON report to OUT ('-' prints it instead of the "
                                  "table).")]
CommitmentOpt = Annotated[Optional[list[str]], typer.Option(
    "--commitment", metavar="POOL=1y|3y",
    help="Price an on-demand or reservation node pool (its name in the report) at a 1- or "
         "3-year committed-use rate; repeatable.")]
BucketGibOpt = Annotated[Optional[list[str]], typer.Option(
    "--bucket-gib", metavar="BUCKET=GIB",
    help="Price a bucket (its name in the report) as storing GIB GiB; repeatable.")]


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values or []:
        name, sep, rest = value.partition("=")
        if not sep or not name.strip() or not rest.strip():
            raise AidcError(f"{option} {value!r}: expected NAME=VALUE")
        out[name.strip()] = rest.strip()
    return out


def assumptions_of(commitments: list[str] | None, bucket_gib: list[str] | None) -> Assumptions:
    from infra.cost import Assumptions

    sizes: dict[str, float] = {}
    for name, text in _pairs(bucket_gib, "--bucket-gib").items():
        try:
            sizes[name] = float(text)
        except ValueError:
            raise AidcError(f"--bucket-gib {name}={text}: {text!r} is not a number of GiB") from None
    return Assumptions(commitments=_pairs(commitments, "--commitment"),  # type: ignore[arg-type]
                       bucket_gib=sizes)


def _stack_region(path: Path) -> str | None:
    from infra.config.load import read_stack_file

    region = read_stack_file(path)[0].get("gcp:region")
    return region if isinstance(region, str) else None


def report_of(stack: str | None, stack_file: Path | None, program: Path | None,
              plan_file: Path | None, assumptions: Assumptions | None = None) -> CostReport:
    """Price a saved plan, or plan a stack and price it."""
    from infra.cost import estimate
    from infra.engine.plan import Plan

    if plan_file is not None:
        if stack is not None:
            raise AidcError("give a STACK or --plan PLAN.json, not both")
        region = _stack_region(stack_file) if stack_file is not None else None
        return estimate(Plan.read(plan_file), assumptions=assumptions, region=region)
    from infra.cli.plan import plan_of
    from infra.config.load import STACKS_DIR
    from infra.plan import resolve_stack

    _, path = resolve_stack(stack, stack_file, program or STACKS_DIR)
    plan = plan_of(stack, stack_file, program)
    return estimate(plan, assumptions=assumptions, region=_stack_region(path))


def _emit(text: str, as_json: str, json_out: str | None) -> None:
    if json_out == "-":
        write_or_print(as_json, None)
        return
    if json_out is not None:
        write_or_print(as_json, Path(json_out))
    sys.stdout.write(text)


@cost_app.command("show")
def show(stack: StackArg = None, stack_file: StackFileOpt = None, program: ProgramOpt = None,
         plan_file: Annotated[Optional[Path], typer.Option(
             "--plan", metavar="PLAN.json", help="Price a saved plan (aidc plan --json) instead "
                                                 "of planning a stack.")] = None,
         json_out: JsonOut = None, commitment: CommitmentOpt = None,
         bucket_gib: BucketGibOpt = None) -> None:
    """(default) The monthly cost of every resource, grouped by component, at the pools'
    minimum and maximum size; unpriced resources listed with the reason."""
    from infra.report.cost import render_cost

    report = report_of(stack, stack_file, program, plan_file,
                       assumptions_of(commitment, bucket_gib))
    _emit(render_cost(report), report.to_json(), json_out)


def _load(arg: str, role: str) -> CostReport:
    """A cost report, or a plan priced now, or a stack (name or file) planned and priced now."""
    from infra.cost import CostReport, estimate
    from infra.cost.model import is_cost_report, read_json
    from infra.engine.plan import Plan

    path = Path(arg)
    if path.suffix in (".yaml", ".yml"):
        return report_of(None, path, None, None)
    if not (path.suffix == ".json" or path.is_file()):
        return report_of(arg, None, None, None)
    raw: Any = read_json(path)
    if is_cost_report(raw):
        return CostReport.from_dict(raw, where=str(path))
    if isinstance(raw, dict) and isinstance(raw.get("resources"), list):
        return estimate(Plan.from_dict(raw, where=str(path)))
    raise AidcError(f"{path} ({role}): neither an aidc cost report (currency, hours_per_month, "
                    "resources, total: `aidc cost --json`) nor a plan (resources with urn, type, "
                    "name: `aidc plan --json`)")


@cost_app.command("diff")
def diff(base: Annotated[str, typer.Argument(help="The base: a cost report, a plan JSON, or a "
                                                  "stack (name or file).")],
         head: Annotated[str, typer.Argument(help="The head: a cost report, a plan JSON, or a "
                                                  "stack (name or file).")],
         json_out: JsonOut = None) -> None:
    """What changes in the monthly cost between BASE and HEAD, per resource and in total.
    Always exits 0 on a valid comparison (a budget, not a diff, decides pass or fail)."""
    import json

    from infra.cost import diff_reports
    from infra.report.cost import render_cost_diff

    result = diff_reports(_load(base, "base"), _load(head, "head"))
    _emit(render_cost_diff(result), json.dumps(result.as_dict(), indent=2) + "\n", json_out)
