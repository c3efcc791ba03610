"""The compute layer's rules as pure model tests: each rule fires, names its field, and lets the
valid neighbour through.

`GpuPoolConfig`, `TpuPoolConfig`, `ClusterConfig` and `PlatformConfig` are built directly (no
Pulumi, no CLI); the CLI path for the same cases is in tests/cli/test_compute_errors.py. A
rejection is read as the lines of the ValidationError, each prefixed with its location, so
`gpu_pools.x: reservation: ...` says both the pool and the field.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from infra.catalog.gpu import GPU_MACHINES, GPUDIRECT_PROFILES
from infra.gcp.gke_versions import parse_gke_version
from infra.catalog.tpu import tpu_slice
from infra.config.compute import ClusterConfig, GpuPoolConfig, TpuPoolConfig
from infra.config.platform import PlatformConfig
from infra.config.problems import validation_problems

L4 = "g2-standard-8"
REGION = "us-central1"
ZONE_A, ZONE_B = f"{REGION}-a", f"{REGION}-b"


def rejection(model: type[BaseModel], data: dict[str, Any]) -> list[str]:
    """The problems `model` raises for `data`, each as '<location in the model>: <message>'."""
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return [str(p) for p in validation_problems(info.value, model)]


def assert_names(lines: list[str], path: str, *needles: str) -> None:
    """Some problem line starts with `path:` (or `path <value>:`) and carries every needle (the
    bad value, what is accepted, the fix)."""
    hits = [line for line in lines if line.startswith((f"{path}:", f"{path} "))]
    assert hits, f"no problem names {path!r}: {lines}"
    assert any(all(n in line for n in needles) for line in hits), (needles, hits)


def gpu(**fields: Any) -> dict[str, Any]:
    return {"machine_type": L4, **fields}


def platform(**changes: Any) -> dict[str, Any]:
    """A valid two-zone dev platform with a cluster; top-level keys replaced by `changes`."""
    data: dict[str, Any] = {
        "project": "acme-ai-dev", "region": REGION, "environment": "dev",
        "zones": [ZONE_A, ZONE_B],
        "network": {"base_cidr": "10.16.0.0/16", "max_nodes": 64, "max_pods_per_node": 64,
                    "gpu_supernet": "192.168.0.0/16"},
        "cluster": {"master_authorized_networks": {"corp-vpn": "203.0.113.0/24"}},
    }
    data.update(copy.deepcopy(changes))
    return data


# ---------------------------------------------------------------------------------------------
# passing cases: what each rule must let through


@pytest.mark.parametrize("fields", [
    pytest.param(gpu(), id="l4-on-demand"),
    pytest.param(gpu(capacity="spot"), id="spot"),
    pytest.param(gpu(capacity="reservation", reservation="r1"), id="reservation-str"),
    pytest.param(gpu(capacity="reservation", reservation=["r1"]), id="reservation-list-of-one"),
    pytest.param(gpu(capacity="queued", autoscaling={"min_nodes": 0, "max_nodes": 4}), id="queued"),
    pytest.param(gpu(capacity="flex_start", auto_repair=False), id="flex-start"),
    pytest.param(gpu(placement="compact", zones=[ZONE_A]), id="compact-one-zone"),
    pytest.param(gpu(upgrade="blue_green"), id="blue-green-without-compact"),
    pytest.param({"machine_type": "a3-megagpu-8g", "accelerator_type": "nvidia-h100-mega-80gb",
                  "accelerator_count": 8}, id="fixed-machine-repeating-its-gpus"),
    pytest.param({"accelerator_type": "nvidia-l4", "accelerator_count": 2}, id="by-accelerator"),
    pytest.param({"machine_type": "n1-standard-8", "accelerator_type": "nvidia-tesla-t4",
                  "accelerator_count": 1}, id="n1-with-t4"),
    pytest.param({"machine_type": "a3-highgpu-8g", "gpudirect": False,
                  "local_ssd": {"raw_block_count": 16}}, id="raw-nvme-at-bundled-count"),
    pytest.param({"machine_type": "a3-megagpu-8g", "local_ssd": {"ephemeral_count": 16}},
                 id="ephemeral-at-bundled-count"),
    pytest.param({"machine_type": "a3-megagpu-8g", "gpudirect": True}, id="gpudirect-explicit"),
])
def test_accepts_valid_gpu_pools(fields: dict[str, Any]) -> None:
    """Every capacity mode, placement and GPU spelling GKE accepts passes validation."""
    GpuPoolConfig.model_validate(fields)


@pytest.mark.parametrize("fields", [
    pytest.param({"generation": "v5e", "topology": "2x2", "max_nodes": 3}, id="single-host-ceiling"),
    pytest.param({"generation": "v5e", "topology": "4x4", "max_nodes": 4}, id="multi-host-exact"),
    pytest.param({"generation": "v5e", "topology": "4x4", "min_nodes": 4}, id="multi-host-whole"),
    pytest.param({"generation": "v5p", "topology": "4x4x8", "capacity": "spot"}, id="v5p-cube"),
    pytest.param({"generation": "v5e", "topology": "2x4", "machine_type": "ct5lp-hightpu-4t"},
                 id="2x4-on-two-vms"),
    pytest.param({"generation": "v6e", "topology": "2x2", "capacity": "reservation",
                  "reservation": "tpu-res"}, id="reservation"),
    pytest.param({"generation": "v5e", "topology": "2x2", "capacity": "flex_start",
                  "auto_repair": False}, id="flex-start"),
])
def test_accepts_valid_tpu_pools(fields: dict[str, Any]) -> None:
    """Topologies from GKE's tables, whole-slice limits and every capacity mode pass."""
    TpuPoolConfig.model_validate(fields)


