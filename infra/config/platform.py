"""`PlatformConfig`: everything one stack declares, the sections and the rules across them.

A stack's settings live in `stacks/Pulumi.<env>.yaml` under the `aidc:` namespace, plus
`gcp:project` and `gcp:region`; each section is a model of its own module in this package.
Unknown keys are errors: a typo must never be silently ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from pydantic import Field, ValidationInfo, field_validator, model_validator

from infra.catalog import regions
from infra.catalog.crds.gke_networking import DEVICE_NETWORK_NAME_MAX
from infra.catalog.gpu import RDMA_NETWORK_PROFILES_URL
from infra.catalog.tpu import tpu_generation
from infra.config.base import Distinct, Labels, Spec
from infra.config.compute import SYSTEM_POOL, ClusterConfig, GpuPoolConfig, NicSubnet, TpuPoolConfig
from infra.config.encryption import EncryptionConfig
from infra.config.monitoring import MonitoringConfig
from infra.config.network import NetworkConfig
from infra.config.policy import PolicySettings
from infra.config.storage import StorageConfig
from infra.config.tenants import Tenants, bucket_problems, pool_capacities, quota_problems
from infra.config.transfers import TransferConfig, check_keys, check_sinks
from infra.config.problems import problems_of
from infra.errors import AidcError, Loc, Problem, raise_problems
from infra.gcp import apis as api_rules
from infra.gcp import labels as label_rules
from infra.gcp import naming
from infra.gcp.gke_versions import meets_min_gke_version
from infra.gcp.netplan import (
    SUBNET_RESERVED_ADDRESSES,
    NetworkPlan,
    plan_network,
    pod_block_prefix,
)
from policies.protocol import CLASSIFICATIONS


class PlatformConfig(Spec):
    """Everything one stack declares. Later layers add their sections here."""

    project: str = Field(description="gcp:project, the project every resource lives in.")
    region: str = Field(description="gcp:region; the cluster is regional.")
    environment: str = Field(description="Environment name; becomes the 'environment' label.")
    production: bool | None = Field(
        None, description="Production safety (deletion protection, strict defaults); default "
                          "true when environment is 'prod'.")
    zones: Distinct = Field(min_length=1, description="Zones in the region for zonal resources.")
    labels: Labels = Field(default_factory=dict, description="Labels added to every resource.")
    network: NetworkConfig = Field(default_factory=NetworkConfig,
                                   description="The VPC, its ranges, NAT and GPUDirect NIC subnets.")
    encryption: EncryptionConfig = Field(default_factory=EncryptionConfig,
                                         description="The Cloud KMS key ring and its keys.")
    storage: StorageConfig = Field(default_factory=StorageConfig,
                                   description="Buckets by purpose and an optional Filestore share.")
    apis: Distinct = Field(default_factory=list, description=(
        "APIs to enable besides those the stack's resources call (those are derived from "
        "infra.catalog.apply_facts and enabled on first need), by service name (e.g. "
        "aiplatform.googleapis.com)."))
    cluster: ClusterConfig | None = Field(None, description="The GKE cluster; needed by pools.")
    gpu_pools: dict[str, GpuPoolConfig] = Field(
        default_factory=dict, description="GPU node pools by name; the name is the GKE node pool "
                                          "name (1-40 lowercase letters, digits, hyphens).")
    tpu_pools: dict[str, TpuPoolConfig] = Field(
        default_factory=dict, description="TPU slices by name (one node pool per slice, named "
                                          "'<name>-<index>' when there are several).")
    monitoring: MonitoringConfig | None = Field(
        None, description="Alerts, dashboards and in-cluster GPU metrics; none when omitted.")
    transfers: dict[str, TransferConfig] = Field(
        default_factory=dict, description="Storage Transfer jobs from S3 into data buckets, by name.")
    tenants: Tenants = Field(
        default_factory=dict,
        description="Teams sharing the accelerator pools, by name: namespace, Google group, "
                    "weight, guarantees and caps per pool, bucket access. Each gets a Kueue "
                    "queue with quotas allocated from the pools' capacity. None when omitted: "
                    "no queues, and no workload on the cluster has a Google identity.")
    policy: PolicySettings = Field(
        default_factory=PolicySettings,
        description="Policy pack settings for this stack: enforcement, thresholds, allow lists, "
                    "waivers (what `aidc check` and --policy-pack-config use).")

    @field_validator("project")
    @classmethod
    def _project(cls, v: str) -> str:
        return naming.check_project_id(v)

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        return regions.gcp_region(v).name

    @field_validator("gpu_pools", "tpu_pools", mode="before")
    @classmethod
    def _pool_keys(cls, v: object) -> object:
        """A pool's key is its GKE node pool name (TPU slices add '-<index>', checked with the
        slice count in _node_pool_names)."""
        if isinstance(v, Mapping):
            problems = []
            for key in v:
                try:
                    naming.node_pool_name(str(key))
                except AidcError as exc:
                    problems += problems_of(exc, (str(key),))
            raise_problems(problems)
        return v

    @field_validator("apis")
    @classmethod
    def _apis(cls, v: list[str]) -> list[str]:
        problems = []
        for i, api in enumerate(v):
            try:
                api_rules.check_service_name(api)
            except AidcError as exc:
                problems += problems_of(exc, (i,))
        raise_problems(problems)
        return v

    @field_validator("environment")
    @classmethod
    def _environment(cls, v: str) -> str:
        naming.check_rfc1035(v)
        if len(v) > 12:
            raise AidcError(f"{v!r}: at most 12 characters (it is part of resource names)")
        return v

    @model_validator(mode="after")
    def _rules_across_sections(self, info: ValidationInfo) -> PlatformConfig:
        skip = (info.context or {}).get(SKIP_RULES_OVER, frozenset())
        raise_problems([problem for sections, rule in _RULES if not sections & skip
                        for problem in _run(rule, self)])
        return self

    def node_demand(self) -> list[tuple[str, int, int]]:
        """(pool, max nodes, max pods per node) for every pool, the system pool included."""
        per_node = self.network.max_pods_per_node
        rows = []
        if self.cluster is not None:
            rows.append((SYSTEM_POOL, self.cluster.system_pool.max_nodes, per_node))
        for name, pool in self.gpu_pools.items():
            rows.append((f"gpu_pools.{name}", pool.autoscaling.max_nodes,
                         pool.max_pods_per_node or per_node))
        for name, tpu in self.tpu_pools.items():
            rows.append((f"tpu_pools.{name}", tpu.slices * tpu.max_nodes_per_slice, per_node))
        return rows

    def gpudirect_subnets(self) -> dict[str, tuple[NicSubnet, ...]]:
        """Pool -> its GPUDirect NIC subnets in attachment order, for the pools that have any."""
        subnets = {name: pool.nic_subnets(name) for name, pool in self.gpu_pools.items()}
        return {name: nics for name, nics in subnets.items() if nics}

    @property
    def gke_managed_dcgm(self) -> bool:
        """Whether GKE collects DCGM GPU metrics: yes unless monitoring is self-managed, which
        deploys its own exporter for the in-cluster Prometheus."""
        return self.monitoring is None or self.monitoring.mode == "managed"

    @property
    def is_production(self) -> bool:
        return self.production if self.production is not None else self.environment == "prod"

    @property
    def name_prefix(self) -> str:
        return f"{self.network.name}-{self.environment}"

    def network_plan(self) -> NetworkPlan:
        n = self.network
        return plan_network(
            base=n.base_cidr, max_nodes=n.max_nodes, max_pods_per_node=n.max_pods_per_node,
            subnet=n.subnet_cidr, pods=n.pods_cidr, services=n.services_cidr, psa=n.psa_cidr,
            services_prefix=n.services_prefix, psa_prefix=n.psa_prefix,
            allow_non_rfc1918=n.allow_non_rfc1918,
            extra_subnets=[(s.name, s.prefix) for nics in self.gpudirect_subnets().values()
                           for s in nics],
            extra_supernet=n.gpu_supernet,
        )

    @property
    def highest_classification(self) -> str:
        """The most sensitive data the stack holds; keys that protect it carry this label."""
        found = [b.classification for b in self.storage.buckets.values()]
        if self.storage.filestore:
            found.append(self.storage.filestore.classification)
        if self.cluster:
            found.append(self.cluster.classification)
        return max(found, key=CLASSIFICATIONS.index, default="internal")

    def resource_labels(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        merged = dict(self.labels)
        merged.update(extra or {})
        return label_rules.standard_labels(self.environment, merged)


# ---------------------------------------------------------------------------------------------
# the rules across sections: each names the sections it reads, so that when a section is
# invalid by itself the rules over the valid ones still run (`infra.config.load`)

SKIP_RULES_OVER = "skip_rules_over"  # validation context: the sections that failed on their own

Rule = Callable[[PlatformConfig], Iterable[Problem]]
_RULES: list[tuple[frozenset[str], Rule]] = []


def _run(rule: Rule, cfg: PlatformConfig) -> list[Problem]:
    """A rule's problems; an AidcError it lets out is one more problem, never a crash."""
    try:
        return list(rule(cfg))
    except AidcError as exc:
        return problems_of(exc)


