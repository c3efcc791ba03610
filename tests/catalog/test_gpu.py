"""The GPU catalog pinned against Google's published tables, and every rule made to fire."""

from __future__ import annotations

import pytest

from infra.catalog.gpu import (
    AS_OF,
    GPU_MACHINES,
    GPU_MODELS,
    GPUDIRECT_PROFILES,
    N1_ATTACHABLE,
    GpuDirectProfile,
    gpu_catalog_rows,
    gpu_machine,
    min_gke_version_ok,
    n1_shape,
    resolve_gpu,
    supports_gpudirect,
)
from infra.errors import AidcError, CatalogLookupError
from infra.gcp.gke_versions import meets_min_gke_version, parse_gke_version


def _resolve(machine_type, accelerator_type, accelerator_count):
    return resolve_gpu(
        machine_type=machine_type,
        accelerator_type=accelerator_type,
        accelerator_count=accelerator_count,
    )


# Machine-type tables as Google prints them, units as printed: GPU memory and Local SSD are
# totals per VM (Local SSD in GiB, 0 where it is optional rather than bundled).
# https://cloud.google.com/compute/docs/gpus (A4, A3 Ultra, A3 Mega, A3 High, A2 Ultra,
# A2 Standard and G2 tables) and
# https://cloud.google.com/compute/docs/accelerator-optimized-machines
# GPUDirect column:
# https://cloud.google.com/kubernetes-engine/docs/how-to/gpu-bandwidth-gpudirect-tcpx
# (TCPX on a3-highgpu-8g, TCPXO on a3-megagpu-8g) and
# https://cloud.google.com/ai-hypercomputer/docs/create/gke-ai-hypercompute (RDMA on A3 Ultra, A4).
DOCUMENTED_MACHINES = [
    # machine type, accelerator, GPUs, GPU memory GB, vCPUs, memory GB, Local SSD GiB, GPUDirect
    ("a4-highgpu-8g", "nvidia-b200", 8, 1440, 224, 3968, 12000, "rdma"),
    ("a3-ultragpu-8g", "nvidia-h200-141gb", 8, 1128, 224, 2952, 12000, "rdma"),
    ("a3-megagpu-8g", "nvidia-h100-mega-80gb", 8, 640, 208, 1872, 6000, "tcpxo"),
    ("a3-highgpu-1g", "nvidia-h100-80gb", 1, 80, 26, 234, 750, None),
    ("a3-highgpu-2g", "nvidia-h100-80gb", 2, 160, 52, 468, 1500, None),
    ("a3-highgpu-4g", "nvidia-h100-80gb", 4, 320, 104, 936, 3000, None),
    ("a3-highgpu-8g", "nvidia-h100-80gb", 8, 640, 208, 1872, 6000, "tcpx"),
    ("a2-ultragpu-1g", "nvidia-a100-80gb", 1, 80, 12, 170, 375, None),
    ("a2-ultragpu-2g", "nvidia-a100-80gb", 2, 160, 24, 340, 750, None),
    ("a2-ultragpu-4g", "nvidia-a100-80gb", 4, 320, 48, 680, 1500, None),
    ("a2-ultragpu-8g", "nvidia-a100-80gb", 8, 640, 96, 1360, 3000, None),
    ("a2-highgpu-1g", "nvidia-tesla-a100", 1, 40, 12, 85, 0, None),
    ("a2-highgpu-2g", "nvidia-tesla-a100", 2, 80, 24, 170, 0, None),
    ("a2-highgpu-4g", "nvidia-tesla-a100", 4, 160, 48, 340, 0, None),
    ("a2-highgpu-8g", "nvidia-tesla-a100", 8, 320, 96, 680, 0, None),
    ("a2-megagpu-16g", "nvidia-tesla-a100", 16, 640, 96, 1360, 0, None),
    ("g2-standard-4", "nvidia-l4", 1, 24, 4, 16, 0, None),
    ("g2-standard-8", "nvidia-l4", 1, 24, 8, 32, 0, None),
    ("g2-standard-12", "nvidia-l4", 1, 24, 12, 48, 0, None),
    ("g2-standard-16", "nvidia-l4", 1, 24, 16, 64, 0, None),
    ("g2-standard-24", "nvidia-l4", 2, 48, 24, 96, 0, None),
    ("g2-standard-32", "nvidia-l4", 1, 24, 32, 128, 0, None),
    ("g2-standard-48", "nvidia-l4", 4, 96, 48, 192, 0, None),
    ("g2-standard-96", "nvidia-l4", 8, 192, 96, 384, 0, None),
]

