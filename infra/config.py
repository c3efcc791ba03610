"""The platform configuration: one typed, validated model of a whole stack.

A stack's settings live in `stacks/Pulumi.<env>.yaml` under the `aidc:` namespace, plus
`gcp:project` and `gcp:region`. The same flat key/value map reaches this module from two
places: the YAML file (CLI, offline engine) and Pulumi's runtime config (`pulumi up`).
Unknown keys are errors: a typo must never be silently ignored.
"""

from __future__ import annotations

import difflib
import types
import json
from collections.abc import Callable, Mapping
from ipaddress import IPv4Network
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from infra import labels as label_rules
from infra import naming
from infra.catalog.gpu import RDMA_NETWORK_PROFILES_URL, meets_min_gke_version
from infra.catalog.tpu import tpu_generation
from infra.compute import ClusterConfig, GpuPoolConfig, TpuPoolConfig
from infra.config_base import Labels, Spec, check_label_map
from infra.errors import AidcError
from infra.monitoring.config import MonitoringConfig
from infra.policy_config import PolicySettings
from infra.transfer.config import TransferConfig, check_keys, check_sinks, check_static_keys_are_secret
from infra.netplan import (
    SUBNET_RESERVED_ADDRESSES,
    NetworkPlan,
    plan_network,
    pod_block_prefix,
)

SECRET_PLACEHOLDER = "[secret]"
SECRET_BEARING = ("monitoring", "transfers")  # sections whose values may hold secrets
STACKS_DIR = Path(__file__).resolve().parent.parent / "stacks"
PROVIDER_KEYS = {"gcp:project": "project", "gcp:region": "region"}
# Other provider settings pass through to the provider untouched; aidc does not own them.
PASSTHROUGH_NAMESPACES = ("gcp:", "kubernetes:", "aws:")

Classification = Literal["public", "internal", "confidential", "restricted"]


_labels = check_label_map


# ---------------------------------------------------------------------------------------------
# network


class NetworkConfig(Spec):
    """The VPC fabric: one regional subnet with GKE's secondary ranges, NAT and PSA."""

    name: str = Field("aidc", description="VPC name prefix; the network is '<name>-<environment>'.")
    base_cidr: IPv4Network | None = Field(
        None, description="One range to carve every unspecified range from (largest first).")
    subnet_cidr: IPv4Network | None = Field(None, description="Node subnet primary range.")
    pods_cidr: IPv4Network | None = Field(None, description="GKE pods secondary range.")
    services_cidr: IPv4Network | None = Field(None, description="GKE services secondary range.")
    psa_cidr: IPv4Network | None = Field(
        None, description="Private services access range (Filestore draws its IPs from it).")
    services_prefix: int = Field(20, ge=16, le=27, description="Size of a carved services range.")
    psa_prefix: int = Field(22, ge=16, le=24, description="Size of a carved PSA range (>= /24).")
    max_nodes: int = Field(
        256, ge=1, le=15000,
        description="Most nodes the cluster may reach across all pools; sizes pods and subnet. "
                    "Node pools add their maxima to the check when declared.")
    max_pods_per_node: int = Field(
        110, ge=8, le=256, description="GKE's per-node pod limit (provider default 110).")
    allow_non_rfc1918: bool = Field(
        False, description="Accept ranges outside RFC 1918 (e.g. 100.64.0.0/10).")
    gpu_supernet: IPv4Network | None = Field(
        None, description="Range the GPUDirect NIC subnets are carved from (one VPC each).")
    flow_logs_sampling: float = Field(
        0.5, ge=0.0, le=1.0, description="VPC flow log sampling (CIS GCP 3.8 wants flow logs on).")
    nat_log_filter: Literal["ERRORS_ONLY", "TRANSLATIONS_ONLY", "ALL"] = "ERRORS_ONLY"
    iap_ssh: bool = Field(
        False, description="Allow SSH from Google's IAP range 35.235.240.0/20 only; off by default.")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return naming.check_rfc1035(v, "network.name")


# ---------------------------------------------------------------------------------------------
# encryption

KEY_PURPOSES = ("storage", "filestore", "gke", "disks")