def _rule(*sections: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        _RULES.append((frozenset(sections), fn))
        return fn
    return register


def _zone_problems(loc: Loc, zone: str, region: str) -> list[Problem]:
    try:
        regions.check_zone_in_region(zone, region)
    except AidcError as exc:
        return problems_of(exc, loc)
    return []


@_rule("zones", "region")
def _zones_in_region(cfg: PlatformConfig) -> Iterator[Problem]:
    for i, zone in enumerate(cfg.zones):
        yield from _zone_problems(("zones", i), zone, cfg.region)


@_rule("storage", "region")
def _filestore_zone_in_region(cfg: PlatformConfig) -> list[Problem]:
    fs = cfg.storage.filestore
    return _zone_problems(("storage", "filestore", "zone"), fs.zone, cfg.region) \
        if fs and fs.zone else []


@_rule("storage", "project", "environment")
def _bucket_names(cfg: PlatformConfig) -> Iterator[Problem]:
    for purpose in cfg.storage.buckets:
        try:
            naming.bucket_name(cfg.project, cfg.environment, purpose)
        except AidcError as exc:
            yield from problems_of(exc, ("storage", "buckets", purpose))


def _composed(loc: Loc, check: Callable[[], object]) -> list[Problem]:
    """A cloud name built from several parts, each valid alone, must still fit GCP."""
    try:
        check()
    except AidcError as exc:
        return [Problem(loc, f"{exc} (the name is composed from it; shorten it)")]
    return []


@_rule("network", "environment", "region")
def _network_names(cfg: PlatformConfig) -> list[Problem]:
    return (_composed(("network", "name"), lambda: naming.check_rfc1035(
                f"{cfg.name_prefix}-allow-health-checks", "firewall name"))
            + _composed(("network", "name"), lambda: naming.check_rfc1035(
                f"{cfg.name_prefix}-{cfg.region}", "subnet name")))


@_rule("encryption", "environment")
def _key_ring_name(cfg: PlatformConfig) -> list[Problem]:
    return _composed(("encryption", "key_ring"), lambda: naming.key_ring_id(
        cfg.encryption.key_ring, cfg.environment))


@_rule("storage", "network", "environment")
def _filestore_name(cfg: PlatformConfig) -> list[Problem]:
    fs = cfg.storage.filestore
    return [] if fs is None else _composed(("storage", "filestore", "name"), lambda: (
        naming.filestore_instance_name(cfg.name_prefix, fs.name)))


@_rule("storage", "region")
def _bucket_region(cfg: PlatformConfig) -> list[Problem]:
    """Buckets without a location go to the stack's region, which Cloud Storage must offer."""
    if cfg.storage.location is not None or not cfg.storage.buckets:
        return []
    try:
        regions.bucket_location(cfg.region)
    except AidcError:
        return [Problem(("storage", "location"), (
            f"not set, so the buckets would live in the stack region {cfg.region}, which Cloud "
            f"Storage does not offer ({regions.GCS_LOCATIONS_URL}); set a location, e.g. a "
            "nearby region or a multi-region"))]
    return []


@_rule("apis")
def _api_short_names(cfg: PlatformConfig) -> list[Problem]:
    """Each enabled API goes by its short name in the plan; two of them cannot share one."""
    problems = []
    for key, names in api_rules.shared_keys(cfg.apis).items():
        for i, api in enumerate(cfg.apis):
            if api in names:
                others = ", ".join(n for n in names if n != api)
                problems.append(Problem(("apis", i), (
                    f"{api!r} goes by the short name {key!r}, as {others} does; aidc enables each "
                    "API under its short name, so a stack can enable only one of them")))
    return problems


@_rule("cluster", "network", "environment")
def _cluster_names(cfg: PlatformConfig) -> list[Problem]:
    """The cluster's own name, and its node service account's id, composed from the prefix."""
    if cfg.cluster is None:
        return []
    cluster = cfg.cluster
    return (_composed(("cluster", "name"), lambda: naming.cluster_name(cfg.name_prefix, cluster.name))
            + _composed(("network", "name"), lambda: naming.service_account_id(
                cfg.name_prefix, "nodes")))


@_rule("gpu_pools", "tpu_pools")
def _node_pool_names(cfg: PlatformConfig) -> list[Problem]:
    """Every node pool of the cluster has a name GKE accepts, unique in the cluster: the system
    pool, each GPU pool, each TPU slice."""
    problems = []
    owners: dict[str, str] = {SYSTEM_POOL: "the system pool"}
    names: list[tuple[Loc, str, str]] = [(("gpu_pools", key), key, f"gpu_pools.{key}")
                                         for key in cfg.gpu_pools]
    for key, tpu in cfg.tpu_pools.items():
        try:
            # The last slice's name is the longest: checked first, it is the one reported.
            slices = [naming.node_pool_name(key, i, tpu.slices)
                      for i in reversed(range(tpu.slices))][::-1]
        except AidcError as exc:
            problems.append(Problem(("tpu_pools", key), (
                f"{exc} (one node pool per slice, named '<name>-<index>'; shorten the name)")))
            continue
        names += [(("tpu_pools", key), pool, f"tpu_pools.{key}") for pool in slices]
    for loc, name, owner in names:
        if name in owners and owners[name] != owner:
            problems.append(Problem(loc, f"its node pool {name!r} takes the name of "
                                         f"{owners[name]}; GKE node pool names are unique in a "
                                         "cluster: rename one"))
        owners.setdefault(name, owner)
    return list(dict.fromkeys(problems))


@_rule("gpu_pools", "network", "environment")
def _gpudirect_names(cfg: PlatformConfig) -> list[Problem]:
    """The GPUDirect VPCs, subnets and firewall rules of a pool get names GCP accepts."""
    problems = []
    for pool, nics in cfg.gpudirect_subnets().items():
        # RoCE VPCs take no firewall rule (components.network).
        names = ([(naming.extra_subnet_name, nic.name) for nic in nics]
                 + [(naming.extra_network_name, nic.vpc) for nic in nics]
                 + [(naming.extra_firewall_name, nic.vpc) for nic in nics if nic.kind != "rdma"])
        found = [p for compose, part in names
                 for p in _composed(("gpu_pools", pool), lambda: compose(cfg.name_prefix, part))]
        problems += found[-1:]  # the firewall's name is the longest; one problem per pool
    return problems


@_rule("labels", "storage")
def _label_counts(cfg: PlatformConfig) -> list[Problem]:
    """A resource carries the stack's labels, its own and the ones aidc sets; GCP takes 64."""
    def over(loc: Loc, own: Mapping[str, str]) -> list[Problem]:
        keys = set(cfg.labels) | set(own) | set(label_rules.AIDC_LABEL_KEYS)
        if len(keys) <= label_rules.MAX_LABELS:
            return []
        return [Problem(loc, (
            f"{len(keys)} labels on the resource: the stack's {len(cfg.labels)}, "
            + (f"{len(own)} of its own, " if own else "")
            + f"and aidc's {', '.join(label_rules.AIDC_LABEL_KEYS)}; GCP allows at most "
            f"{label_rules.MAX_LABELS}, so drop some"))]

    problems = over(("labels",), {})
    if not problems:
        for purpose, bucket in cfg.storage.buckets.items():
            problems += over(("storage", "buckets", purpose, "labels"), bucket.labels)
        if cfg.storage.filestore is not None:
            problems += over(("storage", "filestore", "labels"), cfg.storage.filestore.labels)
    return problems


@_rule("monitoring", "cluster")
def _self_managed_needs_a_cluster(cfg: PlatformConfig) -> list[Problem]:
    if cfg.monitoring is not None and cfg.monitoring.mode == "self-managed" and cfg.cluster is None:
        return [Problem(("monitoring", "mode"), (
            "self-managed runs Prometheus in the cluster, and the stack has none; add an "
            "aidc:cluster section or use mode: managed"))]
    return []


@_rule("gpu_pools", "tpu_pools", "cluster")
def _pools_need_a_cluster(cfg: PlatformConfig) -> list[Problem]:
    if (cfg.gpu_pools or cfg.tpu_pools) and cfg.cluster is None:
        return [Problem(("cluster",), "node pools need a cluster; add an aidc:cluster section")]
    return []


@_rule("gpu_pools", "zones", "region")
def _gpu_pool_zones(cfg: PlatformConfig) -> Iterator[Problem]:
    for name, pool in cfg.gpu_pools.items():
        for i, zone in enumerate(pool.zones or []):
            yield from _zone_problems(("gpu_pools", name, "zones", i), zone, cfg.region)
        gpu = pool.resolved()
        zones = pool.zones or cfg.zones
        if pool.uses_gpudirect and gpu.profile is not None and gpu.profile.roce and len(zones) != 1:
            yield Problem(("gpu_pools", name, "zones"),
                          f"GPUDirect RDMA uses a RoCE VPC whose network profile is zonal "
                          f"({RDMA_NETWORK_PROFILES_URL}), so the pool runs in exactly one zone; "
                          f"give one zone, got {zones!r}")


@_rule("gpu_pools")
def _gpudirect_network_names(cfg: PlatformConfig) -> Iterator[Problem]:
    """Each GPUDirect NIC becomes a Device Network named after it (components.gpudirect), and
    GKE caps those names."""
    for name, nics in cfg.gpudirect_subnets().items():
        longest = max((nic.name for nic in nics), key=len)
        if len(longest) > DEVICE_NETWORK_NAME_MAX:
            yield Problem(("gpu_pools", name), (
                f"the pool's GPUDirect NICs become Kubernetes Networks named like {longest!r} "
                f"({len(longest)} characters), and GKE allows a Device network at most "
                f"{DEVICE_NETWORK_NAME_MAX}; shorten the pool name by "
                f"{len(longest) - DEVICE_NETWORK_NAME_MAX}"))


@_rule("tpu_pools", "region")
def _tpu_pool_zones(cfg: PlatformConfig) -> Iterator[Problem]:
    for name, tpu in cfg.tpu_pools.items():
        if tpu.zone:
            yield from _zone_problems(("tpu_pools", name, "zone"), tpu.zone, cfg.region)


@_rule("cluster", "gpu_pools", "tpu_pools")
def _gke_version_floors(cfg: PlatformConfig) -> Iterator[Problem]:
    version = cfg.cluster.min_master_version if cfg.cluster else None
    if not version:
        return
    where = ("cluster", "min_master_version")
    for name, pool in cfg.gpu_pools.items():
        gpu = pool.resolved()
        if pool.uses_gpudirect and not gpu.gke_version_ok(version):
            floors = gpu.gpudirect_min_gke_versions or (gpu.profile.min_gke_versions if gpu.profile else ())
            yield Problem(where, f"{version} is below the documented minimum for {gpu.gpudirect} "
                                 f"on {gpu.machine_type} in gpu_pools.{name} "
                                 f"(per minor: {', '.join(floors + gpu.min_gke_versions)})")
        elif not meets_min_gke_version(gpu.min_gke_versions, version):
            yield Problem(where, f"{version} is below the documented minimum for "
                                 f"{gpu.machine_type} in gpu_pools.{name} "
                                 f"(per minor: {', '.join(gpu.min_gke_versions)})")
    for name, tpu in cfg.tpu_pools.items():
        floors = tpu_generation(tpu.generation).min_gke_versions
        if not meets_min_gke_version(floors, version):
            yield Problem(where, f"{version} is below the documented minimum for TPU "
                                 f"{tpu.generation} in tpu_pools.{name} (per minor: {', '.join(floors)})")


@_rule("transfers", "network", "environment")
def _transfer_topics(cfg: PlatformConfig) -> list[Problem]:
    return check_keys(cfg.transfers, cfg.name_prefix)


@_rule("transfers", "storage")
def _transfer_sinks(cfg: PlatformConfig) -> list[Problem]:
    return check_sinks(cfg.transfers, cfg.storage.buckets)


@_rule("tenants", "gpu_pools", "tpu_pools", "storage")
def _tenant_claims(cfg: PlatformConfig) -> list[Problem]:
    """Every guarantee and cap names a pool of the stack in whole units that fit it; every
    bucket grant names a bucket of the stack."""
    return (quota_problems(cfg.tenants, pool_capacities(cfg.gpu_pools, cfg.tpu_pools))
            + bucket_problems(cfg.tenants, cfg.storage.buckets))


@_rule("tenants", "cluster")
def _tenants_need_rbac_groups(cfg: PlatformConfig) -> list[Problem]:
    """Teams live on the cluster, and their groups reach it only through Google Groups for
    RBAC: without `security_group` GKE never resolves a group, so its binding would grant
    nothing."""
    if not cfg.tenants:
        return []
    if cfg.cluster is None:
        return [Problem(("tenants",), "teams need a cluster to queue on; add an aidc:cluster "
                                      "section")]
    if cfg.cluster.security_group is None:
        return [Problem(("cluster", "security_group"),
                        "not set, but aidc:tenants binds each team's group ("
                        + ", ".join(sorted({t.group for t in cfg.tenants.values()}))
                        + ") to its namespace, which GKE honours only through Google Groups "
                          "for RBAC; set gke-security-groups@<your domain> and make the "
                          "teams' groups members of it")]
    return []


@_rule("network", "cluster", "gpu_pools", "tpu_pools")
def _address_capacity(cfg: PlatformConfig) -> list[Problem]:
    """The ranges planned hold every node and pod the pools can reach."""
    try:
        plan = cfg.network_plan()
    except AidcError as exc:
        return problems_of(exc)
    demand = cfg.node_demand()
    if not demand:
        return []
    nodes = sum(n for _, n, _ in demand)
    pod_addresses = sum(n * 2 ** (32 - pod_block_prefix(p)) for _, n, p in demand)
    problems = []
    if pod_addresses > plan.pods.num_addresses:
        problems.append(Problem(("network", "pods_cidr"),
            f"{plan.pods}: the pools can reach {nodes} nodes needing {pod_addresses} pod "
            f"addresses, more than the range's {plan.pods.num_addresses} "
            f"({', '.join(f'{k}: {n}' for k, n, _ in demand)}); raise network.max_nodes or "
            "give a larger pods_cidr"))
    usable = plan.subnet.num_addresses - SUBNET_RESERVED_ADDRESSES
    if nodes > usable:
        problems.append(Problem(("network", "subnet_cidr"),
            f"{plan.subnet}: {usable} node addresses for {nodes} nodes the pools can reach; "
            "raise network.max_nodes"))
    return problems