# N1 table: https://cloud.google.com/compute/docs/gpus ("N1 general-purpose" rows):
# accelerator, GPUs, total GPU memory GB, available vCPUs (max), available memory GB (max).
DOCUMENTED_N1 = [
    ("nvidia-tesla-t4", 1, 16, 48, 312),
    ("nvidia-tesla-t4", 2, 32, 48, 312),
    ("nvidia-tesla-t4", 4, 64, 96, 624),
    ("nvidia-tesla-v100", 1, 16, 12, 78),
    ("nvidia-tesla-v100", 2, 32, 24, 156),
    ("nvidia-tesla-v100", 4, 64, 48, 312),
    ("nvidia-tesla-v100", 8, 128, 96, 624),
    ("nvidia-tesla-p100", 1, 16, 16, 104),
    ("nvidia-tesla-p100", 2, 32, 32, 208),
    ("nvidia-tesla-p100", 4, 64, 96, 624),  # 64 vCPUs / 208 GB in three zones (see source)
    ("nvidia-tesla-p4", 1, 8, 24, 156),
    ("nvidia-tesla-p4", 2, 16, 48, 312),
    ("nvidia-tesla-p4", 4, 32, 96, 624),
]

# GPUDirect networking as GKE's setup pages build it:
# TCPX/TCPXO: https://cloud.google.com/kubernetes-engine/docs/how-to/gpu-bandwidth-gpudirect-tcpx
#   (4 resp. 8 extra VPCs created with --mtu=8244; requirements list a patch per minor)
# RDMA: https://cloud.google.com/ai-hypercomputer/docs/create/gke-ai-hypercompute-custom
#   (one gVNIC VPC + one ZONE-vpc-roce VPC with 8 subnets) and
#   https://cloud.google.com/vpc/docs/rdma-network-profiles (8896 MTU)
DOCUMENTED_PROFILES = [
    # name, extra VPCs, NICs per node, GPU NICs, subnets for GPU NICs, MTU, RoCE
    ("tcpx", 4, 5, 4, 4, 8244, False),
    ("tcpxo", 8, 9, 8, 8, 8244, False),
    ("rdma", 2, 10, 8, 8, 8896, True),
]
DOCUMENTED_PROFILE_VERSIONS = {
    "tcpx": (
        "1.27.7-gke.1121000", "1.28.8-gke.1095000", "1.29.3-gke.1093000", "1.30.2-gke.1023000",
    ),
    "tcpxo": (
        "1.28.9-gke.1250000", "1.29.4-gke.1542000", "1.30.4-gke.1129000", "1.31.1-gke.2008000",
        "1.32.2-gke.1489001",
    ),
    # A3 Ultra's GPUDirect RDMA floor; A4's is 1.32.2-gke.1475000 and A4 itself needs
    # 1.32.1-gke.1729000: https://cloud.google.com/ai-hypercomputer/docs/create/gke-ai-hypercompute
    "rdma": ("1.31.4-gke.1183000",),
}


# --- the catalog against the documentation --------------------------------------------------


@pytest.mark.parametrize("row", DOCUMENTED_MACHINES, ids=lambda row: row[0])
def test_machine_type_matches_google_table(row):
    """Each fixed machine type carries the GPUs, memory, SSD and profile Google documents."""
    name, accelerator, count, gpu_memory, vcpus, memory, ssd_gib, gpudirect = row
    machine = gpu_machine(name)
    assert machine.accelerator_type == accelerator
    assert machine.accelerator_count == count
    assert machine.gpu_memory_gb == gpu_memory
    assert machine.gpu_memory_gb_per_gpu * count == gpu_memory
    assert (machine.vcpus, machine.memory_gb) == (vcpus, memory)
    assert machine.local_ssd_gib == ssd_gib
    assert machine.gpudirect == gpudirect
    assert machine.source.as_of == AS_OF
    assert machine.source.url.startswith("https://cloud.google.com/")


def test_catalog_holds_exactly_the_documented_machine_types():
    """No machine type is missing from the catalog, and none is there undocumented."""
    assert set(GPU_MACHINES) == {row[0] for row in DOCUMENTED_MACHINES}


def test_a2_ultra_is_a100_80gb_not_tesla_a100():
    """Google's own docs name A2 Ultra's GPU nvidia-a100-80gb; third-party tables get it wrong."""
    assert {gpu_machine(f"a2-ultragpu-{n}g").accelerator_type for n in (1, 2, 4, 8)} == {
        "nvidia-a100-80gb"
    }


