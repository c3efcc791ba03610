"""TPU generations, their GKE machine types and the slice topologies GKE accepts.

A TPU node pool is one slice: a generation, a topology and a machine type. In GKE every VM is a
node, so a slice's node count is its chips divided by the chips of one VM: a v5e 4x4 slice is
four ct5lp-hightpu-4t nodes, not the two "hosts" of the Cloud TPU tables, which count 8-chip
hosts. A slice of one node is single-host; anything larger is a multi-host slice that GKE
creates, repairs and deletes as one unit.

Topologies follow GKE's "Plan TPUs" tables. The 2D generations (v5e, v6e) offer a fixed list.
The 3D generations (v4, v5p, TPU7x) offer 2x2x1 on one VM, 2x2x2, 2x2x4 and 2x4x4, and any
AxBxC with A <= B <= C whose sides are all multiples of 4, up to the largest slice the
generation documents; ``accepted_topologies`` enumerates that rule.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from types import MappingProxyType
from typing import Iterable, Mapping

from infra.gcp.gke_versions import parse_gke_version
from infra.catalog.source import Source
from infra.errors import AidcError, CatalogLookupError

AS_OF = date(2026, 11, 29)

PLAN_TPUS_URL = "https://cloud.google.com/kubernetes-engine/docs/concepts/plan-tpus"
GKE_TPUS_URL = "https://cloud.google.com/kubernetes-engine/docs/how-to/tpus"
GKE_IRONWOOD_URL = "https://cloud.google.com/kubernetes-engine/docs/concepts/tpu-ironwood"
TPU_V4_URL = "https://cloud.google.com/tpu/docs/v4"
TPU_V5E_URL = "https://cloud.google.com/tpu/docs/v5e"
TPU_V5P_URL = "https://cloud.google.com/tpu/docs/v5p"
TPU_V6E_URL = "https://cloud.google.com/tpu/docs/v6e"
TPU7X_URL = "https://cloud.google.com/tpu/docs/tpu7x"
TPU_DISKS_URL = "https://cloud.google.com/tpu/docs/setup-persistent-disk"
CLUSTER_TOOLKIT_TPU7X = (
    "https://github.com/GoogleCloudPlatform/cluster-toolkit/blob/"
    "1047080375afbb44da4b596be314634e7486af4a/examples/gke-tpu-7x/gke-tpu-7x.yaml")
# The extended resource GKE advertises on TPU nodes; pods request chips, and quotas count them,
# in it. https://cloud.google.com/kubernetes-engine/docs/how-to/tpus
TPU_RESOURCE = "google.com/tpu"

SMALL_3D_TOPOLOGIES = ("2x2x1", "2x2x2", "2x2x4", "2x4x4")
"""3D slices below one 4x4x4 cube that GKE lists by name; larger ones follow the cube rule."""

CUBE_SIDE = 4
"""Sides of 3D slices above the small ones are multiples of this (whole 4x4x4 cubes)."""

_TOPOLOGY = re.compile(r"[1-9][0-9]*(?:x[1-9][0-9]*)+")


@dataclass(frozen=True)
class TpuMachineType:
    """A GKE TPU machine type and the chips one VM (one GKE node) carries."""

    name: str
    chips: int


@dataclass(frozen=True)
class TpuShape:
    """One row of GKE's topology table: a topology and a machine type that forms it."""

    topology: str
    machine_type: str