class EncryptionConfig(Spec):
    """Cloud KMS: one key ring, one key per purpose, so a key's blast radius is one service."""

    key_ring: str = Field("aidc", description="Key ring id prefix; the ring is '<key_ring>-<env>'.")
    protection_level: Literal["SOFTWARE", "HSM"] = Field(
        "SOFTWARE", description="HSM keeps key material in Cloud HSM (FIPS 140-2 L3).")
    rotation_days: int = Field(
        90, ge=1, le=365 * 100,
        description="Automatic rotation period; CIS GCP 1.10 asks for 90 days or less.")
    destroy_scheduled_days: int = Field(
        30, ge=1, le=120,
        description="Days a destroyed key version stays recoverable (provider default 30).")

    @field_validator("key_ring")
    @classmethod
    def _ring(cls, v: str) -> str:
        return naming.check_kms_id(v, "encryption.key_ring")


# ---------------------------------------------------------------------------------------------
# storage

VERSIONED_BY_DEFAULT = ("checkpoints", "models")
# The purpose DataBuckets gives its own usage-log bucket; reserved for it.
ACCESS_LOGS_PURPOSE = "access-logs"


class LifecycleRule(Spec):
    """One Object Lifecycle Management rule: an action when an object reaches an age."""

    action: Literal["Delete", "SetStorageClass", "AbortIncompleteMultipartUpload"]
    age_days: int = Field(ge=0)
    storage_class: Literal["NEARLINE", "COLDLINE", "ARCHIVE"] | None = None
    noncurrent_only: bool = Field(False, description="Apply to noncurrent versions only.")

    @model_validator(mode="after")
    def _class_only_with_set(self) -> LifecycleRule:
        if (self.action == "SetStorageClass") != (self.storage_class is not None):
            raise ValueError("storage_class is required with action SetStorageClass and only there")
        return self


class BucketSpec(Spec):
    """A data bucket. CMEK, uniform access and public access prevention are not options."""

    classification: Classification = Field(
        "internal", description="Sets the data-classification label the policy pack reads.")
    storage_class: Literal["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"] = "STANDARD"
    versioning: bool | None = Field(
        None, description="Default: on for checkpoints and models (they are overwritten in place).")
    soft_delete_days: int = Field(
        7, ge=0, le=90,
        description="Soft delete window: 0 (off) or 7-90 days; the GCS default is 7 days. "
                    "https://cloud.google.com/storage/docs/soft-delete#retention-duration")
    retention_days: int | None = Field(
        None, ge=1, description="Retention policy: objects cannot be deleted or replaced sooner.")
    lifecycle: list[LifecycleRule] = Field(default_factory=list)
    labels: Labels = Field(default_factory=dict)

    @field_validator("labels")
    @classmethod
    def _check_labels(cls, v: Labels) -> Labels:
        return _labels(v)

    @field_validator("soft_delete_days")
    @classmethod
    def _soft_delete(cls, v: int) -> int:
        if 0 < v < 7:
            raise AidcError(f"soft_delete_days: {v}; Cloud Storage accepts 0 (off) or 7-90 days")
        return v


