"""Duration and cost estimates, and the dated price catalog they read."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date
from typing import Any

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from infra.catalog import cloud_prices as prices
from infra.catalog.cloud_prices import EgressTier
from infra.errors import AidcError, CatalogLookupError
from infra.transfer import estimate as est
from infra.transfer import inventory as inv

US_EAST_1 = prices.aws_egress_table("us-east-1")
TIERS = US_EAST_1.tiers
TB = 1024.0  # GiB


# --------------------------------------------------------------------------------------------
# Duration
# --------------------------------------------------------------------------------------------


def test_duration_is_bits_over_rate() -> None:
    """10**9 bytes at 1 Gbps take 8 seconds; doubling the rate halves the time."""
    assert est.transfer_seconds(10**9, 1.0) == pytest.approx(8.0)
    assert est.transfer_seconds(10**9, 2.0) == pytest.approx(4.0)
    assert est.transfer_seconds(0, 1.0) == 0.0


@pytest.mark.parametrize("gbps", [0.0, -1.0, math.nan, math.inf])
def test_rejects_non_positive_bandwidth(gbps: float) -> None:
    """A bandwidth that is not a positive finite number is refused, not divided by."""
    with pytest.raises(AidcError, match="bandwidth"):
        est.transfer_seconds(1, gbps)


def test_rejects_negative_bytes() -> None:
    """A negative byte count is a caller bug surfaced as an error."""
    with pytest.raises(AidcError):
        est.transfer_seconds(-1, 1.0)


# --------------------------------------------------------------------------------------------
# Tiered egress
# --------------------------------------------------------------------------------------------


def _usd(gib: float, **kw: Any) -> float:
    return sum(c.usd for c in est.tiered_cost(gib, TIERS, **kw))


@pytest.mark.parametrize(
    ("gib", "usd"),
    [
        (0, 0.0),
        (1, 0.09),
        (10 * TB, 10 * TB * 0.09),
        (20_000, 10 * TB * 0.09 + (20_000 - 10 * TB) * 0.085),
        (50 * TB, 10 * TB * 0.09 + 40 * TB * 0.085),
        (150 * TB, 10 * TB * 0.09 + 40 * TB * 0.085 + 100 * TB * 0.07),
        (200_000, 10 * TB * 0.09 + 40 * TB * 0.085 + 100 * TB * 0.07 + (200_000 - 150 * TB) * 0.05),
    ],
)
def test_tiers_apply_band_by_band(gib: float, usd: float) -> None:
    """Each GiB pays the rate of its own band; crossing a threshold does not reprice earlier GiB."""
    assert _usd(gib) == pytest.approx(usd)


def test_free_allowance_comes_off_the_bottom() -> None:
    """The 100 GiB free allowance covers the first GiB of the month, at the first band's rate."""
    assert _usd(50, free_gib=100) == 0.0
    assert _usd(150, free_gib=100) == pytest.approx(50 * 0.09)
    assert _usd(20_000, free_gib=100) == pytest.approx(_usd(20_000) - 100 * 0.09)


@given(st.integers(min_value=0, max_value=2**51))
def test_tier_charges_cover_the_volume_once(n_bytes: int) -> None:
    """Band volumes sum to the input and the average rate stays within the table's rates."""
    gib = n_bytes / est.GIB
    charges = est.tiered_cost(gib, TIERS)
    assert sum(c.gib for c in charges) == pytest.approx(gib)
    if gib > 0:
        avg = sum(c.usd for c in charges) / gib
        assert 0.05 - 1e-12 <= avg <= 0.09 + 1e-12


@given(st.integers(0, 2**50), st.integers(0, 2**50))
def test_more_egress_never_costs_less(a: int, b: int) -> None:
    """Cost is monotone in volume, and the marginal rate never rises with volume."""
    lo, hi = (x / est.GIB for x in sorted((a, b)))
    assert _usd(lo) <= _usd(hi) + 1e-9
    assert _usd(hi) - _usd(lo) <= (hi - lo) * 0.09 + 1e-6


def test_rejects_a_table_without_an_open_last_tier() -> None:
    """A table whose last band ends cannot price volumes beyond it."""
    with pytest.raises(AidcError, match="unbounded"):
        est.tiered_cost(200, (EgressTier(up_to_gib=100, usd_per_gib=0.1),))


def test_tiers_reset_each_billing_month() -> None:
    """A slow transfer spread over months pays first-band rates every month."""
    total = int(20_000 * est.GIB)
    one_month, _ = est.egress_cost(total, US_EAST_1, bandwidth_gbps=100.0)
    # 0.01 Gbps moves ~3,017 GiB per 30-day month: 7 months, every GiB at $0.09.
    months = est.monthly_volumes_gib(total, 0.01)
    slow, charges = est.egress_cost(total, US_EAST_1, bandwidth_gbps=0.01)
    assert len(months) == 7 and sum(months) == pytest.approx(20_000)
    assert {c.usd_per_gib for c in charges} == {0.09}
    assert slow == pytest.approx(20_000 * 0.09)
    assert one_month == pytest.approx(_usd(20_000)) and one_month < slow