@pytest.mark.parametrize("row", DOCUMENTED_N1, ids=lambda row: f"{row[0]}x{row[1]}")
def test_n1_attachment_matches_google_table(row):
    """Each attachable GPU count has Google's vCPU and memory ceiling."""
    accelerator, count, gpu_memory, max_vcpus, max_memory = row
    attachable = N1_ATTACHABLE[accelerator]
    limit = attachable.limit(count)
    assert (limit.max_vcpus, limit.max_memory_gb) == (max_vcpus, max_memory)
    assert count * attachable.gpu.memory_gb == gpu_memory


def test_n1_counts_are_exactly_the_documented_ones():
    """Allowed counts per attachable GPU are those of Google's N1 table, nothing more."""
    documented: dict[str, set[int]] = {}
    for accelerator, count, *_ in DOCUMENTED_N1:
        documented.setdefault(accelerator, set()).add(count)
    assert {a: set(g.allowed_counts) for a, g in N1_ATTACHABLE.items()} == documented


@pytest.mark.parametrize("row", DOCUMENTED_PROFILES, ids=lambda row: row[0])
def test_gpudirect_profile_matches_gke_setup(row):
    """Each GPUDirect profile needs the networks, NICs and MTU GKE's setup pages create."""
    name, extra_vpcs, nics, gpu_nics, subnets, mtu, roce = row
    profile = GPUDIRECT_PROFILES[name]
    assert profile.extra_vpcs == extra_vpcs
    assert profile.nics == nics
    assert profile.gpu_nics == gpu_nics
    assert profile.gpu_subnets == subnets
    assert profile.mtu == mtu
    assert profile.roce is roce
    assert profile.min_gke_versions == DOCUMENTED_PROFILE_VERSIONS[name]
    assert profile.source.as_of == AS_OF


def test_a4_carries_its_own_version_floors():
    """A4 needs 1.32.1-gke.1729000 to run and 1.32.2-gke.1475000 for GPUDirect RDMA."""
    a4 = _resolve("a4-highgpu-8g", None, None)
    assert not meets_min_gke_version(a4.min_gke_versions, "1.32.1-gke.1728999")
    assert meets_min_gke_version(a4.min_gke_versions, "1.32.1-gke.1729000")
    assert not a4.gke_version_ok("1.32.1-gke.1728999")
    assert not a4.gke_version_ok("1.32.1-gke.1729000")  # runs, but RDMA needs a later patch
    assert a4.gke_version_ok("1.32.2-gke.1475000")
    ultra = _resolve("a3-ultragpu-8g", None, None)
    assert ultra.gke_version_ok("1.31.4-gke.1183000")
    assert not ultra.gke_version_ok("1.31.4-gke.1182999")


def test_accelerator_optimized_gpu_models_are_spelled_as_gke_spells_them():
    """Every machine type names a GPU model GKE knows."""
    assert {m.accelerator_type for m in GPU_MACHINES.values()} <= set(GPU_MODELS)
    assert set(N1_ATTACHABLE) <= set(GPU_MODELS)


# --- lookups and resolution -----------------------------------------------------------------


def test_fixed_machine_type_resolves_to_its_gpus():
    """A fixed machine type alone decides accelerator, count, SSD and profile."""
    resolved = _resolve("a3-megagpu-8g", None, None)
    assert (resolved.accelerator_type, resolved.accelerator_count) == ("nvidia-h100-mega-80gb", 8)
    assert resolved.gpudirect == "tcpxo"
    assert resolved.profile is GPUDIRECT_PROFILES["tcpxo"]
    assert resolved.local_ssd_count == 16
    assert resolved.gpu_memory_gb == 640


def test_fixed_machine_type_accepts_matching_accelerator_fields():
    """Repeating what the machine type carries is allowed."""
    resolved = _resolve("a2-ultragpu-2g", "nvidia-a100-80gb", 2)
    assert resolved.machine_type == "a2-ultragpu-2g"


