"""Price a plan: every custom resource becomes a cost line (fixed, usage-only or free) or is listed
as unpriced with the reason. A pure function of the Plan, the catalog and the stated assumptions.

Node pools are priced at their minimum and maximum size, which is what the stack can cost from
idle to full. The size comes from the pool's own inputs, the way GKE reads them:

* ``autoscaling.totalMinNodeCount`` / ``totalMaxNodeCount`` count nodes across all zones;
* ``autoscaling.minNodeCount`` / ``maxNodeCount`` (and a fixed ``nodeCount`` or
  ``initialNodeCount``) count nodes per zone, times the pool's zones (``nodeLocations``, else the
  cluster's, else one for a zonal cluster);
* a multi-host TPU slice (``placementPolicy.tpuTopology``) is created and deleted whole, so its
  node counts round up to whole slices of the topology's hosts.

How a pool's VMs are billed follows its capacity mode: on-demand, Spot (``nodeConfig.spot``, or
the older ``preemptible``, billed on the same Spot SKUs), a specific reservation (billed at
on-demand rates, used or not, unless a commitment is declared), or Dynamic Workload Scheduler
(flex-start, queued), whose prices the catalog does not hold. A declared 1- or 3-year
commitment (``Assumptions.commitments``) prices the pool at the committed rate.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from infra.catalog.gpu import GPU_MACHINES, LOCAL_SSD_DISK_GIB
from infra.catalog.prices import (
    CATALOG,
    COMMITMENTS,
    CURRENCY,
    HOURS_PER_MONTH,
    Commitment,
    PriceCatalog,
    PriceMode,
    unpublished,
)
from infra.catalog.prices.services import (
    ALERT_CONDITION_MONTH,
    ALERT_TIME_SERIES_PER_MILLION,
    GKE_CLUSTER_FEE,
    KMS_KEY_VERSION_MONTH,
    KMS_OPERATIONS_PER_10K,
    LOGGING_STORAGE_PER_GIB,
    NAT_DATA_PER_GIB,
    NAT_GATEWAY_CAP_HOUR,
    NAT_GATEWAY_CAP_VMS,
    NAT_GATEWAY_PER_VM_HOUR,
    NAT_IP_HOUR,
)
from infra.catalog.apply_facts import default_boot_disk_type
from infra.catalog.source import Source
from infra.catalog.tpu import tpu_generation_of, tpu_slice
from infra.cost.model import Charge, CostLine, CostReport, Unpriced, cents, unique_sources
from infra.engine.plan import Plan, PlanResource
from infra.errors import AidcError, CatalogLookupError

NODE_POOL = "gcp:container/nodePool:NodePool"
CLUSTER = "gcp:container/cluster:Cluster"
BUCKET = "gcp:storage/bucket:Bucket"

PROVIDER_DEFAULTS = Source(
    "https://www.pulumi.com/registry/packages/gcp/api-docs/container/nodepool/",
    date(2026, 12, 3),
    "nodeConfig.diskSizeGb 'Defaults to 100GB'; diskType 'Defaults to hyperdisk-balanced if "
    "hyperdisk-balanced is supported and pd-balanced is not supported for the machine type; "
    "otherwise defaults to pd-balanced' (pulumi_gcp NodePoolNodeConfigArgs).",
)
DEFAULT_BOOT_DISK_GIB = 100
SPOT_SKU_NOTE = ("preemptible VMs are billed on the same 'Spot Preemptible' SKUs as Spot VMs")
_ZONE = re.compile(r"^([a-z]+-[a-z]+\d+)-[a-z]$")


@dataclass(frozen=True)
class Assumptions:
    """What a plan cannot say and a user may state: commitments and stored data.

    Keys are resource logical names as the plan and the report show them (``gpu-a100-pool``,
    ``data-datasets``). ``commitments`` prices an on-demand or reservation pool at a 1- or 3-year
    committed-use rate; ``bucket_gib`` prices a bucket as holding that many GiB.
    """

    commitments: Mapping[str, Commitment] = field(default_factory=dict)
    bucket_gib: Mapping[str, float] = field(default_factory=dict)


class _Unpriceable(Exception):
    """Raised inside a pricing rule: the resource goes to ``unpriced`` with this reason."""


@dataclass(frozen=True)
class PoolSize:
    """A node pool's node count at its smallest and largest, and how that was read."""

    min_nodes: int
    max_nodes: int
    how: str