def test_accepts_the_platform_with_every_kind_of_pool() -> None:
    """A platform with on-demand, spot, GPUDirect (TCPXO) and TPU pools, at a GKE version above
    the GPUDirect floor, validates."""
    PlatformConfig.model_validate(platform(
        cluster={"min_master_version": "1.31.1-gke.2008000"},
        gpu_pools={"l4": gpu(capacity="spot"),
                   "mega": {"machine_type": "a3-megagpu-8g", "zones": [ZONE_A]}},
        tpu_pools={"v5e": {"generation": "v5e", "topology": "4x4", "zone": ZONE_A}}))


# ---------------------------------------------------------------------------------------------
# machine type and accelerator


@pytest.mark.parametrize("machine_type", ["g9-mega-1g", "e2-standard-8", "a3-megagpu-4g"])
def test_rejects_unknown_machine_type(machine_type: str) -> None:
    """A machine type that carries no GPU is refused at `machine_type`, listing the GPU machine
    types that exist."""
    lines = rejection(GpuPoolConfig, {"machine_type": machine_type})
    assert_names(lines, "machine_type", repr(machine_type), "a3-megagpu-8g", "g2-standard-8")


def test_rejects_no_machine_type_and_no_accelerator() -> None:
    """A pool must say what it runs: a machine type, or an accelerator and count."""
    assert_names(rejection(GpuPoolConfig, {}), "machine_type", "accelerator_type")


@pytest.mark.parametrize("fields", [
    {"accelerator_type": "nvidia-h900", "accelerator_count": 8},
    {"machine_type": "n1-standard-8", "accelerator_type": "nvidia-tesla-k80", "accelerator_count": 1},
])
def test_rejects_unknown_accelerator(fields: dict[str, Any]) -> None:
    """An accelerator type that is no GPU model is refused at `accelerator_type`, listing the
    models as GKE spells them."""
    lines = rejection(GpuPoolConfig, fields)
    assert_names(lines, "accelerator_type", repr(fields["accelerator_type"]), "nvidia-l4")


@pytest.mark.parametrize("fields, path, needles", [
    pytest.param({"machine_type": "a3-megagpu-8g", "accelerator_count": 4}, "machine_type",
                 ("8 x nvidia-h100-mega-80gb", "asks 4"), id="a3-mega-has-8"),
    pytest.param({"machine_type": "a3-highgpu-8g", "accelerator_count": 4}, "machine_type",
                 ("for 4 use a3-highgpu-4g",), id="hint-the-right-shape"),
    pytest.param({"machine_type": "n1-standard-8", "accelerator_type": "nvidia-tesla-t4",
                  "accelerator_count": 3}, "accelerator_count", ("1, 2, 4", "asks 3"), id="n1-t4-3"),
    pytest.param({"accelerator_type": "nvidia-l4", "accelerator_count": 3}, "accelerator_count",
                 ("3 x nvidia-l4", "1, 2, 4, 8"), id="no-g2-with-3"),
    pytest.param({"machine_type": "a3-megagpu-8g", "accelerator_count": 0}, "accelerator_count",
                 ("at least 1",), id="zero"),
    pytest.param({"accelerator_type": "nvidia-l4"}, "accelerator_count", ("required",),
                 id="missing-count"),
])
def test_rejects_gpu_count_the_machine_type_does_not_carry(
        fields: dict[str, Any], path: str, needles: tuple[str, ...]) -> None:
    """A GPU count is what the machine type carries (A2/A3/A4/G2) or one Google allows on N1;
    anything else is refused with the counts that exist."""
    assert_names(rejection(GpuPoolConfig, fields), path, *needles)


@pytest.mark.parametrize("fields, needles", [
    pytest.param({"machine_type": "e2-standard-8", "accelerator_type": "nvidia-tesla-t4",
                  "accelerator_count": 1}, ("'e2-standard-8' cannot take nvidia-tesla-t4",),
                 id="e2-takes-none"),
    pytest.param({"machine_type": "a2-ultragpu-8g", "accelerator_type": "nvidia-tesla-t4"},
                 ("carries 8 x nvidia-a100-80gb", "N1 machine types only"), id="fixed-a2"),
    pytest.param({"machine_type": "n1-standard-8", "accelerator_type": "nvidia-l4",
                  "accelerator_count": 1}, ("cannot attach to N1", "g2-standard-4"), id="l4-on-n1"),
    pytest.param({"machine_type": "n1-standard-8"}, ("no GPU of its own",), id="n1-bare"),
])
def test_rejects_accelerator_on_a_family_that_cannot_take_it(
        fields: dict[str, Any], needles: tuple[str, ...]) -> None:
    """GPUs attach only to N1; accelerator-optimized types carry their own; other families take
    none. The refusal is at `accelerator_type` and says where the GPU does fit."""
    assert_names(rejection(GpuPoolConfig, fields), "accelerator_type", *needles)