@pytest.mark.parametrize(
    ("accelerator", "count", "expected"),
    [
        ("nvidia-l4", 1, "g2-standard-4"),
        ("nvidia-l4", 2, "g2-standard-24"),
        ("nvidia-l4", 8, "g2-standard-96"),
        ("nvidia-h100-80gb", 8, "a3-highgpu-8g"),
        ("nvidia-h100-mega-80gb", 8, "a3-megagpu-8g"),
        ("nvidia-tesla-a100", 16, "a2-megagpu-16g"),
        ("nvidia-b200", 8, "a4-highgpu-8g"),
    ],
)
def test_accelerator_and_count_pick_the_smallest_carrier(accelerator, count, expected):
    """Without a machine type, the smallest machine type carrying exactly the GPUs is chosen."""
    resolved = _resolve(None, accelerator, count)
    assert resolved.machine_type == expected


@pytest.mark.parametrize(
    ("machine_type", "accelerator", "count"),
    [
        ("n1-standard-8", "nvidia-tesla-t4", 1),
        ("n1-standard-32", "nvidia-tesla-t4", 2),
        ("n1-standard-96", "nvidia-tesla-t4", 4),
        ("n1-highmem-96", "nvidia-tesla-v100", 8),
        ("n1-highmem-8", "nvidia-tesla-v100", 1),
        ("n1-custom-12-79872", "nvidia-tesla-v100", 1),
        ("n1-highcpu-16", "nvidia-tesla-p100", 1),
    ],
)
def test_n1_within_ceiling_resolves(machine_type, accelerator, count):
    """An N1 shape within the documented ceiling for the GPU count is accepted."""
    resolved = _resolve(machine_type, accelerator, count)
    assert resolved.machine_type == machine_type
    assert resolved.gpudirect is None and resolved.profile is None
    assert resolved.gpu_memory_gb == count * GPU_MODELS[accelerator].memory_gb


def test_n1_shapes_follow_the_predefined_ratios():
    """N1 memory is 3.75, 6.5 or 0.9 GB per vCPU, and custom types give MB."""
    assert n1_shape("n1-standard-96").memory_gb == 360
    assert n1_shape("n1-highmem-96").memory_gb == 624
    assert n1_shape("n1-highcpu-8").memory_gb == pytest.approx(7.2)
    assert n1_shape("n1-custom-4-15360").memory_gb == 15


def test_supports_gpudirect():
    """Only the machine types with a GPUDirect profile support it."""
    assert supports_gpudirect("a3-highgpu-8g")
    assert supports_gpudirect("a4-highgpu-8g")
    assert not supports_gpudirect("a3-highgpu-4g")
    assert not supports_gpudirect("g2-standard-96")
    assert not supports_gpudirect("n1-standard-8")
    assert not supports_gpudirect("e2-standard-8")


def test_catalog_rows_have_the_cli_shape():
    """Each row has exactly the CLI's keys; N1 rows use 'n1-*' and one row per allowed count."""
    rows = gpu_catalog_rows()
    keys = {"machine_type", "accelerator_type", "accelerator_count", "gpu_memory_gb", "gpudirect"}
    assert all(set(row) == keys for row in rows)
    fixed = {row["machine_type"]: row for row in rows if row["machine_type"] != "n1-*"}
    for name, accelerator, count, gpu_memory, *_, gpudirect in DOCUMENTED_MACHINES:
        assert fixed[name] == {
            "machine_type": name,
            "accelerator_type": accelerator,
            "accelerator_count": count,
            "gpu_memory_gb": gpu_memory,
            "gpudirect": gpudirect,
        }
    n1 = {(r["accelerator_type"], r["accelerator_count"], r["gpu_memory_gb"]) for r in rows
          if r["machine_type"] == "n1-*"}
    assert n1 == {(a, c, m) for a, c, m, *_ in DOCUMENTED_N1}


# --- GKE version rule -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profile", "version", "ok"),
    [
        ("tcpxo", "1.30.4-gke.1129000", True),
        ("tcpxo", "1.30.4-gke.1128999", False),
        ("tcpxo", "1.30.3-gke.9999999", False),
        ("tcpxo", "1.30.10-gke.1", True),
        ("tcpxo", "1.27.99-gke.1", False),  # older than every listed minor
        ("tcpxo", "1.33.0-gke.1", True),  # newer than every listed minor
        ("tcpx", "1.27.7-gke.1121000", True),
        ("tcpx", "1.31.0-gke.1", True),
        ("rdma", "1.31.3-gke.1", False),
        ("rdma", "1.32.0-gke.1", True),
    ],
)
def test_min_gke_version_ok(profile, version, ok):
    """A version passes when it reaches its minor's floor, or its minor is newer than listed."""
    assert min_gke_version_ok(profile, version) is ok
    assert min_gke_version_ok(GPUDIRECT_PROFILES[profile], version) is ok