@dataclass(frozen=True)
class _Priced:
    monthly_min: float
    monthly_max: float
    basis: str
    sources: tuple[Source, ...]
    capacity: str | None = None
    usage: tuple[str, ...] = ()


@dataclass(frozen=True)
class _NoFixedCharge:
    charge: Charge  # "free" or "usage"
    basis: str
    sources: tuple[Source, ...] = ()
    usage: tuple[str, ...] = ()


Rule = Callable[[PlanResource, "_Context"], "_Priced | _NoFixedCharge"]


# --- the tables: types with no charge, or billed only by use -----------------------------------

FREE_TYPES: Mapping[str, str] = MappingProxyType({
    "gcp:compute/network:Network": "a VPC network carries no charge; traffic is billed where it goes",
    "gcp:compute/subnetwork:Subnetwork": "a subnet carries no charge (flow logs, if enabled, are "
                                         "billed as vended network logs)",
    "gcp:compute/firewall:Firewall": "a firewall rule carries no charge (its logs, if enabled, are "
                                     "billed as vended network logs)",
    "gcp:compute/router:Router": "the Cloud Router that hosts Cloud NAT carries no charge of its own; "
                                 "the NAT gateway is priced",
    "gcp:servicenetworking/connection:Connection": "private services access peering carries no "
                                                   "charge",
    "gcp:projects/service:Service": "enabling an API carries no charge",
    "gcp:projects/serviceIdentity:ServiceIdentity": "a service agent carries no charge",
    "gcp:projects/iAMMember:IAMMember": "IAM bindings carry no charge",
    "gcp:projects/iAMBinding:IAMBinding": "IAM bindings carry no charge",
    "gcp:serviceaccount/account:Account": "service accounts carry no charge",
    "gcp:serviceaccount/iAMMember:IAMMember": "IAM bindings carry no charge",
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": "IAM bindings carry no charge",
    "gcp:kms/keyRing:KeyRing": "Cloud KMS bills active key versions, not key rings",
    "gcp:storage/bucketIAMMember:BucketIAMMember": "IAM bindings carry no charge",
    "gcp:pubsub/topicIAMMember:TopicIAMMember": "IAM bindings carry no charge",
    "gcp:monitoring/dashboard:Dashboard": "Cloud Monitoring dashboards carry no charge",
    "gcp:monitoring/notificationChannel:NotificationChannel": "notification channels carry no "
                                                              "charge",
})
"""Resource types that carry no charge, each with the reason the report shows."""

FREE_PREFIXES: Mapping[str, str] = MappingProxyType({
    "kubernetes:": "a Kubernetes object runs on the cluster's nodes, which are priced",
    "pulumi:providers:": "a Pulumi provider is not a cloud resource",
})

USAGE_TYPES: Mapping[str, tuple[str, tuple[str, ...], tuple[Source, ...]]] = MappingProxyType({
    "gcp:logging/metric:Metric": (
        "a user-defined log-based metric has no fixed charge",
        ("log-based metric samples, billed as Cloud Monitoring metric data ingested (per MiB)",),
        ()),
    "gcp:projects/iAMAuditConfig:IAMAuditConfig": (
        "an audit log configuration has no fixed charge",
        (f"audit logs, billed as Cloud Logging storage at ${LOGGING_STORAGE_PER_GIB.usd:.2f}/GiB "
         "beyond 50 GiB/project/month",),
        (LOGGING_STORAGE_PER_GIB.source,)),
    "gcp:pubsub/topic:Topic": (
        "a Pub/Sub topic has no fixed charge",
        ("Pub/Sub message throughput",), ()),
    "gcp:storage/transferJob:TransferJob": (
        "an agentless Storage Transfer Service job (Amazon S3 is one) carries no STS charge",
        ("transfers: source egress billed by AWS, writes by Cloud Storage (see "
         "`aidc transfer plan`)",), ()),
})
"""Resource types with no fixed monthly charge whose use is billed: what the use is billed as."""