def test_rejects_attached_gpu_without_n1_machine_type() -> None:
    """An attach-only GPU (T4, V100, P100, P4) needs an N1 machine type named explicitly."""
    lines = rejection(GpuPoolConfig, {"accelerator_type": "nvidia-tesla-t4", "accelerator_count": 1})
    assert_names(lines, "machine_type", "N1 machine types only", "n1-")


def test_rejects_n1_shape_above_the_gpu_ceiling() -> None:
    """Google caps the vCPUs and memory of an N1 VM per GPU count (1 x V100: 12 vCPUs, 78 GB)."""
    lines = rejection(GpuPoolConfig, {"machine_type": "n1-standard-96",
                                      "accelerator_type": "nvidia-tesla-v100", "accelerator_count": 1})
    assert_names(lines, "machine_type", "96 vCPUs", "at most 12 vCPUs")


# ---------------------------------------------------------------------------------------------
# capacity modes


@pytest.mark.parametrize("capacity, extra, why", [
    ("queued", {}, "queued provisioning"),
    ("flex_start", {"auto_repair": False}, "flex-start"),
    ("spot", {}, "spot VMs cannot consume a reservation"),
    ("on_demand", {}, "use capacity: reservation"),
])
def test_rejects_reservation_outside_capacity_reservation(
        capacity: str, extra: dict[str, Any], why: str) -> None:
    """Only `capacity: reservation` consumes a reservation: DWS (queued, flex-start) obtains its
    own capacity and spot VMs never come from one."""
    lines = rejection(GpuPoolConfig, gpu(capacity=capacity, reservation="r1", **extra))
    assert_names(lines, "reservation", f"capacity {capacity}", why)


@pytest.mark.parametrize("capacity, extra", [
    ("queued", {}), ("flex_start", {"auto_repair": False}), ("reservation", {"reservation": "r"}),
])
def test_rejects_spot_alongside_another_capacity_mode(capacity: str, extra: dict[str, Any]) -> None:
    """Spot is one value of `capacity`, so queued / flex-start / reservation plus spot cannot be
    written: a `spot` key is refused as an unknown key, and a list of modes as not one mode."""
    lines = rejection(GpuPoolConfig, gpu(capacity=capacity, spot=True, **extra))
    assert_names(lines, "spot", "unknown key", "Accepted: ")
    lines = rejection(GpuPoolConfig, gpu(capacity=[capacity, "spot"], **extra))
    assert_names(lines, "capacity")


def test_rejects_queued_provisioning_not_scaling_from_zero() -> None:
    """Queued provisioning (DWS) pools scale from 0: nodes exist only for admitted requests."""
    lines = rejection(GpuPoolConfig, gpu(capacity="queued", autoscaling={"min_nodes": 1, "max_nodes": 2}))
    assert_names(lines, "autoscaling.min_nodes", "1", "scales from 0")


def test_rejects_flex_start_with_auto_repair() -> None:
    """Flex-start nodes cannot be repaired in place, so auto-repair must be off explicitly."""
    lines = rejection(GpuPoolConfig, gpu(capacity="flex_start"))
    assert_names(lines, "auto_repair", "auto_repair: false")


@pytest.mark.parametrize("reservation", [None, [], ["a", "b"]])
def test_rejects_specific_reservation_not_naming_exactly_one(reservation: Any) -> None:
    """A specific reservation affinity names exactly one reservation."""
    lines = rejection(GpuPoolConfig, gpu(capacity="reservation", reservation=reservation))
    assert_names(lines, "reservation", "exactly one", repr(reservation))


def test_rejects_empty_reservation_name() -> None:
    """A specific reservation's one name is not empty."""
    lines = rejection(GpuPoolConfig, gpu(capacity="reservation", reservation=""))
    assert_names(lines, "reservation")


def test_rejects_min_nodes_above_max_nodes() -> None:
    """The autoscaler's floor is at most its ceiling."""
    lines = rejection(GpuPoolConfig, gpu(autoscaling={"min_nodes": 3, "max_nodes": 2}))
    assert_names(lines, "autoscaling.min_nodes", "3", "max_nodes 2")


# ---------------------------------------------------------------------------------------------
# placement, upgrades, local SSD, GPUDirect


@pytest.mark.parametrize("zones", [None, [], [ZONE_A, ZONE_B]])
def test_rejects_compact_placement_outside_one_zone(zones: list[str] | None) -> None:
    """A COMPACT placement policy keeps nodes in one zone: the pool names exactly one."""
    lines = rejection(GpuPoolConfig, gpu(placement="compact", zones=zones))
    assert_names(lines, "zones", "exactly one zone", repr(zones))


