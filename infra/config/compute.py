"""Cluster and accelerator node-pool config, and the rules a pool must obey to exist.

Every cross-field rule here is one a GKE API call would otherwise reject halfway through a
`pulumi up` (or worse, accept and then never schedule a node). They are collected per pool and
raised together, each starting with the field it is about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from ipaddress import IPv4Network
from typing import Literal

from pydantic import Field, field_validator, model_validator

from infra.catalog.apply_facts import boot_disk_rule, default_boot_disk_type
from infra.catalog.gpu import (
    FLEX_START_COMPACT,
    QUEUED_COMPACT_SOURCE,
    ResolvedGpu,
    resolve_gpu,
)
from infra.gcp.gke_versions import parse_gke_version
from infra.gcp.netplan import SUBNET_RESERVED_ADDRESSES
from infra.catalog.tpu import TpuSlice, tpu_slice
from infra.config.base import Classification, Distinct, Labels, Spec
from infra.errors import AidcError, Loc, Problem, raise_problems
from infra.gcp import maintenance

_SECURITY_GROUP = re.compile(r"gke-security-groups@[a-z0-9-]+(\.[a-z0-9-]+)+")

Capacity = Literal["on_demand", "spot", "reservation", "queued", "flex_start"]
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}
# The standard TPU taint, as Google's cluster-toolkit puts it on every TPU node pool
# (modules/internal/tpu-definition/main.tf at 1047080375afbb44da4b596be314634e7486af4a):
# only pods that tolerate it (TPU workloads) land on TPU nodes, as with GPU_TAINT.
TPU_TAINT = {"key": "google.com/tpu", "value": "present", "effect": "NO_SCHEDULE"}
# DWS queued provisioning: workloads select these nodes with this label; GKE sets it on nodes
# it creates for a ProvisioningRequest but not on the node pool template, so selectors and the
# scheduling contract need it declared.
# https://cloud.google.com/kubernetes-engine/docs/how-to/provisioningrequest
QUEUED_LABEL = ("cloud.google.com/gke-queued", "true")
QUEUED_TAINT = {"key": "cloud.google.com/gke-queued", "value": "true", "effect": "NO_SCHEDULE"}
# The largest Persistent Disk / Hyperdisk Balanced volume: 64 TiB.
# https://cloud.google.com/compute/docs/disks/persistent-disks#disk_size_limits and
# https://cloud.google.com/compute/docs/disks/hyperdisks#hd-performance-limits
MAX_DISK_GB = 65_536
# The always-on node pool every cluster gets; GPU and TPU pools cannot take its name.
SYSTEM_POOL = "system"


def min_max_problems(low: int, high: int, default: str = "") -> list[Problem]:
    """min_nodes above max_nodes, located at min_nodes (GKE refuses a minimum above the
    maximum); `default` says when max_nodes was not given."""
    if low <= high:
        return []
    return [Problem(("min_nodes",), f"{low} exceeds max_nodes {high}{default}; raise max_nodes "
                                    "or lower min_nodes")]


class Maintenance(Spec):
    """A recurring window (RFC 5545 RRULE) and named exclusions, e.g. around a launch. GKE's
    rules (infra.gcp.maintenance) apply: RFC 3339 times, end after start, at least 48 hours of
    windows of 4 hours or more in every 32 days, at most 20 exclusions of at most 30 days."""

    start_time: str = Field("2026-01-03T03:00:00Z", description="First window start (RFC 3339).")
    end_time: str = Field("2026-01-03T11:00:00Z", description="First window end (RFC 3339).")
    recurrence: str = Field("FREQ=WEEKLY;BYDAY=SA,SU", description="RRULE for the window.")
    exclusions: dict[str, tuple[str, str]] = Field(
        default_factory=dict,
        description="name -> (start, end) RFC 3339; no upgrades inside (GKE's NO_UPGRADES scope: "
                    "at most 30 days each, at most 20 exclusions).")

    @field_validator("start_time", "end_time", mode="before")
    @classmethod
    def _time(cls, v: object) -> str:
        return maintenance.rfc3339(v)

    @field_validator("exclusions", mode="before")
    @classmethod
    def _exclusion_times(cls, v: object) -> object:
        if not isinstance(v, dict):
            return v
        problems, out = [], {}
        for name, span in v.items():
            if not isinstance(span, (list, tuple)) or len(span) != 2:
                problems.append(Problem((name,), "expected [start, end], two RFC 3339 date-times"))
                continue
            times = []
            for i, when in enumerate(span):
                try:
                    times.append(maintenance.rfc3339(when))
                except AidcError as exc:
                    problems += [p.under((name, i)) for p in exc.problems]
            if len(times) == 2:
                problems += [p.under((name,)) for p in _exclusion_problems(*times)]
            out[name] = tuple(times)
        raise_problems(problems)
        return out

    @model_validator(mode="after")
    def _policy(self) -> Maintenance:
        problems = []
        start, end = (maintenance.parse_rfc3339(t) for t in (self.start_time, self.end_time))
        if end <= start:
            problems.append(Problem(("end_time",), f"{self.end_time} is not after start_time "
                                                   f"{self.start_time}"))
        else:
            try:
                maintenance.check_recurring_window(start, end, self.recurrence)
            except AidcError as exc:
                problems += [p.under(("recurrence",)) for p in exc.problems]
        if len(self.exclusions) > maintenance.MAX_EXCLUSIONS:
            problems.append(Problem(("exclusions",), (
                f"{len(self.exclusions)} exclusions; a GKE cluster holds at most "
                f"{maintenance.MAX_EXCLUSIONS}")))
        raise_problems(problems)
        return self


def _exclusion_problems(first: str, last: str) -> list[Problem]:
    """An exclusion ends after it starts and, with the NO_UPGRADES scope aidc sets, lasts at
    most 30 days."""
    span = maintenance.parse_rfc3339(last) - maintenance.parse_rfc3339(first)
    if span <= timedelta(0):
        return [Problem((1,), f"{last} is not after the exclusion's start {first}")]
    if span > maintenance.NO_UPGRADES_MAX:
        return [Problem((), (
            f"{first} to {last} is {span.total_seconds() / 86400:g} days; a 'No upgrades' "
            f"exclusion lasts at most {maintenance.NO_UPGRADES_MAX.days} days (split it, "
            "leaving maintenance time between the parts)"))]
    return []


class SystemPool(Spec):
    """The small pool for system pods (kube-dns, metrics agents) that no accelerator node runs."""

    machine_type: str = Field("e2-standard-4", description="Machine type of the system nodes.")
    min_nodes: int = Field(1, ge=1, description="Autoscaling floor per zone; at least one node, "
                                                "so system pods always have a home.")
    max_nodes: int = Field(3, ge=1, description="Autoscaling ceiling per zone.")

    @model_validator(mode="after")
    def _bounds(self) -> SystemPool:
        raise_problems(min_max_problems(self.min_nodes, self.max_nodes))
        return self


class ClusterConfig(Spec):
    """A regional GKE Standard cluster: private nodes, Workload Identity, Dataplane V2."""

    name: str = Field("ai", description="Cluster name suffix: '<network.name>-<env>-<name>'.")
    release_channel: Literal["RAPID", "REGULAR", "STABLE", "EXTENDED"] = Field(
        "REGULAR", description="GKE picks and upgrades versions along this channel (CIS GKE 5.5.4).")
    min_master_version: str | None = Field(
        None, description="Floor for the control plane (a GKE patch version). When omitted no "
                          "floor is set and the release channel picks the version (pinning a "
                          "patch the channel may no longer offer can break cluster creation); "
                          "when given, it is checked against the documented minimums of the "
                          "stack's GPU (GPUDirect included) and TPU pools.")
    private_endpoint: bool = Field(
        False, description="The control plane's IP endpoint is private: reachable only from "
                           "inside the VPC.")
    dns_endpoint: bool = Field(
        True, description="GKE's DNS-based control-plane endpoint, authorised by IAM "
                          "(container.clusters.connect) and reachable wherever Google APIs are: "
                          "this program's Kubernetes objects (monitoring, GPUDirect) are applied "
                          "through it, so `pulumi up` need not run inside the VPC even with "
                          "private_endpoint. false: they go through the IP endpoint, and with "
                          "private_endpoint `pulumi up` must run from inside the VPC.")
    master_ipv4_cidr: IPv4Network = Field(
        IPv4Network("172.16.0.0/28"), description="The control plane's /28 (private clusters).")
    master_authorized_networks: dict[str, IPv4Network] = Field(
        default_factory=dict,
        description="name -> CIDR allowed to reach the control plane. 0.0.0.0/0 is refused.")
    maintenance: Maintenance = Field(
        default_factory=Maintenance,
        description="Maintenance window and exclusions; default weekend nights (UTC).")
    system_pool: SystemPool = Field(
        default_factory=SystemPool, description="The pool for system pods; default 1-3 "
                                                "e2-standard-4 nodes per zone.")
    binary_authorization: bool = Field(
        False, description="Enforce the project's Binary Authorization policy (CIS GKE 5.10.5).")
    security_group: str | None = Field(
        None, description="Google Groups for RBAC: gke-security-groups@<domain> (CIS GKE 5.8.3).")
    intranode_visibility: bool = Field(
        False, description="Send same-node pod traffic through the VPC, so flow logs and "
                           "firewall rules see it (CIS GKE 5.6.1).")
    classification: Classification = Field(
        "confidential", description="The most sensitive data the cluster holds, written as its "
                                    "data-classification label (the policy pack keys rules off it).")

    @field_validator("master_authorized_networks")
    @classmethod
    def _no_world(cls, v: dict[str, IPv4Network]) -> dict[str, IPv4Network]:
        for label, net in v.items():
            if net.prefixlen == 0:
                raise AidcError(f"{net} opens the control plane to the internet; list the "
                                "networks that need it", field=label)
        return v

    @field_validator("security_group")
    @classmethod
    def _security_group(cls, v: str | None) -> str | None:
        if v is not None and not _SECURITY_GROUP.fullmatch(v):
            raise AidcError(f"{v!r}; GKE reads Google Groups for RBAC only from a "
                            "group named exactly gke-security-groups@<your domain>")
        return v

    @field_validator("master_ipv4_cidr")
    @classmethod
    def _slash28(cls, v: IPv4Network) -> IPv4Network:
        if v.prefixlen != 28:
            raise AidcError(f"{v}; GKE needs exactly a /28")
        return v

    @field_validator("min_master_version")
    @classmethod
    def _version(cls, v: str | None) -> str | None:
        if v is not None:
            parse_gke_version(v)
        return v


class LocalSsd(Spec):
    """Local SSD use: as the node's ephemeral storage, or as raw NVMe block devices."""

    ephemeral_count: int | None = Field(
        None, ge=0, description="Default: every Local SSD the machine type bundles.")
    raw_block_count: int | None = Field(
        None, ge=0, description="Local SSDs exposed as raw NVMe block devices; default none.")


