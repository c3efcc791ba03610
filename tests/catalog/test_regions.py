"""The regions-and-zones catalog and the Cloud Storage locations: pinned to their sources, and
the lookups that refuse what GCP does not have."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.catalog import regions
from infra.errors import AidcError, CatalogLookupError


def test_catalog_names_its_sources() -> None:
    """Every record carries a public source and the day it was read."""
    assert regions.COMPUTE_SOURCE.as_of == date(2026, 7, 1)
    assert "GoogleCloudPlatform/gcpdiag" in regions.COMPUTE_SOURCE.url
    assert regions.GCS_SOURCE.url == "https://cloud.google.com/storage/docs/locations"
    assert all(r.source is regions.COMPUTE_SOURCE for r in regions.REGIONS.values())
    assert all(loc.source is regions.GCS_SOURCE for loc in regions.BUCKET_LOCATIONS.values())


def test_regions_and_zones_as_the_api_lists_them() -> None:
    """47 regions and 147 zones; irregular ones (europe-west1 and us-east1 have no '-a', the AI
    zones) are as the API spells them."""
    assert len(regions.REGIONS) == 47 and len(regions.ZONES) == 147
    assert regions.gcp_region("us-central1").zones == (
        "us-central1-a", "us-central1-ai1a", "us-central1-b", "us-central1-c", "us-central1-f")
    assert regions.gcp_region("europe-west1").zones == (
        "europe-west1-b", "europe-west1-c", "europe-west1-d")
    assert "us-east1-a" not in regions.ZONES
    for name, region in regions.REGIONS.items():
        assert re.fullmatch(r"[a-z]+-[a-z]+[0-9]+", name)
        assert len(region.zones) >= 3, name
        assert all(z.startswith(f"{name}-") for z in region.zones)


@given(st.sampled_from(sorted(regions.ZONES)))
def test_every_zone_belongs_to_its_region(zone: str) -> None:
    """A zone's region is found from the catalog, not parsed out of its name."""
    region = regions.zone_region(zone)
    assert zone in regions.gcp_region(region).zones
    assert regions.check_zone_in_region(zone, region) == zone


def test_rejects_unknown_region_listing_close_matches() -> None:
    """`us-moon1` is refused, with the nearest regions and the catalog's source and date."""
    with pytest.raises(CatalogLookupError) as info:
        regions.gcp_region("us-moon1")
    message = str(info.value)
    assert "'us-moon1' is not a Google Cloud region; did you mean us-south1" in message
    assert "2026-07-01" in message and "gcpdiag" in message


def test_rejects_unknown_zone_naming_the_regions_zones() -> None:
    """`us-central1-z` is refused with the zones us-central1 has."""
    with pytest.raises(CatalogLookupError, match="'us-central1-z' is not a zone of us-central1; "
                                                 "its zones are us-central1-a, "):
        regions.zone_region("us-central1-z")
    with pytest.raises(CatalogLookupError, match="'us-east1-a' is not a zone of us-east1; its "
                                                 "zones are us-east1-b, us-east1-c, us-east1-d"):
        regions.zone_region("us-east1-a")


@pytest.mark.parametrize("zone", ["us-central1", "a", "", "mars-central9-a"])
def test_rejects_what_is_no_zone(zone: str) -> None:
    with pytest.raises(CatalogLookupError, match="is not a Google Cloud zone"):
        regions.zone_region(zone)


def test_rejects_zone_of_another_region() -> None:
    with pytest.raises(AidcError, match="'europe-west4-a' is not in region 'us-central1' "
                                        r"\(it is in europe-west4\); zones of us-central1: "):
        regions.check_zone_in_region("europe-west4-a", "us-central1")


@pytest.mark.parametrize(("name", "kind"), [
    ("us-central1", "region"), ("US-CENTRAL1", "region"), ("europe-north2", "region"),
    ("NAM4", "dual-region"), ("eur4", "dual-region"), ("ASIA1", "dual-region"),
    ("US", "multi-region"), ("eu", "multi-region"), ("ASIA", "multi-region"),
])
def test_bucket_locations(name: str, kind: str) -> None:
    """Regions, predefined dual-regions and multi-regions, in any case (the API takes any)."""
    assert regions.bucket_location(name).kind == kind


def test_dual_regions_pair_catalog_regions() -> None:
    for loc in regions.BUCKET_LOCATIONS.values():
        assert all(r in regions.REGIONS for r in loc.regions), loc
        assert len(loc.regions) == {"region": 1, "dual-region": 2, "multi-region": 0}[loc.kind]


@pytest.mark.parametrize("name", ["mars-central9", "us-central1-a", "us-central2", "EUR99", ""])
def test_rejects_unknown_bucket_location(name: str) -> None:
    """Anything else (a zone, a compute-only region) is refused, naming the kinds that exist."""
    with pytest.raises(CatalogLookupError, match="is not a Cloud Storage location; .*a dual-region "
                                                 r"\(ASIA1, EUR4, NAM4\) or a multi-region"):
        regions.bucket_location(name)