def test_rejects_compact_placement_with_blue_green_upgrade() -> None:
    """Blue-green doubles the nodes, which a compact placement cannot hold; surge is required."""
    lines = rejection(GpuPoolConfig, gpu(placement="compact", zones=[ZONE_A], upgrade="blue_green"))
    assert_names(lines, "upgrade", "blue_green", "surge")


def test_rejects_ephemeral_and_raw_nvme_local_ssd_together() -> None:
    """A Local SSD is either the node's ephemeral storage or a raw NVMe device, not both."""
    lines = rejection(GpuPoolConfig, {"machine_type": "a3-highgpu-8g", "gpudirect": False,
                                      "local_ssd": {"ephemeral_count": 16, "raw_block_count": 16}})
    assert_names(lines, "local_ssd", "exclude each other")


@pytest.mark.parametrize("local_ssd", [{"ephemeral_count": 8}, {"raw_block_count": 4}])
def test_rejects_local_ssd_count_other_than_bundled(local_ssd: dict[str, int]) -> None:
    """Machine types with bundled Local SSD (A3 Mega: 16) take exactly that many."""
    lines = rejection(GpuPoolConfig, {"machine_type": "a3-megagpu-8g", "local_ssd": local_ssd})
    assert_names(lines, "local_ssd", "exactly 16")


@pytest.mark.parametrize("fields", [
    gpu(gpudirect=True),
    {"machine_type": "a3-highgpu-4g", "gpudirect": True},
    {"machine_type": "n1-standard-8", "accelerator_type": "nvidia-tesla-t4", "accelerator_count": 1,
     "gpudirect": True},
])
def test_rejects_gpudirect_on_machine_type_without_it(fields: dict[str, Any]) -> None:
    """GPUDirect needs the secondary NICs only a3-highgpu-8g, a3-megagpu-8g, a3-ultragpu-8g and
    a4-highgpu-8g have; the error lists them."""
    lines = rejection(GpuPoolConfig, fields)
    assert_names(lines, "gpudirect", "no GPUDirect networking", "a3-megagpu-8g")


def test_gpudirect_defaults_from_the_catalog() -> None:
    """Omitted, `gpudirect` is on exactly for machine types with a GPUDirect profile."""
    for machine, record in GPU_MACHINES.items():
        assert GpuPoolConfig(machine_type=machine).uses_gpudirect == (record.gpudirect is not None)
    assert not GpuPoolConfig(machine_type="a3-megagpu-8g", gpudirect=False).uses_gpudirect


def test_every_pool_problem_is_reported_at_once() -> None:
    """Cross-field checks collect every problem and raise once."""
    lines = rejection(GpuPoolConfig, gpu(capacity="spot", reservation="r", placement="compact",
                                         upgrade="blue_green",
                                         autoscaling={"min_nodes": 2, "max_nodes": 1}))
    for path in ("reservation", "zones", "upgrade", "autoscaling.min_nodes"):
        assert_names(lines, path)


# ---------------------------------------------------------------------------------------------
# TPU pools


def tpu(**fields: Any) -> dict[str, Any]:
    return {"generation": "v5e", "topology": "4x4", **fields}


def test_rejects_unknown_tpu_generation() -> None:
    """A generation the catalog does not hold is refused, listing the generations."""
    lines = rejection(TpuPoolConfig, tpu(generation="v9"))
    assert_names(lines, "generation", "'v9'", "v5e", "tpu7x")


@pytest.mark.parametrize("generation, topology, needles", [
    ("v5e", "3x3", ("does not offer '3x3'", "4x4")),
    ("v5e", "32x32", ("does not offer",)),
    ("v5e", "4x4x4", ("2D topology",)),
    ("v5p", "4x4", ("3D topology",)),
    ("v5p", "8x4x4", ("smallest first", "'4x4x8'")),
    ("v5p", "4x4x6", ("does not offer", "multiple of 4")),
    ("v4", "16x16x32", ("does not offer", "4096 chips")),
    ("v6e", "4by4", ("not a topology",)),
])
def test_rejects_topology_the_generation_does_not_offer(
        generation: str, topology: str, needles: tuple[str, ...]) -> None:
    """Only topologies from GKE's tables (or the 3D cube rule up to the generation's largest
    slice) are accepted, and the error lists what the generation offers."""
    assert_names(rejection(TpuPoolConfig, tpu(generation=generation, topology=topology)),
                 "topology", *needles)


def test_rejects_tpu_machine_type_that_cannot_form_the_topology() -> None:
    """v5e 4x4 is formed by ct5lp-hightpu-4t VMs only."""
    lines = rejection(TpuPoolConfig, tpu(machine_type="ct5lp-hightpu-8t"))
    assert_names(lines, "machine_type", "ct5lp-hightpu-4t")


