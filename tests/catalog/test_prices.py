"""The price catalog: sourced figures pinned, conventions stated once, misses that say what exists."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.catalog import cloud_prices
from infra.catalog.gpu import GPU_MACHINES
from infra.catalog.prices import (
    CATALOG,
    HOURS_PER_MONTH,
    PriceCatalog,
    TpuChipPrice,
    monthly,
    price_catalog_rows,
)
from infra.catalog.prices.compute import SKU_EXPORT_URL
from infra.catalog.prices.services import (
    ALERT_CONDITION_MONTH,
    GKE_CLUSTER_FEE,
    KMS_KEY_VERSION_MONTH,
    NAT_GATEWAY_CAP_HOUR,
    NAT_GATEWAY_PER_VM_HOUR,
    NAT_IP_HOUR,
)
from infra.catalog.source import Source
from infra.errors import CatalogLookupError

REGIONS = ("us-central1", "us-east4", "europe-west4")
GENERAL_PURPOSE = ("e2-standard-", "n1-standard-", "n2-standard-")


def test_billing_conventions_are_stated_once() -> None:
    """A month is 730 hours, so an hourly rate times 730 is the monthly figure everywhere."""
    assert HOURS_PER_MONTH == 730
    assert monthly(1.0) == 730.0
    assert monthly(0.10) == pytest.approx(73.0)


# Figures read from the sources, written out again so the catalog cannot drift silently.
PINNED = {
    # https://github.com/Cyclenerd/google-cloud-pricing-cost-calculator pricing.yml @ fd66b26
    ("us-central1", "a3-highgpu-8g"): (88.49, 50.609541, 44810.08, 28371.0),
    ("us-central1", "a2-ultragpu-8g"): (40.550383, 22.07637, None, None),
    ("us-central1", "g2-standard-8"): (0.853624, 0.479872, 392.58, 280.42),
    ("us-central1", "e2-standard-8"): (0.268046, 0.160848, 123.27, 88.05),
    ("us-east4", "a3-megagpu-8g"): (92.937588, 23.275237, 46678.66, 29555.26),
    ("europe-west4", "a3-megagpu-8g"): (118.236831, 46.243579, 59381.81, 37589.66),
}


@pytest.mark.parametrize("key", PINNED, ids=[f"{r}/{m}" for r, m in PINNED])
def test_machine_prices_match_the_source(key: tuple[str, str]) -> None:
    """On-demand and Spot per hour, 1- and 3-year commitments per month, as the export gives."""
    machine = CATALOG.machine(*key)
    assert (machine.on_demand_usd_per_hour, machine.spot_usd_per_hour,
            machine.cud_1y_usd_per_month, machine.cud_3y_usd_per_month) == PINNED[key]
    assert machine.source.url == SKU_EXPORT_URL
    assert machine.source.as_of == date(2026, 7, 30)


@pytest.mark.parametrize("key", sorted(CATALOG.machines), ids=lambda k: f"{k[0]}/{k[1]}")
def test_every_machine_price_is_sourced_and_ordered(key: tuple[str, str]) -> None:
    """Every record has a source; Spot is cheaper than on-demand, 3 years than 1 year than
    on-demand; the machine type is one the GPU catalog or the general-purpose series knows."""
    machine = CATALOG.machines[key]
    assert machine.source.url.startswith("https://") and machine.source.as_of
    assert 0 < machine.spot_usd_per_hour < machine.on_demand_usd_per_hour
    on_demand = machine.usd_per_month("on_demand")
    if machine.cud_1y_usd_per_month is not None:
        assert machine.cud_3y_usd_per_month is not None
        assert machine.cud_3y_usd_per_month < machine.cud_1y_usd_per_month < on_demand
    assert machine.machine_type in GPU_MACHINES or machine.machine_type.startswith(GENERAL_PURPOSE)


def test_the_catalog_covers_the_regions_and_series_the_issue_names() -> None:
    """us-central1 plus two GPU regions; A2 (and Ultra), A3 High and Mega, G2 and N1 hosts."""
    assert set(CATALOG.regions()) == set(REGIONS)
    names = {m for _, m in CATALOG.machines}
    for series in ("a2-highgpu-", "a2-megagpu-", "a2-ultragpu-", "a3-highgpu-", "a3-megagpu-",
                   "g2-standard-", "n1-standard-", "e2-standard-"):
        assert any(name.startswith(series) for name in names), series


def test_monthly_figures_are_derived_not_typed() -> None:
    """A VM-month is the hourly rate times 730; a commitment month is the source's own figure."""
    machine = CATALOG.machine("us-central1", "a3-highgpu-8g")
    assert machine.usd_per_month("on_demand") == pytest.approx(88.49 * 730)
    assert machine.usd_per_month("spot") == pytest.approx(50.609541 * 730)
    assert machine.usd_per_month("1y") == 44810.08


def test_rejects_a_commitment_the_source_does_not_publish() -> None:
    """A2 Ultra has no committed-use figure in the export: the lookup says what there is."""
    machine = CATALOG.machine("us-central1", "a2-ultragpu-8g")
    with pytest.raises(CatalogLookupError, match="no 1y committed-use price.*on-demand, spot"):
        machine.usd_per_month("1y")


