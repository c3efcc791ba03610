"""The `aidc` command: plan, check, diff, cost, validate and inspect stacks offline.

`common` holds the app and what every command shares; each command group is a module of its own.
`main` is the one error boundary: a user's mistake is one message and exit 2, never a traceback.
"""

from __future__ import annotations

import gc

import typer

from infra.cli import check, plan  # noqa: F401 (register their commands on the app)
from infra.cli.catalog import catalog_app
from infra.cli.common import app, state
from infra.cli.config import config_app
from infra.cli.cost import cost_app
from infra.cli.policy import policy_app
from infra.cli.transfer import app as transfer_app
from infra.errors import AidcError

app.add_typer(config_app, name="config")
app.add_typer(catalog_app, name="catalog")
app.add_typer(cost_app, name="cost")
app.add_typer(policy_app, name="policy")
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
        if state["debug"]:
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
        if state["debug"]:
            raise
        typer.echo(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the "
                   "traceback, and please report it)", err=True)
        raise SystemExit(1) from None
    raise SystemExit(rc if isinstance(rc, int) else 0)
