"""GPU machine types, attachable GPUs and GPUDirect profiles, as GKE node pools need them.

A GKE GPU node pool is one of two things, and config validation must tell them apart:

* an accelerator-optimized machine type (A2, A3, A4, G2) whose GPUs come built in: the machine
  type fixes the GPU model and count, so an accelerator in the config can only repeat it;
* an N1 machine type with GPUs attached: the config must name the accelerator and a count, and
  Google caps the vCPUs and memory of the N1 VM per GPU count.

The fastest machine types also need a GPUDirect networking profile (TCPX, TCPXO or RDMA): extra
VPCs, extra NICs, a jumbo MTU and a minimum GKE patch version. The network and node-pool
components read those figures from here instead of repeating them.

Every figure group carries the Google page it was read from. Totals that Google prints per VM
(GPU memory, Local SSD GiB, NIC counts) are derived from per-GPU, per-disk and per-NIC facts, so
each fact is written once; the tests compare the derived totals with Google's tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Iterable, Mapping

from infra.catalog.source import Source
from infra.gcp.gke_versions import meets_min_gke_version, parse_gke_version
from infra.errors import AidcError, CatalogLookupError

AS_OF = date(2026, 11, 29)

GPUS_URL = "https://cloud.google.com/compute/docs/gpus"
ACCELERATOR_OPTIMIZED_URL = "https://cloud.google.com/compute/docs/accelerator-optimized-machines"
GENERAL_PURPOSE_URL = "https://cloud.google.com/compute/docs/general-purpose-machines"
GKE_GPUS_URL = "https://cloud.google.com/kubernetes-engine/docs/how-to/gpus"
GKE_GPUDIRECT_TCPX_URL = (
    "https://cloud.google.com/kubernetes-engine/docs/how-to/gpu-bandwidth-gpudirect-tcpx"
)
AI_HYPERCOMPUTER_GKE_URL = (
    "https://cloud.google.com/ai-hypercomputer/docs/create/gke-ai-hypercompute"
)
AI_HYPERCOMPUTER_GKE_CUSTOM_URL = (
    "https://cloud.google.com/ai-hypercomputer/docs/create/gke-ai-hypercompute-custom"
)
RDMA_NETWORK_PROFILES_URL = "https://cloud.google.com/vpc/docs/rdma-network-profiles"
# The extended resource GKE's NVIDIA device plugin advertises on GPU nodes; pods request GPUs,
# and quotas count them, in it. https://cloud.google.com/kubernetes-engine/docs/how-to/gpus
GPU_RESOURCE = "nvidia.com/gpu"

LOCAL_SSD_DISK_GIB = 375
"""Every Local SSD disk is 375 GiB; Google's tables print the total per VM."""


# --- GPU models -----------------------------------------------------------------------------


@dataclass(frozen=True)
class GpuModel:
    """One GPU model, named as GKE's ``--accelerator type=`` spells it."""

    accelerator_type: str
    name: str
    memory_gb: int
    memory_kind: str
    source: Source


def _model(accelerator_type: str, name: str, memory_gb: int, memory_kind: str) -> GpuModel:
    return GpuModel(
        accelerator_type,
        name,
        memory_gb,
        memory_kind,
        Source(GPUS_URL, AS_OF, "GPU models table: model, API name and GPU memory per GPU"),
    )


GPU_MODELS: Mapping[str, GpuModel] = MappingProxyType(
    {
        model.accelerator_type: model
        for model in (
            _model("nvidia-b200", "NVIDIA B200", 180, "HBM3e"),
            _model("nvidia-h200-141gb", "NVIDIA H200 SXM", 141, "HBM3e"),
            _model("nvidia-h100-mega-80gb", "NVIDIA H100 80GB Mega", 80, "HBM3"),
            _model("nvidia-h100-80gb", "NVIDIA H100 80GB", 80, "HBM3"),
            _model("nvidia-a100-80gb", "NVIDIA A100 80GB", 80, "HBM2e"),
            _model("nvidia-tesla-a100", "NVIDIA A100 40GB", 40, "HBM2"),
            _model("nvidia-l4", "NVIDIA L4", 24, "GDDR6"),
            _model("nvidia-tesla-t4", "NVIDIA T4", 16, "GDDR6"),
            _model("nvidia-tesla-v100", "NVIDIA V100", 16, "HBM2"),
            _model("nvidia-tesla-p100", "NVIDIA P100", 16, "HBM2"),
            _model("nvidia-tesla-p4", "NVIDIA P4", 8, "GDDR5"),
        )
    }
)
"""GPU models by GKE accelerator type. Total GPU memory per VM is derived from these."""