@pytest.mark.parametrize("max_nodes", [1, 2, 3, 5, 8])
def test_rejects_multi_host_limits_other_than_the_slice(max_nodes: int) -> None:
    """GKE creates a multi-host slice atomically: per-zone limits equal the slice's node count
    (v5e 4x4 = 4 ct5lp-hightpu-4t nodes)."""
    lines = rejection(TpuPoolConfig, tpu(max_nodes=max_nodes))
    assert_names(lines, "max_nodes", f"{max_nodes}", "must equal 4")


@pytest.mark.parametrize("min_nodes", [1, 2, 3])
def test_rejects_multi_host_min_nodes_part_of_a_slice(min_nodes: int) -> None:
    """A multi-host slice is 0 or all of its nodes, never part of one."""
    assert_names(rejection(TpuPoolConfig, tpu(min_nodes=min_nodes)), "min_nodes", "0 or 4")


@settings(max_examples=40, deadline=None)
@given(topology=st.sampled_from(["2x2x2", "2x2x4", "2x4x4", "4x4x4", "4x4x8", "4x8x8"]),
       max_nodes=st.integers(min_value=1, max_value=200))
def test_multi_host_max_nodes_is_the_slice_or_refused(topology: str, max_nodes: int) -> None:
    """For every multi-host v5p slice, max_nodes is accepted exactly when it equals the hosts."""
    hosts = tpu_slice("v5p", topology).hosts
    data = {"generation": "v5p", "topology": topology, "max_nodes": max_nodes}
    if max_nodes == hosts:
        assert TpuPoolConfig.model_validate(data).max_nodes_per_slice == hosts
    else:
        assert_names(rejection(TpuPoolConfig, data), "max_nodes", f"must equal {hosts}")


@pytest.mark.parametrize("fields, path", [
    (tpu(capacity="spot", reservation="r"), "reservation"),
    (tpu(capacity="reservation"), "reservation"),
    (tpu(capacity="reservation", reservation=["a", "b"]), "reservation"),
    (tpu(topology="2x2", capacity="flex_start"), "auto_repair"),
    (tpu(topology="2x2", capacity="queued", reservation="r"), "reservation"),
])
def test_rejects_tpu_capacity_rule_breaks(fields: dict[str, Any], path: str) -> None:
    """TPU pools obey the same capacity rules as GPU pools (spot/DWS take no reservation, a
    specific reservation names one, flex-start runs without auto-repair)."""
    assert_names(rejection(TpuPoolConfig, fields), path)


def test_rejects_tpu_queued_not_scaling_from_zero() -> None:
    """A queued-provisioning TPU pool starts at 0 nodes."""
    lines = rejection(TpuPoolConfig, tpu(topology="2x2", capacity="queued", min_nodes=1))
    assert any("min_nodes: 1" in line and "scales from 0" in line for line in lines), lines


def test_tpu_queued_error_names_the_tpu_field() -> None:
    """The error names TpuPoolConfig's own field `min_nodes`, the key the user must change."""
    lines = rejection(TpuPoolConfig, tpu(topology="2x2", capacity="queued", min_nodes=1))
    assert_names(lines, "min_nodes", "scales from 0")


def test_rejects_single_host_tpu_min_nodes_above_max_nodes() -> None:
    """A single-host pool's autoscaling floor is at most its ceiling."""
    lines = rejection(TpuPoolConfig, tpu(topology="2x2", min_nodes=3, max_nodes=1))
    assert any(line.startswith(("min_nodes:", "max_nodes:")) for line in lines), lines


@pytest.mark.parametrize("max_nodes", [0, -2])
def test_rejects_single_host_tpu_max_nodes_below_one(max_nodes: int) -> None:
    """A single-host pool's ceiling is at least one node; nothing the user set is swallowed."""
    assert_names(rejection(TpuPoolConfig, tpu(topology="2x2", max_nodes=max_nodes)), "max_nodes")


# ---------------------------------------------------------------------------------------------
# the cluster


@pytest.mark.parametrize("fields, path", [
    ({"min_master_version": "1.30"}, "min_master_version"),
    ({"min_master_version": "latest"}, "min_master_version"),
    ({"master_authorized_networks": {"world": "0.0.0.0/0"}}, "master_authorized_networks.world"),
    ({"master_ipv4_cidr": "172.16.0.0/27"}, "master_ipv4_cidr"),
    ({"release_channel": "NIGHTLY"}, "release_channel"),
])
def test_rejects_cluster_settings(fields: dict[str, Any], path: str) -> None:
    """The control plane takes a full GKE patch version as its floor, a /28, a release channel
    GKE has, and never 0.0.0.0/0 as an authorized network."""
    assert_names(rejection(ClusterConfig, fields), path)


# ---------------------------------------------------------------------------------------------
# the platform: zones, versions, addresses


def test_rejects_pools_without_a_cluster() -> None:
    """Node pools attach to a cluster; a stack with pools declares one."""
    lines = rejection(PlatformConfig, platform(cluster=None, gpu_pools={"l4": gpu()}))
    assert_names(lines, "cluster", "add an aidc:cluster section")