class Autoscaling(Spec):
    """The cluster autoscaler's bounds for a pool, in nodes (totals across its zones)."""

    min_nodes: int = Field(0, ge=0, description="Floor; default 0 (no idle accelerators).")
    max_nodes: int = Field(1, ge=1, description="Ceiling; default 1.")


class CapacityChoice(Spec):
    """How a pool obtains VMs; GPU and TPU pools share it, and its rules (_capacity_problems)."""

    capacity: Capacity = Field(
        "on_demand", description="on_demand, spot, a specific reservation, or DWS (queued / "
                                 "flex_start).")
    reservation: str | list[str] | None = Field(
        None, description="The one specific reservation to consume (capacity: reservation).")

    @property
    def reservation_name(self) -> str | None:
        return _one_reservation(self.reservation)


NicKind = Literal["gvnic", "gpu", "rdma"]


@dataclass(frozen=True)
class NicSubnet:
    """One extra node NIC subnet of a GPUDirect pool: an ordinary gVNIC network (`gvnic`), a GPU
    NIC network of its own (`gpu`: TCPX, TCPXO) or a GPU NIC subnet of the pool's shared RoCE
    VPC (`rdma`). The structure is carried, never parsed back out of the names."""

    pool: str
    kind: NicKind
    index: int
    prefix: int

    @property
    def name(self) -> str:
        """The subnet's name suffix (and its VPC's, unless RDMA): `<pool>-gvnic0`, `<pool>-gpu3`."""
        return f"{self.pool}-{'gvnic' if self.kind == 'gvnic' else 'gpu'}{self.index}"

    @property
    def vpc(self) -> str:
        """The VPC's name suffix: the subnet's own, or `<pool>-roce` for every RDMA subnet."""
        return f"{self.pool}-roce" if self.kind == "rdma" else self.name