# --- GPUDirect profiles ---------------------------------------------------------------------


@dataclass(frozen=True)
class GpuDirectProfile:
    """The networking a GPUDirect flavour needs on a node pool, as GKE's setup pages build it.

    ``gpu_nics`` carry GPU-to-GPU traffic and attach to ``gpu_vpcs`` VPC networks through
    ``gpu_subnets`` subnets (TCPX and TCPXO: one VPC and subnet per NIC; RDMA: one RoCE VPC with
    one subnet per NIC). ``extra_gvnic_vpcs`` are further ordinary gVNIC networks (RDMA: one, for
    the second Titanium NIC). The node's primary NIC stays on the cluster's own VPC.
    ``min_gke_versions`` holds one minimum patch per minor; see ``meets_min_gke_version``.
    """

    name: str
    title: str
    gpu_nics: int
    gpu_vpcs: int
    gpu_subnets: int
    extra_gvnic_vpcs: int
    mtu: int
    roce: bool
    min_gke_versions: tuple[str, ...]
    source: Source

    def __post_init__(self) -> None:
        for version in self.min_gke_versions:
            parse_gke_version(version)

    @property
    def extra_vpcs(self) -> int:
        """VPC networks to create besides the cluster's own."""
        return self.gpu_vpcs + self.extra_gvnic_vpcs

    @property
    def extra_nics(self) -> int:
        """Additional node networks (``--additional-node-network``) beyond the primary NIC."""
        return self.gpu_nics + self.extra_gvnic_vpcs

    @property
    def nics(self) -> int:
        """Network interfaces per node, the primary one included."""
        return 1 + self.extra_nics


GPUDIRECT_PROFILES: Mapping[str, GpuDirectProfile] = MappingProxyType(
    {
        profile.name: profile
        for profile in (
            GpuDirectProfile(
                name="tcpx",
                title="GPUDirect-TCPX",
                gpu_nics=4,
                gpu_vpcs=4,
                gpu_subnets=4,
                extra_gvnic_vpcs=0,
                mtu=8244,
                roce=False,
                min_gke_versions=(
                    "1.27.7-gke.1121000",
                    "1.28.8-gke.1095000",
                    "1.29.3-gke.1093000",
                    "1.30.2-gke.1023000",
                ),
                source=Source(
                    GKE_GPUDIRECT_TCPX_URL,
                    AS_OF,
                    "A3 High (a3-highgpu-8g): four secondary NICs, one VPC and subnet each "
                    "created with --mtu=8244; requirements list the minimum patch per minor",
                ),
            ),
            GpuDirectProfile(
                name="tcpxo",
                title="GPUDirect-TCPXO",
                gpu_nics=8,
                gpu_vpcs=8,
                gpu_subnets=8,
                extra_gvnic_vpcs=0,
                mtu=8244,
                roce=False,
                min_gke_versions=(
                    "1.28.9-gke.1250000",
                    "1.29.4-gke.1542000",
                    "1.30.4-gke.1129000",
                    "1.31.1-gke.2008000",
                    "1.32.2-gke.1489001",
                ),
                source=Source(
                    GKE_GPUDIRECT_TCPX_URL,
                    AS_OF,
                    "A3 Mega (a3-megagpu-8g): eight secondary NICs, one VPC and subnet each "
                    "created with --mtu=8244; requirements list the minimum patch per minor",
                ),
            ),
            GpuDirectProfile(
                name="rdma",
                title="GPUDirect RDMA (RoCE)",
                gpu_nics=8,
                gpu_vpcs=1,
                gpu_subnets=8,
                extra_gvnic_vpcs=1,
                mtu=8896,
                roce=True,
                min_gke_versions=("1.31.4-gke.1183000",),
                source=Source(
                    AI_HYPERCOMPUTER_GKE_CUSTOM_URL,
                    AS_OF,
                    "A3 Ultra and A4: one extra gVNIC VPC plus one VPC with the ZONE-vpc-roce "
                    "network profile holding eight subnets, one per GPU NIC; MTU 8896 is the "
                    f"RoCE VPC's default and recommended MTU ({RDMA_NETWORK_PROFILES_URL}); "
                    f"minimum 1.31.4-gke.1183000 is A3 Ultra's ({AI_HYPERCOMPUTER_GKE_URL}), "
                    "A4's higher floor is on the a4-highgpu-8g record; COS node images only",
                ),
            ),
        )
    }
)
"""GPUDirect profiles by name; a GPU machine type names the one it needs."""