# --- context -----------------------------------------------------------------------------------


@dataclass
class _Context:
    plan: Plan
    catalog: PriceCatalog
    assumptions: Assumptions
    default_region: str | None
    clusters: list[PlanResource]
    pool_sizes: dict[str, PoolSize | str] = field(default_factory=dict)

    def region_of(self, resource: PlanResource, *keys: str) -> str:
        for key in keys or ("region", "location"):
            value = resource.inputs.get(key)
            if isinstance(value, str) and value and not value.startswith("["):
                return region_of_location(value)
        if self.default_region:
            return self.default_region
        raise _Unpriceable(f"no {' or '.join(keys or ('region', 'location'))} in its inputs and "
                           "no stack region to fall back on")


def region_of_location(location: str) -> str:
    """``us-central1-a`` -> ``us-central1``; a region stays itself."""
    match = _ZONE.match(location)
    return match.group(1) if match else location


def _get(inputs: Mapping[str, Any], path: str) -> Any:
    value: Any = inputs
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise _Unpriceable(f"{what} is {value!r}, not a whole number (unknown at preview?)")
    return int(value)


def _money(usd: float) -> str:
    """Dollars with cents, and with the digits a sub-cent rate needs ($0.0014)."""
    return f"${usd:,.2f}" if round(usd, 2) == usd or usd >= 1 else f"${usd:g}"


# --- node pools ---------------------------------------------------------------------------------


def _cluster_of(pool: PlanResource, clusters: list[PlanResource]) -> PlanResource | None:
    ref = pool.inputs.get("cluster")
    if not isinstance(ref, str):
        return clusters[0] if len(clusters) == 1 else None
    named = [c for c in clusters
             if isinstance(c.inputs.get("name"), str)
             and (ref == c.inputs["name"] or ref.endswith(f"/clusters/{c.inputs['name']}"))]
    return named[0] if len(named) == 1 else None


def _zone_count(pool: PlanResource, cluster: PlanResource | None) -> int | None:
    for holder in (pool, cluster):
        zones = holder.inputs.get("nodeLocations") if holder is not None else None
        if isinstance(zones, list) and zones:
            return len(zones)
    location = (cluster or pool).inputs.get("location")
    if isinstance(location, str) and _ZONE.match(location):
        return 1
    return None


def pool_size(pool: PlanResource, cluster: PlanResource | None) -> PoolSize:
    """The node pool's node count at its minimum and maximum, as GKE reads its inputs."""
    inputs = pool.inputs
    auto = inputs.get("autoscaling")
    if isinstance(auto, Mapping) and ("totalMinNodeCount" in auto or "totalMaxNodeCount" in auto):
        lo = _int(auto.get("totalMinNodeCount", 0), "autoscaling.totalMinNodeCount")
        hi = _int(auto.get("totalMaxNodeCount", lo), "autoscaling.totalMaxNodeCount")
        return PoolSize(lo, max(lo, hi), "autoscaling totals")
    if isinstance(auto, Mapping) and ("minNodeCount" in auto or "maxNodeCount" in auto):
        lo = _int(auto.get("minNodeCount", 0), "autoscaling.minNodeCount")
        hi = max(lo, _int(auto.get("maxNodeCount", lo), "autoscaling.maxNodeCount"))
        per, fixed = (lo, hi), False
    elif inputs.get("nodeCount") is not None or inputs.get("initialNodeCount") is not None:
        key = "nodeCount" if inputs.get("nodeCount") is not None else "initialNodeCount"
        count = _int(inputs[key], key)
        per, fixed = (count, count), True
    else:
        raise _Unpriceable("neither autoscaling node counts nor nodeCount/initialNodeCount are "
                           "set, so the pool's size is GKE's default, which aidc does not assume")
    zones = _zone_count(pool, cluster)
    if zones is None:
        where = f"cluster {cluster.name}" if cluster is not None else "its cluster"
        raise _Unpriceable(
            "its node counts are per zone and neither the pool nor "
            f"{where} lists nodeLocations; a regional cluster's default zones are GKE's "
            "choice, which aidc does not assume")
    kind = "nodes" if fixed else "autoscaling"
    return PoolSize(per[0] * zones, per[1] * zones,
                    f"{kind} {per[0]}-{per[1]} per zone x {zones} zone{'s' * (zones != 1)}")


