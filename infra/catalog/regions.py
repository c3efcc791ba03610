"""Google Cloud regions and their zones, and the locations Cloud Storage accepts for a bucket.

A region or zone GCP does not have (`us-moon1`, `us-central1-z`) fails only when the first
resource is created, halfway through a `pulumi up`; a bucket location Cloud Storage does not
offer fails the same way. Stack files are checked against this catalog when they are read, and
a miss names the closest entries that exist.

The catalog is data with a date: Google opens regions and zones over time. A name missing here
that Google has since opened is a catalog update (new entries with their source), not a
reason to switch the check off.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Literal, Mapping

from infra.catalog.source import Source
from infra.errors import AidcError, CatalogLookupError

# The Compute Engine API's own list: an aggregated list returns one `regions/<r>` and one
# `zones/<z>` scope for every region and zone of the platform, restricted ones included.
COMPUTE_SOURCE = Source(
    "https://github.com/GoogleCloudPlatform/gcpdiag/blob/"
    "559e2613a7e9452ebb7094f5a1ae67883daa7b63/test-data/gke1/json-dumps/"
    "compute-igs-aggregated.json",
    date(2026, 7, 1),
    "Compute Engine API instanceGroups.aggregatedList response recorded by Google's gcpdiag: "
    "47 regions/<r> and 147 zones/<z> scopes. Cross-checked against regions.list in the same "
    "repository (test-data/gce5/json-dumps/compute-regions.json, 2025-03-20: the 42 public "
    "regions, each with its zones) and https://cloud.google.com/compute/docs/regions-zones. "
    "us-central2, us-east7 and us-west8 and the '-ai1<x>' AI zones are restricted: they exist, "
    "but a project needs access to use them.",
)

# Zone suffixes per region, as the API spells zone names: '<region>-<suffix>'.
_ZONES: dict[str, tuple[str, ...]] = {
    "africa-south1": ("a", "b", "c"),
    "asia-east1": ("a", "b", "c"),
    "asia-east2": ("a", "b", "c"),
    "asia-northeast1": ("a", "b", "c"),
    "asia-northeast2": ("a", "b", "c"),
    "asia-northeast3": ("a", "b", "c"),
    "asia-south1": ("a", "b", "c"),
    "asia-south2": ("a", "b", "c"),
    "asia-southeast1": ("a", "b", "c"),
    "asia-southeast2": ("a", "b", "c"),
    "asia-southeast3": ("a", "b", "c"),
    "australia-southeast1": ("a", "b", "c"),
    "australia-southeast2": ("a", "b", "c"),
    "europe-central2": ("a", "b", "c"),
    "europe-north1": ("a", "b", "c"),
    "europe-north2": ("a", "b", "c"),
    "europe-southwest1": ("a", "b", "c"),
    "europe-west1": ("b", "c", "d"),
    "europe-west10": ("a", "b", "c"),
    "europe-west12": ("a", "b", "c"),
    "europe-west15": ("a", "b", "c"),
    "europe-west2": ("a", "b", "c"),
    "europe-west3": ("a", "b", "c"),
    "europe-west4": ("a", "ai1a", "b", "c"),
    "europe-west6": ("a", "b", "c"),
    "europe-west8": ("a", "b", "c"),
    "europe-west9": ("a", "b", "c"),
    "me-central1": ("a", "b", "c"),
    "me-central2": ("a", "b", "c"),
    "me-west1": ("a", "b", "c"),
    "northamerica-northeast1": ("a", "b", "c"),
    "northamerica-northeast2": ("a", "b", "c"),
    "northamerica-south1": ("a", "b", "c"),
    "southamerica-east1": ("a", "b", "c"),
    "southamerica-west1": ("a", "b", "c"),
    "us-central1": ("a", "ai1a", "b", "c", "f"),
    "us-central2": ("a", "b", "c", "d"),
    "us-east1": ("b", "c", "d"),
    "us-east4": ("a", "b", "c"),
    "us-east5": ("a", "b", "c"),
    "us-east7": ("a", "ai1b", "b", "c"),
    "us-south1": ("a", "ai1b", "b", "c"),
    "us-west1": ("a", "b", "c"),
    "us-west2": ("a", "b", "c"),
    "us-west3": ("a", "b", "c"),
    "us-west4": ("a", "b", "c"),
    "us-west8": ("a", "b", "c"),
}


@dataclass(frozen=True)
class Region:
    """A Google Cloud region and the zones in it (full zone names, in catalog order)."""

    name: str
    zones: tuple[str, ...]
    source: Source = COMPUTE_SOURCE


REGIONS: Mapping[str, Region] = MappingProxyType({
    name: Region(name, tuple(f"{name}-{suffix}" for suffix in suffixes))
    for name, suffixes in _ZONES.items()})
ZONES: Mapping[str, str] = MappingProxyType({
    zone: region.name for region in REGIONS.values() for zone in region.zones})


def _close(name: str, known: Mapping[str, object] | list[str]) -> str:
    hits = difflib.get_close_matches(name, list(known), n=3, cutoff=0.5)
    return f"did you mean {', '.join(hits)}? " if hits else ""


def _catalog(source: Source, count: int, what: str) -> str:
    return f"aidc's catalog holds {count} {what}, as of {source.as_of}: {source.url}"


def gcp_region(name: str) -> Region:
    """The catalog record of a Google Cloud region; a miss names the closest regions."""
    try:
        return REGIONS[name]
    except (KeyError, TypeError):
        pass
    raise CatalogLookupError(
        f"{name!r} is not a Google Cloud region; {_close(str(name), REGIONS)}"
        f"({_catalog(COMPUTE_SOURCE, len(REGIONS), 'regions')})")


def zone_region(zone: str) -> str:
    """The region a zone belongs to ('us-central1-a' -> 'us-central1'); a zone the catalog does
    not hold is refused, naming the zones of the region its name points at."""
    try:
        return ZONES[zone]
    except (KeyError, TypeError):
        pass
    region = next((r for r in sorted(REGIONS, key=len, reverse=True)
                   if str(zone).startswith(f"{r}-")), None)
    if region is not None:
        raise CatalogLookupError(
            f"{zone!r} is not a zone of {region}; its zones are "
            f"{', '.join(REGIONS[region].zones)} ({_catalog(COMPUTE_SOURCE, len(ZONES), 'zones')})")
    raise CatalogLookupError(
        f"{zone!r} is not a Google Cloud zone (a zone is '<region>-<letter>', e.g. "
        f"'us-central1-a'); {_close(str(zone), ZONES)}"
        f"({_catalog(COMPUTE_SOURCE, len(ZONES), 'zones')})")


def check_zone_in_region(zone: str, region: str) -> str:
    """A zone of this region, or an error saying which zones the region has."""
    if zone_region(zone) != region:
        zones = REGIONS[region].zones if region in REGIONS else ()
        raise AidcError(f"{zone!r} is not in region {region!r} (it is in {ZONES[zone]})"
                        + (f"; zones of {region}: {', '.join(zones)}" if zones else ""))
    return zone


# ---------------------------------------------------------------------------------------------
# Cloud Storage bucket locations

GCS_LOCATIONS_URL = "https://cloud.google.com/storage/docs/locations"
GCS_SOURCE = Source(
    GCS_LOCATIONS_URL,
    date(2026, 7, 22),
    "'Available locations': regions (#location-r), predefined dual-regions (#location-dr) and "
    "multi-regions (#location-mr), as machine-read from that page in "
    "Cyclenerd/google-cloud-pricing-cost-calculator build/gcp.yml "
    "(08440e74c5f5f7dc4ba9a10d0d02f195df568173, 2026-07-22). Configurable dual-regions "
    "(a multi-region with custom data locations) need custom placement, which aidc's buckets "
    "do not set, so they are not locations here.",
)

BucketLocationKind = Literal["region", "dual-region", "multi-region"]

_GCS_REGIONS = (
    "africa-south1", "asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2",
    "asia-northeast3", "asia-south1", "asia-south2", "asia-southeast1", "asia-southeast2",
    "asia-southeast3", "australia-southeast1", "australia-southeast2", "europe-central2",
    "europe-north1", "europe-north2", "europe-southwest1", "europe-west1", "europe-west10",
    "europe-west12", "europe-west2", "europe-west3", "europe-west4", "europe-west6",
    "europe-west8", "europe-west9", "me-central1", "me-central2", "me-west1",
    "northamerica-northeast1", "northamerica-northeast2", "northamerica-south1",
    "southamerica-east1", "southamerica-west1", "us-central1", "us-east1", "us-east4",
    "us-east5", "us-south1", "us-west1", "us-west2", "us-west3", "us-west4",
)
_GCS_DUAL_REGIONS = {
    "ASIA1": ("asia-northeast1", "asia-northeast2"),
    "EUR4": ("europe-north1", "europe-west4"),
    "NAM4": ("us-central1", "us-east1"),
}
_GCS_MULTI_REGIONS = ("ASIA", "EU", "US")


@dataclass(frozen=True)
class BucketLocation:
    """A location a bucket can be created in, in the API's spelling (upper case), its kind and
    the regions that hold the data (one, a pair, or none listed for a multi-region)."""

    name: str
    kind: BucketLocationKind
    regions: tuple[str, ...] = ()
    source: Source = GCS_SOURCE


BUCKET_LOCATIONS: Mapping[str, BucketLocation] = MappingProxyType({
    **{r.upper(): BucketLocation(r.upper(), "region", (r,)) for r in _GCS_REGIONS},
    **{n: BucketLocation(n, "dual-region", pair) for n, pair in _GCS_DUAL_REGIONS.items()},
    **{n: BucketLocation(n, "multi-region") for n in _GCS_MULTI_REGIONS},
})


def bucket_location(name: str) -> BucketLocation:
    """The Cloud Storage location a bucket may be created in (any case, as the API takes it);
    a miss names the closest locations and what kinds exist."""
    key = name.upper() if isinstance(name, str) else name
    try:
        return BUCKET_LOCATIONS[key]
    except (KeyError, TypeError):
        pass
    hits = difflib.get_close_matches(str(key), list(BUCKET_LOCATIONS), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(h.lower() if BUCKET_LOCATIONS[h].kind == 'region' else h for h in hits)}? " \
        if hits else ""
    raise CatalogLookupError(
        f"{name!r} is not a Cloud Storage location; {hint}a bucket lives in a region "
        f"(e.g. us-central1), a dual-region ({', '.join(_GCS_DUAL_REGIONS)}) or a multi-region "
        f"({', '.join(_GCS_MULTI_REGIONS)}) ({_catalog(GCS_SOURCE, len(BUCKET_LOCATIONS), 'locations')})")