def test_rejects_a_machine_priced_only_elsewhere_naming_where() -> None:
    """A3 Mega has no us-central1 row in the source; the miss names the regions it has."""
    with pytest.raises(CatalogLookupError) as err:
        CATALOG.machine("us-central1", "a3-megagpu-8g")
    assert "no price for a3-megagpu-8g in us-central1" in str(err.value)
    assert "europe-west4, us-east4" in str(err.value)


def test_rejects_an_unknown_machine_listing_the_series() -> None:
    with pytest.raises(CatalogLookupError) as err:
        CATALOG.machine("us-central1", "c3-standard-8")
    assert "a3-highgpu-*" in str(err.value) and "g2-standard-*" in str(err.value)


@pytest.mark.parametrize("lookup, published_at", [
    (lambda: CATALOG.tpu_chip("us-central1", "v5p"), "https://cloud.google.com/tpu/pricing"),
    (lambda: CATALOG.filestore_tier("us-central1", "ZONAL"),
     "https://cloud.google.com/filestore/pricing"),
    (lambda: CATALOG.disk("us-central1", "hyperdisk-balanced"),
     "https://cloud.google.com/compute/disks-image-pricing"),
])
def test_prices_not_in_the_catalog_say_where_google_publishes_them(lookup, published_at) -> None:
    """TPU chips, Filestore and Hyperdisk Balanced are deliberately absent, never guessed."""
    with pytest.raises(CatalogLookupError, match="aidc does not guess") as err:
        lookup()
    assert published_at in str(err.value)


def test_disks_and_local_ssd() -> None:
    """Persistent Disk per GiB-month by type; Local SSD by how its VM is billed."""
    assert CATALOG.disk("us-central1", "pd-balanced").usd_per_gib_month == 0.10
    assert CATALOG.disk("us-central1", "pd-ssd").usd_per_gib_month == 0.17
    assert CATALOG.disk("europe-west4", "pd-standard").usd_per_gib_month == 0.044
    assert [CATALOG.local_ssd_price("us-central1", mode).usd_per_gib_month
            for mode in ("on_demand", "spot", "1y", "3y")] == [0.08, 0.0428, 0.0504, 0.036]
    with pytest.raises(CatalogLookupError, match="no price for Local SSD billed spot in asia-east1"):
        CATALOG.local_ssd_price("asia-east1", "spot")
    with pytest.raises(CatalogLookupError, match="no price for disk type pd-extreme in "
                                                 "us-central1; the catalog prices pd-balanced in"):
        CATALOG.disk("us-central1", "pd-extreme")


def test_services_pinned_to_googles_pages() -> None:
    """GKE fee, NAT, KMS key versions and alerting conditions, each with its page."""
    assert (GKE_CLUSTER_FEE.usd, GKE_CLUSTER_FEE.source.url) == \
        (0.10, "https://cloud.google.com/kubernetes-engine/pricing")
    assert (NAT_GATEWAY_PER_VM_HOUR.usd, NAT_GATEWAY_CAP_HOUR.usd, NAT_IP_HOUR.usd) == \
        (0.0014, 0.044, 0.005)
    assert KMS_KEY_VERSION_MONTH["SOFTWARE", "symmetric"].usd == 0.06
    assert KMS_KEY_VERSION_MONTH["HSM", "symmetric"].usd == 1.00
    assert KMS_KEY_VERSION_MONTH["HSM", "asymmetric"].usd == 2.50
    assert ALERT_CONDITION_MONTH.usd == 1.50


def test_cloud_storage_is_one_table_shared_with_the_transfer_estimate() -> None:
    """The catalog reads Cloud Storage from cloud_prices, not from a copy of it."""
    assert CATALOG.gcs is cloud_prices.GCS_STORAGE_PRICES
    assert CATALOG.gcs_class("us-central1", "standard")[0] == 0.020
    with pytest.raises(CatalogLookupError, match="europe-west1, us-central1"):
        CATALOG.gcs_class("asia-east1", "STANDARD")


def test_a_catalog_with_tpu_prices_answers_and_misses_by_generation() -> None:
    """Tests (and a future sourced table) can supply TPU figures; a miss lists what exists."""
    source = Source("https://example.test/tpu", date(2026, 12, 3), "test figure")
    catalog = replace(CATALOG, tpu_chips={("us-central1", "v5p"): TpuChipPrice(
        "v5p", "us-central1", 2.0, 1.0, None, None, source)})
    assert isinstance(catalog, PriceCatalog)
    assert catalog.tpu_chip("us-central1", "v5p").usd_per_chip_hour("spot") == 1.0
    with pytest.raises(CatalogLookupError, match="v5p in us-central1"):
        catalog.tpu_chip("us-central1", "v6e")
    with pytest.raises(CatalogLookupError, match="no 1y price for TPU v5p"):
        catalog.tpu_chip("us-central1", "v5p").usd_per_chip_hour("1y")


def test_catalog_rows_filter_by_region() -> None:
    rows = price_catalog_rows(region="us-east4")
    assert rows and {row["region"] for row in rows} == {"us-east4"}
    mega = next(row for row in rows if row["item"] == "a3-megagpu-8g")
    assert mega["on_demand"] == round(92.937588 * 730, 2)


@given(st.floats(min_value=0, max_value=1000, allow_nan=False),
       st.integers(min_value=0, max_value=1000))
def test_monthly_is_linear(rate: float, count: int) -> None:
    """count VMs for a month cost count times one VM's month."""
    assert monthly(rate) * count == pytest.approx(monthly(rate * count), abs=1e-6)
