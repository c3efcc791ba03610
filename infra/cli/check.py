"""`aidc check`: plan offline (or read a plan), judge it with the policy pack, report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from infra.cli.common import (
    ProgramOpt,
    RefOpt,
    StackArg,
    StackFileOpt,
    TimeoutOpt,
    app,
    write_or_print,
)
from infra.cli.plan import plan_of
from infra.errors import AidcError
from infra.files import check_output, is_stdout
from infra.report.markdown import GITHUB_COMMENT_LIMIT

MIN_COMMENT_BYTES = 8_192
"""The smallest --comment-bytes: room for the summary, the severity table and a cut note."""

if TYPE_CHECKING:
    from infra.config.policy import PolicySettings
    from infra.engine.plan import Plan

@app.command()
def check(
    stack: StackArg = None,
    stack_file: StackFileOpt = None,
    program: ProgramOpt = None,
    timeout: TimeoutOpt = None,
    ref: RefOpt = None,
    plan_path: Annotated[Optional[Path], typer.Option(
        "--plan", help="Check a saved Plan JSON (with the stack's policy settings it recorded; "
                       "--stack-file overrides them).")] = None,
    policy_pack: Annotated[Optional[Path], typer.Option("--policy-pack", help="Any Python policy pack (default: policies/).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text, json, sarif, junit or markdown.")] = "text",
    output: Annotated[Optional[Path], typer.Option("--output", help="Write the report here.")] = None,
    skip_policy: Annotated[Optional[list[str]], typer.Option(
        "--skip-policy", metavar="POLICY", help="Do not judge this policy (repeatable).")] = None,
    only_policy: Annotated[Optional[list[str]], typer.Option(
        "--only-policy", metavar="POLICY", help="Judge only these policies (repeatable).")] = None,
    baseline: Annotated[Optional[Path], typer.Option(
        "--baseline", help="A JSON report of an earlier run: its findings no longer fail the "
                           "check, only new ones do.")] = None,
    base: Annotated[Optional[Path], typer.Option(
        "--base", help="Markdown only: a base Plan JSON; the report adds what changed and what "
                       "it does to the monthly cost.")] = None,
    comment_bytes: Annotated[Optional[int], typer.Option(
        "--comment-bytes", metavar="BYTES",
        help=f"Markdown only: fit the report in BYTES UTF-8 bytes ({MIN_COMMENT_BYTES:,} to "
             f"GitHub's {GITHUB_COMMENT_LIMIT:,}, the default), so that several stacks' reports "
             "share one pull-request comment.")] = None,
) -> None:
    """Plan offline (or read --plan), run the policy pack over the analyzer protocol, report.
    Exit 0: no mandatory violation; 1: at least one; 2: bad input or a pack that fails to start."""
    from infra.check.pack import DEFAULT_PACK_DIR
    from infra.check.run import plan_policy_settings, policy_settings, run_check
    from infra.check.triage import (
        apply_baseline,
        apply_stack_waivers,
        check_policy_names,
        load_baseline,
        select_policies,
    )
    from infra.config.load import STACKS_DIR
    from infra.engine.plan import Plan, repo_relative, repository_root
    from infra.plan import find_project, resolve_stack
    from infra.report import FORMATS, render
    from policies.metadata import POLICY_NAMES

    if fmt not in FORMATS:
        raise AidcError(f"--format {fmt!r}: accepted formats are {', '.join(FORMATS)}")
    if base is not None and fmt != "markdown":
        raise AidcError("--base adds the changes against a base plan to the Markdown report; "
                        "use it with --format markdown")
    if comment_bytes is not None and fmt != "markdown":
        raise AidcError("--comment-bytes sizes the Markdown report; use it with --format markdown")
    if comment_bytes is not None and not MIN_COMMENT_BYTES <= comment_bytes <= GITHUB_COMMENT_LIMIT:
        raise AidcError(f"--comment-bytes {comment_bytes}: accepted sizes are "
                        f"{MIN_COMMENT_BYTES:,} to {GITHUB_COMMENT_LIMIT:,} bytes (GitHub's "
                        "comment limit); the summary and severity table alone need a few KB")
    skip, only = list(skip_policy or ()), list(only_policy or ())
    ours = policy_pack is None or policy_pack.resolve() == DEFAULT_PACK_DIR.resolve()
    if ours:  # fail fast, before any planning
        check_policy_names(skip, POLICY_NAMES, "--skip-policy")
        check_policy_names(only, POLICY_NAMES, "--only-policy")
    inputs = (plan_path, stack_file, program, policy_pack, baseline, base,
              *(Path(r.partition("=")[2]) for r in ref or ()))
    if not is_stdout(output):
        check_output(output, inputs)
    known = load_baseline(baseline) if baseline is not None else None
    base_plan = Plan.read(base) if base is not None else None
    program_dir = program or STACKS_DIR
    settings: PolicySettings | None
    if plan_path is not None:
        saved = Plan.read(plan_path)
        if stack_file is None and stack:
            stack_file = resolve_stack(stack, None, program_dir)[1]
        settings = (policy_settings(stack_file) if stack_file is not None
                    else plan_policy_settings(saved, str(plan_path)))
        if stack_file is not None and "stackFile" not in saved.extras:
            saved.extras["stackFile"] = repo_relative(stack_file, repository_root(Path.cwd()))
        result = run_check(lambda _: saved, project=saved.project, stack=saved.stack,
                           settings=settings, pack_dir=policy_pack)
    else:
        name, stack_file = resolve_stack(stack, stack_file, program_dir)
        project = find_project(program).name if program is not None else find_project().name
        settings = policy_settings(stack_file)
        result = run_check(lambda submit: plan_of(name, stack_file, program, on_resource=submit,
                                                   timeout=timeout, refs=ref),
                           project=project, stack=name, settings=settings,
                           pack_dir=policy_pack)
    result = apply_stack_waivers(result, settings)
    result = apply_baseline(select_policies(result, skip=skip, only=only), known)
    write_or_print(_render(render, result, fmt, base_plan, comment_bytes), output, inputs=inputs)
    if not is_stdout(output) and fmt != "text":
        from infra.report.text import verdict

        typer.echo(verdict(result), err=True)
    raise typer.Exit(result.exit_code)


def _render(render, result, fmt: str, base_plan: Plan | None,  # type: ignore[no-untyped-def]
            comment_bytes: int | None) -> str:
    if fmt != "markdown":
        return render(result, fmt)
    from infra.report.comparison import base_plan_sections
    from infra.report.markdown import render_markdown

    sections = base_plan_sections(result, base_plan) if base_plan is not None else []
    return render_markdown(result, limit=comment_bytes or GITHUB_COMMENT_LIMIT, sections=sections)