def test_version_rule_without_floors_passes_everything():
    """No documented floor means no constraint."""
    assert meets_min_gke_version((), "1.20.0-gke.1")


def test_parse_gke_version_compares_numerically():
    """Patch and build numbers compare as numbers, not strings."""
    assert parse_gke_version("1.30.10-gke.1") > parse_gke_version("1.30.9-gke.999999")


# --- every error path -----------------------------------------------------------------------


def test_rejects_count_the_fixed_machine_type_does_not_carry():
    """A count that differs from the fixed machine type's GPUs is an error naming machine_type."""
    with pytest.raises(AidcError) as error:
        _resolve("a3-highgpu-4g", None, 8)
    assert str(error.value).startswith(
        "machine_type: 'a3-highgpu-4g' carries 4 x nvidia-h100-80gb, config asks 8"
    )
    assert "a3-highgpu-8g" in str(error.value)


def test_rejects_accelerator_the_fixed_machine_type_does_not_carry():
    """An accelerator other than the built-in one is an error naming accelerator_type."""
    pattern = r"^accelerator_type: 'a2-ultragpu-1g' carries 1 x nvidia-a100-80gb"
    with pytest.raises(AidcError, match=pattern):
        _resolve("a2-ultragpu-1g", "nvidia-tesla-a100", 1)


def test_rejects_n1_gpu_on_accelerator_optimized_machine():
    """A T4 on an A3 machine type is refused, saying T4 attaches to N1 only."""
    with pytest.raises(AidcError, match=r"^accelerator_type: .*attaches to N1 machine types only"):
        _resolve("a3-highgpu-8g", "nvidia-tesla-t4", 1)


def test_rejects_gpu_on_family_that_cannot_take_one():
    """A GPU on a non-N1, non-GPU machine type (E2) is an error naming accelerator_type."""
    pattern = r"^accelerator_type: 'e2-standard-8' cannot take nvidia-tesla-t4"
    with pytest.raises(AidcError, match=pattern):
        _resolve("e2-standard-8", "nvidia-tesla-t4", 1)


def test_rejects_non_gpu_machine_type_without_accelerator():
    """A machine type with no GPU and no accelerator is a lookup miss listing GPU machine types."""
    pattern = r"^machine_type: 'e2-standard-8' carries no GPU.*a3-highgpu-8g"
    with pytest.raises(CatalogLookupError, match=pattern):
        _resolve("e2-standard-8", None, None)


def test_rejects_n1_beyond_vcpu_ceiling():
    """n1-standard-96 with one T4 exceeds Google's 48-vCPU ceiling for one T4."""
    pattern = r"^machine_type: 'n1-standard-96' has 96 vCPUs.*at most 48 vCPUs"
    with pytest.raises(AidcError, match=pattern):
        _resolve("n1-standard-96", "nvidia-tesla-t4", 1)


def test_rejects_n1_beyond_vcpu_ceiling_for_v100():
    """n1-highmem-16 with one V100 exceeds the 12-vCPU ceiling for one V100."""
    with pytest.raises(AidcError, match=r"at most 12 vCPUs and 78 GB"):
        _resolve("n1-highmem-16", "nvidia-tesla-v100", 1)


def test_rejects_n1_custom_beyond_memory_ceiling():
    """A custom N1 shape within the vCPU ceiling but over the memory ceiling is refused."""
    with pytest.raises(AidcError, match=r"^machine_type: 'n1-custom-12-80896'"):
        _resolve("n1-custom-12-80896", "nvidia-tesla-v100", 1)


def test_rejects_n1_count_not_allowed():
    """Three T4s is not an allowed attachment; the message lists 1, 2, 4."""
    pattern = r"^accelerator_count: nvidia-tesla-t4 .* counts 1, 2, 4; config asks 3"
    with pytest.raises(AidcError, match=pattern):
        _resolve("n1-standard-8", "nvidia-tesla-t4", 3)


def test_rejects_n1_without_accelerator():
    """An N1 machine type alone has no GPU: the accelerator must be given."""
    pattern = r"^accelerator_type: N1 machine type 'n1-standard-8' has no GPU"
    with pytest.raises(AidcError, match=pattern):
        _resolve("n1-standard-8", None, None)


def test_rejects_n1_without_count():
    """An attached accelerator needs a count; the message lists the allowed ones."""
    with pytest.raises(AidcError, match=r"^accelerator_count: required .* 1, 2, 4, 8"):
        _resolve("n1-standard-8", "nvidia-tesla-v100", None)