@dataclass(frozen=True)
class TpuGeneration:
    """A TPU generation as GKE offers it.

    ``shapes`` are the topology rows GKE lists by name; for 3D generations ``cube_machine_type``
    forms every AxBxC slice of whole cubes up to ``max_chips``. ``hbm_gib_per_chip`` is the
    generation page's figure. ``min_gke_versions`` is a per-minor floor where Google documents
    one. ``multi_host_workload_policy`` marks generations whose multi-host node pools take a
    workload policy (``--placement-policy``) instead of ``--tpu-topology``; ``gke_source`` says
    where those two GKE facts come from. ``boot_disk_types`` are the only boot disk types the
    generation's VMs take, where Google restricts them (empty: GKE's default, pd-balanced, works).
    """

    name: str
    accelerator_label: str
    dimensions: int
    machine_types: tuple[TpuMachineType, ...]
    shapes: tuple[TpuShape, ...]
    cube_machine_type: str | None
    max_chips: int
    hbm_gib_per_chip: int
    source: Source
    topology_source: Source
    min_gke_versions: tuple[str, ...] = ()
    multi_host_workload_policy: bool = False
    gke_source: Source | None = None
    boot_disk_types: tuple[str, ...] = ()
    boot_disk_source: Source | None = None

    def __post_init__(self) -> None:
        names = {machine.name for machine in self.machine_types}
        used = {shape.machine_type for shape in self.shapes} | (
            {self.cube_machine_type} if self.cube_machine_type else set()
        )
        if not used <= names:
            raise ValueError(f"{self.name}: shapes use unknown machine types {used - names}")
        for version in self.min_gke_versions:
            parse_gke_version(version)

    def chips_per_vm(self, machine_type: str) -> int:
        """Chips on one VM of ``machine_type``; a miss lists the generation's machine types."""
        for machine in self.machine_types:
            if machine.name == machine_type:
                return machine.chips
        raise CatalogLookupError(
            f"{machine_type!r} is not a {self.name} machine type; {self.name} "
            f"machine types are {_join(m.name for m in self.machine_types)}", field="machine_type"
        )

    def machine_types_for(self, topology: str) -> tuple[str, ...]:
        """Machine types GKE forms ``topology`` with, in the order GKE's table lists them."""
        listed = tuple(s.machine_type for s in self.shapes if s.topology == topology)
        if listed or self.cube_machine_type is None or not _TOPOLOGY.fullmatch(topology):
            return listed
        return (self.cube_machine_type,) if _is_cube_topology(topology, self.max_chips) else ()

    def accepted_topologies(self) -> tuple[str, ...]:
        """Every topology GKE accepts for this generation, smallest first."""
        return _accepted_topologies(self)

    def describe_topologies(self) -> str:
        """The accepted topologies in one phrase, for error messages."""
        listed = list(dict.fromkeys(shape.topology for shape in self.shapes))
        if self.cube_machine_type is None:
            return _join(listed)
        examples = [t for t in self.accepted_topologies() if t not in listed][:4]
        return (
            f"{_join(listed)}, or AxBxC with A <= B <= C each a multiple of {CUBE_SIDE} up to "
            f"{self.max_chips} chips (e.g. {_join(examples)})"
        )


def _join(items: Iterable[object]) -> str:
    return ", ".join(str(item) for item in items)


def _dims(topology: str) -> tuple[int, ...]:
    return tuple(int(side) for side in topology.split("x"))


def _is_cube_topology(topology: str, max_chips: int) -> bool:
    dims = _dims(topology)
    return (
        len(dims) == 3
        and list(dims) == sorted(dims)
        and all(side % CUBE_SIDE == 0 for side in dims)
        and math.prod(dims) <= max_chips
    )


