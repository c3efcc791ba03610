"""GpuNodePool built alone under the mocks, one pool per capacity mode, placement, upgrade, Local
SSD use and GPUDirect flavour: the NodePool GKE receives and the scheduling contract. How
infra/platform.py wires pools to the cluster and the GPUDirect networks is in test_compute.py."""

from __future__ import annotations

from typing import Any

import pytest

from components.gpu_pool import GpuNodePool, GpuPoolSpec
from infra.catalog.gpu import GPU_MACHINES
from infra.config.compute import GpuPoolConfig
from infra.engine.plan import STACK_TYPE, Plan
from infra.errors import AidcError
from tests.helpers import (
    CLUSTER_ID,
    DISKS_KEY,
    NODE_SA,
    PROJECT,
    REGION,
    by_name,
    contract,
    inputs,
    plan_of,
    stack_config,
)

NODE_POOL = "gcp:container/nodePool:NodePool"
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}
QUEUED = "cloud.google.com/gke-queued"
RESERVATION_KEY = "compute.googleapis.com/reservation-name"
ZONES = [f"{REGION}-a", f"{REGION}-b"]
LABELS = {"environment": "test", "managed-by": "aidc"}

# One pool per capacity mode, placement, Local SSD use and upgrade strategy, plus the shipped
# stacks' pools (dev's spot L4, prod's TCPXO H100 Mega on a reservation).
POOLS: dict[str, dict[str, Any]] = {
    "l4": stack_config("dev")["aidc:gpu_pools"]["l4"],
    "h100-mega": stack_config("prod")["aidc:gpu_pools"]["h100-mega"],
    "resv": {"machine_type": "g2-standard-12", "capacity": "reservation",
             "reservation": ["l4-resv"], "autoscaling": {"max_nodes": 1}},
    "queued": {"machine_type": "g2-standard-8", "capacity": "queued",
               "autoscaling": {"min_nodes": 0, "max_nodes": 2}},
    "flex": {"machine_type": "g2-standard-8", "capacity": "flex_start", "auto_repair": False},
    "compact": {"machine_type": "a3-highgpu-8g", "gpudirect": False, "placement": "compact",
                "zones": [f"{REGION}-a"]},
    "nvme": {"machine_type": "a3-highgpu-8g", "gpudirect": False,
             "local_ssd": {"raw_block_count": 16}},
    "bluegreen": {"machine_type": "g2-standard-8", "upgrade": "blue_green"},
    "ultra": {"machine_type": "a3-ultragpu-8g", "zones": [f"{REGION}-b"],
              "autoscaling": {"max_nodes": 2}},
}


def pool_spec(pool: str) -> GpuPoolSpec:
    cfg = GpuPoolConfig.model_validate(POOLS[pool])
    return GpuPoolSpec(pool_name=pool, location=REGION, zones=cfg.zones or ZONES, config=cfg,
                       max_pods_per_node=cfg.max_pods_per_node or 64, labels=LABELS)


def nic_networks(spec: GpuPoolSpec) -> list[tuple[str, str]]:
    """The (network, subnetwork) pairs a GPUDirect pool is given, one per extra NIC."""
    return [(f"net-{nic.vpc}", f"subnet-{nic.name}")
            for nic in spec.config.nic_subnets(spec.pool_name)]


def pool_plan(pool: str, seen: dict[str, Any] | None = None) -> Plan:
    """The pool alone, wired with plain ids; `seen` gets the component's scheduling contract."""
    def program() -> None:
        spec = pool_spec(pool)
        component = GpuNodePool(f"gpu-{pool}", spec, project=PROJECT, cluster_id=CLUSTER_ID,
                                node_service_account=NODE_SA, boot_disk_kms_key=DISKS_KEY,
                                gpu_networks=nic_networks(spec))
        if seen is not None:
            seen.update(vars(component))
    return plan_of(program)


@pytest.fixture(scope="module")
def plans() -> dict[str, Plan]:
    return {pool: pool_plan(pool) for pool in POOLS}


def node_config(plans: dict[str, Plan], pool: str) -> dict[str, Any]:
    return inputs(plans[pool], f"gpu-{pool}-pool")["nodeConfig"]


@pytest.mark.parametrize("pool", sorted(POOLS))
def test_gpu_pool_children(pool: str, plans: dict[str, Plan]) -> None:
    """A GpuNodePool is one NodePool named `<name>-pool`, parented to the component, which is a
    root-level aidc:gpu_pool:GpuNodePool."""
    plan = plans[pool]
    component = by_name(plan, f"gpu-{pool}")
    assert component.type == "aidc:gpu_pool:GpuNodePool"
    assert plan.by_urn()[component.parent].type == STACK_TYPE
    assert contract(plan, f"gpu-{pool}") == {(NODE_POOL, f"gpu-{pool}-pool", f"gpu-{pool}")}


