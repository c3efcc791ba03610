"""Dated list prices and limits for planning an S3 -> GCS transfer, each with its public source.

Prices drift; every record says where it was read and when, so a report can show its
assumptions and a reviewer can re-check them. Units follow the providers' billing units: both
AWS ("GB" on its price pages) and Cloud Storage ("GiB") bill data in 2**30-byte units.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from infra.catalog.source import Source
from infra.errors import CatalogLookupError

AS_OF = date(2026, 11, 29)

AWS_S3_PRICING_URL = "https://aws.amazon.com/s3/pricing/"
GCS_PRICING_URL = "https://cloud.google.com/storage/pricing"
STS_PRICING_URL = "https://cloud.google.com/storage-transfer/pricing"
STS_QUOTAS_URL = "https://cloud.google.com/storage-transfer/quotas"
STS_STORAGE_CLASS_URL = "https://cloud.google.com/storage-transfer/docs/filtering-by-storage-class"
S3_ARCHIVED_OBJECTS_URL = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/archived-objects.html"
STS_KNOWN_LIMITATIONS_URL = "https://cloud.google.com/storage-transfer/docs/known-limitations-transfer"

GCS_STORAGE_CLASSES = ("STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE")


@dataclass(frozen=True)
class EgressTier:
    """One band of a monthly tiered price: GiB up to ``up_to_gib`` (None: no upper bound)."""

    up_to_gib: float | None
    usd_per_gib: float


@dataclass(frozen=True)
class EgressPriceTable:
    """Data transfer out to the internet from one AWS region, tiered by monthly volume."""

    region: str
    tiers: tuple[EgressTier, ...]
    free_gib_per_month: float
    source: Source


@dataclass(frozen=True)
class GcsStoragePrices:
    """Cloud Storage at-rest prices in one location, USD per GiB-month by storage class."""

    location: str
    usd_per_gib_month: tuple[tuple[str, float], ...]
    source: Source

    def price(self, storage_class: str) -> float:
        """The price for ``storage_class``; a miss lists the classes that exist."""
        prices = dict(self.usd_per_gib_month)
        try:
            return prices[storage_class.upper()]
        except KeyError:
            raise CatalogLookupError(
                f"storage class {storage_class!r} is not one of {', '.join(prices)}"
            ) from None


@dataclass(frozen=True)
class Bandwidth:
    """A throughput figure used as a default, and whether the provider actually publishes it."""

    gbps: float
    published: bool
    source: Source


_TB = 1024.0  # AWS tiers are written in TB of 1,024 GB

AWS_S3_INTERNET_EGRESS: dict[str, EgressPriceTable] = {
    "us-east-1": EgressPriceTable(
        region="us-east-1",
        tiers=(
            EgressTier(up_to_gib=10 * _TB, usd_per_gib=0.09),
            EgressTier(up_to_gib=50 * _TB, usd_per_gib=0.085),
            EgressTier(up_to_gib=150 * _TB, usd_per_gib=0.07),
            EgressTier(up_to_gib=None, usd_per_gib=0.05),
        ),
        free_gib_per_month=100.0,
        source=Source(
            url=AWS_S3_PRICING_URL,
            as_of=AS_OF,
            note=(
                "Data Transfer OUT from Amazon S3 to the internet, US East (N. Virginia): first "
                "10 TB/month $0.09/GB, next 40 TB $0.085, next 100 TB $0.07, over 150 TB $0.05. "
                "Tiers count the account's aggregate monthly internet egress across AWS services; "
                "the first 100 GB/month are free across all services and regions. Other regions "
                "price differently (several are higher). The page renders its figures with "
                "JavaScript; they were cross-checked against pages quoting it."
            ),
        ),
    ),
}

_GCS_SOURCE_NOTE = (
    "Data storage table, regional locations, per GiB per month (the page now also quotes "
    "per GiB-hour: Standard $0.000027397 x 730 h = $0.020 in us-central1). Excludes "
    "operations, retrieval fees and minimum storage durations (Nearline 30, Coldline 90, "
    "Archive 365 days)."
)


def _gcs(location: str, standard: float, nearline: float, coldline: float, archive: float) -> GcsStoragePrices:
    return GcsStoragePrices(
        location=location,
        usd_per_gib_month=(
            ("STANDARD", standard),
            ("NEARLINE", nearline),
            ("COLDLINE", coldline),
            ("ARCHIVE", archive),
        ),
        source=Source(url=GCS_PRICING_URL, as_of=AS_OF, note=_GCS_SOURCE_NOTE),
    )


GCS_STORAGE_PRICES: dict[str, GcsStoragePrices] = {
    p.location: p
    for p in (
        _gcs("us-central1", 0.020, 0.010, 0.004, 0.0012),
        _gcs("us-east1", 0.020, 0.010, 0.004, 0.0012),
        _gcs("us-east4", 0.023, 0.013, 0.006, 0.0025),
        _gcs("europe-west1", 0.020, 0.010, 0.004, 0.0012),
    )
}

DEFAULT_GCS_LOCATION = "us-central1"
DEFAULT_GCS_STORAGE_CLASS = "STANDARD"

# Google does not publish a throughput figure for agentless S3 -> Cloud Storage transfers: the
# Storage Transfer Service quotas page limits API requests and in-progress transferOperations
# (200 per project), not bandwidth. The default below is therefore a planning assumption,
# marked unpublished, and reports say so; a pilot transfer's measured rate should replace it.
STS_PLANNING_BANDWIDTH = Bandwidth(
    gbps=1.0,
    published=False,
    source=Source(
        url=STS_QUOTAS_URL,
        as_of=AS_OF,
        note=(
            "No published throughput for agentless Amazon S3 transfers; the quotas page lists "
            "request-rate quotas and 200 concurrent transferOperations per project only. "
            "1 Gbps is a conservative planning figure: measure a pilot and pass --bandwidth-gbps."
        ),
    ),
)

STS_AGENTLESS_FEE_USD_PER_GIB = 0.0
STS_AGENTLESS_FEE_SOURCE = Source(
    url=STS_PRICING_URL,
    as_of=AS_OF,
    note=(
        "Agentless transfers (Amazon S3 is one) carry no Storage Transfer Service charge; source "
        "egress and destination operations are billed by the providers."
    ),
)

# Source storage classes whose objects Storage Transfer Service cannot read without a restore.
# AWS: objects in S3 Glacier Flexible Retrieval (GLACIER) and S3 Glacier Deep Archive
# (DEEP_ARCHIVE) are "not accessible in real time" and need RestoreObject first. Glacier Instant
# Retrieval (GLACIER_IR) is read in milliseconds like STANDARD_IA, so it needs no restore and STS
# transfers it by default. STS itself skips GLACIER objects regardless of restore status unless
# the job lists GLACIER in includeStorageClasses, and transfers DEEP_ARCHIVE objects only once
# restored. INTELLIGENT_TIERING objects in the opt-in Archive/Deep Archive Access tiers also need
# a restore, but a listing cannot show the tier (HeadObject's ArchiveStatus does).
RESTORE_REQUIRED_STORAGE_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})
RESTORE_REQUIRED_SOURCES = (
    Source(url=S3_ARCHIVED_OBJECTS_URL, as_of=AS_OF, note="GLACIER and DEEP_ARCHIVE need a restore"),
    Source(
        url=STS_STORAGE_CLASS_URL,
        as_of=AS_OF,
        note=(
            "STS transfers GLACIER_IR by default, DEEP_ARCHIVE only if restored, and skips "
            "GLACIER unless includeStorageClasses lists it"
        ),
    ),
)


# Cloud Storage's single-object limit; Storage Transfer Service fails larger objects.
GCS_MAX_OBJECT_BYTES = 5 * 2**40
GCS_MAX_OBJECT_SOURCE = Source(
    url=STS_KNOWN_LIMITATIONS_URL,
    as_of=AS_OF,
    note="Cloud Storage objects are at most 5 TiB; larger source objects fail to transfer",
)


def aws_egress_table(region: str) -> EgressPriceTable:
    """The internet egress table for ``region``; a miss lists the regions the catalog holds."""
    try:
        return AWS_S3_INTERNET_EGRESS[region]
    except KeyError:
        raise CatalogLookupError(
            f"no AWS egress prices for region {region!r}; the catalog holds "
            f"{', '.join(sorted(AWS_S3_INTERNET_EGRESS))}"
        ) from None


def gcs_storage_prices(location: str) -> GcsStoragePrices:
    """Cloud Storage prices for ``location``; a miss lists the locations the catalog holds."""
    try:
        return GCS_STORAGE_PRICES[location.lower()]
    except KeyError:
        raise CatalogLookupError(
            f"no Cloud Storage prices for location {location!r}; the catalog holds "
            f"{', '.join(sorted(GCS_STORAGE_PRICES))}"
        ) from None
