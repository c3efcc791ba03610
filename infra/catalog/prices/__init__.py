"""The price catalog: what Google charges for the resources an aidc stack creates.

``CATALOG`` is the shipped catalog, a ``PriceCatalog`` built from the sourced tables in
``compute`` (machine types, disks, Local SSD) and ``services`` (GKE, NAT, KMS, Monitoring, and the
deliberately empty TPU and Filestore tables), with Cloud Storage taken from
``infra.catalog.cloud_prices`` (one table, shared with the S3 transfer estimate). Billing
conventions (730-hour month, binary GiB, list prices) are in ``records``.

A lookup that misses raises ``CatalogLookupError`` naming what the catalog does hold, and for a
price it deliberately lacks, where Google publishes it. The cost estimate turns that message into
the reason a resource is unpriced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from infra.catalog.cloud_prices import GCS_STORAGE_PRICES, GcsStoragePrices
from infra.catalog.prices.compute import DISK_PRICES, LOCAL_SSD_PRICES, MACHINE_PRICES
from infra.catalog.prices.records import (
    CATALOG_AS_OF,
    COMMITMENTS,
    CURRENCY,
    HOURS_PER_MONTH,
    Commitment,
    FlatPrice,
    GibMonthPrice,
    MachinePrice,
    PriceMode,
    TpuChipPrice,
    monthly,
)
from infra.catalog.prices.services import FILESTORE_PRICES, TPU_CHIP_PRICES, UNPUBLISHED
from infra.catalog.source import Source
from infra.errors import CatalogLookupError

__all__ = [
    "CATALOG", "CATALOG_AS_OF", "COMMITMENTS", "CURRENCY", "HOURS_PER_MONTH", "Commitment",
    "FlatPrice", "GibMonthPrice", "MachinePrice", "PriceCatalog", "PriceMode",
    "TpuChipPrice", "monthly", "price_catalog_rows", "unpublished",
]


_T = TypeVar("_T")


def _join(items: Iterable[str]) -> str:
    return ", ".join(sorted(set(items))) or "none"


def unpublished(kind: str) -> str:
    """Where Google publishes a price the catalog deliberately lacks (``tpu``, ``filestore``,
    ``dws``, ``hyperdisk-balanced``, ``n1-gpus``), as a reason a report can show."""
    url, what = UNPUBLISHED[kind]
    return f"Google publishes {what} at {url}; aidc does not guess them"


def _series(machine_type: str) -> str:
    return machine_type.rsplit("-", 1)[0] + "-*"


def _lookup(table: Mapping[tuple[str, str], _T], region: str, name: str, *, what: str,
            field: str, kind: str | None = None) -> _T:
    """A record by (region, name); a miss lists what the table holds, or, for a table the
    catalog holds empty on purpose (``kind``), where Google publishes the figures."""
    found = table.get((region, name))
    if found is not None:
        return found
    if not table and kind is not None:
        raise CatalogLookupError(f"no {what} prices in the catalog; {unpublished(kind)}",
                                 field=field)
    raise CatalogLookupError(
        f"no price for {what} {name} in {region}; the catalog prices "
        f"{_join(f'{n} in {r}' for r, n in table)}", field=field)


@dataclass(frozen=True)
class PriceCatalog:
    """Sourced prices keyed the way a plan names things (region, machine type, tier, class).

    Tests build their own catalog to check arithmetic against figures they choose; everything
    else uses ``CATALOG``.
    """

    machines: Mapping[tuple[str, str], MachinePrice]
    disks: Mapping[tuple[str, str], GibMonthPrice]
    local_ssd: Mapping[tuple[str, str], GibMonthPrice]
    tpu_chips: Mapping[tuple[str, str], TpuChipPrice] = field(default_factory=dict)
    filestore: Mapping[tuple[str, str], GibMonthPrice] = field(default_factory=dict)
    gcs: Mapping[str, GcsStoragePrices] = field(default_factory=dict)
    as_of: date = CATALOG_AS_OF

    def machine(self, region: str, machine_type: str) -> MachinePrice:
        """The price of one VM of ``machine_type`` in ``region``; a miss says where it is priced."""
        found = self.machines.get((region, machine_type))
        if found is not None:
            return found
        elsewhere = [r for r, m in self.machines if m == machine_type]
        if elsewhere:
            raise CatalogLookupError(
                f"no price for {machine_type} in {region}; the catalog prices it in "
                f"{_join(elsewhere)}", field="machine_type")
        here = [_series(m) for r, m in self.machines if r == region]
        raise CatalogLookupError(
            f"no price for {machine_type}; the catalog prices {_join(here)} in {region} "
            f"(aidc catalog prices lists them)", field="machine_type")

    def disk(self, region: str, disk_type: str) -> GibMonthPrice:
        """Persistent Disk capacity in ``region``; Hyperdisk Balanced says where it is published."""
        if disk_type in UNPUBLISHED:
            raise CatalogLookupError(f"no {disk_type} price in the catalog; "
                                     f"{unpublished(disk_type)}", field="disk_type")
        return _lookup(self.disks, region, disk_type, what="disk type", field="disk_type")

    def local_ssd_price(self, region: str, mode: PriceMode) -> GibMonthPrice:
        """Local SSD per GiB-month in ``region``, as billed with a VM priced at ``mode``."""
        return _lookup(self.local_ssd, region, mode, what="Local SSD billed", field="local_ssd")

    def tpu_chip(self, region: str, generation: str) -> TpuChipPrice:
        """The per-chip price of a TPU generation in ``region``."""
        return _lookup(self.tpu_chips, region, generation, what="TPU", kind="tpu",
                       field="generation")

    def filestore_tier(self, region: str, tier: str) -> GibMonthPrice:
        """The per-GiB-month price of a Filestore tier in ``region``."""
        return _lookup(self.filestore, region, tier, what="Filestore", kind="filestore",
                       field="tier")

    def gcs_class(self, location: str, storage_class: str) -> tuple[float, Source]:
        """USD per GiB-month of a Cloud Storage class at ``location``, and its source."""
        prices = self.gcs.get(location.lower())
        if prices is None:
            raise CatalogLookupError(
                f"no Cloud Storage prices for location {location!r}; the catalog holds "
                f"{_join(self.gcs)}", field="location")
        return prices.price(storage_class), prices.source

    def regions(self) -> list[str]:
        return sorted({r for r, _ in self.machines} | {r for r, _ in self.disks})


CATALOG = PriceCatalog(
    machines=MACHINE_PRICES,
    disks=DISK_PRICES,
    local_ssd=LOCAL_SSD_PRICES,
    tpu_chips=TPU_CHIP_PRICES,
    filestore=FILESTORE_PRICES,
    gcs=GCS_STORAGE_PRICES,
)
"""The shipped catalog."""


def price_catalog_rows(catalog: PriceCatalog = CATALOG, region: str | None = None) -> list[dict]:
    """Rows for ``aidc catalog prices``: every machine type, disk and Local SSD figure a month."""
    rows: list[dict] = []
    for (where, name), machine in sorted(catalog.machines.items()):
        if region is None or where == region:
            rows.append({
                "region": where, "item": name, "unit": "VM-month",
                "on_demand": round(machine.usd_per_month("on_demand"), 2),
                "spot": round(machine.usd_per_month("spot"), 2),
                "commit_1y": machine.cud_1y_usd_per_month, "commit_3y": machine.cud_3y_usd_per_month,
                "source": machine.source.url,
            })
    for (where, name), disk in sorted(catalog.disks.items()):
        if region is None or where == region:
            rows.append({"region": where, "item": name, "unit": "GiB-month",
                         "on_demand": disk.usd_per_gib_month, "source": disk.source.url})
    for where in sorted({r for r, _ in catalog.local_ssd}):
        if region is None or where == region:
            prices = {mode: ssd for (r, mode), ssd in catalog.local_ssd.items() if r == where}
            rows.append({"region": where, "item": "local-ssd", "unit": "GiB-month",
                         **{column: prices[mode].usd_per_gib_month
                            for column, mode in (("on_demand", "on_demand"), ("spot", "spot"),
                                                 ("commit_1y", "1y"), ("commit_3y", "3y"))
                            if mode in prices},
                         "source": next(iter(prices.values())).source.url})
    return rows