def test_rejects_built_in_gpu_on_n1():
    """An L4 cannot attach to N1: it only comes built into G2."""
    pattern = r"^accelerator_type: nvidia-l4 cannot attach to N1.*g2-standard-4"
    with pytest.raises(AidcError, match=pattern):
        _resolve("n1-standard-8", "nvidia-l4", 1)


def test_rejects_malformed_n1_machine_type():
    """An N1 name that is no predefined or custom shape is a lookup miss listing the shapes."""
    pattern = r"^machine_type: 'n1-standard-3' is not an N1 machine type"
    with pytest.raises(CatalogLookupError, match=pattern):
        _resolve("n1-standard-3", "nvidia-tesla-t4", 1)


def test_rejects_count_no_machine_type_carries():
    """Three L4s exist on no machine type; the message lists the counts that do."""
    pattern = (
        r"^accelerator_count: no machine type carries 3 x nvidia-l4; "
        r"counts available are 1, 2, 4, 8$"
    )
    with pytest.raises(CatalogLookupError, match=pattern):
        _resolve(None, "nvidia-l4", 3)


def test_rejects_accelerator_without_count_or_machine_type():
    """An accelerator alone is ambiguous: the count is required and its options listed."""
    with pytest.raises(AidcError, match=r"^accelerator_count: required .*1, 2, 4, 8"):
        _resolve(None, "nvidia-h100-80gb", None)


def test_rejects_n1_accelerator_without_machine_type():
    """An attachable GPU alone cannot pick a machine type: an n1-* type must be given."""
    pattern = r"^machine_type: nvidia-tesla-t4 attaches to N1 machine types only"
    with pytest.raises(AidcError, match=pattern):
        _resolve(None, "nvidia-tesla-t4", 1)


def test_rejects_nothing_given():
    """With neither machine type nor accelerator there is nothing to resolve."""
    with pytest.raises(AidcError, match=r"^machine_type: give a GPU machine type"):
        _resolve(None, None, None)


def test_rejects_unknown_accelerator():
    """An accelerator GKE does not know is a lookup miss listing the known ones."""
    pattern = r"^accelerator_type: 'nvidia-a100'.*nvidia-a100-80gb"
    with pytest.raises(CatalogLookupError, match=pattern):
        _resolve(None, "nvidia-a100", 1)


def test_rejects_non_positive_count():
    """A GPU count below one is refused before any lookup."""
    with pytest.raises(AidcError, match=r"^accelerator_count: must be at least 1, got 0"):
        _resolve("g2-standard-4", None, 0)


def test_rejects_unknown_machine_type_lookup():
    """gpu_machine on an unknown name lists the GPU machine types."""
    with pytest.raises(CatalogLookupError, match=r"a2-highgpu-1g.*g2-standard-96"):
        gpu_machine("a9-supergpu-8g")


def test_rejects_n1_machine_type_lookup():
    """gpu_machine on an N1 type explains that the accelerator must be given explicitly."""
    pattern = r"N1 machine type with no GPU of its own; give accelerator_type"
    with pytest.raises(CatalogLookupError, match=pattern):
        gpu_machine("n1-standard-8")


def test_rejects_unknown_gpudirect_profile():
    """A GPUDirect profile name that does not exist is a lookup miss listing the profiles."""
    with pytest.raises(CatalogLookupError, match=r"tcpx, tcpxo, rdma"):
        min_gke_version_ok("roce", "1.32.0-gke.1")


def test_rejects_malformed_gke_version():
    """A bare minor or a typo is not a GKE patch version and cannot be compared."""
    for version in ("1.30", "1.30.4", "v1.30.4-gke.1", "1.30.4-gke.x"):
        with pytest.raises(AidcError, match=r"not a GKE patch version"):
            min_gke_version_ok("tcpx", version)


def test_rejects_profile_with_malformed_floor():
    """A catalog record with an unparseable minimum version fails at construction."""
    with pytest.raises(AidcError):
        GpuDirectProfile(
            "x", "x", 1, 1, 1, 0, 1460, False, ("1.30",), GPUDIRECT_PROFILES["tcpx"].source
        )


def test_rejects_unknown_count_on_attachable_limit():
    """Asking an attachable GPU for a count it does not allow fails with the allowed counts."""
    with pytest.raises(AidcError, match=r"counts 1, 2, 4, 8; config asks 16"):
        N1_ATTACHABLE["nvidia-tesla-v100"].limit(16)