class GpuPoolConfig(CapacityChoice):
    """A GPU node pool: give a machine type (or an accelerator and count); the rest is derived."""

    machine_type: str | None = Field(
        None, description="A GPU machine type (`aidc catalog gpu`); or give accelerator_type "
                           "and accelerator_count and the machine type is derived.")
    accelerator_type: str | None = Field(
        None, description="GPU as GKE spells it (e.g. nvidia-h100-80gb); default the machine "
                          "type's.")
    accelerator_count: int | None = Field(
        None, description="GPUs per node; must be what the machine type carries.")
    placement: Literal["none", "compact"] = Field(
        "none", description="compact: a COMPACT placement policy, one zone (low latency).")
    zones: Distinct | None = Field(None, description="Node locations; default the stack's zones.")
    autoscaling: Autoscaling = Field(default_factory=Autoscaling,
                                     description="Node bounds; default 0 to 1 node.")
    max_pods_per_node: int | None = Field(
        None, ge=8, le=256, description="Pods per node; default network.max_pods_per_node.")
    gpudirect: bool | None = Field(
        None, description="Default: on when the machine type has a GPUDirect profile.")
    local_ssd: LocalSsd = Field(default_factory=LocalSsd, description="Local SSD use; default "
                                "every bundled SSD as ephemeral storage.")
    gpu_driver_version: Literal["DEFAULT", "LATEST", "INSTALLATION_DISABLED"] = Field(
        "LATEST", description="GKE installs the NVIDIA driver (INSTALLATION_DISABLED: you do).")
    auto_repair: bool = Field(True, description="GKE recreates unhealthy nodes (CIS GKE 5.5.2); "
                                                "off only where GKE refuses it (DWS).")
    upgrade: Literal["surge", "blue_green"] = Field(
        "surge", description="surge is max_surge 0 / max_unavailable 1: no spare GPUs needed.")
    boot_disk_size_gb: int = Field(
        200, ge=10, le=MAX_DISK_GB,
        description="Boot disk size; Persistent Disk and Hyperdisk volumes hold at most 64 TiB.")
    boot_disk_type: str | None = Field(None, description="Default: hyperdisk-balanced where the "
                                                         "machine type needs it, else pd-balanced.")
    labels: Labels = Field(default_factory=dict, description="Extra GCP labels on the nodes; "
                                                             "merged over the stack's labels.")

    def resolved(self) -> ResolvedGpu:
        return resolve_gpu(machine_type=self.machine_type, accelerator_type=self.accelerator_type,
                           accelerator_count=self.accelerator_count)

    @model_validator(mode="after")
    def _rules(self) -> GpuPoolConfig:
        raise_problems(gpu_pool_problems(self))
        return self

    @property
    def uses_gpudirect(self) -> bool:
        gpu = self.resolved()
        return gpu.profile is not None if self.gpudirect is None else self.gpudirect

    def nic_subnets(self, pool: str) -> tuple[NicSubnet, ...]:
        """The pool's extra NIC subnets in attachment order (gVNIC networks, then GPU NICs), each
        sized for the pool's maximum nodes plus GCP's reserved addresses; none without
        GPUDirect."""
        profile = self.resolved().profile
        if not self.uses_gpudirect or profile is None:
            return ()
        hosts = self.autoscaling.max_nodes + SUBNET_RESERVED_ADDRESSES - 1
        prefix = min(29, 32 - max(3, hosts.bit_length()))
        gpu_kind: NicKind = "rdma" if profile.roce else "gpu"
        return (tuple(NicSubnet(pool, "gvnic", i, prefix) for i in range(profile.extra_gvnic_vpcs))
                + tuple(NicSubnet(pool, gpu_kind, i, prefix) for i in range(profile.gpu_subnets)))

    @property
    def disk_type(self) -> str:
        if self.boot_disk_type:
            return self.boot_disk_type
        return default_boot_disk_type(self.resolved().machine_type)

    @property
    def ephemeral_ssd_count(self) -> int | None:
        """Local SSDs backing ephemeral storage: as asked, else every bundled one unless they
        are raw block devices; None when there are none."""
        ssd = self.local_ssd
        if ssd.ephemeral_count is not None:
            return ssd.ephemeral_count
        return None if ssd.raw_block_count else self.resolved().local_ssd_count or None

    @property
    def node_taints(self) -> list[dict[str, str]]:
        """The GPU taint, and the queued one on DWS queued-provisioning pools."""
        return [GPU_TAINT, QUEUED_TAINT] if self.capacity == "queued" else [GPU_TAINT]

    @property
    def selector_labels(self) -> dict[str, str]:
        """Node labels a workload selects besides accelerator and pool: on DWS queued pools the
        queued label, which GKE's node template lacks (see QUEUED_LABEL)."""
        return dict([QUEUED_LABEL]) if self.capacity == "queued" else {}

    @property
    def node_labels(self) -> dict[str, str]:
        return {**self.labels, **self.selector_labels}

    @property
    def tolerations(self) -> list[dict[str, str]]:
        """What a workload tolerates to land on the pool (Kubernetes spelling of node_taints)."""
        return tolerations_for(self.node_taints)