class FilestoreConfig(Spec):
    """A Filestore share for shared training data and home directories."""

    name: str = Field("shared", description="Instance name suffix.")
    tier: str = Field("ZONAL", description="Filestore API tier name (see `aidc catalog filestore`).")
    capacity_gib: int = Field(1024, description="Must fit one of the tier's ranges and steps.")
    share_name: str = "data"
    zone: str | None = Field(None, description="For zonal tiers; default the stack's first zone.")
    cmek: bool = Field(True, description="Encrypt with the filestore KMS key (tiers that take it).")
    classification: Classification = "confidential"
    labels: Labels = Field(default_factory=dict)

    @field_validator("labels")
    @classmethod
    def _check_labels(cls, v: Labels) -> Labels:
        return _labels(v)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return naming.check_rfc1035(v, "storage.filestore.name")

    @field_validator("tier")
    @classmethod
    def _tier(cls, v: str) -> str:
        from infra.catalog.filestore import filestore_tier

        return filestore_tier(v).tier  # the API's spelling, whatever case the user wrote

    @field_validator("share_name")
    @classmethod
    def _share(cls, v: str) -> str:
        return naming.check_share_name(v)

    @model_validator(mode="after")
    def _tier_rules(self) -> FilestoreConfig:
        from infra.catalog.filestore import check_capacity, filestore_tier

        tier = filestore_tier(self.tier)
        check_capacity(self.tier, self.capacity_gib)
        if self.cmek and not tier.cmek:
            raise AidcError(
                f"cmek: tier {self.tier} cannot take a customer-managed key; choose a tier that "
                "can (see `aidc catalog filestore`) or set cmek: false explicitly")
        if self.zone and tier.location_kind == "region":
            raise AidcError(
                f"storage.filestore.zone: {self.zone!r} is set, but tier {self.tier} is regional "
                "(its instance lives in the stack's region, not a zone); remove zone or choose a "
                "zonal tier")
        return self


class StorageConfig(Spec):
    location: str | None = Field(None, description="Bucket location; default the stack region.")
    buckets: dict[str, BucketSpec] = Field(
        default_factory=dict, description="Buckets by purpose: datasets, checkpoints, models, ...")
    filestore: FilestoreConfig | None = None
    data_access_logs: bool = Field(
        False, description="Cloud Audit Logs of every read and write of Cloud Storage data "
                           "(DATA_READ, DATA_WRITE; CIS GCP 2.1). Billed per log entry, which at "
                           "training read rates adds up: on in prod.")

    @field_validator("buckets")
    @classmethod
    def _purposes(cls, v: dict[str, BucketSpec]) -> dict[str, BucketSpec]:
        for purpose in v:
            naming.check_rfc1035(purpose, "storage.buckets key")
            if purpose == ACCESS_LOGS_PURPOSE:
                raise AidcError(
                    f"storage.buckets.{purpose}: the purpose {purpose!r} is reserved for the "
                    "access-log bucket DataBuckets creates itself; choose another purpose")
        return v


# ---------------------------------------------------------------------------------------------
# the platform