@dataclass(frozen=True)
class _Capacity:
    label: str
    mode: PriceMode | None  # None: Dynamic Workload Scheduler, not in the catalog
    note: str = ""


def pool_capacity(pool: PlanResource, commitment: Commitment | None = None) -> _Capacity:
    """How the pool's VMs are billed, from its inputs and a declared commitment."""
    config = pool.inputs.get("nodeConfig") or {}
    if config.get("flexStart"):
        return _Capacity("flex-start", None)
    if _get(pool.inputs, "queuedProvisioning.enabled"):
        return _Capacity("queued", None)
    if config.get("spot"):
        return _Capacity("spot", "spot")
    if config.get("preemptible"):
        return _Capacity("preemptible", "spot", SPOT_SKU_NOTE)
    affinity = config.get("reservationAffinity") or {}
    reserved = affinity.get("consumeReservationType") == "SPECIFIC_RESERVATION"
    if commitment is not None:
        label = f"{commitment} commitment" + (" (reservation)" if reserved else "")
        return _Capacity(label, commitment)
    if reserved:
        names = ", ".join(str(v) for v in affinity.get("values") or []) or "unnamed"
        return _Capacity(f"reservation {names}", "on_demand",
                         "a reservation is billed at on-demand rates while it exists, used or "
                         "not; its own size is outside this stack")
    return _Capacity("on-demand", "on_demand")


def _boot_disk(config: Mapping[str, Any], machine_type: str) -> tuple[str, int, bool]:
    disk_type = config.get("diskType")
    size = config.get("diskSizeGb")
    defaulted = disk_type is None or size is None
    if disk_type is None:
        disk_type = default_boot_disk_type(machine_type)
    return str(disk_type), DEFAULT_BOOT_DISK_GIB if size is None else _int(size, "diskSizeGb"), \
        defaulted


def _local_ssd_count(config: Mapping[str, Any]) -> int:
    total = 0
    for path in ("ephemeralStorageLocalSsdConfig.localSsdCount",
                 "localNvmeSsdBlockConfig.localSsdCount", "localSsdCount"):
        value = _get(config, path)
        if value is not None:
            total += _int(value, f"nodeConfig.{path}")
    return total


