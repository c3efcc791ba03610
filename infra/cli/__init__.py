"""The `aidc` command: plan, check, diff, cost, validate and inspect stacks offline.

`common` holds the app and what every command shares; each command group is a module of its own.
`main` is the one error boundary: a user's mistake is one message and exit 2, never a traceback.
"""

from __future__ import annotations

import gc

import typer

from infra.cli import check, plan, tenants  # noqa: F401 (register their commands on the app)
from infra.cli.catalog import catalog_app
from infra.cli.common import app, state
from infra.cli.config import config_app
from infra.cli.cost import cost_app
from infra.cli.docs import docs_app
from infra.cli.policy import policy_app
from infra.cli.transfer import app as transfer_app
from infra.errors import AidcError

EXIT_NO_VERDICT = 2
EXIT_INTERRUPTED = 130

app.add_typer(config_app, name="config")
app.add_typer(catalog_app, name="catalog")
app.add_typer(cost_app, name="cost")
app.add_typer(docs_app, name="docs")
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
    """The exit codes are a contract (README, "Exit codes"): 0 pass, 1 a mandatory violation,
    2 anything that kept aidc from a verdict, 130 an interrupt."""
    try:
        rc = app(standalone_mode=False)
    except AidcError as exc:
        if state["debug"]:
            raise
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_NO_VERDICT) from None
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("interrupted", err=True)
        raise SystemExit(EXIT_INTERRUPTED) from None
    except _usage_errors() as exc:
        exc.show()  # click's own usage message: what was wrong and `--help`
        raise SystemExit(EXIT_NO_VERDICT) from None
    except Exception as exc:  # noqa: BLE001 - the last line of defence for the user's terminal
        if state["debug"]:
            raise
        typer.echo(f"internal error: {type(exc).__name__}: {exc} (no verdict; rerun with "
                   "--debug for the traceback, and please report it)", err=True)
        raise SystemExit(EXIT_NO_VERDICT) from None
    raise SystemExit(rc if isinstance(rc, int) else 0)


def _usage_errors() -> tuple[type[Exception], ...]:
    """Click's exception base as raised here: typer may bundle a click of its own
    (`typer._click`) besides or instead of the `click` distribution, so accept both."""
    found: list[type[Exception]] = []
    bundled = getattr(typer.main, "_click", None)
    if bundled is not None:
        found.append(bundled.exceptions.ClickException)
    try:
        import click
    except ImportError:
        pass
    else:
        found.append(click.exceptions.ClickException)
    return tuple(found)
