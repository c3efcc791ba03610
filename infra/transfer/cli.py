"""``aidc transfer plan s3://BUCKET[/PREFIX]``: a preflight before moving a dataset to Cloud Storage.

It lists the source (streaming), reads its security posture, and estimates duration, AWS egress
and GCS storage cost from dated, sourced price tables. User-facing failures (a bad URL, no such
bucket, denied access, missing credentials, an unreachable endpoint) print one clear message on
stderr and exit 2, without a traceback.

boto3/botocore are imported lazily (in `inventory` and `describe_error`), so mounting this app
under ``aidc`` adds nothing to the start-up of the other commands.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infra.catalog import cloud_prices as prices
from infra.catalog.source import Source
from infra.errors import AidcError
from infra.transfer import estimate as est
from infra.transfer import inventory as inv
from infra.transfer.s3url import S3Url, parse_s3_url

EXIT_USER_ERROR = 2

app = typer.Typer(
    help="Plan dataset transfers from Amazon S3 (or S3-compatible storage) to Cloud Storage.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class GcsStorageClass(str, Enum):
    STANDARD = "STANDARD"
    NEARLINE = "NEARLINE"
    COLDLINE = "COLDLINE"
    ARCHIVE = "ARCHIVE"


@dataclass(frozen=True)
class Assumption:
    """One input a figure rests on, with where it comes from."""

    what: str
    value: Any
    source: Source | None = None
    published: bool = True


@dataclass(frozen=True)
class TransferPlan:
    """Everything ``plan`` found and estimated, ready to render as text or JSON."""

    source: S3Url
    selection: inv.Selection
    endpoint_url: str | None
    bucket_region: str | None
    inventory: inv.Inventory
    posture: inv.SecurityPosture
    estimate: est.TransferEstimate
    assumptions: tuple[Assumption, ...]
    warnings: tuple[str, ...]


@app.callback()
def _transfer() -> None:
    """Plan S3 -> Cloud Storage dataset transfers."""


@app.command()
def plan(
    source: Annotated[str, typer.Argument(metavar="S3_URL", help="s3://BUCKET\\[/PREFIX] to inventory.", show_default=False)],
    include: Annotated[
        list[str] | None,
        typer.Option("--include", help="Only keys starting with this prefix (whole key from the bucket root); repeatable."),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="Skip keys starting with this prefix; repeatable."),
    ] = None,
    endpoint_url: Annotated[
        str | None, typer.Option("--endpoint-url", help="S3-compatible endpoint, e.g. http://127.0.0.1:9000.")
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help="AWS region for the S3 client.")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="AWS named profile (default: the usual chain).")] = None,
    bandwidth_gbps: Annotated[
        float | None,
        typer.Option(
            "--bandwidth-gbps",
            help=f"Sustained transfer rate. Default {prices.STS_PLANNING_BANDWIDTH.gbps:g} Gbps: a planning "
            "figure, since Google publishes none for Storage Transfer Service.",
            show_default=False,
        ),
    ] = None,
    storage_class: Annotated[
        GcsStorageClass, typer.Option("--storage-class", case_sensitive=False, help="Destination GCS storage class.")
    ] = GcsStorageClass.STANDARD,
    gcs_location: Annotated[
        str, typer.Option("--gcs-location", help=f"Destination location ({', '.join(sorted(prices.GCS_STORAGE_PRICES))}).")
    ] = prices.DEFAULT_GCS_LOCATION,
    top: Annotated[int, typer.Option("--top", min=0, max=1000, help="How many of the largest objects to show.")] = inv.DEFAULT_TOP_N,
    free_tier: Annotated[
        bool, typer.Option("--free-tier", help="Deduct AWS's 100 GB/month free egress (only if nothing else uses it).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of the text report.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress indicator.")] = False,
) -> None:
    """Inventory the source, check its security posture, estimate time and cost."""
    err = Console(stderr=True, highlight=False)
    try:
        result = build_plan(
            source,
            include=include or (),
            exclude=exclude or (),
            endpoint_url=endpoint_url,
            region=region,
            profile=profile,
            bandwidth_gbps=bandwidth_gbps,
            storage_class=storage_class.value,
            gcs_location=gcs_location,
            top_n=top,
            apply_free_tier=free_tier,
            progress=not quiet and sys.stderr.isatty(),
            err=err,
        )
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None
    except Exception as exc:  # noqa: BLE001 - only user-facing kinds are caught; the rest re-raise
        message = describe_error(exc, source=source, endpoint_url=endpoint_url, profile=profile)
        if message is None:
            raise
        err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
        raise typer.Exit(EXIT_USER_ERROR) from None
    if as_json:
        typer.echo(json.dumps(plan_to_json(result), indent=2))
    else:
        render_text(result, Console(highlight=False))


def build_plan(
    url: str,
    *,
    include: tuple[str, ...] | list[str] = (),
    exclude: tuple[str, ...] | list[str] = (),
    endpoint_url: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    bandwidth_gbps: float | None = None,
    storage_class: str = prices.DEFAULT_GCS_STORAGE_CLASS,
    gcs_location: str = prices.DEFAULT_GCS_LOCATION,
    top_n: int = inv.DEFAULT_TOP_N,
    apply_free_tier: bool = False,
    progress: bool = False,
    err: Console | None = None,
    client: Any = None,
) -> TransferPlan:
    """Validate every input offline first, then list, read posture and estimate."""
    source = parse_s3_url(url)
    selection = inv.make_selection(source.prefix, include, exclude)
    gcs = prices.gcs_storage_prices(gcs_location)
    gcs.price(storage_class)
    bandwidth = prices.STS_PLANNING_BANDWIDTH.gbps if bandwidth_gbps is None else bandwidth_gbps
    est.transfer_seconds(0, bandwidth)  # rejects zero, negative, inf and NaN before any request

    if client is None:
        try:
            client = inv.s3_client(endpoint_url=endpoint_url, region=region, profile=profile)
        except ValueError as exc:  # botocore: "Invalid endpoint: ..."
            if isinstance(exc, AidcError):
                raise
            raise AidcError(f"--endpoint-url {endpoint_url!r}: {exc}") from None

    listing = _list_with_progress(client, source, selection, top_n, progress, err)
    region_found = inv.bucket_region(client, source.bucket)
    posture = inv.security_posture(client, source.bucket)
    archive_tiers = None
    if listing.storage_class("INTELLIGENT_TIERING").objects:
        archive_tiers = inv.archive_tiering_configured(client, source.bucket)

    warnings: list[str] = []
    egress_region = region_found or region or "us-east-1"
    if egress_region in prices.AWS_S3_INTERNET_EGRESS:
        table = prices.aws_egress_table(egress_region)
    else:
        table = prices.aws_egress_table("us-east-1")
        warnings.append(
            f"AWS egress is priced with the us-east-1 table; region {egress_region} prices differ "
            f"(see {prices.AWS_S3_PRICING_URL})"
        )
    if endpoint_url:
        warnings.append(f"source is {endpoint_url}: AWS egress prices apply only if it is Amazon S3")

    estimate = est.estimate_transfer(
        listing.bytes,
        bandwidth_gbps=bandwidth,
        egress_table=table,
        gcs_prices=gcs,
        storage_class=storage_class,
        apply_free_tier=apply_free_tier,
    )
    warnings.extend(_warnings(listing, posture, archive_tiers))
    return TransferPlan(
        source=source,
        selection=selection,
        endpoint_url=endpoint_url,
        bucket_region=region_found,
        inventory=listing,
        posture=posture,
        estimate=estimate,
        assumptions=_assumptions(bandwidth, bandwidth_gbps is None, table, gcs, storage_class, apply_free_tier),
        warnings=tuple(warnings),
    )


def _list_with_progress(
    client: Any, source: S3Url, selection: inv.Selection, top_n: int, progress: bool, err: Console | None
) -> inv.Inventory:
    if not progress:
        return inv.inventory(client, source.bucket, selection, top_n=top_n)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("listing {task.description}"), TextColumn("{task.fields[status]}"), TimeElapsedColumn())
    with Progress(*columns, console=err or Console(stderr=True), transient=True) as bar:
        task = bar.add_task(escape(str(source)), status="")

        def on_page(objects: int, size: int) -> None:
            bar.update(task, status=f"{objects:,} objects, {human_bytes(size)}")

        return inv.inventory(client, source.bucket, selection, top_n=top_n, on_page=on_page)


def _warnings(listing: inv.Inventory, posture: inv.SecurityPosture, archive_tiers: bool | None) -> list[str]:
    out: list[str] = []
    if listing.objects == 0:
        out.append("no objects matched the source and filters")
    if listing.restore_required.objects:
        classes = ", ".join(f"{sc} {t.objects:,}" for sc, t in listing.restore_required_by_class)
        out.append(
            f"{listing.restore_required.objects:,} objects ({human_bytes(listing.restore_required.bytes)}) need a "
            f"restore before they can be transferred ({classes}); Storage Transfer Service transfers "
            "DEEP_ARCHIVE objects only once restored and skips GLACIER unless includeStorageClasses lists it"
        )
    it = listing.storage_class("INTELLIGENT_TIERING")
    if it.objects and archive_tiers is not False:
        why = "an archive-tier configuration is enabled" if archive_tiers else "its tiering configuration is unreadable"
        out.append(
            f"{it.objects:,} INTELLIGENT_TIERING objects may sit in the Archive/Deep Archive Access tiers "
            f"({why}); those need a restore (HeadObject shows ArchiveStatus)"
        )
    if listing.too_large_for_gcs.objects:
        out.append(
            f"{listing.too_large_for_gcs.objects:,} objects exceed Cloud Storage's 5 TiB object limit and will fail"
        )
    if posture.policy_public_read:
        out.append("the bucket policy grants public read: the source data is public; review before copying")
    elif posture.public_policy:
        out.append("AWS reports the bucket policy as public (GetBucketPolicyStatus); review it before copying")
    if posture.public_access_block is False:
        out.append("S3 Block Public Access is not fully enabled on the bucket")
    if posture.default_encryption is None and "default encryption" not in " ".join(posture.unreadable):
        out.append("no default encryption configuration on the bucket")
    for item in posture.unreadable:
        out.append(f"could not read {item}")
    return out


def _assumptions(
    bandwidth: float,
    bandwidth_is_default: bool,
    table: prices.EgressPriceTable,
    gcs: prices.GcsStoragePrices,
    storage_class: str,
    free_tier: bool,
) -> tuple[Assumption, ...]:
    sts = prices.STS_PLANNING_BANDWIDTH
    return (
        Assumption(
            "bandwidth_gbps",
            bandwidth,
            sts.source if bandwidth_is_default else None,
            published=sts.published if bandwidth_is_default else True,
        ),
        Assumption(
            f"aws_internet_egress_{table.region}",
            [{"up_to_gib": t.up_to_gib, "usd_per_gib": t.usd_per_gib} for t in table.tiers],
            table.source,
        ),
        Assumption("aws_free_egress_gib_per_month_deducted", table.free_gib_per_month if free_tier else 0, table.source),
        Assumption(
            f"gcs_{storage_class.lower()}_{gcs.location}_usd_per_gib_month", gcs.price(storage_class), gcs.source
        ),
        Assumption("sts_agentless_fee_usd_per_gib", prices.STS_AGENTLESS_FEE_USD_PER_GIB, prices.STS_AGENTLESS_FEE_SOURCE),
        Assumption(
            "restore_required_storage_classes",
            sorted(prices.RESTORE_REQUIRED_STORAGE_CLASSES),
            prices.RESTORE_REQUIRED_SOURCES[1],
        ),
        Assumption("billing_month_seconds", est.SECONDS_PER_BILLING_MONTH),
        Assumption(
            "scope",
            "current object versions only; every listed byte is priced, including objects that need a "
            "restore first; not included: restore/retrieval fees, S3 request charges, GCS operations, "
            "other egress already billed in the month",
        ),
    )


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------

_CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired"}
_DENIED_CODES = {"AccessDenied", "AllAccessDisabled", "403", "Forbidden"}


def describe_error(exc: BaseException, *, source: str, endpoint_url: str | None, profile: str | None) -> str | None:
    """A one-line message for a failure the user can fix; None for anything else (a bug)."""
    from botocore import exceptions as bce

    if isinstance(exc, AidcError):
        return str(exc)
    bucket = source.removeprefix("s3://").split("/", 1)[0]
    where = endpoint_url or "Amazon S3"
    if isinstance(exc, bce.NoCredentialsError):
        return (
            "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "AWS_PROFILE or --profile, or run where an instance role is available"
        )
    if isinstance(exc, bce.PartialCredentialsError):
        return f"incomplete AWS credentials: {exc}"
    if isinstance(exc, bce.ProfileNotFound):
        return f"AWS profile {profile!r} not found in the AWS config files"
    if isinstance(exc, (bce.EndpointConnectionError, bce.ConnectTimeoutError, bce.ConnectionClosedError)):
        return f"cannot reach the S3 endpoint {where}: {exc}"
    if isinstance(exc, bce.ReadTimeoutError):
        return f"the S3 endpoint {where} stopped answering: {exc}"
    if isinstance(exc, bce.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        detail = error.get("Message") or code
        if code == "NoSuchBucket":
            return f"bucket {bucket!r} does not exist at {where} (NoSuchBucket)"
        if code in {"404", "NotFound"}:
            return (
                f"{where} answered 404 Not Found to {exc.operation_name} on s3://{bucket}: "
                "no such bucket, or not an S3 endpoint"
            )
        if code in _DENIED_CODES or (status == 403 and code not in _CREDENTIAL_CODES):
            return (
                f"access denied to s3://{bucket} ({exc.operation_name}): the credentials in use need "
                f"s3:ListBucket on the bucket [{detail}]"
            )
        if code in _CREDENTIAL_CODES:
            return f"the AWS credentials were rejected ({code}): check the access key, secret and session token"
        if code in {"PermanentRedirect", "AuthorizationHeaderMalformed", "301", "IllegalLocationConstraintException"}:
            region = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("x-amz-bucket-region")
            hint = f"; pass --region {region}" if region else "; pass --region with the bucket's region"
            return f"bucket {bucket!r} is in another region{hint}"
        return f"S3 {exc.operation_name} failed: {code or status}: {detail}"
    if isinstance(exc, bce.BotoCoreError):
        return f"S3 request failed: {exc}"
    return None


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def human_bytes(n: float) -> str:
    """Binary units, as S3 and GCS bill: 1536 -> '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def human_duration(seconds: float) -> str:
    """'45 s', '12 min', '3 h 20 min', '4.5 days'."""
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 1 else f"{seconds:.2f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        hours, rest = divmod(seconds, 3600)
        return f"{hours:.0f} h {rest / 60:.0f} min"
    return f"{seconds / 86400:.1f} days"


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


if __name__ == "__main__":
    app(prog_name="aidc transfer")