# --- Accelerator-optimized machine types ----------------------------------------------------


@dataclass(frozen=True)
class GpuMachine:
    """An accelerator-optimized machine type: its GPUs are built in and fixed.

    ``local_ssd_count`` counts the 375 GiB Local SSD disks bundled with the machine type (zero
    where Local SSD is optional). ``min_gke_versions`` is the machine type's own floor;
    ``gpudirect_min_gke_versions``, where set, replaces the profile's floor for this machine
    type (A4 needs a later patch for RDMA than A3 Ultra does).
    """

    machine_type: str
    series: str
    accelerator_type: str
    accelerator_count: int
    vcpus: int
    memory_gb: int
    local_ssd_count: int
    gpudirect: str | None
    source: Source
    min_gke_versions: tuple[str, ...] = ()
    gpudirect_min_gke_versions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.accelerator_type not in GPU_MODELS:
            raise ValueError(f"{self.machine_type}: unknown GPU model {self.accelerator_type}")
        if self.gpudirect is not None and self.gpudirect not in GPUDIRECT_PROFILES:
            raise ValueError(f"{self.machine_type}: unknown GPUDirect profile {self.gpudirect}")
        for version in self.min_gke_versions + self.gpudirect_min_gke_versions:
            parse_gke_version(version)

    @property
    def gpu(self) -> GpuModel:
        """The GPU model this machine type carries."""
        return GPU_MODELS[self.accelerator_type]

    @property
    def gpu_memory_gb_per_gpu(self) -> int:
        """GPU memory of one GPU."""
        return self.gpu.memory_gb

    @property
    def gpu_memory_gb(self) -> int:
        """GPU memory of the whole VM, the figure Google's machine-type tables print."""
        return self.accelerator_count * self.gpu.memory_gb

    @property
    def local_ssd_gib(self) -> int:
        """Bundled Local SSD capacity of the VM."""
        return self.local_ssd_count * LOCAL_SSD_DISK_GIB

    @property
    def profile(self) -> GpuDirectProfile | None:
        """The GPUDirect profile record, or None where the machine type needs none."""
        return None if self.gpudirect is None else GPUDIRECT_PROFILES[self.gpudirect]


_VERSION_FLOORS: Mapping[str, Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        # AI Hypercomputer GKE requirements: A4 runs from 1.32.1-gke.1729000 (its R570
        # driver) and needs 1.32.2-gke.1475000 for GPUDirect RDMA.
        "a4-highgpu-8g": {
            "min_gke_versions": ("1.32.1-gke.1729000",),
            "gpudirect_min_gke_versions": ("1.32.2-gke.1475000",),
        },
    }
)


def _series(
    series: str, accelerator_type: str, note: str, *rows: tuple[str, int, int, int, int, str | None]
) -> tuple[GpuMachine, ...]:
    """One table of Google's GPU page: the series and its GPU once, then one row per type.

    A row is (machine type, GPUs, vCPUs, memory GB, bundled Local SSD disks, GPUDirect).
    """
    source = Source(GPUS_URL, AS_OF, note)
    return tuple(
        GpuMachine(
            name, series, accelerator_type, count, vcpus, memory_gb, ssd_disks, gpudirect, source,
            **_VERSION_FLOORS.get(name, {}),
        )
        for name, count, vcpus, memory_gb, ssd_disks, gpudirect in rows
    )


