"""`aidc transfer plan`'s model: what an S3 source holds, how it is protected, and what moving
it to Cloud Storage takes, with every figure's assumption and source; and the one-line message
for each failure a user can fix (no bucket, denied access, no credentials, unreachable endpoint).

boto3/botocore are imported lazily (in `inventory` and `describe_error`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.catalog import cloud_prices as prices
from infra.catalog.source import Source
from infra.errors import AidcError
from infra.transfer import estimate as est
from infra.transfer import inventory as inv
from infra.transfer.s3url import S3Url, parse_s3_url
from infra.transfer.units import human_bytes


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
    on_page: Callable[[int, int], None] | None = None,
    client: Any = None,
) -> TransferPlan:
    """Validate every input offline first, then list, read posture and estimate. `on_page`
    hears (objects, bytes) so far after each page of the listing."""
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

    listing = inv.inventory(client, source.bucket, selection, top_n=top_n, on_page=on_page)
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
