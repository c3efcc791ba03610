"""`aidc docs generate [--check]`: write (or verify) the reference pages under docs/."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from infra.cli.common import write_or_print

docs_app = typer.Typer(no_args_is_help=True, help="The reference docs generated from the code.")


@docs_app.command("generate")
def docs_generate(
        check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 when a page "
                                                         "is missing or stale.")] = False,
        output_dir: Annotated[Optional[Path], typer.Option(
            "--output-dir", help="Where the pages go (default: the repository's docs/).")] = None,
) -> None:
    """Render docs/components.md, docs/config.md and docs/policies.md from the components,
    the config models and the policy metadata."""
    from infra.docs.generate import DOCS_DIR, REGENERATE, render_all, stale_pages

    target = output_dir or DOCS_DIR
    if check:
        stale = stale_pages(target)
        for name in stale:
            typer.echo(f"stale: {target / name} (run `{REGENERATE}`)", err=True)
        if stale:
            raise typer.Exit(1)
        typer.echo(f"{target}: up to date")
        return
    if target.exists() and not target.is_dir():
        from infra.errors import AidcError

        raise AidcError(f"--output-dir {target}: not a directory")
    target.mkdir(parents=True, exist_ok=True)
    for name, text in render_all().items():
        write_or_print(text, target / name)
        typer.echo(f"wrote {target / name}")