_TABLE = "GPU count, GPU memory, vCPUs, memory"
GPU_MACHINES: Mapping[str, GpuMachine] = MappingProxyType(
    {
        machine.machine_type: machine
        for machine in (
            *_series(
                "A4", "nvidia-b200", f"A4 table: {_TABLE}, attached Local SSD",
                ("a4-highgpu-8g", 8, 224, 3968, 32, "rdma"),
            ),
            *_series(
                "A3 Ultra", "nvidia-h200-141gb", f"A3 Ultra table: {_TABLE}, attached Local SSD",
                ("a3-ultragpu-8g", 8, 224, 2952, 32, "rdma"),
            ),
            *_series(
                "A3 Mega", "nvidia-h100-mega-80gb", f"A3 Mega table: {_TABLE}, attached Local SSD",
                ("a3-megagpu-8g", 8, 208, 1872, 16, "tcpxo"),
            ),
            # Only the 8-GPU A3 High shape has the secondary NICs GPUDirect-TCPX uses.
            *_series(
                "A3 High", "nvidia-h100-80gb", f"A3 High table: {_TABLE}, attached Local SSD",
                ("a3-highgpu-1g", 1, 26, 234, 2, None),
                ("a3-highgpu-2g", 2, 52, 468, 4, None),
                ("a3-highgpu-4g", 4, 104, 936, 8, None),
                ("a3-highgpu-8g", 8, 208, 1872, 16, "tcpx"),
            ),
            *_series(
                "A2 Ultra", "nvidia-a100-80gb", f"A2 Ultra table: {_TABLE}, attached Local SSD",
                ("a2-ultragpu-1g", 1, 12, 170, 1, None),
                ("a2-ultragpu-2g", 2, 24, 340, 2, None),
                ("a2-ultragpu-4g", 4, 48, 680, 4, None),
                ("a2-ultragpu-8g", 8, 96, 1360, 8, None),
            ),
            *_series(
                "A2 Standard", "nvidia-tesla-a100",
                f"A2 Standard table: {_TABLE}; Local SSD supported, not bundled",
                ("a2-highgpu-1g", 1, 12, 85, 0, None),
                ("a2-highgpu-2g", 2, 24, 170, 0, None),
                ("a2-highgpu-4g", 4, 48, 340, 0, None),
                ("a2-highgpu-8g", 8, 96, 680, 0, None),
                ("a2-megagpu-16g", 16, 96, 1360, 0, None),
            ),
            *_series(
                "G2", "nvidia-l4", f"G2 table: {_TABLE}; Local SSD optional, not bundled",
                ("g2-standard-4", 1, 4, 16, 0, None),
                ("g2-standard-8", 1, 8, 32, 0, None),
                ("g2-standard-12", 1, 12, 48, 0, None),
                ("g2-standard-16", 1, 16, 64, 0, None),
                ("g2-standard-24", 2, 24, 96, 0, None),
                ("g2-standard-32", 1, 32, 128, 0, None),
                ("g2-standard-48", 4, 48, 192, 0, None),
                ("g2-standard-96", 8, 96, 384, 0, None),
            ),
        )
    }
)
"""Accelerator-optimized machine types by name."""


# --- N1 with attached GPUs ------------------------------------------------------------------


@dataclass(frozen=True)
class N1Limit:
    """For one GPU count: the largest N1 VM (vCPUs, memory) Google lets those GPUs attach to."""

    accelerator_count: int
    max_vcpus: int
    max_memory_gb: float


@dataclass(frozen=True)
class AttachableGpu:
    """A GPU model that attaches to N1 machine types, with the counts Google allows."""

    accelerator_type: str
    limits: tuple[N1Limit, ...]
    source: Source

    @property
    def gpu(self) -> GpuModel:
        """The GPU model record."""
        return GPU_MODELS[self.accelerator_type]

    @property
    def allowed_counts(self) -> tuple[int, ...]:
        """GPU counts an N1 VM may carry."""
        return tuple(limit.accelerator_count for limit in self.limits)

    def limit(self, accelerator_count: int) -> N1Limit:
        """The vCPU and memory ceiling for ``accelerator_count`` GPUs."""
        for limit in self.limits:
            if limit.accelerator_count == accelerator_count:
                return limit
        raise AidcError(
            f"{self.accelerator_type} attaches to N1 machine types in counts "
            f"{_join(self.allowed_counts)}; config asks {accelerator_count}", field="accelerator_count"
        )


def _attachable(accelerator_type: str, note: str, *limits: tuple[int, int, float]) -> AttachableGpu:
    return AttachableGpu(
        accelerator_type,
        tuple(N1Limit(count, vcpus, memory) for count, vcpus, memory in limits),
        Source(GPUS_URL, AS_OF, note),
    )


