"""`aidc tenants`: the quotas a stack's teams get in each accelerator pool.

    aidc tenants STACK | --stack-file F [--json OUT|-]

Read from the stack file alone (no plan): the same `allocate` whose quotas the tenancy
component writes into the ClusterQueues, so the table is what the cluster will enforce.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from infra.catalog.gpu import GPU_RESOURCE
from infra.catalog.tpu import TPU_RESOURCE
from infra.cli.common import StackArg, StackFileOpt, app, table, write_or_print
from infra.files import check_output

if TYPE_CHECKING:
    from infra.tenants.allocation import Allocation

JsonOut = Annotated[Optional[str], typer.Option(
    "--json", metavar="OUT", help="Write the allocation as JSON to OUT ('-' prints it instead "
                                  "of the table).")]
_UNIT_NAMES = {GPU_RESOURCE: "node", TPU_RESOURCE: "slice"}


def render_allocation(allocation: Allocation, title: str) -> str:
    """The pools, then one row per team and pool: guaranteed, nominal (Kueue nominalQuota),
    borrowing and lending limits, share (nominal / capacity)."""
    if not allocation.tenants:
        return f"{title}: aidc:tenants declares no teams, so no queues and no quotas\n"
    pools = table([{"pool": p.pool, "resource": p.resource, "capacity": p.capacity,
                    "unit": f"{p.unit} ({_UNIT_NAMES.get(p.resource, 'unit')})",
                    "allocated": p.allocated} for p in allocation.pools],
                  ["pool", "resource", "capacity", "unit", "allocated"])
    quotas = table([{"team": t.name, "namespace": t.namespace, "weight": t.weight,
                     "pool": q.pool, "guaranteed": q.guaranteed, "nominal": q.nominal,
                     "borrowing limit": q.borrowing_limit, "lending limit": q.lending_limit,
                     "share": f"{q.share:.1%}"} for t in allocation.tenants for q in t.quotas],
                   ["team", "namespace", "weight", "pool", "guaranteed", "nominal",
                    "borrowing limit", "lending limit", "share"])
    return (f"Quotas of {title}: weighted max-min fair shares of each pool, in whole units\n\n"
            f"{pools}\n{quotas}\n"
            "nominal is the team's Kueue nominalQuota: its guarantee is never lent, the rest is "
            "lent while idle;\nthe team borrows idle quota up to its borrowing limit (its max, "
            "or the whole pool).\n")


@app.command()
def tenants(stack: StackArg = None, stack_file: StackFileOpt = None,
            json_out: JsonOut = None) -> None:
    """Each team's quota per accelerator pool: guaranteed, nominal, borrowing and lending
    limits and share, allocated weighted max-min fair from the pools' capacity."""
    from infra.config.load import load_stack_file
    from infra.config.tenants import pool_capacities
    from infra.plan import resolve_stack
    from infra.tenants.allocation import allocate

    target = None if json_out in (None, "-") else Path(json_out)
    if target is not None:
        check_output(target, (stack_file,))
    name, path = resolve_stack(stack, stack_file)
    cfg = load_stack_file(path)
    allocation = allocate(cfg.tenants, pool_capacities(cfg.gpu_pools, cfg.tpu_pools))
    document = json.dumps(allocation.as_dict(), indent=2) + "\n"
    if json_out == "-":
        write_or_print(document, None)
        return
    if target is not None:
        write_or_print(document, target, inputs=(stack_file,))
    sys.stdout.write(render_allocation(allocation, f"{cfg.project}/{name}"))
