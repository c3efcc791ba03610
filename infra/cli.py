"""The `aidc` command: plan, diff, validate and inspect stacks offline.

Every user-input problem is an AidcError: printed as one paragraph on stderr, exit code 2, no
traceback (unless --debug). Files are written whole or not at all.
"""

from __future__ import annotations

import gc
import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from infra.errors import AidcError
from infra.transfer.cli import app as transfer_app

if TYPE_CHECKING:
    from collections.abc import Callable

    from infra.engine.plan import Plan, PlanResource

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Plan, check and inspect aidc stacks offline (no cloud credentials).")
config_app = typer.Typer(no_args_is_help=True, help="Validate stack config; print its JSON Schema.")
catalog_app = typer.Typer(no_args_is_help=True, help="Reference data: Filestore tiers, GPUs, TPUs.")
app.add_typer(config_app, name="config")
app.add_typer(catalog_app, name="catalog")
policy_app = typer.Typer(no_args_is_help=True, help="The policy pack: its roster and a stack's settings.")
app.add_typer(policy_app, name="policy")

_state = {"debug": False}

StackArg = Annotated[Optional[str], typer.Argument(help="Stack name: stacks/Pulumi.<STACK>.yaml.")]
StackFileOpt = Annotated[Optional[Path], typer.Option("--stack-file", help="Any stack file.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.callback()
def _main(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False) -> None:
    _state["debug"] = debug


def _write_or_print(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    tmp = output.with_name(output.name + ".tmp")
    try:
        tmp.write_text(text if text.endswith("\n") else text + "\n")
        tmp.replace(output)
    except OSError as exc:
        raise AidcError(f"{output}: cannot write ({exc.strerror})") from None


# ---------------------------------------------------------------------------------------------
# plan / diff


ProgramOpt = Annotated[Optional[Path], typer.Option(
    "--program", help="Another Pulumi Python program directory (default: stacks/).")]


def _plan(stack: str | None, stack_file: Path | None, program: Path | None = None,
          on_resource: Callable[[PlanResource], None] | None = None) -> Plan:
    from infra.config import STACKS_DIR
    from infra.engine.planner import plan_stack, resolve_stack

    program_dir = program or STACKS_DIR
    name, path = resolve_stack(stack, stack_file, program_dir)
    return plan_stack(name, path, program_dir=program_dir, on_resource=on_resource)


@app.command()
def plan(stack: StackArg = None, stack_file: StackFileOpt = None, program: ProgramOpt = None,
         json_path: Annotated[Optional[Path], typer.Option("--json", help="Write the Plan JSON here.")] = None,
         quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the summary.")] = False) -> None:
    """Render a stack offline and print its resource tree, grouped by component."""
    from infra.report.plan_text import render_plan

    result = _plan(stack, stack_file, program)
    if json_path is not None:
        _write_or_print(result.to_json(), json_path)
    sys.stdout.write(render_plan(result, summary_only=quiet))


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
        target_plan = _plan(target, None)
    result = diff_plans(base_plan, target_plan)
    if as_json:
        _write_or_print(json.dumps(result.as_dict(), indent=2), None)
    else:
        sys.stdout.write(render_diff(result, base_plan, target_plan))


@app.command()
def check(
    stack: StackArg = None,
    stack_file: StackFileOpt = None,
    program: ProgramOpt = None,
    plan_path: Annotated[Optional[Path], typer.Option("--plan", help="Check a saved Plan JSON.")] = None,
    policy_pack: Annotated[Optional[Path], typer.Option("--policy-pack", help="Any Python policy pack (default: policies/).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text, json, sarif or markdown.")] = "text",
    output: Annotated[Optional[Path], typer.Option("--output", help="Write the report here.")] = None,
) -> None:
    """Plan offline (or read --plan), run the policy pack over the analyzer protocol, report.
    Exit 0: no mandatory violation; 1: at least one; 2: bad input or a pack that fails to start."""
    from infra.check import run_check
    from infra.config import STACKS_DIR
    from infra.engine.plan import Plan
    from infra.engine.planner import project_name, resolve_stack
    from infra.report import FORMATS, render

    if fmt not in FORMATS:
        raise AidcError(f"--format {fmt!r}: accepted formats are {', '.join(FORMATS)}")
    if plan_path is not None:
        saved = Plan.read(plan_path)
        if stack_file is None and stack:
            stack_file = resolve_stack(stack, None, program or STACKS_DIR)[1]
        result = run_check(lambda _: saved, project=saved.project, stack=saved.stack,
                           stack_file=stack_file, pack_dir=policy_pack)
    else:
        name, stack_file = resolve_stack(stack, stack_file, program or STACKS_DIR)
        result = run_check(lambda submit: _plan(name, stack_file, program, on_resource=submit),
                           project=project_name(), stack=name, stack_file=stack_file,
                           pack_dir=policy_pack)
    source = str(stack_file) if stack_file is not None else None
    _write_or_print(render(result, fmt, source_file=source), output)
    if output is not None and fmt != "text":
        from infra.report.text import verdict

        typer.echo(verdict(result), err=True)
    raise typer.Exit(result.exit_code)


@policy_app.command("config")
def policy_config(stack: StackArg = None, stack_file: StackFileOpt = None,
                  output: Annotated[Optional[Path], typer.Option("--output", help="Write it here.")] = None) -> None:
    """The stack's aidc:policy settings as the JSON `pulumi preview --policy-pack policies/
    --policy-pack-config FILE` reads, so the real CLI judges exactly as `aidc check` does."""
    from infra.check import policy_settings
    from infra.engine.planner import resolve_stack

    _, path = resolve_stack(stack, stack_file)
    _write_or_print(policy_settings(path).to_pack_config_json(), output)


@policy_app.command("list")
def policy_list(as_json: JsonFlag = False) -> None:
    """Every policy in the pack: name, severity, built-in enforcement, references."""
    from policies.metadata import POLICIES

    rows = [{"id": m.id, "name": m.name, "severity": m.severity,
             "enforcement": m.default_enforcement, "references": " ".join(m.references)}
            for m in POLICIES.values()]
    if as_json:
        _write_or_print(json.dumps(rows, indent=2), None)
    else:
        sys.stdout.write(_table(rows, ["id", "name", "severity", "enforcement", "references"]))


# ---------------------------------------------------------------------------------------------
# config


@config_app.command("validate")
def config_validate(stack: StackArg = None, stack_file: StackFileOpt = None) -> None:
    """Exit 0 when the stack's config is valid; otherwise name every problem and exit 2."""
    from infra.config import load_stack_file
    from infra.engine.planner import resolve_stack

    name, path = resolve_stack(stack, stack_file)
    cfg = load_stack_file(path)
    typer.echo(f"{path}: valid ({name}: project {cfg.project}, region {cfg.region}, "
               f"environment {cfg.environment})")


@config_app.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of a stack file."""
    from infra.config import config_schema as schema

    _write_or_print(json.dumps(schema(), indent=2), None)


# ---------------------------------------------------------------------------------------------
# catalogs


def _table(rows: list[dict], columns: list[str]) -> str:
    cells = [[str(r.get(c, "")) if r.get(c) is not None else "-" for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) if cells else len(c)
              for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines) + "\n"


@catalog_app.command("filestore")
def catalog_filestore(as_json: JsonFlag = False) -> None:
    """Filestore tiers: capacity ranges (GiB), steps, and whether CMEK is supported."""
    from infra.catalog.filestore import filestore_catalog_rows

    rows = filestore_catalog_rows()
    if as_json:
        _write_or_print(json.dumps(rows, indent=2), None)
        return
    flat = [{"tier": r["tier"], "cmek": "yes" if r["cmek"] else "no",
             "ranges (GiB, step)": "; ".join(f"{x['min_gib']}-{x['max_gib']} step {x['step_gib']}"
                                            for x in r["ranges"])} for r in rows]
    sys.stdout.write(_table(flat, ["tier", "ranges (GiB, step)", "cmek"]))


@catalog_app.command("gpu")
def catalog_gpu(as_json: JsonFlag = False) -> None:
    """GPU machine types: accelerator as GKE spells it, GPUs per VM, memory, GPUDirect profile."""
    from infra.catalog.gpu import gpu_catalog_rows

    rows = gpu_catalog_rows()
    if as_json:
        _write_or_print(json.dumps(rows, indent=2), None)
        return
    sys.stdout.write(_table(rows, ["machine_type", "accelerator_type", "accelerator_count",
                                   "gpu_memory_gb", "gpudirect"]))


@catalog_app.command("tpu")
def catalog_tpu(
    generation: Annotated[Optional[str], typer.Option(help="v4, v5e, v5p, v6e or tpu7x.")] = None,
    topology: Annotated[Optional[str], typer.Option(help="e.g. 4x4 (2D) or 4x4x4 (3D).")] = None,
    machine_type: Annotated[Optional[str], typer.Option(help="Choose between alternatives.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """TPU generations and topologies; with --generation and --topology, that slice in GKE
    nodes (hosts = VMs = GKE nodes)."""
    from infra.catalog.tpu import tpu_catalog_rows, tpu_slice

    if topology is not None or machine_type is not None:
        if generation is None:
            raise AidcError("--topology needs --generation (v4, v5e, v5p, v6e or tpu7x)")
        if topology is None:
            raise AidcError("--machine-type needs --topology")
        tpu = tpu_slice(generation, topology, machine_type).as_dict()
        if as_json:
            _write_or_print(json.dumps(tpu, indent=2), None)
        else:
            sys.stdout.write(_table([tpu], list(tpu)))
        return
    rows = tpu_catalog_rows()
    if generation is not None:
        from infra.catalog.tpu import tpu_generation

        tpu_generation(generation)
        rows = [r for r in rows if r["generation"] == generation]
    if as_json:
        _write_or_print(json.dumps(rows, indent=2), None)
        return
    flat = [{"generation": r["generation"], "label": r["accelerator_label"],
             "dims": f"{r['dimensions']}D",
             "machine types": ", ".join(f"{m['machine_type']} ({m['chips_per_vm']} chips)"
                                        for m in r["machine_types"]),
             "max chips": r["max_chips"],
             "topologies": ", ".join(r["topologies"][:8]) + (" ..." if len(r["topologies"]) > 8 else "")}
            for r in rows]
    sys.stdout.write(_table(flat, ["generation", "label", "dims", "machine types", "max chips",
                                   "topologies"]))


app.add_typer(transfer_app, name="transfer")


def main() -> None:
    """Entry point: user errors exit 2 with a message; tracebacks only with --debug."""
    try:
        _run_app()
    finally:
        # The process ends here. Without this, interpreter shutdown runs the cyclic collector
        # over everything a plan loaded (pulumi_gcp's classes, every resource): about 1 s of a
        # 2.6 s `aidc plan dev`, to free memory the OS takes back anyway.
        gc.freeze()


def _run_app() -> None:
    try:
        rc = app(standalone_mode=False)
    except AidcError as exc:
        if _state["debug"]:
            raise
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        typer.echo("aborted", err=True)
        raise SystemExit(130) from None
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise SystemExit(130) from None
    except Exception as exc:  # noqa: BLE001 - the last line of defence for the user's terminal
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            raise SystemExit(exc.exit_code) from None
        if _state["debug"]:
            raise
        typer.echo(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the "
                   "traceback, and please report it)", err=True)
        raise SystemExit(1) from None
    raise SystemExit(rc if isinstance(rc, int) else 0)


if __name__ == "__main__":
    main()