@pytest.mark.parametrize("changes, path", [
    ({"zones": [ZONE_A, "us-east1-b"]}, "zones[1]"),
    ({"gpu_pools": {"l4": gpu(zones=[ZONE_A, "europe-west4-a"])}}, "gpu_pools.l4.zones[1]"),
    ({"tpu_pools": {"v5e": tpu(zone="europe-west4-a")}}, "tpu_pools.v5e.zone"),
])
def test_rejects_zone_outside_the_region(changes: dict[str, Any], path: str) -> None:
    """Every zone a stack or pool names is in the stack's region (the cluster is regional)."""
    assert_names(rejection(PlatformConfig, platform(**changes)), path, "not in region 'us-central1'")


def test_rejects_malformed_pool_zone_with_its_path_and_the_other_problems() -> None:
    """A pool zone that is no zone name is reported at its key path, alongside the platform's
    other problems (cross-field checks collect every problem and raise once)."""
    lines = rejection(PlatformConfig, platform(
        gpu_pools={"a": gpu(zones=["bogus"]), "b": gpu(autoscaling={"max_nodes": 500})},
        tpu_pools={"t": tpu(topology="2x2", zone="nope")}))
    assert_names(lines, "gpu_pools.a.zones[0]", "'bogus'")
    assert_names(lines, "tpu_pools.t.zone", "'nope'")
    assert_names(lines, "network.pods_cidr")


@pytest.mark.parametrize("machine_type, version", [
    ("a3-highgpu-8g", "1.29.1-gke.1000"),        # TCPX: 1.29 needs 1.29.3-gke.1093000
    ("a3-megagpu-8g", "1.29.4-gke.1000000"),     # TCPXO: 1.29 needs 1.29.4-gke.1542000
    ("a3-megagpu-8g", "1.27.9-gke.1000"),        # older than every listed minor
    ("a3-ultragpu-8g", "1.31.3-gke.1000000"),    # RDMA: 1.31.4-gke.1183000
    ("a4-highgpu-8g", "1.32.2-gke.1400000"),     # A4 RDMA: 1.32.2-gke.1475000
])
def test_rejects_gpudirect_pool_below_the_documented_gke_minimum(machine_type: str, version: str) -> None:
    """A GPUDirect pool's control plane floor meets the documented minimum patch of its minor."""
    lines = rejection(PlatformConfig, platform(cluster={"min_master_version": version},
                                               gpu_pools={"g": {"machine_type": machine_type,
                                                                "zones": [ZONE_A]}}))
    assert_names(lines, "cluster.min_master_version", version, machine_type, "gpu_pools.g")


@pytest.mark.parametrize("machine_type, gpudirect, version", [
    ("a3-megagpu-8g", None, "1.30.4-gke.1129000"),   # exactly the 1.30 floor
    ("a3-megagpu-8g", None, "1.33.0-gke.1000"),      # a minor newer than every listed one
    ("a3-megagpu-8g", False, "1.27.1-gke.1000"),     # GPUDirect off: no GPUDirect floor
    ("a4-highgpu-8g", None, "1.32.2-gke.1475000"),
])
def test_accepts_gke_version_meeting_the_gpudirect_floor(
        machine_type: str, gpudirect: bool | None, version: str) -> None:
    """At or above the floor (or without GPUDirect) the version passes."""
    PlatformConfig.model_validate(platform(
        cluster={"min_master_version": version},
        gpu_pools={"g": {"machine_type": machine_type, "zones": [ZONE_A], "gpudirect": gpudirect}}))


def test_rejects_a4_pool_below_its_machine_floor_without_gpudirect() -> None:
    """A4 runs from 1.32.1-gke.1729000 whether or not GPUDirect is used."""
    lines = rejection(PlatformConfig, platform(
        cluster={"min_master_version": "1.31.6-gke.1000000"},
        gpu_pools={"a4": {"machine_type": "a4-highgpu-8g", "gpudirect": False}}))
    assert_names(lines, "cluster.min_master_version")


def test_rejects_tpu7x_pool_below_its_gke_minimum() -> None:
    """Ironwood (TPU7x) needs GKE Standard 1.34.0-gke.2201000 or later."""
    lines = rejection(PlatformConfig, platform(
        cluster={"min_master_version": "1.33.5-gke.1000000"},
        tpu_pools={"iw": {"generation": "tpu7x", "topology": "2x2x1", "zone": ZONE_A}}))
    assert_names(lines, "cluster.min_master_version")


def test_rejects_rdma_pool_across_zones() -> None:
    """Every VM with a NIC in a RoCE VPC runs in the zone of the VPC's network profile
    (https://cloud.google.com/vpc/docs/rdma-network-profiles), so an RDMA pool is zonal."""
    lines = rejection(PlatformConfig, platform(
        gpu_pools={"ultra": {"machine_type": "a3-ultragpu-8g", "zones": [ZONE_A, ZONE_B]}}))
    assert any("gpu_pools.ultra" in line and "zones" in line for line in lines), lines


