"""`aidc catalog`: the reference data behind every accelerator and storage rule."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Optional

import typer

from infra.cli.common import JsonFlag, table, write_or_print
from infra.errors import AidcError

catalog_app = typer.Typer(no_args_is_help=True,
                          help="Reference data: Filestore tiers, GPUs, TPUs, prices.")


@catalog_app.command("filestore")
def catalog_filestore(as_json: JsonFlag = False) -> None:
    """Filestore tiers: capacity ranges (GiB), steps, and whether CMEK is supported."""
    from infra.catalog.filestore import filestore_catalog_rows

    rows = filestore_catalog_rows()
    if as_json:
        write_or_print(json.dumps(rows, indent=2), None)
        return
    flat = [{"tier": r["tier"], "cmek": "yes" if r["cmek"] else "no",
             "ranges (GiB, step)": "; ".join(f"{x['min_gib']}-{x['max_gib']} step {x['step_gib']}"
                                            for x in r["ranges"])} for r in rows]
    sys.stdout.write(table(flat, ["tier", "ranges (GiB, step)", "cmek"]))


@catalog_app.command("gpu")
def catalog_gpu(as_json: JsonFlag = False) -> None:
    """GPU machine types: accelerator as GKE spells it, GPUs per VM, memory, GPUDirect profile."""
    from infra.catalog.gpu import gpu_catalog_rows

    rows = gpu_catalog_rows()
    if as_json:
        write_or_print(json.dumps(rows, indent=2), None)
        return
    sys.stdout.write(table(rows, ["machine_type", "accelerator_type", "accelerator_count",
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
            write_or_print(json.dumps(tpu, indent=2), None)
        else:
            sys.stdout.write(table([tpu], list(tpu)))
        return
    rows = tpu_catalog_rows()
    if generation is not None:
        from infra.catalog.tpu import tpu_generation

        tpu_generation(generation)
        rows = [r for r in rows if r["generation"] == generation]
    if as_json:
        write_or_print(json.dumps(rows, indent=2), None)
        return
    flat = [{"generation": r["generation"], "label": r["accelerator_label"],
             "dims": f"{r['dimensions']}D",
             "machine types": ", ".join(f"{m['machine_type']} ({m['chips_per_vm']} chips)"
                                        for m in r["machine_types"]),
             "max chips": r["max_chips"],
             "topologies": ", ".join(r["topologies"][:8]) + (" ..." if len(r["topologies"]) > 8 else "")}
            for r in rows]
    sys.stdout.write(table(flat, ["generation", "label", "dims", "machine types", "max chips",
                                   "topologies"]))


@catalog_app.command("prices")
def catalog_prices(
    region: Annotated[Optional[str], typer.Option(help="Only this region, e.g. us-central1.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Machine types, disks and Local SSD the price catalog holds, USD a month (730 h), with
    sources. TPU, Filestore, DWS, Hyperdisk and N1-GPU prices are not in it: see `aidc cost`."""
    from infra.catalog.prices import CATALOG, price_catalog_rows

    if region is not None and region not in CATALOG.regions():
        raise AidcError(f"--region {region!r}: the catalog prices {', '.join(CATALOG.regions())}")
    rows = price_catalog_rows(region=region)
    if as_json:
        write_or_print(json.dumps(rows, indent=2), None)
        return
    sys.stdout.write(table(rows, ["region", "item", "unit", "on_demand", "spot", "commit_1y",
                                  "commit_3y"]))