@pytest.mark.parametrize("pool", sorted(POOLS))
def test_gpu_pool_node_config(pool: str, plans: dict[str, Plan]) -> None:
    """Every GPU pool: the catalog's accelerator with driver auto-install, gVNIC, a CMEK boot
    disk, secure boot, the GKE metadata server, the dedicated node SA, the GPU taint, and surge
    upgrades that need no spare GPUs."""
    cfg = pool_spec(pool).config
    gpu = cfg.resolved()
    pool_inputs = inputs(plans[pool], f"gpu-{pool}-pool")
    node = pool_inputs["nodeConfig"]
    assert (pool_inputs["name"], pool_inputs["cluster"], pool_inputs["location"]) == \
        (pool, CLUSTER_ID, REGION)
    assert node["machineType"] == gpu.machine_type
    assert node["guestAccelerators"] == [{
        "type": gpu.accelerator_type, "count": gpu.accelerator_count,
        "gpuDriverInstallationConfig": {"gpuDriverVersion": cfg.gpu_driver_version}}]
    assert node["gvnic"] == {"enabled": True}
    assert node["bootDiskKmsKey"] == DISKS_KEY
    assert node["shieldedInstanceConfig"]["enableSecureBoot"] is True
    assert node["workloadMetadataConfig"]["mode"] == "GKE_METADATA"
    assert node["serviceAccount"] == NODE_SA
    assert GPU_TAINT in node["taints"]
    assert node["resourceLabels"] == LABELS
    assert pool_inputs["nodeLocations"] == (cfg.zones or ZONES)
    if cfg.upgrade == "surge":
        assert pool_inputs["upgradeSettings"] == {"strategy": "SURGE", "maxSurge": 0,
                                                  "maxUnavailable": 1}


def test_gpu_pool_uses_bundled_local_ssd_as_ephemeral_storage(plans: dict[str, Plan]) -> None:
    """A3 machine types bundle 16 Local SSDs; by default all of them back ephemeral storage."""
    a3 = GPU_MACHINES["a3-megagpu-8g"].local_ssd_count
    assert a3 == 16
    assert node_config(plans, "h100-mega")["ephemeralStorageLocalSsdConfig"] == {"localSsdCount": a3}
    assert node_config(plans, "compact")["ephemeralStorageLocalSsdConfig"] == {
        "localSsdCount": GPU_MACHINES["a3-highgpu-8g"].local_ssd_count}
    assert "ephemeralStorageLocalSsdConfig" not in node_config(plans, "l4")


def test_gpu_pool_raw_nvme_local_ssd(plans: dict[str, Plan]) -> None:
    """raw_block_count exposes the Local SSDs as raw NVMe devices instead of ephemeral storage."""
    node = node_config(plans, "nvme")
    assert node["localNvmeSsdBlockConfig"] == {"localSsdCount": 16}
    assert "ephemeralStorageLocalSsdConfig" not in node


def test_gpu_pool_spot(plans: dict[str, Plan]) -> None:
    """Spot: spot VMs, no reservation, and the autoscaler may look in any zone."""
    pool_inputs = inputs(plans["l4"], "gpu-l4-pool")
    assert pool_inputs["nodeConfig"]["spot"] is True
    assert pool_inputs["nodeConfig"]["reservationAffinity"] == {
        "consumeReservationType": "NO_RESERVATION"}
    assert pool_inputs["autoscaling"]["locationPolicy"] == "ANY"
    assert (pool_inputs["autoscaling"]["totalMinNodeCount"],
            pool_inputs["autoscaling"]["totalMaxNodeCount"]) == (0, 2)


@pytest.mark.parametrize("pool, name", [("h100-mega", "a3mega-prod-reservation"),
                                        ("resv", "l4-resv")])
def test_gpu_pool_specific_reservation(pool: str, name: str, plans: dict[str, Plan]) -> None:
    """A specific reservation is consumed by name, and only that one."""
    node = node_config(plans, pool)
    assert node["reservationAffinity"] == {"consumeReservationType": "SPECIFIC_RESERVATION",
                                           "key": RESERVATION_KEY, "values": [name]}
    assert "spot" not in node


def test_gpu_pool_queued_provisioning(plans: dict[str, Plan]) -> None:
    """Queued provisioning (DWS): enabled on the pool, no reservation, the queued label and taint
    on the nodes, and both in the scheduling contract."""
    seen: dict[str, Any] = {}
    pool_inputs = inputs(pool_plan("queued", seen), "gpu-queued-pool")
    node = pool_inputs["nodeConfig"]
    assert pool_inputs["queuedProvisioning"] == {"enabled": True}
    assert node["reservationAffinity"] == {"consumeReservationType": "NO_RESERVATION"}
    assert node["labels"][QUEUED] == "true"
    assert {"key": QUEUED, "value": "true", "effect": "NO_SCHEDULE"} in node["taints"]
    assert pool_inputs["autoscaling"]["totalMinNodeCount"] == 0
    assert seen["node_selector"][QUEUED] == "true"
    assert {"key": QUEUED, "operator": "Equal", "value": "true", "effect": "NoSchedule"} \
        in seen["tolerations"]
    assert "queuedProvisioning" not in inputs(plans["l4"], "gpu-l4-pool")