_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "PREFER_NO_SCHEDULE": "PreferNoSchedule",
            "NO_EXECUTE": "NoExecute"}


def tolerations_for(taints: list[dict[str, str]]) -> list[dict[str, str]]:
    """The tolerations for node taints: the accelerator taint by key (any value), the queued
    one by its value."""
    out = []
    for taint in taints:
        effect = _EFFECTS[taint["effect"]]
        if taint is QUEUED_TAINT:
            out.append({"key": taint["key"], "operator": "Equal", "value": taint["value"],
                        "effect": effect})
        else:
            out.append({"key": taint["key"], "operator": "Exists", "effect": effect})
    return out


def _one_reservation(reservation: str | list[str] | None) -> str | None:
    if isinstance(reservation, list):
        reservation = reservation[0] if reservation else None
    return reservation.strip() if reservation is not None else None


def _capacity_problems(capacity: str, reservation: object, min_nodes: int, auto_repair: bool,
                       placement: str, zones: list[str] | None, upgrade: str,
                       min_field: Loc = ("autoscaling", "min_nodes")) -> list[Problem]:
    """The capacity rules GPU and TPU pools share; `min_field` is the pool's own key for its
    minimum node count."""
    problems = []
    if reservation is not None and capacity != "reservation":
        why = {"spot": "spot VMs cannot consume a reservation",
               "queued": "queued provisioning (DWS) obtains its own capacity and takes no reservation",
               "flex_start": "flex-start (DWS) obtains its own capacity and takes no reservation"}
        problems.append(Problem(("reservation",), f"set with capacity {capacity}; "
                                + why.get(capacity, "use capacity: reservation to consume one")))
    if capacity == "reservation":
        names = [reservation] if isinstance(reservation, str) else list(reservation or [])
        if len(names) != 1 or not str(names[0]).strip():
            problems.append(Problem(("reservation",), "a specific reservation names exactly one "
                                    f"non-empty reservation, got {reservation!r}"))
    if capacity == "queued" and min_nodes != 0:
        problems.append(Problem(min_field, f"{min_nodes}; queued provisioning scales from 0 "
                                "(nodes come only when a ProvisioningRequest is admitted)"))
    if capacity == "flex_start" and auto_repair:
        problems.append(Problem(("auto_repair",), "flex-start nodes cannot be repaired in "
                                "place; set auto_repair: false"))
    if placement == "compact":
        if zones is None or len(zones) != 1:
            problems.append(Problem(("zones",), "compact placement keeps nodes in one zone; "
                                    f"give exactly one zone, got {zones!r}"))
        if upgrade == "blue_green":
            problems.append(Problem(("upgrade",), "blue_green doubles the nodes, which a "
                                    "compact placement policy cannot hold; use surge"))
    return problems


