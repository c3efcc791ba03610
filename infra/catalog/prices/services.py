"""Prices of the managed services an aidc stack uses: GKE, Cloud NAT, Cloud KMS, Cloud Monitoring
alerting, Cloud Logging; and what the catalog deliberately does not hold (TPU chips, Filestore,
Dynamic Workload Scheduler), with where Google publishes those figures.

Each figure here was read from the Google page its ``Source`` names, on the date it gives.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

from infra.catalog.prices.records import CATALOG_AS_OF, FlatPrice, GibMonthPrice, TpuChipPrice
from infra.catalog.source import Source

GKE_PRICING_URL = "https://cloud.google.com/kubernetes-engine/pricing"
NAT_PRICING_URL = "https://cloud.google.com/nat/pricing"
KMS_PRICING_URL = "https://cloud.google.com/kms/pricing"
ALERTING_COSTS_URL = "https://cloud.google.com/monitoring/alerts/cost-control"
OBSERVABILITY_PRICING_URL = "https://cloud.google.com/stackdriver/pricing"
TPU_PRICING_URL = "https://cloud.google.com/tpu/pricing"
FILESTORE_PRICING_URL = "https://cloud.google.com/filestore/pricing"
DWS_URL = "https://cloud.google.com/kubernetes-engine/docs/how-to/provisioningrequest"

GKE_CLUSTER_FEE = FlatPrice(
    "GKE cluster management fee", 0.10, "cluster-hour",
    Source(GKE_PRICING_URL, CATALOG_AS_OF,
           "'A flat cluster management fee of $0.10 per cluster per hour (charged in 1 second "
           "increments) applies to all GKE clusters irrespective of the mode of operation, "
           "cluster size, or topology.' The free tier ($74.40 of monthly credit per billing "
           "account) applies only to zonal and Autopilot clusters, one per billing account, and "
           "is not deducted here. Clusters on the Extended channel in extended support pay more."),
)

_NAT_SOURCE = Source(
    NAT_PRICING_URL, CATALOG_AS_OF,
    "Public NAT: gateway $0.0014 x VMs using it per hour up to 32 VMs, $0.044 per hour above "
    "32; $0.045 per GiB processed (inbound and outbound, same in every region); $0.005 per hour "
    "for each static or ephemeral external IP address the gateway uses.",
)
NAT_GATEWAY_PER_VM_HOUR = FlatPrice("Cloud NAT gateway, per VM", 0.0014, "VM-hour", _NAT_SOURCE)
NAT_GATEWAY_CAP_HOUR = FlatPrice("Cloud NAT gateway, more than 32 VMs", 0.044, "hour", _NAT_SOURCE)
NAT_GATEWAY_CAP_VMS = 32
NAT_IP_HOUR = FlatPrice("Cloud NAT external IP address", 0.005, "IP-hour", _NAT_SOURCE)
NAT_DATA_PER_GIB = FlatPrice("Cloud NAT data processing", 0.045, "GiB", _NAT_SOURCE)

_KMS_SOURCE = Source(
    KMS_PRICING_URL, CATALOG_AS_OF,
    "Prices effective 2025-03-17 (read from the page's ja rendering): per active key version "
    "per month, SOFTWARE $0.06; HSM $1.00 for AES-256, HMAC and RSA 2048, $2.50 for RSA 3072, "
    "RSA 4096 and elliptic-curve keys (first 2,000, then $1.00); EXTERNAL $3.00. Destroyed "
    "versions are free. Cryptographic operations $0.03 per 10,000 ($0.15 for HSM RSA 3072+/EC).",
)
KMS_KEY_VERSION_MONTH: Mapping[tuple[str, str], FlatPrice] = MappingProxyType({
    (level, family): FlatPrice(f"Cloud KMS {level} key version ({family})", usd,
                               "active key version-month", _KMS_SOURCE)
    for level, family, usd in (
        ("SOFTWARE", "symmetric", 0.06),
        ("SOFTWARE", "asymmetric", 0.06),
        ("HSM", "symmetric", 1.00),
        ("HSM", "asymmetric", 2.50),
        ("EXTERNAL", "symmetric", 3.00),
        ("EXTERNAL", "asymmetric", 3.00),
        ("EXTERNAL_VPC", "symmetric", 3.00),
        ("EXTERNAL_VPC", "asymmetric", 3.00),
    )
})
"""Key version prices by (protection level, family). "symmetric" covers AES-256, HMAC and RSA
2048 (the figures Google groups together); "asymmetric" RSA 3072/4096 and elliptic curves."""
KMS_OPERATIONS_PER_10K = FlatPrice("Cloud KMS cryptographic operations", 0.03, "10,000 operations",
                                   _KMS_SOURCE)

_ALERTING_SOURCE = Source(
    ALERTING_COSTS_URL, CATALOG_AS_OF,
    "'Starting no sooner than April 2025, Cloud Monitoring will begin charging for the use of "
    "alerting policies': $1.50 per condition per month, plus $0.35 per million time series "
    "returned by the conditions' queries.",
)
ALERT_CONDITION_MONTH = FlatPrice("Cloud Monitoring alerting condition", 1.50, "condition-month",
                                  _ALERTING_SOURCE)
ALERT_TIME_SERIES_PER_MILLION = FlatPrice("Cloud Monitoring alerting time series returned", 0.35,
                                          "million time series", _ALERTING_SOURCE)

LOGGING_STORAGE_PER_GIB = FlatPrice(
    "Cloud Logging storage", 0.50, "GiB",
    Source(OBSERVABILITY_PRICING_URL, CATALOG_AS_OF,
           "Logging storage $0.50/GiB (one-time, includes 30 days), first 50 GiB per project per "
           "month free; vended network logs (VPC flow, firewall, NAT) $0.25/GiB."),
)

TPU_CHIP_PRICES: Mapping[tuple[str, str], TpuChipPrice] = MappingProxyType({})
"""TPU prices by (region, generation). Empty on purpose: Google publishes per-chip-hour prices
(on demand, Spot, 1- and 3-year commitments) at TPU_PRICING_URL, but no copy of that page's
current per-region table could be read. Searched again on 2026-12-03 (pages, docs and code
corpora; queries for TPU v5e/v5p/v6e chip-hour prices by region, Google's launch posts, SKU
exports and pricing-calculator data): the stored copies of TPU_PRICING_URL (en, bn, pl, th)
carry only the retired v2/v3/v4-preview tables; the v5e/v6e architecture pages carry no prices;
what remains is third-party, undated or "starting at" figures with no region (a news report of
the v6e launch quoting "starting at $2.70 per chip-hour", blog posts and code comments quoting
v5e at $1.20-1.38). None is a per-region list price, so a TPU pool is reported unpriced, never
guessed."""

FILESTORE_PRICES: Mapping[tuple[str, str], GibMonthPrice] = MappingProxyType({})
"""Filestore prices by (region, tier), USD per provisioned GiB-month. Empty on purpose: Google's
page (FILESTORE_PRICING_URL) renders its per-region table with a script. Searched again on
2026-12-03: the stored renderings of the page (pl, nl, ja, th, fr, de) hold the billing rules
but not the table; the only Google figure found is its worked example, Basic HDD in us-west1
(Oregon) at $0.000274 per GiB-hour (pl rendering, undated), a region no shipped stack uses; the
rest is third-party and inconsistent (Basic HDD quoted at $0.067, $0.12 and $0.20 per GiB-month).
A Filestore instance is therefore reported unpriced."""

UNPUBLISHED = MappingProxyType({
    "tpu": (TPU_PRICING_URL, "per chip-hour by generation and region"),
    "filestore": (FILESTORE_PRICING_URL, "per provisioned GiB-month by tier and region"),
    "dws": (DWS_URL, "Dynamic Workload Scheduler (flex-start, queued provisioning) prices, "
                     "discounted from on-demand per SKU"),
    "hyperdisk-balanced": ("https://cloud.google.com/compute/disks-image-pricing",
                           "per provisioned GiB-month, plus IOPS above 3,000 and throughput "
                           "above 140 MiB/s"),
    "n1-gpus": ("https://cloud.google.com/compute/all-pricing#gpu",
                "per GPU-hour for GPUs attached to N1 machine types"),
})
"""Prices the catalog does not hold: where Google publishes them, and what they are per."""
