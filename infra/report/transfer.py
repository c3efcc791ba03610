"""A transfer plan as text for people and as the stable `--json` document for scripts and CI."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infra.catalog import cloud_prices as prices
from infra.catalog.source import Source
from infra.transfer import inventory as inv
from infra.transfer.plan import TransferPlan
from infra.transfer.units import human_bytes, human_duration


def _tally(t: inv.Tally) -> dict[str, int]:
    return {"objects": t.objects, "bytes": t.bytes}


def _source_json(s: Source | None) -> dict[str, str] | None:
    if s is None:
        return None
    return {"url": s.url, "as_of": s.as_of.isoformat(), "note": s.note}


def plan_to_json(p: TransferPlan) -> dict[str, Any]:
    """The ``--json`` document; the top-level keys are a stable interface for scripts and CI."""
    i, e, s = p.inventory, p.estimate, p.posture
    return {
        "source": str(p.source),
        "bucket": p.source.bucket,
        "prefix": p.source.prefix,
        "include_prefixes": list(p.selection.include_prefixes),
        "exclude_prefixes": list(p.selection.exclude_prefixes),
        "endpoint_url": p.endpoint_url,
        "bucket_region": p.bucket_region,
        "objects": i.objects,
        "bytes": i.bytes,
        "glacier_objects": i.restore_required.objects,
        "glacier_bytes": i.restore_required.bytes,
        "restore_required_by_class": {sc: _tally(t) for sc, t in i.restore_required_by_class},
        "size_histogram": [{"range": label, **_tally(t)} for label, t in i.size_histogram],
        "storage_classes": {sc: _tally(t) for sc, t in i.storage_classes},
        "largest": [{"key": o.key, "bytes": o.size, "storage_class": o.storage_class} for o in i.largest],
        "objects_over_gcs_limit": i.too_large_for_gcs.objects,
        "list_requests": i.list_requests,
        "public_access_block": s.public_access_block,
        "public_access_block_settings": dict(s.public_access_block_settings) if s.public_access_block_settings else None,
        "default_encryption": s.default_encryption,
        "kms_key_id": s.kms_key_id,
        "public_policy": s.public_policy,
        "policy_grants_public_read": s.policy_public_read,
        "policy_status_is_public": s.policy_status_is_public,
        "bandwidth_gbps": e.bandwidth_gbps,
        "estimated_seconds": round(e.seconds, 3),
        "egress_region_priced": e.egress_region,
        "egress_cost_usd": round(e.egress_usd, 6),
        "egress_breakdown": [
            {
                "month": c.month,
                "from_gib": c.from_gib,
                "to_gib": c.to_gib,
                "gib": round(c.gib, 6),
                "usd_per_gib": c.usd_per_gib,
                "usd": round(c.usd, 6),
            }
            for c in e.egress_charges
        ],
        "billing_months": e.billing_months,
        "gcs_location": e.gcs_location,
        "gcs_storage_class": e.gcs_storage_class,
        "gcs_monthly_cost_usd": round(e.gcs_monthly_usd, 6),
        "warnings": list(p.warnings),
        "assumptions": [
            {"what": a.what, "value": a.value, "published": a.published, "source": _source_json(a.source)}
            for a in p.assumptions
        ],
    }


def _yes_no(value: bool | None, yes: str, no: str) -> str:
    return "[dim]unknown[/]" if value is None else (yes if value else no)


def render_text(p: TransferPlan, console: Console) -> None:
    """The human report: what is there, how it is protected, what moving it takes."""
    i, e, s = p.inventory, p.estimate, p.posture
    console.print(f"[bold]Transfer plan[/] {escape(str(p.source))}" + (f"  (region {p.bucket_region})" if p.bucket_region else ""))
    if p.selection.include_prefixes or p.selection.exclude_prefixes:
        console.print(
            f"  include: {escape(', '.join(p.selection.include_prefixes) or '(all)')}   "
            f"exclude: {escape(', '.join(p.selection.exclude_prefixes) or '(none)')}"
        )
    console.print(f"  objects: [bold]{i.objects:,}[/]   size: [bold]{human_bytes(i.bytes)}[/] ({i.bytes:,} bytes)")
    if i.restore_required.objects:
        console.print(
            f"  [yellow]need restore:[/] {i.restore_required.objects:,} objects, {human_bytes(i.restore_required.bytes)}"
        )

    hist = Table(title="Size distribution", title_justify="left")
    hist.add_column("size")
    hist.add_column("objects", justify="right")
    hist.add_column("bytes", justify="right")
    for label, t in i.size_histogram:
        hist.add_row(label, f"{t.objects:,}", human_bytes(t.bytes))
    console.print(hist)

    classes = Table(title="Storage classes", title_justify="left")
    classes.add_column("class")
    classes.add_column("objects", justify="right")
    classes.add_column("bytes", justify="right")
    for sc, t in i.storage_classes:
        mark = " [yellow](restore)[/]" if sc in prices.RESTORE_REQUIRED_STORAGE_CLASSES else ""
        classes.add_row(sc + mark, f"{t.objects:,}", human_bytes(t.bytes))
    console.print(classes)

    if i.largest:
        big = Table(title=f"Largest {len(i.largest)} objects", title_justify="left")
        big.add_column("key", overflow="fold")
        big.add_column("size", justify="right")
        big.add_column("class")
        for o in i.largest:
            big.add_row(escape(o.key), human_bytes(o.size), o.storage_class)
        console.print(big)

    console.print("[bold]Source security[/]")
    console.print(f"  block public access (all four): {_yes_no(s.public_access_block, 'on', '[red]off[/]')}")
    console.print(f"  default encryption: {escape(s.default_encryption) if s.default_encryption else '[red]none[/]'}")
    console.print(
        f"  bucket policy public: {_yes_no(s.public_policy, '[red]yes[/]', 'no')}"
        + (" (grants anonymous read)" if s.policy_public_read else "")
    )

    console.print("[bold]Estimates[/]")
    rate = f"{e.bandwidth_gbps:g} Gbps" + ("" if _published_bandwidth(p) else " (planning figure, not published)")
    console.print(f"  transfer time at {rate}: [bold]{human_duration(e.seconds)}[/]")
    console.print(
        f"  AWS internet egress ({e.egress_region} tiers, {e.billing_months} billing month(s)): "
        f"[bold]${e.egress_usd:,.2f}[/]"
    )
    for c in e.egress_charges:
        upper = "and above" if c.to_gib is None else f"to {c.to_gib:,.0f} GiB"
        console.print(f"    month {c.month}: {c.gib:,.2f} GiB at ${c.usd_per_gib}/GiB ({c.from_gib:,.0f} {upper}) = ${c.usd:,.2f}")
    console.print(
        f"  Cloud Storage {e.gcs_storage_class} in {e.gcs_location}: [bold]${e.gcs_monthly_usd:,.2f}/month[/] "
        f"(${e.gcs_usd_per_gib_month}/GiB-month)"
    )

    if p.warnings:
        console.print("[bold yellow]Warnings[/]")
        for w in p.warnings:
            console.print(f"  - {escape(w)}")
    console.print("[bold]Assumptions[/]")
    for a in p.assumptions:
        src = f" — {a.source.url} (as of {a.source.as_of.isoformat()})" if a.source else ""
        if not a.published:
            src += " [not a published figure]"
        console.print(f"  {escape(a.what)} = {escape(json.dumps(a.value))}{escape(src)}")


def _published_bandwidth(p: TransferPlan) -> bool:
    return all(a.published for a in p.assumptions if a.what == "bandwidth_gbps")