def _price_pool(pool: PlanResource, ctx: _Context) -> _Priced:
    size = ctx.pool_sizes[pool.urn]
    if isinstance(size, str):
        raise _Unpriceable(size)
    config = pool.inputs.get("nodeConfig") or {}
    machine_type = config.get("machineType")
    if not isinstance(machine_type, str):
        raise _Unpriceable("nodeConfig.machineType is not set; GKE's default machine type is "
                           "not assumed")
    capacity = pool_capacity(pool, ctx.assumptions.commitments.get(pool.name))
    region = ctx.region_of(pool, "location")
    if capacity.mode is None:
        raise _Unpriceable(f"{capacity.label} capacity is billed at Dynamic Workload Scheduler "
                           f"prices, which the catalog does not hold; {unpublished('dws')}")
    generation = tpu_generation_of(machine_type)
    sources: list[Source] = []
    if generation is not None:
        per_node, rate_text, size = _tpu_node(pool, generation.name, machine_type, region,
                                              capacity.mode, size, ctx, sources)
    else:
        per_node, rate_text = _vm_node(config, machine_type, region, capacity.mode, ctx, sources)
    disk_type, disk_gib, defaulted = _boot_disk(config, machine_type)
    disk = ctx.catalog.disk(region, disk_type)
    sources.append(disk.source)
    if defaulted:
        sources.append(PROVIDER_DEFAULTS)
    per_node += disk_gib * disk.usd_per_gib_month
    parts = [f"{rate_text}",
             f"{disk_gib} GiB {disk_type} boot disk{' (default)' * defaulted} at "
             f"{_money(disk.usd_per_gib_month)}/GiB-month"]
    extra_ssd = _local_ssd_count(config) - (GPU_MACHINES[machine_type].local_ssd_count
                                            if machine_type in GPU_MACHINES else 0)
    if extra_ssd > 0:
        ssd = ctx.catalog.local_ssd_price(region, capacity.mode)
        sources.append(ssd.source)
        per_node += extra_ssd * LOCAL_SSD_DISK_GIB * ssd.usd_per_gib_month
        parts.append(f"{extra_ssd} x {LOCAL_SSD_DISK_GIB} GiB Local SSD at "
                     f"{_money(ssd.usd_per_gib_month)}/GiB-month")
    nodes = (f"{size.min_nodes}" if size.min_nodes == size.max_nodes
             else f"{size.min_nodes}-{size.max_nodes}")
    basis = (f"{nodes} nodes ({size.how}) x {machine_type} x {capacity.label} {region} x "
             f"{HOURS_PER_MONTH} h; per node {_money(per_node)}/month = " + " + ".join(parts))
    if capacity.note:
        basis += f"; {capacity.note}"
    return _Priced(cents(size.min_nodes * per_node), cents(size.max_nodes * per_node), basis,
                   tuple(sources), capacity=capacity.label)


def _vm_node(config: Mapping[str, Any], machine_type: str, region: str, mode: PriceMode,
             ctx: _Context, sources: list[Source]) -> tuple[float, str]:
    if config.get("guestAccelerators") and machine_type not in GPU_MACHINES:
        raise _Unpriceable(f"{machine_type} has GPUs attached (guestAccelerators) and the catalog "
                           f"holds no attached-GPU prices; {unpublished('n1-gpus')}")
    machine = ctx.catalog.machine(region, machine_type)
    sources.append(machine.source)
    return machine.usd_per_month(mode), f"VM {machine.rate_text(mode)}"


def _tpu_node(pool: PlanResource, generation: str, machine_type: str, region: str,
              mode: PriceMode, size: PoolSize, ctx: _Context,
              sources: list[Source]) -> tuple[float, str, PoolSize]:
    chip = ctx.catalog.tpu_chip(region, generation)
    sources.append(chip.source)
    topology = _get(pool.inputs, "placementPolicy.tpuTopology")
    if isinstance(topology, str):
        tpu = tpu_slice(generation, topology, machine_type)
        chips_per_node = tpu.chips_per_host
        if tpu.multi_host:
            slices = (math.ceil(size.min_nodes / tpu.hosts), math.ceil(size.max_nodes / tpu.hosts))
            size = PoolSize(slices[0] * tpu.hosts, slices[1] * tpu.hosts,
                            f"{size.how}, whole {topology} slices of {tpu.hosts} hosts: "
                            f"{slices[0]}-{slices[1]} slices")
    else:
        record = tpu_generation_of(machine_type)
        chips_per_node = record.chips_per_vm(machine_type) if record else 0
    rate = chip.usd_per_chip_hour(mode)
    return (chips_per_node * rate * HOURS_PER_MONTH,
            f"{chips_per_node} {generation} chips at ${rate:g}/chip-h", size)


# --- the other resources -----------------------------------------------------------------------


def _price_cluster(cluster: PlanResource, ctx: _Context) -> _Priced:
    fee = GKE_CLUSTER_FEE
    monthly_fee = fee.usd * HOURS_PER_MONTH
    basis = f"1 cluster x GKE management fee ${fee.usd:.2f}/h x {HOURS_PER_MONTH} h"
    location = cluster.inputs.get("location")
    if cluster.inputs.get("enableAutopilot") or (isinstance(location, str) and _ZONE.match(location)):
        basis += ("; the GKE free tier ($74.40 a month per billing account, zonal and Autopilot "
                  "clusters only) is not deducted")
    return _Priced(cents(monthly_fee), cents(monthly_fee), basis, (fee.source,))