N1_ATTACHABLE: Mapping[str, AttachableGpu] = MappingProxyType(
    {
        gpu.accelerator_type: gpu
        for gpu in (
            _attachable(
                "nvidia-tesla-t4",
                "N1 table, T4 rows: GPU count, available vCPUs, available memory",
                (1, 48, 312), (2, 48, 312), (4, 96, 624),
            ),
            _attachable(
                "nvidia-tesla-v100",
                "N1 table, V100 rows: GPU count, available vCPUs, available memory",
                (1, 12, 78), (2, 24, 156), (4, 48, 312), (8, 96, 624),
            ),
            _attachable(
                "nvidia-tesla-p100",
                "N1 table, P100 rows: GPU count, available vCPUs, available memory; with 4 GPUs "
                "the ceiling is 96 vCPUs / 624 GB except in us-east1-c, europe-west1-b and "
                "europe-west1-d (64 vCPUs / 208 GB); the catalog is zone-agnostic and keeps the "
                "general ceiling",
                (1, 16, 104), (2, 32, 208), (4, 96, 624),
            ),
            _attachable(
                "nvidia-tesla-p4",
                "N1 table, P4 rows: GPU count, available vCPUs, available memory",
                (1, 24, 156), (2, 48, 312), (4, 96, 624),
            ),
        )
    }
)
"""GPUs that attach to N1 machine types, by GKE accelerator type."""


@dataclass(frozen=True)
class N1Shape:
    """The vCPUs and memory of one N1 machine type, predefined or custom."""

    machine_type: str
    vcpus: int
    memory_gb: float
    source: Source


_N1_SOURCE = Source(
    GENERAL_PURPOSE_URL,
    AS_OF,
    "N1 predefined types: standard 3.75 GB, highmem 6.5 GB, highcpu 0.9 GB per vCPU; "
    "custom types are n1-custom-VCPUS-MEMORY_MB",
)
_N1_PREDEFINED: Mapping[str, tuple[float, tuple[int, ...]]] = MappingProxyType(
    {
        "standard": (3.75, (1, 2, 4, 8, 16, 32, 64, 96)),
        "highmem": (6.5, (2, 4, 8, 16, 32, 64, 96)),
        "highcpu": (0.9, (2, 4, 8, 16, 32, 64, 96)),
    }
)
_N1_PREDEFINED_NAME = re.compile(r"n1-(standard|highmem|highcpu)-(\d+)")
_N1_CUSTOM_NAME = re.compile(r"n1-custom-(\d+)-(\d+)")


def is_n1(machine_type: str) -> bool:
    """Whether ``machine_type`` is in the N1 series, the one that takes attached GPUs."""
    return machine_type.startswith("n1-")


def n1_shape(machine_type: str) -> N1Shape:
    """vCPUs and memory of an N1 machine type, to check them against a GPU count's ceiling."""
    predefined = _N1_PREDEFINED_NAME.fullmatch(machine_type)
    if predefined is not None:
        family, vcpus_text = predefined.groups()
        memory_per_vcpu, sizes = _N1_PREDEFINED[family]
        vcpus = int(vcpus_text)
        if vcpus in sizes:
            return N1Shape(machine_type, vcpus, round(vcpus * memory_per_vcpu, 2), _N1_SOURCE)
    custom = _N1_CUSTOM_NAME.fullmatch(machine_type)
    if custom is not None:
        vcpus, memory_mb = (int(part) for part in custom.groups())
        return N1Shape(machine_type, vcpus, memory_mb / 1024, _N1_SOURCE)
    shapes = "; ".join(
        f"n1-{family}-{{{','.join(str(size) for size in sizes)}}}"
        for family, (_, sizes) in _N1_PREDEFINED.items()
    )
    raise CatalogLookupError(
        f"{machine_type!r} is not an N1 machine type; N1 types are {shapes}, "
        "or n1-custom-VCPUS-MEMORY_MB", field="machine_type"
    )


# --- Machine-type rules the APIs enforce -----------------------------------------------------

COMPUTE_DISKS_URL = "https://cloud.google.com/compute/docs/disks#disk-types"
CLUSTER_TOOLKIT_NODE_POOL = (
    "https://github.com/GoogleCloudPlatform/cluster-toolkit/blob/"
    "1047080375afbb44da4b596be314634e7486af4a/modules/compute/gke-node-pool/main.tf")


