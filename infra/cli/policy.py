"""`aidc policy`: the pack's roster, and a stack's settings as `--policy-pack-config`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from infra.cli.common import JsonFlag, StackArg, StackFileOpt, table, write_or_print

policy_app = typer.Typer(no_args_is_help=True, help="The policy pack: its roster and a stack's settings.")


@policy_app.command("config")
def policy_config(stack: StackArg = None, stack_file: StackFileOpt = None,
                  output: Annotated[Optional[Path], typer.Option("--output", help="Write it here.")] = None) -> None:
    """The stack's aidc:policy settings as the JSON `pulumi preview --policy-pack policies/
    --policy-pack-config FILE` reads, so the real CLI judges exactly as `aidc check` does."""
    from infra.check.run import policy_settings
    from infra.plan import resolve_stack

    _, path = resolve_stack(stack, stack_file)
    write_or_print(policy_settings(path).to_pack_config_json(), output, inputs=(path,))


@policy_app.command("list")
def policy_list(as_json: JsonFlag = False) -> None:
    """Every policy in the pack: name, severity, built-in enforcement, references, its named
    exemptions, and (--json) where it is deliberately stricter or narrower than its references."""
    from policies.metadata import POLICIES

    rows = [{"id": m.id, "name": m.name, "severity": m.severity,
             "enforcement": m.default_enforcement, "references": " ".join(m.references),
             "exemptions": " ".join(e.id for e in m.exemptions)}
            for m in POLICIES.values()]
    if as_json:
        for row, m in zip(rows, POLICIES.values()):
            row["exemptions"] = [{"id": e.id, "description": e.description, "url": e.url}
                                 for e in m.exemptions]
            row["divergence"] = m.divergence
        write_or_print(json.dumps(rows, indent=2), None)
    else:
        sys.stdout.write(table(rows, ["id", "name", "severity", "enforcement", "references",
                                      "exemptions"]))