def _boot_disk_problems(machine_type: str, boot_disk_type: str | None) -> list[Problem]:
    """A boot disk type the machine type cannot boot from (catalog: `boot_disk_rule`)."""
    rule = boot_disk_rule(machine_type)
    if boot_disk_type is None or rule is None or boot_disk_type in rule[0]:
        return []
    types, source = rule
    return [Problem(("boot_disk_type",), (
        f"{boot_disk_type!r}: {machine_type} boots only from {', '.join(types)} "
        f"({source.url}); remove boot_disk_type (aidc picks {types[0]}) or set it to one of "
        "those"))]


def _dws_placement_problems(capacity: str, placement: str, machine_type: str) -> list[Problem]:
    """Dynamic Workload Scheduler capacity that GKE refuses with a COMPACT placement policy on
    this GPU machine type (catalog: `FLEX_START_COMPACT`, `QUEUED_COMPACT_SOURCE`)."""
    if placement != "compact":
        return []
    if capacity == "queued":
        return [Problem(("placement",), (
            f"compact placement with capacity queued: GKE refuses a COMPACT placement policy on "
            f"a queued-provisioning GPU pool ({QUEUED_COMPACT_SOURCE.url}); use placement: none "
            "(queued provisioning already places the whole request together) or another "
            "capacity"))]
    if capacity == "flex_start" and not FLEX_START_COMPACT.covers(machine_type):
        return [Problem(("placement",), (
            f"compact placement with capacity flex_start is supported only on "
            f"{', '.join(p.rstrip('-') for p in FLEX_START_COMPACT.prefixes)} machine types, "
            f"not {machine_type} ({FLEX_START_COMPACT.source.url}); use placement: none or "
            "another capacity"))]
    return []