def _price_filestore(instance: PlanResource, ctx: _Context) -> _Priced:
    tier = str(instance.inputs.get("tier") or "").upper()
    gib = _int(_get(instance.inputs, "fileShares.capacityGb"), "fileShares.capacityGb")
    region = ctx.region_of(instance, "location")
    price = ctx.catalog.filestore_tier(region, tier)
    monthly_cost = gib * price.usd_per_gib_month
    basis = (f"{gib:,} GiB provisioned x {tier} {region} {_money(price.usd_per_gib_month)}/GiB-month "
             "(billed on provisioned, not used, capacity)")
    return _Priced(cents(monthly_cost), cents(monthly_cost), basis, (price.source,))


def _price_bucket(bucket: PlanResource, ctx: _Context) -> _Priced:
    storage_class = str(bucket.inputs.get("storageClass") or "STANDARD")
    location = str(bucket.inputs.get("location") or ctx.default_region or "")
    usd_per_gib, source = ctx.catalog.gcs_class(location, storage_class)
    rate = f"{storage_class} {location.lower()} {_money(usd_per_gib)}/GiB-month"
    gib = ctx.assumptions.bucket_gib.get(bucket.name)
    if gib is None:
        raise _Unpriceable(f"Cloud Storage bills data stored ({rate}) and a plan holds no size; "
                           f"state one with --bucket-gib {bucket.name}=GIB")
    monthly_cost = gib * usd_per_gib
    return _Priced(cents(monthly_cost), cents(monthly_cost),
                   f"{gib:,g} GiB stored (assumed) x {rate}", (source,),
                   usage=("Cloud Storage operations, retrieval and network egress",))


def _price_nat(nat: PlanResource, ctx: _Context) -> _Priced:
    region = ctx.region_of(nat, "region")
    project = nat.inputs.get("project")
    pools = [p for p in ctx.plan.of_type(NODE_POOL)
             if _pool_region(p, ctx) == region and p.inputs.get("project") in (None, project)]
    sizes = [ctx.pool_sizes[p.urn] for p in pools]
    unknown = [p.name for p, s in zip(pools, sizes) if isinstance(s, str)]
    if unknown:
        raise _Unpriceable(f"the gateway is billed per VM using it, and the node count of "
                           f"{', '.join(unknown)} is unknown")
    vms = (sum(s.min_nodes for s in sizes), sum(s.max_nodes for s in sizes))  # type: ignore[union-attr]
    ips = len(nat.inputs.get("natIps") or []) if nat.inputs.get("natIpAllocateOption") == \
        "MANUAL_ONLY" else 1

    def hourly(count: int) -> float:
        if count == 0:
            return 0.0
        gateway = (NAT_GATEWAY_PER_VM_HOUR.usd * count if count <= NAT_GATEWAY_CAP_VMS
                   else NAT_GATEWAY_CAP_HOUR.usd)
        return gateway + ips * NAT_IP_HOUR.usd

    basis = (f"{vms[0]}-{vms[1]} VMs (the region's node pools) x ${NAT_GATEWAY_PER_VM_HOUR.usd}/VM-h "
             f"(${NAT_GATEWAY_CAP_HOUR.usd}/h above {NAT_GATEWAY_CAP_VMS} VMs) + {ips} external "
             f"IP{'s' * (ips != 1)} x ${NAT_IP_HOUR.usd}/h, x {HOURS_PER_MONTH} h")
    return _Priced(cents(hourly(vms[0]) * HOURS_PER_MONTH), cents(hourly(vms[1]) * HOURS_PER_MONTH),
                   basis, (NAT_GATEWAY_PER_VM_HOUR.source,),
                   usage=(f"Cloud NAT data processed ${NAT_DATA_PER_GIB.usd}/GiB",))


def _pool_region(pool: PlanResource, ctx: _Context) -> str | None:
    try:
        return ctx.region_of(pool, "location")
    except _Unpriceable:
        return None


