"""Plan a stack offline: validate its config, then run the stack program under mocks."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path

import yaml
from pydantic import ValidationError

from infra.config.load import STACKS_DIR, config_from_flat, read_stack_file, stack_file
from infra.engine.plan import Plan, PlanResource
from infra.errors import AidcError
from infra.engine.isolate import run_isolated, timeout_seconds
from infra.engine.runner import program_from_dir, run_program

PROJECT_FILE = STACKS_DIR.parent / "Pulumi.yaml"


def project_name() -> str:
    """The Pulumi project name; it is also the config namespace of the project's own keys."""
    try:
        return str(yaml.safe_load(PROJECT_FILE.read_text())["name"])
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        return "aidc"


def stack_name_of(path: Path) -> str:
    name = path.name
    if name.startswith("Pulumi.") and name.endswith((".yaml", ".yml")):
        return name[len("Pulumi."):].rsplit(".", 1)[0]
    return path.stem


def resolve_stack(stack: str | None, stack_file_path: Path | None,
                  program_dir: Path = STACKS_DIR) -> tuple[str, Path]:
    """A stack name or an explicit file, as the CLI takes them."""
    if stack_file_path is not None:
        return (stack or stack_name_of(stack_file_path)), stack_file_path
    if not stack:
        raise AidcError("give a STACK name (e.g. dev) or --stack-file PATH")
    return stack, stack_file(stack, program_dir)


def plan_stack(stack: str, path: Path, *, program_dir: Path = STACKS_DIR,
               on_resource: Callable[[PlanResource], None] | None = None,
               timeout: float | None = None) -> Plan:
    """Plan aidc's own program (config validated first, so a config error never produces half
    a plan) or any other Pulumi Python program directory with its stack file's config;
    `on_resource` sees each resource as it is registered.

    The program runs isolated (infra.engine.isolate): one that exits, crashes, is killed or
    outlives `timeout` seconds yields no plan but a ProgramFailed naming what happened."""
    from infra.report.capacity import capacity_report

    if not (program_dir / "__main__.py").is_file():
        raise AidcError(f"--program {program_dir}: no __main__.py there; a Pulumi Python program "
                        "directory is needed")
    flat, secret_keys = read_stack_file(path)
    ours = program_dir.resolve() == STACKS_DIR.resolve()
    cfg = config_from_flat(flat, source=str(path)) if ours else None
    project = project_name()
    limit = timeout_seconds(timeout)
    plan = run_isolated(
        lambda send: run_program(program_from_dir(program_dir), project=project, stack=stack,
                                 config=flat, secret_keys=secret_keys,
                                 on_resource=send if on_resource is not None else None),
        timeout=limit, on_item=on_resource,
        describe=lambda exc: describe_failure(exc, program_dir))
    if cfg is not None:
        plan.extras["capacity"] = capacity_report(cfg)
    return plan


def describe_failure(exc: BaseException, program_dir: Path) -> str:
    """One paragraph for a program that did not finish: what it raised, where in the program,
    and never pydantic's dump of the inputs (a wrong argument may carry a secret)."""
    if isinstance(exc, SystemExit):
        return (f"the program called sys.exit({exc.code!r}) before its plan was complete: no "
                "plan, no verdict")
    if isinstance(exc, AidcError):
        return str(exc)
    root = str(program_dir.resolve())
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if str(Path(f.filename).resolve()).startswith(root)]
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    if isinstance(exc, ValidationError):
        detail = f"{exc.title}: " + "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False, include_context=False))
    else:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return f"the program failed{where}: {text[:500]}"
