"""Billing conventions and the record types of the price catalog.

Conventions, stated once and used everywhere:

* Currency is USD, list prices, before taxes, negotiated discounts, free tiers and credits.
* A month is ``HOURS_PER_MONTH`` = 730 hours (365 x 24 / 12), the convention of Google's pricing
  calculator; an hourly rate becomes a monthly figure by multiplying by it, never by a month's
  actual hours.
* Sizes are binary: Compute Engine's and Filestore's "GB" (``diskSizeGb``, ``capacityGb``) and
  Cloud Storage's "GiB" are all 2**30 bytes, so a size in a plan multiplies a per-GiB price as is.
* Sustained-use discounts (N1, N2) are not applied: a figure is what the capacity costs before
  them, so a reported maximum is never below the bill.

Every figure carries the ``Source`` it was read from. Derived figures (monthly from hourly, a
machine's bundled Local SSD) are computed from the records, never typed a second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

from infra.catalog.source import Source
from infra.errors import CatalogLookupError

CURRENCY = "USD"
HOURS_PER_MONTH = 730
CATALOG_AS_OF = date(2026, 12, 3)
"""The day this catalog was assembled; each figure's own ``Source.as_of`` says when it was read."""

CONVENTIONS_SOURCE = Source(
    "https://cloud.google.com/compute/vm-instance-pricing",
    CATALOG_AS_OF,
    "'disk size, machine type memory, and network usage are calculated in JEDEC binary gigabytes "
    "(GB), or IEC gibibytes (GiB), where 1 GiB is 2^30 bytes'. 730 hours a month is the pricing "
    "calculator's month (Cloud Storage's page quotes $0.000027397/GiB-hour x 730 h = $0.020).",
)

Commitment = Literal["1y", "3y"]
COMMITMENTS: tuple[str, ...] = get_args(Commitment)

PriceMode = Literal["on_demand", "spot", "1y", "3y"]
"""How a VM or chip is billed: list price, Spot price, or a 1- or 3-year committed-use price."""


def monthly(usd_per_hour: float) -> float:
    """An hourly rate over the catalog's month."""
    return usd_per_hour * HOURS_PER_MONTH


@dataclass(frozen=True)
class MachinePrice:
    """One Compute Engine machine type in one region: the price of a whole VM.

    For accelerator-optimized types (A2, A3, G2) the price includes the built-in GPUs and the
    bundled Local SSD, as Google bills the machine type. Committed-use prices are monthly
    figures at 730 hours; ``None`` where the source publishes none.
    """

    machine_type: str
    region: str
    on_demand_usd_per_hour: float
    spot_usd_per_hour: float
    cud_1y_usd_per_month: float | None
    cud_3y_usd_per_month: float | None
    source: Source

    def usd_per_month(self, mode: PriceMode) -> float:
        """One VM for a month at ``mode``; a commitment the source does not publish is a miss."""
        if mode == "on_demand":
            return monthly(self.on_demand_usd_per_hour)
        if mode == "spot":
            return monthly(self.spot_usd_per_hour)
        committed = self.cud_1y_usd_per_month if mode == "1y" else self.cud_3y_usd_per_month
        if committed is None:
            offered = [m for m in COMMITMENTS
                       if (self.cud_1y_usd_per_month if m == "1y" else self.cud_3y_usd_per_month)]
            raise CatalogLookupError(
                f"no {mode} committed-use price for {self.machine_type} in {self.region} in the "
                f"catalog; it has {', '.join(['on-demand', 'spot', *offered])}")
        return committed

    def rate_text(self, mode: PriceMode) -> str:
        """The figure behind ``usd_per_month(mode)``, as a basis quotes it."""
        if mode == "on_demand":
            return f"${self.on_demand_usd_per_hour:,.4f}/h"
        if mode == "spot":
            return f"${self.spot_usd_per_hour:,.4f}/h"
        return f"${self.usd_per_month(mode):,.2f}/month committed"


@dataclass(frozen=True)
class GibMonthPrice:
    """A capacity price in one region: USD per GiB per month (disks, Local SSD by billing mode,
    Filestore tiers)."""

    kind: str
    region: str
    usd_per_gib_month: float
    source: Source


@dataclass(frozen=True)
class TpuChipPrice:
    """One TPU generation in one region: USD per chip-hour (the TPU VM's host included)."""

    generation: str
    region: str
    on_demand_usd_per_chip_hour: float
    spot_usd_per_chip_hour: float | None
    cud_1y_usd_per_chip_hour: float | None
    cud_3y_usd_per_chip_hour: float | None
    source: Source

    def usd_per_chip_hour(self, mode: PriceMode) -> float:
        figure = {
            "on_demand": self.on_demand_usd_per_chip_hour,
            "spot": self.spot_usd_per_chip_hour,
            "1y": self.cud_1y_usd_per_chip_hour,
            "3y": self.cud_3y_usd_per_chip_hour,
        }[mode]
        if figure is None:
            raise CatalogLookupError(
                f"no {mode} price for TPU {self.generation} in {self.region} in the catalog")
        return figure


@dataclass(frozen=True)
class FlatPrice:
    """A price with no region: a fee per unit per hour or per month, and what it is for."""

    name: str
    usd: float
    unit: str
    source: Source
