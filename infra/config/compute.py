"""Cluster and accelerator node-pool config, and the rules a pool must obey to exist.

Every cross-field rule here is one a GKE API call would otherwise reject halfway through a
`pulumi up` (or worse, accept and then never schedule a node). They are collected per pool and
raised together, each starting with the field it is about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Literal

from pydantic import Field, field_validator, model_validator

from infra.catalog.gpu import ResolvedGpu, resolve_gpu
from infra.gcp.gke_versions import parse_gke_version
from infra.gcp.netplan import SUBNET_RESERVED_ADDRESSES
from infra.catalog.tpu import TpuSlice, tpu_slice
from infra.config.base import Classification, Labels, Spec
from infra.errors import AidcError, Loc, Problem, raise_problems

_SECURITY_GROUP = re.compile(r"gke-security-groups@[a-z0-9-]+(\.[a-z0-9-]+)+")

Capacity = Literal["on_demand", "spot", "reservation", "queued", "flex_start"]
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}
# DWS queued provisioning: workloads select these nodes with this label; GKE sets it on nodes
# it creates for a ProvisioningRequest but not on the node pool template, so selectors and the
# scheduling contract need it declared.
# https://cloud.google.com/kubernetes-engine/docs/how-to/provisioningrequest
QUEUED_LABEL = ("cloud.google.com/gke-queued", "true")
QUEUED_TAINT = {"key": "cloud.google.com/gke-queued", "value": "true", "effect": "NO_SCHEDULE"}
# GKE taints every TPU node with google.com/tpu (NoSchedule) by itself; workloads that do not
# request chips stay off. https://cloud.google.com/kubernetes-engine/docs/how-to/tpus
TPU_TAINT_KEY = "google.com/tpu"
# Machine series that attach only Hyperdisk boot disks.
# https://cloud.google.com/compute/docs/disks#disk-types (A3 Ultra, A4 support Hyperdisk only)
HYPERDISK_ONLY_PREFIXES = ("a3-ultragpu", "a4-")


class Maintenance(Spec):
    """A recurring window (RFC 5545 RRULE) and named exclusions, e.g. around a launch."""

    start_time: str = Field("2026-01-03T03:00:00Z", description="First window start (RFC 3339).")
    end_time: str = Field("2026-01-03T11:00:00Z", description="First window end (RFC 3339).")
    recurrence: str = Field("FREQ=WEEKLY;BYDAY=SA,SU", description="RRULE for the window.")
    exclusions: dict[str, tuple[str, str]] = Field(
        default_factory=dict, description="name -> (start, end) RFC 3339; no upgrades inside.")


class SystemPool(Spec):
    machine_type: str = "e2-standard-4"
    min_nodes: int = Field(1, ge=1)
    max_nodes: int = Field(3, ge=1)


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
        False, description="Control plane reachable only from inside the VPC.")
    master_ipv4_cidr: IPv4Network = Field(
        IPv4Network("172.16.0.0/28"), description="The control plane's /28 (private clusters).")
    master_authorized_networks: dict[str, IPv4Network] = Field(
        default_factory=dict,
        description="name -> CIDR allowed to reach the control plane. 0.0.0.0/0 is refused.")
    maintenance: Maintenance = Field(default_factory=Maintenance)
    system_pool: SystemPool = Field(default_factory=SystemPool)
    binary_authorization: bool = Field(
        False, description="Enforce the project's Binary Authorization policy (CIS GKE 5.10.5).")
    security_group: str | None = Field(
        None, description="Google Groups for RBAC: gke-security-groups@<domain> (CIS GKE 5.8.3).")
    intranode_visibility: bool = Field(
        False, description="Send same-node pod traffic through the VPC, so flow logs and "
                           "firewall rules see it (CIS GKE 5.6.1).")
    classification: Classification = "confidential"

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
    raw_block_count: int | None = Field(None, ge=0)


class Autoscaling(Spec):
    min_nodes: int = Field(0, ge=0)
    max_nodes: int = Field(1, ge=1)


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

    machine_type: str | None = None
    accelerator_type: str | None = None
    accelerator_count: int | None = None
    placement: Literal["none", "compact"] = Field(
        "none", description="compact: a COMPACT placement policy, one zone (low latency).")
    zones: list[str] | None = Field(None, description="Node locations; default the stack's zones.")
    autoscaling: Autoscaling = Field(default_factory=Autoscaling)
    max_pods_per_node: int | None = Field(None, ge=8, le=256)
    gpudirect: bool | None = Field(
        None, description="Default: on when the machine type has a GPUDirect profile.")
    local_ssd: LocalSsd = Field(default_factory=LocalSsd)
    gpu_driver_version: Literal["DEFAULT", "LATEST", "INSTALLATION_DISABLED"] = Field(
        "LATEST", description="GKE installs the NVIDIA driver (INSTALLATION_DISABLED: you do).")
    auto_repair: bool = True
    upgrade: Literal["surge", "blue_green"] = Field(
        "surge", description="surge is max_surge 0 / max_unavailable 1: no spare GPUs needed.")
    boot_disk_size_gb: int = Field(200, ge=10)
    boot_disk_type: str | None = Field(None, description="Default: hyperdisk-balanced where the "
                                                         "machine type needs it, else pd-balanced.")
    labels: Labels = Field(default_factory=dict)

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
        machine = self.resolved().machine_type
        return "hyperdisk-balanced" if machine.startswith(HYPERDISK_ONLY_PREFIXES) else "pd-balanced"

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
        return _tolerations(GPU_TAINT["key"], self.capacity)


def _tolerations(accelerator_taint: str, capacity: Capacity) -> list[dict[str, str]]:
    """Tolerations of an accelerator pool's taints: the accelerator's, and on DWS queued pools
    the queued one."""
    out = [{"key": accelerator_taint, "operator": "Exists", "effect": "NoSchedule"}]
    if capacity == "queued":
        out.append({"key": QUEUED_TAINT["key"], "operator": "Equal",
                    "value": QUEUED_TAINT["value"], "effect": "NoSchedule"})
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


def gpu_pool_problems(pool: GpuPoolConfig) -> list[Problem]:
    """Every rule this pool breaks; empty when GKE can create it."""
    try:
        gpu = pool.resolved()
    except AidcError as exc:
        return list(exc.problems)
    problems = _capacity_problems(pool.capacity, pool.reservation, pool.autoscaling.min_nodes,
                                  pool.auto_repair, pool.placement, pool.zones, pool.upgrade)
    if pool.autoscaling.min_nodes > pool.autoscaling.max_nodes:
        problems.append(Problem(("autoscaling", "min_nodes"), f"{pool.autoscaling.min_nodes} "
                                f"exceeds max_nodes {pool.autoscaling.max_nodes}"))
    if pool.gpudirect and gpu.profile is None:
        problems.append(Problem(("gpudirect",), (
            f"{gpu.machine_type} has no GPUDirect networking (TCPX: a3-highgpu-8g; TCPXO: "
            "a3-megagpu-8g; RDMA: a3-ultragpu-8g, a4-highgpu-8g)")))
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

    generation: str
    topology: str
    machine_type: str | None = Field(None, description="Pick between documented alternatives.")
    slices: int = Field(1, ge=1, le=64)
    zone: str | None = Field(None, description="The slice's zone; default the stack's first.")
    max_nodes: int | None = Field(
        None, ge=1, description="Multi-host: must equal the slice's node count (GKE scales a slice "
                          "atomically); single-host: the autoscaling ceiling.")
    min_nodes: int = Field(0, ge=0)
    auto_repair: bool = True
    labels: Labels = Field(default_factory=dict)

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
        if not tpu.multi_host and self.min_nodes > (self.max_nodes or 1):
            problems.append(Problem(("min_nodes",), (
                f"{self.min_nodes} exceeds max_nodes {self.max_nodes or '1 (the default)'}; "
                "raise max_nodes or lower min_nodes")))
        raise_problems(problems)
        return self

    @property
    def nodes_per_slice(self) -> int:
        return self.slice().hosts

    @property
    def max_nodes_per_slice(self) -> int:
        tpu = self.slice()
        return tpu.hosts if tpu.multi_host else (self.max_nodes or 1)

    @property
    def tolerations(self) -> list[dict[str, str]]:
        """What a workload tolerates to land on the slice: GKE's TPU taint (and the queued one
        on DWS queued pools)."""
        return _tolerations(TPU_TAINT_KEY, self.capacity)