def test_gpu_pool_flex_start(plans: dict[str, Plan]) -> None:
    """Flex-start (DWS): flexStart on the nodes, no reservation, auto-repair off."""
    pool_inputs = inputs(plans["flex"], "gpu-flex-pool")
    assert pool_inputs["nodeConfig"]["flexStart"] is True
    assert pool_inputs["nodeConfig"]["reservationAffinity"] == {
        "consumeReservationType": "NO_RESERVATION"}
    assert pool_inputs["management"]["autoRepair"] is False


def test_gpu_pool_compact_placement(plans: dict[str, Plan]) -> None:
    """compact: a COMPACT placement policy in the pool's one zone; other pools have none."""
    for pool in ("h100-mega", "compact"):
        pool_inputs = inputs(plans[pool], f"gpu-{pool}-pool")
        assert pool_inputs["placementPolicy"] == {"type": "COMPACT"}
        assert len(pool_inputs["nodeLocations"]) == 1
    assert "placementPolicy" not in inputs(plans["l4"], "gpu-l4-pool")


def test_gpu_pool_blue_green_upgrade(plans: dict[str, Plan]) -> None:
    """blue_green swaps the surge settings for a blue-green rollout."""
    settings = inputs(plans["bluegreen"], "gpu-bluegreen-pool")["upgradeSettings"]
    assert settings == {"strategy": "BLUE_GREEN", "blueGreenSettings": {
        "standardRolloutPolicy": {"batchNodeCount": 1, "batchSoakDuration": "300s"}}}


def test_gpu_pool_on_demand_leaves_capacity_at_provider_defaults(plans: dict[str, Plan]) -> None:
    """An on-demand pool sets no spot, flex-start, queued or reservation affinity, and balances
    nodes across zones."""
    pool_inputs = inputs(plans["bluegreen"], "gpu-bluegreen-pool")
    for key in ("spot", "flexStart", "reservationAffinity"):
        assert key not in pool_inputs["nodeConfig"]
    assert "queuedProvisioning" not in pool_inputs
    assert pool_inputs["autoscaling"]["locationPolicy"] == "BALANCED"


def test_gpu_pool_scheduling_contract() -> None:
    """Workloads are written against node_selector, tolerations, resource_name, gpus_per_node
    and max_gpus on the component."""
    mega: dict[str, Any] = {}
    pool_plan("h100-mega", mega)
    assert mega["node_selector"] == {"cloud.google.com/gke-accelerator": "nvidia-h100-mega-80gb",
                                     "cloud.google.com/gke-nodepool": "h100-mega"}
    assert mega["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists",
                                    "effect": "NoSchedule"}]
    assert mega["resource_name"] == "nvidia.com/gpu"
    assert (mega["gpus_per_node"], mega["max_gpus"]) == (8, 8 * 16)
    l4: dict[str, Any] = {}
    pool_plan("l4", l4)
    assert (l4["gpus_per_node"], l4["max_gpus"]) == (1, 2)
    assert QUEUED not in l4["node_selector"]


@pytest.mark.parametrize("pool", ["h100-mega", "ultra"])
def test_gpudirect_pool_attaches_its_networks_in_order(pool: str, plans: dict[str, Plan]) -> None:
    """A GPUDirect pool attaches the networks it is given, in order, as additional node
    networks of private nodes."""
    attached = inputs(plans[pool], f"gpu-{pool}-pool")["networkConfig"]
    assert attached["enablePrivateNodes"] is True
    assert [(n["network"], n["subnetwork"]) for n in attached["additionalNodeNetworkConfigs"]] \
        == nic_networks(pool_spec(pool))


@pytest.mark.parametrize("pool", ["l4", "compact", "nvme"])
def test_pools_without_gpudirect_get_no_extra_networks(pool: str, plans: dict[str, Plan]) -> None:
    """Only GPUDirect pools attach additional node networks."""
    assert inputs(plans[pool], f"gpu-{pool}-pool")["networkConfig"] == {"enablePrivateNodes": True}


def test_rejects_gpudirect_pool_with_the_wrong_number_of_networks() -> None:
    """A TCPXO pool needs eight extra node networks; wiring fewer is refused, naming the pool
    and both counts, before anything is registered."""
    spec = pool_spec("h100-mega")

    def program() -> None:
        GpuNodePool("gpu-h100-mega", spec, project=PROJECT, cluster_id=CLUSTER_ID,
                    node_service_account=NODE_SA, boot_disk_kms_key=DISKS_KEY,
                    gpu_networks=nic_networks(spec)[:7])
    with pytest.raises(AidcError, match="gpu_networks: pool h100-mega uses tcpxo, which needs "
                                        "8 extra node networks, 7 were wired"):
        plan_of(program)