@dataclass(frozen=True)
class MachineRule:
    """A rule that holds for every machine type starting with one of ``prefixes``."""

    prefixes: tuple[str, ...]
    source: Source

    def covers(self, machine_type: str) -> bool:
        return machine_type.startswith(self.prefixes)


HYPERDISK_BOOT = MachineRule(
    ("a3-ultragpu-", "a4-"),
    Source(COMPUTE_DISKS_URL, AS_OF,
           "disk types per machine series: A3 Ultra and A4 attach Hyperdisk only (boot disk "
           "included); Persistent Disk is not supported"),
)
"""GPU machine types whose boot disk must be Hyperdisk (hyperdisk-balanced in GKE)."""

FLEX_START_COMPACT = MachineRule(
    ("a3-ultragpu-", "a4-", "h4d-"),
    Source(CLUSTER_TOOLKIT_NODE_POOL, AS_OF,
           "node pool preconditions: 'Compact placement with DWS Flex start is only supported "
           "for A3 Ultra, A4, and H4D machine types'"),
)
"""Machine types on which a flex-start (DWS) node pool may take a COMPACT placement policy."""

QUEUED_COMPACT_SOURCE = Source(
    CLUSTER_TOOLKIT_NODE_POOL, AS_OF,
    "node pool preconditions: 'placement_policy cannot be COMPACT when "
    "enable_queued_provisioning is true, unless using TPUs'; queued provisioning needs "
    "reservation affinity NO_RESERVATION")
"""Queued provisioning (DWS) takes no COMPACT placement on GPU machine types."""


# --- Lookups --------------------------------------------------------------------------------


def _join(items: Iterable[object]) -> str:
    return ", ".join(str(item) for item in items)


def gpu_machine(machine_type: str) -> GpuMachine:
    """The accelerator-optimized machine type ``machine_type``; a miss lists what exists.

    N1 machine types are not in this table on purpose: their GPUs are attached, not built in, so
    only ``resolve_gpu`` with an explicit accelerator can describe one.
    """
    try:
        return GPU_MACHINES[machine_type]
    except KeyError:
        pass
    if is_n1(machine_type):
        raise CatalogLookupError(
            f"{machine_type!r} is an N1 machine type with no GPU of its own; give "
            f"accelerator_type ({_join(N1_ATTACHABLE)}) and accelerator_count to attach GPUs", field="machine_type"
        )
    raise CatalogLookupError(
        f"{machine_type!r} is not a GPU machine type; GPU machine types are "
        f"{_join(GPU_MACHINES)}, or an n1-* type with an attached GPU", field="machine_type"
    )


def supports_gpudirect(machine_type: str) -> bool:
    """Whether the machine type has a GPUDirect profile; N1 and non-GPU types have none."""
    machine = GPU_MACHINES.get(machine_type)
    return machine is not None and machine.gpudirect is not None


def gpudirect_profile(name: str) -> GpuDirectProfile:
    """The GPUDirect profile ``name``; a miss lists the profiles."""
    try:
        return GPUDIRECT_PROFILES[name]
    except KeyError:
        raise CatalogLookupError(
            f"GPUDirect profile {name!r} does not exist; profiles are {_join(GPUDIRECT_PROFILES)}"
        ) from None


def min_gke_version_ok(profile: GpuDirectProfile | str, version: str) -> bool:
    """Whether GKE ``version`` is new enough for a GPUDirect profile.

    The rule is ``meets_min_gke_version``: the version must reach the listed minimum patch of its
    own minor; minors older than every listed one fail; newer minors pass. A machine type may add
    a later floor of its own; ``ResolvedGpu.gke_version_ok`` applies both.
    """
    record = gpudirect_profile(profile) if isinstance(profile, str) else profile
    return meets_min_gke_version(record.min_gke_versions, version)


# --- Resolution for node pools --------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedGpu:
    """What a GPU node pool runs: machine type, GPUs, GPUDirect profile and version floors."""

    machine_type: str
    accelerator_type: str
    accelerator_count: int
    gpu_memory_gb: int
    gpudirect: str | None
    local_ssd_count: int
    profile: GpuDirectProfile | None
    min_gke_versions: tuple[str, ...] = ()
    gpudirect_min_gke_versions: tuple[str, ...] = ()

    def gke_version_ok(self, version: str) -> bool:
        """Whether GKE ``version`` meets the machine type's floor and its GPUDirect floor."""
        if not meets_min_gke_version(self.min_gke_versions, version):
            return False
        if self.profile is None:
            return True
        floors = self.gpudirect_min_gke_versions or self.profile.min_gke_versions
        return meets_min_gke_version(floors, version)