def test_rejects_gpudirect_without_a_gpu_supernet() -> None:
    """GPUDirect NIC subnets are carved from network.gpu_supernet, which must then be set."""
    data = platform(gpu_pools={"mega": {"machine_type": "a3-megagpu-8g", "zones": [ZONE_A]}})
    del data["network"]["gpu_supernet"]
    assert_names(rejection(PlatformConfig, data), "network.gpu_supernet")


def test_rejects_gpu_nodes_beyond_the_gpu_supernet() -> None:
    """When the GPUDirect subnets do not fit, the error names network.gpu_supernet, the range
    to enlarge."""
    data = platform(gpu_pools={"mega": {"machine_type": "a3-megagpu-8g", "zones": [ZONE_A],
                                        "autoscaling": {"max_nodes": 60}}})
    data["network"]["gpu_supernet"] = "192.168.0.0/24"
    assert_names(rejection(PlatformConfig, data), "network.gpu_supernet")


def test_rejects_more_nodes_than_the_ranges_can_address() -> None:
    """Pools whose maxima need more pod or node addresses than the planned ranges are refused
    (dev: pods /19 at 64 pods per node is 64 nodes; the /25 subnet holds 124)."""
    lines = rejection(PlatformConfig, platform(gpu_pools={"l4": gpu(autoscaling={"max_nodes": 200})}))
    assert_names(lines, "network.pods_cidr", "203 nodes", "8192")
    assert_names(lines, "network.subnet_cidr", "124 node addresses", "203 nodes")


def test_pod_range_boundary() -> None:
    """Demand equal to the pods range passes; one node more is refused (3 system nodes + 61 =
    64 nodes x 128 addresses = the /19)."""
    PlatformConfig.model_validate(platform(gpu_pools={"l4": gpu(autoscaling={"max_nodes": 61})}))
    lines = rejection(PlatformConfig, platform(gpu_pools={"l4": gpu(autoscaling={"max_nodes": 62})}))
    assert_names(lines, "network.pods_cidr", "65 nodes", "8320")


def test_rejects_tpu_slices_beyond_the_pods_range() -> None:
    """TPU slices count at their whole size: 3 x v5e 16x16 is 192 nodes."""
    lines = rejection(PlatformConfig, platform(tpu_pools={
        "big": {"generation": "v5e", "topology": "16x16", "slices": 3, "zone": ZONE_A}}))
    assert_names(lines, "network.pods_cidr", "tpu_pools.big: 192")


@pytest.mark.parametrize("group", ["admins@acme.example", "gke-security-groups@",
                                   "gke-security-groups@localhost", "GKE-security-groups@a.b"])
def test_rejects_a_security_group_gke_would_ignore(group: str) -> None:
    with pytest.raises(ValueError, match="gke-security-groups@<your domain>"):
        ClusterConfig(security_group=group)




def test_gpudirect_subnets_sized_for_the_pool() -> None:
    """Each GPUDirect NIC subnet holds the pool's maximum plus GCP's 4 reserved addresses:
    TCPXO has 8 GPU subnets; RDMA has 1 gVNIC subnet and 8 GPU subnets."""
    cfg = PlatformConfig.model_validate(platform(gpu_pools={
        "mega": {"machine_type": "a3-megagpu-8g", "zones": [ZONE_A], "autoscaling": {"max_nodes": 16}},
        "ultra": {"machine_type": "a3-ultragpu-8g", "zones": [ZONE_A], "autoscaling": {"max_nodes": 4}}}))
    subnets = cfg.gpudirect_subnets()
    assert {s.name: s.prefix for s in subnets["mega"]} == \
        {f"mega-gpu{i}": 27 for i in range(GPUDIRECT_PROFILES["tcpxo"].gpu_subnets)}
    assert {s.name: s.prefix for s in subnets["ultra"]} == \
        {"ultra-gvnic0": 29, **{f"ultra-gpu{i}": 29 for i in range(8)}}
    for pool, nics in subnets.items():
        for nic in nics:
            assert nic.pool == pool
            assert 2 ** (32 - nic.prefix) - 4 >= cfg.gpu_pools[pool].autoscaling.max_nodes


def test_gpudirect_subnets_carry_kind_order_and_vpc() -> None:
    """The structure is data: TCPXO NICs are `gpu` subnets each in a VPC of its own; RDMA has
    its gVNIC network first, then `rdma` subnets that share the pool's RoCE VPC; a pool without
    GPUDirect has none (and no entry)."""
    cfg = PlatformConfig.model_validate(platform(gpu_pools={
        "mega": {"machine_type": "a3-megagpu-8g", "zones": [ZONE_A]},
        "ultra": {"machine_type": "a3-ultragpu-8g", "zones": [ZONE_A]},
        "l4": gpu()}))
    subnets = cfg.gpudirect_subnets()
    assert set(subnets) == {"mega", "ultra"}
    assert [(s.kind, s.name, s.vpc) for s in subnets["mega"]] == [
        ("gpu", f"mega-gpu{i}", f"mega-gpu{i}") for i in range(8)]
    assert [(s.kind, s.name, s.vpc) for s in subnets["ultra"]] == [
        ("gvnic", "ultra-gvnic0", "ultra-gvnic0")] + [
        ("rdma", f"ultra-gpu{i}", "ultra-roce") for i in range(8)]


