"""`aidc config`: validate a stack file; print the JSON Schema of one."""

from __future__ import annotations

import json

import typer

from infra.cli.common import StackArg, StackFileOpt, write_or_print

config_app = typer.Typer(no_args_is_help=True, help="Validate stack config; print its JSON Schema.")


@config_app.command("validate")
def config_validate(stack: StackArg = None, stack_file: StackFileOpt = None) -> None:
    """Exit 0 when the stack's config is valid; otherwise name every problem and exit 2."""
    from infra.config.load import config_from_flat, read_stack_file, unset_secret_paths
    from infra.plan import resolve_stack

    name, path = resolve_stack(stack, stack_file)
    flat, _ = read_stack_file(path)
    cfg = config_from_flat(flat, source=str(path))
    typer.echo(f"{path}: valid ({name}: project {cfg.project}, region {cfg.region}, "
               f"environment {cfg.environment})")
    for key in unset_secret_paths(flat):
        typer.echo(f"  secret not set: {key} (`pulumi config set --secret --path '{key}' "
                   "VALUE` before `pulumi up`)")


@config_app.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of a stack file."""
    from infra.config.schema import config_schema as schema

    write_or_print(json.dumps(schema(), indent=2), None)