def _resolved(machine: GpuMachine) -> ResolvedGpu:
    return ResolvedGpu(
        machine_type=machine.machine_type,
        accelerator_type=machine.accelerator_type,
        accelerator_count=machine.accelerator_count,
        gpu_memory_gb=machine.gpu_memory_gb,
        gpudirect=machine.gpudirect,
        local_ssd_count=machine.local_ssd_count,
        profile=machine.profile,
        min_gke_versions=machine.min_gke_versions,
        gpudirect_min_gke_versions=machine.gpudirect_min_gke_versions,
    )


def _families() -> list[str]:
    return sorted({f"{name.split('-')[0]}-*" for name in GPU_MACHINES})


def _machines_carrying(accelerator_type: str) -> list[GpuMachine]:
    return [m for m in GPU_MACHINES.values() if m.accelerator_type == accelerator_type]


def _resolve_fixed(
    machine: GpuMachine, accelerator_type: str | None, accelerator_count: int | None
) -> ResolvedGpu:
    carries = f"{machine.accelerator_count} x {machine.accelerator_type}"
    if accelerator_type is not None and accelerator_type != machine.accelerator_type:
        hint = (
            f"; {accelerator_type} attaches to N1 machine types only"
            if accelerator_type in N1_ATTACHABLE
            else ""
        )
        raise AidcError(
            f"{machine.machine_type!r} carries {carries}, "
            f"config asks {accelerator_type}{hint}", field="accelerator_type"
        )
    if accelerator_count is not None and accelerator_count != machine.accelerator_count:
        alternatives = [
            m.machine_type
            for m in _machines_carrying(machine.accelerator_type)
            if m.accelerator_count == accelerator_count
        ]
        hint = f" (for {accelerator_count} use {_join(alternatives)})" if alternatives else ""
        raise AidcError(
            f"{machine.machine_type!r} carries {carries}, "
            f"config asks {accelerator_count}{hint}", field="machine_type"
        )
    return _resolved(machine)


def _resolve_by_accelerator(accelerator_type: str, accelerator_count: int | None) -> ResolvedGpu:
    if accelerator_type in N1_ATTACHABLE:
        counts = _join(N1_ATTACHABLE[accelerator_type].allowed_counts)
        raise AidcError(
            f"{accelerator_type} attaches to N1 machine types only; set "
            f"machine_type to an n1-* type (for example n1-standard-8) and accelerator_count "
            f"to one of {counts}", field="machine_type"
        )
    candidates = _machines_carrying(accelerator_type)
    counts = sorted({m.accelerator_count for m in candidates})
    if accelerator_count is None:
        raise AidcError(
            f"required when machine_type is not given; {accelerator_type} "
            f"comes in counts {_join(counts)}", field="accelerator_count"
        )
    matching = [m for m in candidates if m.accelerator_count == accelerator_count]
    if not matching:
        raise CatalogLookupError(
            f"no machine type carries {accelerator_count} x "
            f"{accelerator_type}; counts available are {_join(counts)}", field="accelerator_count"
        )
    # Several G2 types carry one L4: the smallest host is the least surprising default.
    return _resolved(min(matching, key=lambda m: (m.vcpus, m.memory_gb)))