def gpu_pool_problems(pool: GpuPoolConfig) -> list[Problem]:
    """Every rule this pool breaks; empty when GKE can create it."""
    try:
        gpu = pool.resolved()
    except AidcError as exc:
        return list(exc.problems)
    problems = _capacity_problems(pool.capacity, pool.reservation, pool.autoscaling.min_nodes,
                                  pool.auto_repair, pool.placement, pool.zones, pool.upgrade)
    problems += [p.under(("autoscaling",)) for p in min_max_problems(
        pool.autoscaling.min_nodes, pool.autoscaling.max_nodes)]
    if pool.gpudirect and gpu.profile is None:
        problems.append(Problem(("gpudirect",), (
            f"{gpu.machine_type} has no GPUDirect networking (TCPX: a3-highgpu-8g; TCPXO: "
            "a3-megagpu-8g; RDMA: a3-ultragpu-8g, a4-highgpu-8g)")))
    problems += _boot_disk_problems(gpu.machine_type, pool.boot_disk_type)
    problems += _dws_placement_problems(pool.capacity, pool.placement, gpu.machine_type)
    ssd = pool.local_ssd
    if ssd.ephemeral_count and ssd.raw_block_count:
        problems.append(Problem(("local_ssd",), (
            "ephemeral_count and raw_block_count exclude each other; a Local SSD is either the "
            "node's ephemeral storage or a raw NVMe device")))
    asked = ssd.ephemeral_count or ssd.raw_block_count
    if gpu.local_ssd_count and asked and asked != gpu.local_ssd_count:
        problems.append(Problem(("local_ssd",), (
            f"{gpu.machine_type} bundles exactly {gpu.local_ssd_count} Local SSDs; use that count")))
    return problems