def _key_family(algorithm: str) -> str:
    symmetric = ("GOOGLE_SYMMETRIC_ENCRYPTION", "AES_", "HMAC_", "EXTERNAL_SYMMETRIC")
    return "symmetric" if algorithm.startswith(symmetric) or "_2048_" in algorithm else "asymmetric"


def _price_crypto_key(key: PlanResource, ctx: _Context) -> _Priced | _NoFixedCharge:
    template = key.inputs.get("versionTemplate") or {}
    level = str(template.get("protectionLevel") or "SOFTWARE")
    algorithm = str(template.get("algorithm") or "GOOGLE_SYMMETRIC_ENCRYPTION")
    if key.inputs.get("skipInitialVersionCreation"):
        return _NoFixedCharge("free", "no key version is created with the key "
                              "(skipInitialVersionCreation); versions are billed once imported")
    price = KMS_KEY_VERSION_MONTH.get((level, _key_family(algorithm)))
    if price is None:
        levels = sorted({lvl for lvl, _ in KMS_KEY_VERSION_MONTH})
        raise _Unpriceable(f"protection level {level} is not one of {', '.join(levels)}")
    basis = f"1 active key version x {level} {_key_family(algorithm)} {_money(price.usd)}/month"
    rotation = _duration(key.inputs.get("rotationPeriod"))
    if rotation:
        basis += (f"; every rotation (every {rotation}) adds a version billed the same until it "
                  "is destroyed")
    return _Priced(cents(price.usd), cents(price.usd), basis, (price.source,),
                   usage=(f"Cloud KMS cryptographic operations ${KMS_OPERATIONS_PER_10K.usd}/10,000",))


def _duration(value: Any) -> str | None:
    """A protobuf duration (``7776000s``) as people read it (``90 days``)."""
    if not isinstance(value, str) or not re.fullmatch(r"\d+(\.\d+)?s", value):
        return value if isinstance(value, str) else None
    seconds = float(value[:-1])
    days = seconds / 86400
    return f"{days:g} days" if days >= 1 else f"{seconds:g} s"


def _price_alert_policy(policy: PlanResource, ctx: _Context) -> _Priced:
    conditions = policy.inputs.get("conditions") or []
    count = len(conditions) if isinstance(conditions, list) else 0
    monthly_cost = count * ALERT_CONDITION_MONTH.usd
    return _Priced(cents(monthly_cost), cents(monthly_cost),
                   f"{count} condition{'s' * (count != 1)} x ${ALERT_CONDITION_MONTH.usd:.2f}/month",
                   (ALERT_CONDITION_MONTH.source,),
                   usage=(f"alerting time series returned ${ALERT_TIME_SERIES_PER_MILLION.usd}/million",))


def _price_global_address(address: PlanResource, ctx: _Context) -> _NoFixedCharge:
    if address.inputs.get("addressType") == "INTERNAL":
        return _NoFixedCharge("free", "an internal address range (here for private services "
                                      "access) carries no charge")
    raise _Unpriceable("an external global IP address is billed by the hour; the catalog holds "
                       "no global address price")


RULES: Mapping[str, Rule] = MappingProxyType({
    NODE_POOL: _price_pool,
    CLUSTER: _price_cluster,
    "gcp:filestore/instance:Instance": _price_filestore,
    BUCKET: _price_bucket,
    "gcp:compute/routerNat:RouterNat": _price_nat,
    "gcp:kms/cryptoKey:CryptoKey": _price_crypto_key,
    "gcp:monitoring/alertPolicy:AlertPolicy": _price_alert_policy,
    "gcp:compute/globalAddress:GlobalAddress": _price_global_address,
})
"""Resource types with a price rule."""


def _no_charge(resource: PlanResource) -> _NoFixedCharge | None:
    if resource.type in FREE_TYPES:
        return _NoFixedCharge("free", FREE_TYPES[resource.type])
    for prefix, reason in FREE_PREFIXES.items():
        if resource.type.startswith(prefix):
            return _NoFixedCharge("free", reason)
    if resource.type in USAGE_TYPES:
        basis, usage, sources = USAGE_TYPES[resource.type]
        return _NoFixedCharge("usage", basis, sources, usage)
    return None