def _resolve_n1(
    machine_type: str, accelerator_type: str | None, accelerator_count: int | None
) -> ResolvedGpu:
    shape = n1_shape(machine_type)
    if accelerator_type is None:
        raise AidcError(
            f"N1 machine type {machine_type!r} has no GPU of its own; give "
            f"accelerator_type (one of {_join(N1_ATTACHABLE)}) and accelerator_count", field="accelerator_type"
        )
    attachable = N1_ATTACHABLE.get(accelerator_type)
    if attachable is None:
        built_into = _join(m.machine_type for m in _machines_carrying(accelerator_type))
        raise AidcError(
            f"{accelerator_type} cannot attach to N1 machine type "
            f"{machine_type!r}; it comes built into {built_into}. N1 takes "
            f"{_join(N1_ATTACHABLE)}", field="accelerator_type"
        )
    if accelerator_count is None:
        raise AidcError(
            f"required with {accelerator_type} on {machine_type!r}; "
            f"allowed counts are {_join(attachable.allowed_counts)}", field="accelerator_count"
        )
    limit = attachable.limit(accelerator_count)
    if shape.vcpus > limit.max_vcpus or shape.memory_gb > limit.max_memory_gb:
        raise AidcError(
            f"{machine_type!r} has {shape.vcpus} vCPUs and {shape.memory_gb:g} GB; "
            f"with {accelerator_count} x {accelerator_type} Google allows at most "
            f"{limit.max_vcpus} vCPUs and {limit.max_memory_gb:g} GB", field="machine_type"
        )
    return ResolvedGpu(
        machine_type=machine_type,
        accelerator_type=accelerator_type,
        accelerator_count=accelerator_count,
        gpu_memory_gb=accelerator_count * attachable.gpu.memory_gb,
        gpudirect=None,
        local_ssd_count=0,
        profile=None,
    )


def resolve_gpu(
    *, machine_type: str | None, accelerator_type: str | None, accelerator_count: int | None
) -> ResolvedGpu:
    """Turn a node pool's GPU fields into one checked answer; the single entry for config.

    * A fixed machine type (A2/A3/A4/G2) decides everything; an accelerator given as well must
      repeat what it carries.
    * No machine type: the accelerator and count pick the machine type carrying exactly that
      (the smallest host when several do, so nvidia-l4 x 1 is g2-standard-4).
    * An N1 machine type needs an attachable accelerator, an allowed count, and must fit the
      vCPU and memory ceiling Google sets for that count.

    Errors start with the offending field, so config can prefix the node pool's path.
    """
    if accelerator_count is not None and accelerator_count < 1:
        raise AidcError(f"must be at least 1, got {accelerator_count}", field="accelerator_count")
    if accelerator_type is not None and accelerator_type not in GPU_MODELS:
        raise CatalogLookupError(
            f"{accelerator_type!r} is not a GPU model; accelerator types are "
            f"{_join(GPU_MODELS)}", field="accelerator_type"
        )
    if machine_type is None:
        if accelerator_type is None:
            raise AidcError(
                "give a GPU machine type, or accelerator_type and "
                "accelerator_count to pick one", field="machine_type"
            )
        return _resolve_by_accelerator(accelerator_type, accelerator_count)
    if machine_type in GPU_MACHINES:
        return _resolve_fixed(GPU_MACHINES[machine_type], accelerator_type, accelerator_count)
    if is_n1(machine_type):
        return _resolve_n1(machine_type, accelerator_type, accelerator_count)
    if accelerator_type is not None:
        raise AidcError(
            f"{machine_type!r} cannot take {accelerator_type}; GPUs attach "
            f"only to N1 machine types ({_join(N1_ATTACHABLE)}) or come built into "
            f"accelerator-optimized ones ({_join(_families())})", field="accelerator_type"
        )
    raise CatalogLookupError(
        f"{machine_type!r} carries no GPU; GPU machine types are "
        f"{_join(GPU_MACHINES)}, or an n1-* type with an attached GPU", field="machine_type"
    )


def gpu_catalog_rows() -> list[dict]:
    """Rows for ``aidc catalog gpu --json``: every fixed machine type, then N1 attachments.

    N1 rows use ``machine_type`` ``"n1-*"``: any N1 shape within the count's ceiling will do.
    """
    rows: list[dict] = [
        {
            "machine_type": machine.machine_type,
            "accelerator_type": machine.accelerator_type,
            "accelerator_count": machine.accelerator_count,
            "gpu_memory_gb": machine.gpu_memory_gb,
            "gpudirect": machine.gpudirect,
        }
        for machine in GPU_MACHINES.values()
    ]
    for attachable in N1_ATTACHABLE.values():
        for count in attachable.allowed_counts:
            rows.append(
                {
                    "machine_type": "n1-*",
                    "accelerator_type": attachable.accelerator_type,
                    "accelerator_count": count,
                    "gpu_memory_gb": count * attachable.gpu.memory_gb,
                    "gpudirect": None,
                }
            )
    return rows