class TpuPoolConfig(CapacityChoice):
    """TPU slices: one node pool per slice, sized by the topology."""

    generation: str = Field(description="TPU generation, e.g. v5e, v5p, v6e (`aidc catalog tpu`).")
    topology: str = Field(description="Slice topology the generation offers, e.g. 4x4 or 4x4x4.")
    machine_type: str | None = Field(None, description="Pick between documented alternatives.")
    slices: int = Field(1, ge=1, le=64, description="Identical slices, one node pool each.")
    zone: str | None = Field(None, description="The slice's zone; default the stack's first.")
    max_nodes: int | None = Field(
        None, ge=1, description="Multi-host: must equal the slice's node count (GKE scales a slice "
                          "atomically); single-host: the autoscaling ceiling.")
    min_nodes: int = Field(0, ge=0, description="Autoscaling floor; default 0.")
    auto_repair: bool = Field(True, description="GKE recreates unhealthy nodes (CIS GKE 5.5.2).")
    boot_disk_type: str | None = Field(
        None, description="Default: what the generation's VMs boot from (hyperdisk-balanced for "
                          "v6e and TPU7x, see `aidc catalog tpu`), else GKE's pd-balanced.")
    labels: Labels = Field(default_factory=dict, description="Extra GCP labels on the nodes; "
                                                             "merged over the stack's labels.")

    def slice(self) -> TpuSlice:
        return tpu_slice(self.generation, self.topology, self.machine_type)

    @model_validator(mode="after")
    def _rules(self) -> TpuPoolConfig:
        tpu = self.slice()
        problems = _capacity_problems(self.capacity, self.reservation, self.min_nodes,
                                      self.auto_repair, "compact" if tpu.multi_host else "none",
                                      [self.zone or "-"], "surge", min_field=("min_nodes",))
        if tpu.multi_host and self.max_nodes is not None and self.max_nodes != tpu.hosts:
            problems.append(Problem(("max_nodes",), (
                f"{self.max_nodes}; a multi-host {self.generation} {self.topology} slice is "
                f"exactly {tpu.hosts} nodes, so per-zone limits must equal {tpu.hosts}")))
        if tpu.multi_host and self.min_nodes not in (0, tpu.hosts):
            problems.append(Problem(("min_nodes",), (
                f"{self.min_nodes}; a multi-host slice is 0 or {tpu.hosts} nodes, never part of one")))
        if not tpu.multi_host:
            problems += min_max_problems(self.min_nodes, self.max_nodes or 1,
                                         "" if self.max_nodes else " (the default)")
        problems += _boot_disk_problems(tpu.machine_type, self.boot_disk_type)
        raise_problems(problems)
        return self

    @property
    def disk_type(self) -> str:
        return self.boot_disk_type or default_boot_disk_type(self.slice().machine_type)

    @property
    def node_taints(self) -> list[dict[str, str]]:
        """The TPU taint, so only pods that tolerate it land on TPU nodes (the GPU pools' taint,
        mirrored), and the queued one on DWS queued-provisioning pools."""
        return [TPU_TAINT, QUEUED_TAINT] if self.capacity == "queued" else [TPU_TAINT]

    @property
    def tolerations(self) -> list[dict[str, str]]:
        """What a workload tolerates to land on the slice (Kubernetes spelling of node_taints)."""
        return tolerations_for(self.node_taints)

    @property
    def nodes_per_slice(self) -> int:
        return self.slice().hosts

    @property
    def max_nodes_per_slice(self) -> int:
        tpu = self.slice()
        return tpu.hosts if tpu.multi_host else (self.max_nodes or 1)