# --- the estimate ------------------------------------------------------------------------------


def check_assumptions(plan: Plan, assumptions: Assumptions) -> None:
    """Every assumption names a resource it can apply to; otherwise say what it could name."""
    pools = {r.name: r for r in plan.of_type(NODE_POOL)}
    buckets = {r.name for r in plan.of_type(BUCKET)}
    problems = []
    for name, term in assumptions.commitments.items():
        if term not in COMMITMENTS:
            problems.append(f"--commitment {name}={term}: the term is one of "
                            f"{', '.join(COMMITMENTS)}")
        elif name not in pools:
            problems.append(f"--commitment {name}: no node pool of that name; pools are "
                            f"{', '.join(sorted(pools)) or 'none'}")
        elif pool_capacity(pools[name]).mode not in ("on_demand",):
            problems.append(f"--commitment {name}: a commitment prices on-demand or reservation "
                            f"capacity, and {name} is {pool_capacity(pools[name]).label}")
    for name, gib in assumptions.bucket_gib.items():
        if name not in buckets:
            problems.append(f"--bucket-gib {name}: no bucket of that name; buckets are "
                            f"{', '.join(sorted(buckets)) or 'none'}")
        elif isinstance(gib, bool) or not isinstance(gib, (int, float)) or gib < 0:
            problems.append(f"--bucket-gib {name}={gib!r}: expected a number of GiB, 0 or more")
    if problems:
        raise AidcError("; ".join(problems))


def estimate(plan: Plan, *, catalog: PriceCatalog = CATALOG,
             assumptions: Assumptions | None = None, region: str | None = None) -> CostReport:
    """The monthly cost of every custom resource of ``plan`` at its minimum and maximum size.

    ``region`` is where resources that name no location live (a stack's ``gcp:region``); by
    default the region of the plan's first cluster.
    """
    assumptions = assumptions or Assumptions()
    check_assumptions(plan, assumptions)
    clusters = plan.of_type(CLUSTER)
    if region is None and clusters and isinstance(clusters[0].inputs.get("location"), str):
        region = region_of_location(clusters[0].inputs["location"])
    ctx = _Context(plan, catalog, assumptions, region, clusters)
    for pool in plan.of_type(NODE_POOL):
        try:
            ctx.pool_sizes[pool.urn] = pool_size(pool, _cluster_of(pool, clusters))
        except _Unpriceable as exc:
            ctx.pool_sizes[pool.urn] = str(exc)
    lines: list[CostLine] = []
    unpriced: list[Unpriced] = []
    for resource in plan.custom_resources():
        outcome = _price(resource, ctx)
        if isinstance(outcome, Unpriced):
            unpriced.append(outcome)
        else:
            lines.append(outcome)
    return CostReport(project=plan.project, stack=plan.stack, currency=CURRENCY,
                      as_of=catalog.as_of, hours_per_month=HOURS_PER_MONTH, lines=tuple(lines),
                      unpriced=tuple(unpriced), sources=unique_sources(lines))


def _price(resource: PlanResource, ctx: _Context) -> CostLine | Unpriced:
    component = resource.component

    def unpriced(reason: str) -> Unpriced:
        return Unpriced(resource.urn, resource.type, resource.name, component, reason)

    rule = RULES.get(resource.type)
    try:
        outcome = rule(resource, ctx) if rule is not None else _no_charge(resource)
    except (_Unpriceable, CatalogLookupError) as exc:
        return unpriced(exc.message if isinstance(exc, AidcError) else str(exc))
    if outcome is None:
        return unpriced(f"aidc has no price rule for {resource.type}")
    if isinstance(outcome, _NoFixedCharge):
        return CostLine(resource.urn, resource.type, resource.name, component, 0.0, 0.0,
                        outcome.basis, charge=outcome.charge,
                        usage=outcome.usage, sources=outcome.sources)
    return CostLine(resource.urn, resource.type, resource.name, component, outcome.monthly_min,
                    outcome.monthly_max, outcome.basis, capacity=outcome.capacity,
                    usage=outcome.usage, sources=outcome.sources)
