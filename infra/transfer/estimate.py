"""Duration and cost of moving a dataset from S3 to Cloud Storage: pure arithmetic on catalog data.

No network and no SDK here, so every figure a report prints can be reproduced by hand from
the inventory's byte count and the dated price tables in `infra.catalog.cloud_prices`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from infra.catalog.cloud_prices import EgressPriceTable, EgressTier, GcsStoragePrices
from infra.errors import AidcError

GIB = 2**30
# AWS tiers reset every calendar month; a 30-day month is the planning approximation.
SECONDS_PER_BILLING_MONTH = 30 * 24 * 3600


@dataclass(frozen=True)
class TierCharge:
    """The part of one billing month's egress that fell in one price band."""

    month: int
    from_gib: float
    to_gib: float | None
    gib: float
    usd_per_gib: float

    @property
    def usd(self) -> float:
        return self.gib * self.usd_per_gib


@dataclass(frozen=True)
class TransferEstimate:
    """What moving ``total_bytes`` takes and costs, with the inputs that produced it."""

    total_bytes: int
    bandwidth_gbps: float
    seconds: float
    billing_months: int
    egress_usd: float
    egress_charges: tuple[TierCharge, ...]
    egress_region: str
    free_tier_applied: bool
    gcs_location: str
    gcs_storage_class: str
    gcs_usd_per_gib_month: float
    gcs_monthly_usd: float


def transfer_seconds(total_bytes: int, bandwidth_gbps: float) -> float:
    """Seconds to move ``total_bytes`` at a sustained ``bandwidth_gbps`` (10**9 bit/s)."""
    if not bandwidth_gbps > 0 or math.isinf(bandwidth_gbps):
        raise AidcError(f"bandwidth must be a positive number of Gbps, got {bandwidth_gbps}")
    if total_bytes < 0:
        raise AidcError(f"byte count must not be negative, got {total_bytes}")
    return total_bytes * 8 / (bandwidth_gbps * 1e9)


def tiered_cost(
    gib: float, tiers: Sequence[EgressTier], *, free_gib: float = 0.0, month: int = 1
) -> tuple[TierCharge, ...]:
    """Charge one month's ``gib`` band by band: each GiB pays the rate of the band it falls in.

    Bands are cumulative (``up_to_gib`` is where a band ends, counted from the first GiB of the
    month). The free allowance is consumed first, at the bottom of the first band, as AWS does.
    """
    if gib < 0:
        raise AidcError(f"volume must not be negative, got {gib} GiB")
    charges: list[TierCharge] = []
    lower = 0.0
    for tier in tiers:
        upper = math.inf if tier.up_to_gib is None else float(tier.up_to_gib)
        start = max(lower, min(free_gib, upper))
        in_band = max(0.0, min(gib, upper) - start)
        if in_band > 0:
            charges.append(
                TierCharge(month=month, from_gib=lower, to_gib=tier.up_to_gib, gib=in_band, usd_per_gib=tier.usd_per_gib)
            )
        if gib <= upper:
            break
        lower = upper
    else:
        raise AidcError("the price table's last tier must be unbounded (up_to_gib=None)")
    return tuple(charges)


def monthly_volumes_gib(total_bytes: int, bandwidth_gbps: float) -> tuple[float, ...]:
    """Split the transfer into billing months at the given bandwidth (full months, then the rest).

    Assumes the transfer starts at the beginning of a billing month; a transfer that fits in one
    month is one entry.
    """
    total_gib = total_bytes / GIB
    per_month = bandwidth_gbps * 1e9 / 8 * SECONDS_PER_BILLING_MONTH / GIB
    full, rest = divmod(total_gib, per_month)
    volumes = [per_month] * int(full)
    if rest > 0 or not volumes:
        volumes.append(rest)
    return tuple(volumes)


def egress_cost(
    total_bytes: int,
    table: EgressPriceTable,
    *,
    bandwidth_gbps: float,
    apply_free_tier: bool = False,
) -> tuple[float, tuple[TierCharge, ...]]:
    """AWS internet egress for the whole transfer: tiers applied per billing month, then summed.

    The free allowance is account-wide and usually consumed by other traffic, so it is only
    deducted when asked.
    """
    transfer_seconds(total_bytes, bandwidth_gbps)  # validates both inputs
    free = table.free_gib_per_month if apply_free_tier else 0.0
    charges: list[TierCharge] = []
    for month, gib in enumerate(monthly_volumes_gib(total_bytes, bandwidth_gbps), start=1):
        charges.extend(tiered_cost(gib, table.tiers, free_gib=free, month=month))
    return sum(c.usd for c in charges), tuple(charges)


def gcs_monthly_cost(total_bytes: int, usd_per_gib_month: float) -> float:
    """What the transferred data costs at rest in Cloud Storage per month."""
    return total_bytes / GIB * usd_per_gib_month


def estimate_transfer(
    total_bytes: int,
    *,
    bandwidth_gbps: float,
    egress_table: EgressPriceTable,
    gcs_prices: GcsStoragePrices,
    storage_class: str,
    apply_free_tier: bool = False,
) -> TransferEstimate:
    """Duration, AWS egress and GCS monthly storage for ``total_bytes``, from the given tables."""
    seconds = transfer_seconds(total_bytes, bandwidth_gbps)
    egress_usd, charges = egress_cost(
        total_bytes, egress_table, bandwidth_gbps=bandwidth_gbps, apply_free_tier=apply_free_tier
    )
    price = gcs_prices.price(storage_class)
    return TransferEstimate(
        total_bytes=total_bytes,
        bandwidth_gbps=bandwidth_gbps,
        seconds=seconds,
        billing_months=len(monthly_volumes_gib(total_bytes, bandwidth_gbps)),
        egress_usd=egress_usd,
        egress_charges=charges,
        egress_region=egress_table.region,
        free_tier_applied=apply_free_tier,
        gcs_location=gcs_prices.location,
        gcs_storage_class=storage_class.upper(),
        gcs_usd_per_gib_month=price,
        gcs_monthly_usd=gcs_monthly_cost(total_bytes, price),
    )