class PlatformConfig(Spec):
    """Everything one stack declares. Later layers add their sections here."""

    project: str = Field(description="gcp:project, the project every resource lives in.")
    region: str = Field(description="gcp:region; the cluster is regional.")
    environment: str = Field(description="Environment name; becomes the 'environment' label.")
    production: bool | None = Field(
        None, description="Production safety (deletion protection, strict defaults); default "
                          "true when environment is 'prod'.")
    zones: list[str] = Field(min_length=1, description="Zones in the region for zonal resources.")
    labels: Labels = Field(default_factory=dict, description="Labels added to every resource.")
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    encryption: EncryptionConfig = Field(default_factory=EncryptionConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    apis: list[str] = Field(default_factory=list, description="Extra APIs to enable.")
    cluster: ClusterConfig | None = Field(None, description="The GKE cluster; needed by pools.")
    gpu_pools: dict[str, GpuPoolConfig] = Field(
        default_factory=dict, description="GPU node pools by name.")
    tpu_pools: dict[str, TpuPoolConfig] = Field(
        default_factory=dict, description="TPU slices by name (one node pool per slice).")
    monitoring: MonitoringConfig | None = Field(
        None, description="Alerts, dashboards and in-cluster GPU metrics; none when omitted.")
    transfers: dict[str, TransferConfig] = Field(
        default_factory=dict, description="Storage Transfer jobs from S3 into data buckets, by name.")
    policy: PolicySettings = Field(
        default_factory=PolicySettings,
        description="Policy pack settings for this stack: enforcement, thresholds, allow lists, "
                    "waivers (what `aidc check` and --policy-pack-config use).")

    @field_validator("labels")
    @classmethod
    def _check_labels(cls, v: Labels) -> Labels:
        return _labels(v)

    @field_validator("project")
    @classmethod
    def _project(cls, v: str) -> str:
        return naming.check_project_id(v)

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        return naming.check_region(v)

    @field_validator("environment")
    @classmethod
    def _environment(cls, v: str) -> str:
        naming.check_rfc1035(v, "environment")
        if len(v) > 12:
            raise AidcError(f"environment {v!r}: at most 12 characters (it is part of resource names)")
        return v

    @model_validator(mode="after")
    def _cross_checks(self) -> PlatformConfig:
        problems = []
        for i, zone in enumerate(self.zones):
            try:
                in_region = naming.zone_region(zone) == self.region
            except AidcError as exc:
                problems.append(f"zones[{i}]: {exc}")
                continue
            if not in_region:
                problems.append(f"zones[{i}]: {zone!r} is not in region {self.region!r}")
        fs = self.storage.filestore
        if fs and fs.zone and naming.zone_region(fs.zone) != self.region:
            problems.append(f"storage.filestore.zone: {fs.zone!r} is not in region {self.region!r}")
        for purpose in self.storage.buckets:
            try:
                naming.bucket_name(self.project, self.environment, purpose)
            except AidcError as exc:
                problems.append(f"storage.buckets.{purpose}: {exc}")
        problems += self._composed_name_problems()
        problems += self._pool_problems()
        problems += check_keys(self.transfers) + check_sinks(self.transfers, self.storage.buckets)
        try:
            plan = self.network_plan()
        except AidcError as exc:
            problems.append(str(exc))
        else:
            problems += self._capacity_problems(plan)
        if problems:
            raise AidcError("\n".join(problems))
        return self

    def _composed_name_problems(self) -> list[str]:
        """Cloud names built from several parts, each part valid alone, must still fit GCP."""
        checks: list[tuple[str, Callable[[], object]]] = [
            ("network.name", lambda: naming.check_rfc1035(
                f"{self.name_prefix}-allow-health-checks", "firewall name")),
            ("network.name", lambda: naming.check_rfc1035(
                f"{self.name_prefix}-{self.region}", "subnet name")),
            ("encryption.key_ring", lambda: naming.check_kms_id(
                f"{self.encryption.key_ring}-{self.environment}", "key ring id")),
        ]
        fs = self.storage.filestore
        if fs is not None:
            checks.append(("storage.filestore.name", lambda: naming.check_rfc1035(
                f"{self.name_prefix}-{fs.name}", "Filestore instance name")))
        problems = []
        for field, check in checks:
            try:
                check()
            except AidcError as exc:
                problems.append(f"{field}: {exc} (the name is composed from it; shorten it)")
        return problems

    def _pool_problems(self) -> list[str]:
        problems = []
        if (self.gpu_pools or self.tpu_pools) and self.cluster is None:
            problems.append("aidc:cluster: node pools need a cluster; add an aidc:cluster section")
        version = self.cluster.min_master_version if self.cluster else None
        for name, pool in self.gpu_pools.items():
            for i, zone in enumerate(pool.zones or []):
                try:
                    in_region = naming.zone_region(zone) == self.region
                except AidcError as exc:
                    problems.append(f"gpu_pools.{name}.zones[{i}]: {exc}")
                    continue
                if not in_region:
                    problems.append(f"gpu_pools.{name}.zones[{i}]: {zone!r} is not in region "
                                    f"{self.region!r}")
            gpu = pool.resolved()
            if pool.uses_gpudirect and gpu.profile is not None and gpu.profile.roce:
                zones = pool.zones or self.zones
                if len(zones) != 1:
                    problems.append(
                        f"gpu_pools.{name}.zones: GPUDirect RDMA uses a RoCE VPC whose network "
                        f"profile is zonal ({RDMA_NETWORK_PROFILES_URL}), so the pool runs in "
                        f"exactly one zone; give one zone, got {zones!r}")
            if version and pool.uses_gpudirect and not gpu.gke_version_ok(version):
                floors = gpu.gpudirect_min_gke_versions or (gpu.profile.min_gke_versions if gpu.profile else ())
                problems.append(f"cluster.min_master_version: {version} is below the documented "
                                f"minimum for {gpu.gpudirect} on {gpu.machine_type} in gpu_pools.{name} "
                                f"(per minor: {', '.join(floors + gpu.min_gke_versions)})")
            elif version and not meets_min_gke_version(gpu.min_gke_versions, version):
                problems.append(f"cluster.min_master_version: {version} is below the documented "
                                f"minimum for {gpu.machine_type} in gpu_pools.{name} "
                                f"(per minor: {', '.join(gpu.min_gke_versions)})")
        for name, tpu in self.tpu_pools.items():
            if tpu.zone:
                try:
                    in_region = naming.zone_region(tpu.zone) == self.region
                except AidcError as exc:
                    problems.append(f"tpu_pools.{name}.zone: {exc}")
                else:
                    if not in_region:
                        problems.append(f"tpu_pools.{name}.zone: {tpu.zone!r} is not in region "
                                        f"{self.region!r}")
            floors = tpu_generation(tpu.generation).min_gke_versions
            if version and not meets_min_gke_version(floors, version):
                problems.append(f"cluster.min_master_version: {version} is below the documented "
                                f"minimum for TPU {tpu.generation} in tpu_pools.{name} "
                                f"(per minor: {', '.join(floors)})")
        return problems

    def node_demand(self) -> list[tuple[str, int, int]]:
        """(pool, max nodes, max pods per node) for every pool, the system pool included."""
        per_node = self.network.max_pods_per_node
        rows = []
        if self.cluster is not None:
            rows.append(("system", self.cluster.system_pool.max_nodes, per_node))
        for name, pool in self.gpu_pools.items():
            rows.append((f"gpu_pools.{name}", pool.autoscaling.max_nodes,
                         pool.max_pods_per_node or per_node))
        for name, tpu in self.tpu_pools.items():
            rows.append((f"tpu_pools.{name}", tpu.slices * tpu.max_nodes_per_slice, per_node))
        return rows

    def _capacity_problems(self, plan: NetworkPlan) -> list[str]:
        demand = self.node_demand()
        if not demand:
            return []
        nodes = sum(n for _, n, _ in demand)
        pod_addresses = sum(n * 2 ** (32 - pod_block_prefix(p)) for _, n, p in demand)
        problems = []
        if pod_addresses > plan.pods.num_addresses:
            problems.append(
                f"network.pods_cidr {plan.pods}: the pools can reach {nodes} nodes needing "
                f"{pod_addresses} pod addresses, more than the range's {plan.pods.num_addresses} "
                f"({', '.join(f'{k}: {n}' for k, n, _ in demand)}); raise network.max_nodes or "
                "give a larger pods_cidr")
        usable = plan.subnet.num_addresses - SUBNET_RESERVED_ADDRESSES
        if nodes > usable:
            problems.append(f"network.subnet_cidr {plan.subnet}: {usable} node addresses for "
                            f"{nodes} nodes the pools can reach; raise network.max_nodes")
        return problems

    def gpudirect_subnets(self) -> dict[str, int]:
        """Subnet name -> prefix for every GPUDirect NIC network, sized for the pool's nodes."""
        out: dict[str, int] = {}
        for name, pool in self.gpu_pools.items():
            gpu = pool.resolved()
            if not pool.uses_gpudirect or gpu.profile is None:
                continue
            prefix = min(29, 32 - max(3, (pool.autoscaling.max_nodes + SUBNET_RESERVED_ADDRESSES - 1).bit_length()))
            for i in range(gpu.profile.extra_gvnic_vpcs):
                out[f"{name}-gvnic{i}"] = prefix
            for i in range(gpu.profile.gpu_subnets):
                out[f"{name}-gpu{i}"] = prefix
        return out

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
            extra_subnets=self.gpudirect_subnets() or None, extra_supernet=n.gpu_supernet,
        )

    @property
    def highest_classification(self) -> str:
        """The most sensitive data the stack holds; keys that protect it carry this label."""
        order = ("public", "internal", "confidential", "restricted")
        found = [b.classification for b in self.storage.buckets.values()]
        if self.storage.filestore:
            found.append(self.storage.filestore.classification)
        if self.cluster:
            found.append(self.cluster.classification)
        return max(found, key=order.index, default="internal")

    def resource_labels(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        merged = dict(self.labels)
        merged.update(extra or {})
        return label_rules.standard_labels(self.environment, merged)


# ---------------------------------------------------------------------------------------------
# loading


def _unsecret(value: Any) -> tuple[Any, bool]:
    """Replace `secure:` values by a placeholder; offline, nothing can decrypt them."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER, True
        out, secret = {}, False
        for k, v in value.items():
            out[k], s = _unsecret(v)
            secret |= s
        return out, secret
    if isinstance(value, list):
        items = [_unsecret(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def read_stack_file(path: Path) -> tuple[dict[str, Any], set[str]]:
    """The flat config map of a stack file and the keys holding secrets."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise AidcError(f"{path}: cannot read stack file ({exc.strerror})") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise AidcError(f"{path}: YAML does not parse{where}: {problem}") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict) or not isinstance(doc.get("config", {}), dict):
        raise AidcError(f"{path}: expected a mapping with a 'config:' mapping of key: value")
    try:
        return _flatten_stack_doc(path, doc)
    except RecursionError:
        raise AidcError(f"{path}: a YAML alias refers to itself (a value contains its own "
                        "anchor, e.g. `&a [*a]`); replace the alias with a plain value") from None


def _flatten_stack_doc(path: Path, doc: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    raw_transfers = (doc.get("config") or {}).get("aidc:transfers")
    if raw_transfers is not None:
        clear = check_static_keys_are_secret(raw_transfers)
        if clear:
            raise AidcError(f"{path}: " + "; ".join(clear))
    flat: dict[str, Any] = {}
    secret_keys: set[str] = set()
    for key, value in (doc.get("config") or {}).items():
        flat[str(key)], is_secret = _unsecret(value)
        if is_secret:
            secret_keys.add(str(key))
    return flat, secret_keys


def config_from_flat(flat: Mapping[str, Any], *, source: str = "config") -> PlatformConfig:
    """Build the model from `namespace:key` -> value, naming every problem at once."""
    fields = PlatformConfig.model_fields
    data: dict[str, Any] = {}
    problems = []
    for key, value in flat.items():
        if key in PROVIDER_KEYS:
            data[PROVIDER_KEYS[key]] = value
        elif key.startswith("aidc:"):
            name = key[len("aidc:"):]
            if name in PROVIDER_KEYS.values() or name not in fields:
                accepted = sorted(f"aidc:{f}" for f in fields if f not in PROVIDER_KEYS.values())
                hint = difflib.get_close_matches(f"aidc:{name}", accepted, n=1)
                problems.append(f"{key}: unknown key"
                                + (f" (did you mean {hint[0]}?)" if hint else "")
                                + f". Accepted: {', '.join(accepted)}")
                continue
            data[name] = _unsecret(decode_config_value(value))[0]
        elif key.startswith(PASSTHROUGH_NAMESPACES):
            continue
        else:
            problems.append(f"{key}: unknown namespace; aidc reads aidc:* and gcp:project/gcp:region "
                            "(provider settings under gcp:, kubernetes:, aws: pass through)")
    try:
        cfg = PlatformConfig.model_validate(data)
    except ValidationError as exc:
        problems.extend(validation_problems(exc))
    if problems:
        raise AidcError(f"{source}: invalid config\n  - " + "\n  - ".join(problems))
    return cfg


def decode_config_value(value: Any) -> Any:
    """Pulumi's runtime hands structured values over as JSON text; the YAML path does not."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _key_path(loc: tuple[Any, ...]) -> str:
    if not loc:
        return "config"
    head = next((k for k, f in PROVIDER_KEYS.items() if f == loc[0]), f"aidc:{loc[0]}")
    out = head
    for part in loc[1:]:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that owns the field at `loc[-1]`, following dict/list/optional types."""
    model: Any = PlatformConfig
    for part in loc[:-1]:
        if isinstance(model, type) and issubclass(model, BaseModel) and isinstance(part, str) \
                and part in model.model_fields:
            model = model.model_fields[part].annotation
        model = _unwrap(model)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin in (Union, types.UnionType):
            tp = next((a for a in get_args(tp) if a is not type(None)), tp)
        elif origin in (dict, list):
            tp = get_args(tp)[-1]
        elif origin is Annotated:
            tp = get_args(tp)[0]
        else:
            return tp


def validation_problems(exc: ValidationError) -> list[str]:
    """One line per problem: the config key path, the bad value, what is accepted."""
    lines = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        path = _key_path(loc)
        if err["type"] == "extra_forbidden":
            owner = _model_at(loc)
            accepted = sorted(owner.model_fields) if owner else []
            hint = difflib.get_close_matches(str(loc[-1]), accepted, n=1)
            lines.append(f"{path}: unknown key" + (f" (did you mean {hint[0]}?)" if hint else "")
                         + (f". Accepted: {', '.join(accepted)}" if accepted else ""))
            continue
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if err["type"] == "missing":
            lines.append(f"{path}: required value is missing")
        elif not loc:
            lines.extend(msg.split("\n"))
        elif err["type"] in ("value_error", "assertion_error"):
            lines.extend(f"{path}: {part}" for part in msg.split("\n"))
        elif loc[0] in SECRET_BEARING:
            lines.append(f"{path}: {msg}")  # the input may be a decrypted token: never echo it
        else:
            lines.append(f"{path}: {msg} (got {err.get('input')!r})")
    return lines


def stack_file(stack: str, stacks_dir: Path = STACKS_DIR) -> Path:
    """`stacks/Pulumi.<stack>.yaml`, or an error listing the stacks that exist."""
    path = stacks_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        existing = sorted(p.name[len("Pulumi."):-len(".yaml")]
                          for p in stacks_dir.glob("Pulumi.*.yaml"))
        raise AidcError(f"no stack {stack!r}: {path} does not exist; stacks here: "
                        f"{', '.join(existing) or 'none'} (or pass --stack-file PATH)")
    return path


def load_stack_file(path: Path) -> PlatformConfig:
    flat, _ = read_stack_file(path)
    return config_from_flat(flat, source=str(path))


def load_from_pulumi() -> PlatformConfig:
    """What `pulumi up` uses: the config the engine passed to this program, secrets decrypted."""
    from pulumi.runtime import config as runtime_config

    flat = dict(runtime_config.get_config_env())
    flat.update(runtime_config.CONFIG.get())
    return config_from_flat(flat, source="pulumi config")


_SECURE = {"type": "object", "properties": {"secure": {"type": "string"}},
           "required": ["secure"], "additionalProperties": False}


def _accept_secure(node: Any) -> None:
    """Secret fields (format: password) may hold a `secure:` value, as Pulumi writes them."""
    if isinstance(node, dict):
        for key, value in list(node.items()):
            if isinstance(value, dict) and value.get("format") == "password":
                node[key] = {"anyOf": [value, _SECURE]}
            else:
                _accept_secure(value)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if isinstance(value, dict) and value.get("format") == "password":
                node[i] = {"anyOf": [value, _SECURE]}
            else:
                _accept_secure(value)


def config_schema() -> dict[str, Any]:
    """JSON Schema of a stack file's `config:` map, for editors and CI."""
    schema = PlatformConfig.model_json_schema(mode="validation")
    props = {}
    for name, sub in schema.pop("properties").items():
        key = next((k for k, f in PROVIDER_KEYS.items() if f == name), f"aidc:{name}")
        props[key] = sub
    required = [next((k for k, f in PROVIDER_KEYS.items() if f == n), f"aidc:{n}")
                for n in schema.pop("required", [])]
    config = {**schema, "properties": props, "required": required,
              "patternProperties": {"^(gcp|kubernetes|aws):": {}},
              "additionalProperties": False}
    defs = config.pop("$defs", {})
    _accept_secure(config)
    _accept_secure(defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "aidc stack file (stacks/Pulumi.<stack>.yaml)",
        "type": "object",
        "properties": {"config": config, "secretsprovider": {"type": "string"},
                       "encryptedkey": {"type": "string"}, "encryptionsalt": {"type": "string"}},
        "required": ["config"],
        "$defs": defs,
    }