def test_gpudirect_subnets_of_pools_named_like_each_others_subnets() -> None:
    """Pools `train` and `train-gpu0` (whose name is also `train`'s first NIC subnet) each get
    exactly their own eight subnets, all carved, none twice: nothing is found by name prefix."""
    cfg = PlatformConfig.model_validate(platform(gpu_pools={
        "train": {"machine_type": "a3-megagpu-8g", "zones": [ZONE_A]},
        "train-gpu0": {"machine_type": "a3-megagpu-8g", "zones": [ZONE_A]}}))
    subnets = cfg.gpudirect_subnets()
    assert [s.name for s in subnets["train"]] == [f"train-gpu{i}" for i in range(8)]
    assert [s.name for s in subnets["train-gpu0"]] == [f"train-gpu0-gpu{i}" for i in range(8)]
    carved = cfg.network_plan().extra_subnets
    assert list(carved) == [s.name for nics in subnets.values() for s in nics]
    assert len(set(carved.values())) == 16


def test_gke_versions_compare_as_patch_tuples() -> None:
    """The floor comparison is numeric per component, not textual."""
    assert parse_gke_version("1.30.10-gke.1") > parse_gke_version("1.30.9-gke.999999")


# --- what the APIs refuse for accelerator machine types (issue 11) ---------------------------

MEGA = {"machine_type": "a3-megagpu-8g", "zones": [ZONE_A], "autoscaling": {"max_nodes": 2}}


def test_rejects_queued_provisioning_with_compact_placement_on_gpus() -> None:
    """GKE refuses a COMPACT placement on a queued-provisioning GPU pool (TPU slices take both)."""
    lines = rejection(GpuPoolConfig, {**MEGA, "capacity": "queued", "placement": "compact"})
    assert_names(lines, "placement", "capacity queued", "use placement: none")


def test_rejects_flex_start_with_compact_placement_outside_a3_ultra_a4() -> None:
    lines = rejection(GpuPoolConfig, {**MEGA, "capacity": "flex_start", "auto_repair": False,
                                      "placement": "compact"})
    assert_names(lines, "placement", "a3-ultragpu, a4, h4d", "not a3-megagpu-8g")


def test_accepts_flex_start_with_compact_placement_on_a4() -> None:
    GpuPoolConfig.model_validate({"machine_type": "a4-highgpu-8g", "zones": [ZONE_A],
                                  "capacity": "flex_start", "auto_repair": False,
                                  "placement": "compact"})


@pytest.mark.parametrize(("model", "data"), [
    (GpuPoolConfig, {"machine_type": "a3-ultragpu-8g", "zones": [ZONE_A],
                     "boot_disk_type": "pd-balanced"}),
    (TpuPoolConfig, {"generation": "v6e", "topology": "2x2", "boot_disk_type": "pd-ssd"}),
    (TpuPoolConfig, {"generation": "tpu7x", "topology": "2x2x1", "boot_disk_type": "pd-balanced"}),
])
def test_rejects_a_boot_disk_the_machine_type_cannot_boot_from(model: type[BaseModel],
                                                               data: dict[str, Any]) -> None:
    """A3 Ultra, A4, v6e and TPU7x VMs boot only from Hyperdisk Balanced (catalog, sourced)."""
    assert_names(rejection(model, data), "boot_disk_type", "boots only from hyperdisk-balanced")


@pytest.mark.parametrize(("generation", "topology", "disk"), [
    ("v6e", "2x2", "hyperdisk-balanced"), ("tpu7x", "2x2x1", "hyperdisk-balanced"),
    ("v5p", "2x2x1", "pd-balanced"), ("v5e", "2x2", "pd-balanced")])
def test_tpu_boot_disk_defaults_from_the_catalog(generation: str, topology: str, disk: str) -> None:
    assert TpuPoolConfig(generation=generation, topology=topology).disk_type == disk


def test_rejects_a_gpudirect_pool_name_too_long_for_its_networks() -> None:
    """Each NIC of a GPUDirect pool becomes a Kubernetes Device Network named `<pool>-gpuN`, and
    GKE caps those at 41 characters: the config says so before anything is planned."""
    flat = {"project": "acme-ai-dev", "region": REGION, "environment": "dev", "zones": [ZONE_A],
            "network": {"base_cidr": "10.16.0.0/16", "gpu_supernet": "192.168.0.0/16"},
            "cluster": {},
            "gpu_pools": {"a-pool-name-too-long-for-gke-networks1": {
                "machine_type": "a3-megagpu-8g", "zones": [ZONE_A]}}}
    lines = rejection(PlatformConfig, flat)
    assert_names(lines, "gpu_pools.a-pool-name-too-long-for-gke-networks1",
                 "at most 41", "shorten the pool name by 2")