# --------------------------------------------------------------------------------------------
# GCS storage and the whole estimate
# --------------------------------------------------------------------------------------------


def test_gcs_monthly_cost() -> None:
    """One TiB of Standard in us-central1 costs 1,024 x $0.020 a month."""
    gcs = prices.gcs_storage_prices("us-central1")
    assert est.gcs_monthly_cost(2**40, gcs.price("STANDARD")) == pytest.approx(20.48)
    assert est.gcs_monthly_cost(2**40, gcs.price("archive")) == pytest.approx(1024 * 0.0012)


def test_rejects_unknown_storage_class() -> None:
    """A storage class the catalog lacks is named, with the ones that exist."""
    with pytest.raises(CatalogLookupError, match="STANDARD, NEARLINE, COLDLINE, ARCHIVE"):
        prices.gcs_storage_prices("us-central1").price("REGIONAL")


def test_rejects_unknown_location() -> None:
    """A location the catalog lacks lists the locations it holds."""
    with pytest.raises(CatalogLookupError, match="us-central1"):
        prices.gcs_storage_prices("mars-north1")


def test_rejects_unknown_egress_region() -> None:
    """An AWS region without a table is a lookup miss, not a silent us-east-1."""
    with pytest.raises(CatalogLookupError, match="us-east-1"):
        prices.aws_egress_table("ap-southeast-2")


@pytest.fixture
def s3() -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.delenv("AWS_PROFILE", raising=False)
        with mock_aws():
            yield boto3.client("s3", region_name="us-east-1")


def test_estimate_of_a_seeded_bucket(s3: Any) -> None:
    """The estimate prices exactly the bytes the inventory counted."""
    s3.create_bucket(Bucket="estimate-src")
    sizes = [1000 * (i + 1) for i in range(40)]
    for i, size in enumerate(sizes):
        s3.put_object(Bucket="estimate-src", Key=f"shard-{i:03d}", Body=b"z" * size)
    listing = inv.inventory(s3, "estimate-src")
    total = sum(sizes)
    e = est.estimate_transfer(
        listing.bytes,
        bandwidth_gbps=2.0,
        egress_table=US_EAST_1,
        gcs_prices=prices.gcs_storage_prices("us-east4"),
        storage_class="NEARLINE",
    )
    assert e.total_bytes == total
    assert e.seconds == pytest.approx(total * 8 / 2e9)
    assert e.egress_usd == pytest.approx(total / est.GIB * 0.09)
    assert e.gcs_monthly_usd == pytest.approx(total / est.GIB * 0.013)
    assert (e.billing_months, e.gcs_storage_class, e.gcs_location) == (1, "NEARLINE", "us-east4")


# --------------------------------------------------------------------------------------------
# The catalog itself
# --------------------------------------------------------------------------------------------


def _all_sources() -> list[Any]:
    out = [t.source for t in prices.AWS_S3_INTERNET_EGRESS.values()]
    out += [g.source for g in prices.GCS_STORAGE_PRICES.values()]
    out += [prices.STS_PLANNING_BANDWIDTH.source, prices.STS_AGENTLESS_FEE_SOURCE, prices.GCS_MAX_OBJECT_SOURCE]
    return out + list(prices.RESTORE_REQUIRED_SOURCES)


def test_every_figure_is_sourced_and_dated() -> None:
    """Each record names a public https page and the day it was checked."""
    for source in _all_sources():
        assert source.url.startswith("https://")
        assert source.as_of == date(2026, 11, 29)


def test_egress_tiers_ascend_and_end_open() -> None:
    """Bands end in increasing order, rates fall, and the last band is unbounded."""
    for table in prices.AWS_S3_INTERNET_EGRESS.values():
        ends = [t.up_to_gib for t in table.tiers]
        assert ends[-1] is None and ends[:-1] == sorted(ends[:-1])
        rates = [t.usd_per_gib for t in table.tiers]
        assert rates == sorted(rates, reverse=True)


def test_colder_gcs_classes_cost_less_at_rest() -> None:
    """In every location, STANDARD > NEARLINE > COLDLINE > ARCHIVE per GiB-month."""
    for gcs in prices.GCS_STORAGE_PRICES.values():
        assert [gcs.price(c) for c in prices.GCS_STORAGE_CLASSES] == sorted(
            (gcs.price(c) for c in prices.GCS_STORAGE_CLASSES), reverse=True
        )


def test_default_bandwidth_is_marked_unpublished() -> None:
    """The default rate is a planning figure and says so, since Google publishes none."""
    assert prices.STS_PLANNING_BANDWIDTH.published is False
    assert prices.STS_PLANNING_BANDWIDTH.gbps > 0


def test_glacier_instant_retrieval_needs_no_restore() -> None:
    """Only GLACIER and DEEP_ARCHIVE are archived; GLACIER_IR is readable in real time."""
    assert prices.RESTORE_REQUIRED_STORAGE_CLASSES == {"GLACIER", "DEEP_ARCHIVE"}