@lru_cache(maxsize=None)
def _accepted_topologies(generation: TpuGeneration) -> tuple[str, ...]:
    found = dict.fromkeys(shape.topology for shape in generation.shapes)
    if generation.cube_machine_type is not None:
        limit = generation.max_chips
        for a in range(CUBE_SIDE, limit + 1, CUBE_SIDE):
            if a**3 > limit:
                break
            for b in range(a, limit + 1, CUBE_SIDE):
                if a * b * b > limit:
                    break
                for c in range(b, limit // (a * b) + 1, CUBE_SIDE):
                    found[f"{a}x{b}x{c}"] = None
    return tuple(sorted(found, key=lambda t: (math.prod(_dims(t)), _dims(t))))


def _shapes(machine_type: str, *topologies: str) -> tuple[TpuShape, ...]:
    return tuple(TpuShape(topology, machine_type) for topology in topologies)


_PLAN_NOTE = (
    "topology table: machine type, topology, chips, VMs, single-host or multi-host"
)

TPU_GENERATIONS: Mapping[str, TpuGeneration] = MappingProxyType(
    {
        generation.name: generation
        for generation in (
            TpuGeneration(
                name="v4",
                accelerator_label="tpu-v4-podslice",
                dimensions=3,
                machine_types=(TpuMachineType("ct4p-hightpu-4t", 4),),
                shapes=_shapes("ct4p-hightpu-4t", *SMALL_3D_TOPOLOGIES),
                cube_machine_type="ct4p-hightpu-4t",
                max_chips=4096,
                hbm_gib_per_chip=32,
                source=Source(TPU_V4_URL, AS_OF, "32 GiB HBM2 per chip; 4,096-chip pod"),
                topology_source=Source(
                    PLAN_TPUS_URL,
                    AS_OF,
                    f"TPU v4 {_PLAN_NOTE}; AxBxC with A <= B <= C, all multiples of 4 "
                    "(tpu/docs/types-topologies), up to the 4,096-chip pod",
                ),
            ),
            TpuGeneration(
                name="v5e",
                accelerator_label="tpu-v5-lite-podslice",
                dimensions=2,
                machine_types=(
                    TpuMachineType("ct5lp-hightpu-1t", 1),
                    TpuMachineType("ct5lp-hightpu-4t", 4),
                    TpuMachineType("ct5lp-hightpu-8t", 8),
                ),
                shapes=(
                    *_shapes("ct5lp-hightpu-1t", "1x1"),
                    *_shapes("ct5lp-hightpu-4t", "2x2"),
                    *_shapes("ct5lp-hightpu-8t", "2x4"),
                    *_shapes("ct5lp-hightpu-4t", "2x4", "4x4", "4x8", "8x8", "8x16", "16x16"),
                ),
                cube_machine_type=None,
                max_chips=256,
                hbm_gib_per_chip=16,
                source=Source(TPU_V5E_URL, AS_OF, "16 GB HBM per chip; 256-chip pod; 2D torus"),
                topology_source=Source(
                    PLAN_TPUS_URL,
                    AS_OF,
                    f"TPU v5e {_PLAN_NOTE}; 2x4 is one ct5lp-hightpu-8t VM or two "
                    "ct5lp-hightpu-4t VMs",
                ),
            ),
            TpuGeneration(
                name="v5p",
                accelerator_label="tpu-v5p-slice",
                dimensions=3,
                machine_types=(TpuMachineType("ct5p-hightpu-4t", 4),),
                shapes=_shapes("ct5p-hightpu-4t", *SMALL_3D_TOPOLOGIES),
                cube_machine_type="ct5p-hightpu-4t",
                max_chips=6144,
                hbm_gib_per_chip=95,
                source=Source(
                    TPU_V5P_URL,
                    AS_OF,
                    "95 GiB HBM per chip usable (96 physical); 8,960-chip pod; the largest "
                    "slice is 16x16x24, 6,144 chips",
                ),
                topology_source=Source(
                    PLAN_TPUS_URL,
                    AS_OF,
                    f"TPU v5p {_PLAN_NOTE}; custom AxBxC with A <= B <= C, multiples of 4, "
                    "largest 16x16x24",
                ),
            ),
            TpuGeneration(
                name="v6e",
                accelerator_label="tpu-v6e-slice",
                dimensions=2,
                machine_types=(
                    TpuMachineType("ct6e-standard-1t", 1),
                    TpuMachineType("ct6e-standard-4t", 4),
                    TpuMachineType("ct6e-standard-8t", 8),
                ),
                shapes=(
                    *_shapes("ct6e-standard-1t", "1x1"),
                    *_shapes("ct6e-standard-4t", "2x2"),
                    *_shapes("ct6e-standard-8t", "2x4"),
                    *_shapes("ct6e-standard-4t", "2x4", "4x4", "4x8", "8x8", "8x16", "16x16"),
                ),
                cube_machine_type=None,
                max_chips=256,
                hbm_gib_per_chip=32,
                source=Source(TPU_V6E_URL, AS_OF, "32 GiB HBM per chip; 256-chip pod; 2D torus"),
                boot_disk_types=("hyperdisk-balanced",),
                boot_disk_source=Source(
                    TPU_DISKS_URL, AS_OF,
                    "'TPU support for Hyperdisk and Persistent Disk': v6e supports Hyperdisk "
                    "Balanced and Hyperdisk ML only (the boot disk included); v5p, v5e and v4 "
                    "Balanced Persistent Disk"),
                topology_source=Source(
                    PLAN_TPUS_URL,
                    AS_OF,
                    f"TPU Trillium (v6e) {_PLAN_NOTE}; 2x4 is one ct6e-standard-8t VM or two "
                    "ct6e-standard-4t VMs",
                ),
            ),
            TpuGeneration(
                name="tpu7x",
                accelerator_label="tpu7x",
                dimensions=3,
                machine_types=(TpuMachineType("tpu7x-standard-4t", 4),),
                shapes=_shapes("tpu7x-standard-4t", *SMALL_3D_TOPOLOGIES),
                cube_machine_type="tpu7x-standard-4t",
                max_chips=9216,
                hbm_gib_per_chip=192,
                source=Source(
                    TPU7X_URL,
                    AS_OF,
                    "Ironwood: 192 GiB HBM per chip; 9,216-chip pod, taken as the largest slice",
                ),
                boot_disk_types=("hyperdisk-balanced",),
                boot_disk_source=Source(
                    CLUSTER_TOOLKIT_TPU7X, AS_OF,
                    "Google's TPU7x GKE blueprints (this one, its -advanced variant and the "
                    "DWS flex-start ones) all give the node pool disk_type hyperdisk-balanced; "
                    "the Cloud TPU disk table (tpu/docs/setup-persistent-disk) stops at v6e, so "
                    "aidc keeps TPU7x on the disk type Google's own blueprints use"),
                topology_source=Source(
                    PLAN_TPUS_URL,
                    AS_OF,
                    f"Ironwood (TPU7x) {_PLAN_NOTE}; same cube rule as v5p",
                ),
                min_gke_versions=("1.34.0-gke.2201000",),
                multi_host_workload_policy=True,
                gke_source=Source(
                    GKE_IRONWOOD_URL,
                    AS_OF,
                    "TPU7x needs GKE Standard 1.34.0-gke.2201000 or later; multi-host node "
                    "pools take a workload policy (--placement-policy), not --tpu-topology",
                ),
            ),
        )
    }
)
"""TPU generations by the name GKE docs use: v4, v5e, v5p, v6e, tpu7x."""

def tpu_generation(name: str) -> TpuGeneration:
    """The generation ``name``; a miss lists the generations."""
    try:
        return TPU_GENERATIONS[name]
    except KeyError:
        raise CatalogLookupError(
            f"{name!r} is not a TPU generation; generations are "
            f"{_join(TPU_GENERATIONS)}", field="generation"
        ) from None


def tpu_generation_of(machine_type: str) -> TpuGeneration | None:
    """The generation whose VMs are ``machine_type`` (``ct5p-hightpu-4t`` is v5p), or None for a
    machine type that is not a TPU VM."""
    for record in TPU_GENERATIONS.values():
        if any(machine.name == machine_type for machine in record.machine_types):
            return record
    return None


@dataclass(frozen=True)
class TpuSlice:
    """One TPU slice as a GKE node pool: its nodes are VMs of ``machine_type``."""

    generation: str
    topology: str
    machine_type: str
    chips_per_host: int
    accelerator_label: str

    @property
    def dims(self) -> tuple[int, ...]:
        """Chips along each side of the slice."""
        return _dims(self.topology)

    @property
    def chips(self) -> int:
        """Chips in the slice: the product of the topology's sides."""
        return math.prod(self.dims)

    @property
    def hosts(self) -> int:
        """GKE nodes (VMs) in the slice: chips over the chips of one VM."""
        return self.chips // self.chips_per_host

    @property
    def multi_host(self) -> bool:
        """Whether the slice spans several VMs, which GKE manages as one atomic unit."""
        return self.hosts > 1

    def as_dict(self) -> dict:
        """The slice for JSON output and reports."""
        return {
            "generation": self.generation,
            "topology": self.topology,
            "machine_type": self.machine_type,
            "chips": self.chips,
            "hosts": self.hosts,
            "multi_host": self.multi_host,
        }


def tpu_slice(generation: str, topology: str, machine_type: str | None = None) -> TpuSlice:
    """The slice ``topology`` of ``generation``, on ``machine_type`` or GKE's default for it.

    Where GKE's table offers one topology on two machine types (2x4 on v5e and v6e: one 8-chip
    VM or two 4-chip VMs), the default is the one with fewer VMs, a single-host slice; pass
    ``machine_type`` to choose the other. A machine type that cannot form the topology, a
    topology the generation does not offer, or one of the wrong dimensionality is rejected with
    the accepted topologies named.
    """
    record = tpu_generation(generation)
    if _TOPOLOGY.fullmatch(topology) is None:
        raise AidcError(
            f"{topology!r} is not a topology; write sides joined by 'x', like "
            f"'2x4' (2D) or '2x2x4' (3D)", field="topology"
        )
    dims = _dims(topology)
    if len(dims) != record.dimensions:
        example = "4x4x4" if record.dimensions == 3 else "4x4"
        raise CatalogLookupError(
            f"{record.name} needs a {record.dimensions}D topology like {example!r}, "
            f"got {topology!r}; {record.name} offers {record.describe_topologies()}", field="topology"
        )
    candidates = record.machine_types_for(topology)
    if not candidates:
        hint = ""
        if record.dimensions == 3 and list(dims) != sorted(dims):
            ordered = "x".join(str(side) for side in sorted(dims))
            hint = f" (sides go smallest first: {ordered!r})"
        raise CatalogLookupError(
            f"{record.name} does not offer {topology!r}{hint}; {record.name} offers "
            f"{record.describe_topologies()}", field="topology"
        )
    if machine_type is None:
        chosen = max(candidates, key=record.chips_per_vm)
    else:
        record.chips_per_vm(machine_type)
        if machine_type not in candidates:
            raise AidcError(
                f"{machine_type!r} cannot form a {record.name} {topology} slice; "
                f"GKE forms {topology} with {_join(candidates)}", field="machine_type"
            )
        chosen = machine_type
    return TpuSlice(
        generation=record.name,
        topology=topology,
        machine_type=chosen,
        chips_per_host=record.chips_per_vm(chosen),
        accelerator_label=record.accelerator_label,
    )


def tpu_catalog_rows() -> list[dict]:
    """Rows for ``aidc catalog tpu --json``: one per generation, topologies enumerated."""
    rows = []
    for record in TPU_GENERATIONS.values():
        topologies = record.accepted_topologies()
        rows.append(
            {
                "generation": record.name,
                "accelerator_label": record.accelerator_label,
                "dimensions": record.dimensions,
                "machine_types": [
                    {"machine_type": machine.name, "chips_per_vm": machine.chips}
                    for machine in record.machine_types
                ],
                "topologies": list(topologies),
                "single_host_topologies": [
                    topology
                    for topology in topologies
                    if not tpu_slice(record.name, topology).multi_host
                ],
                "max_chips": record.max_chips,
                "hbm_gib_per_chip": record.hbm_gib_per_chip,
            }
        )
    return rows
