"""TpuNodePool built alone under the mocks: one node pool per slice, sized and placed by the
topology (single-host, multi-host, several slices, Ironwood's workload policy), and the same
hardening as every node. How infra/platform.py wires it into a stack is in test_compute.py."""

from __future__ import annotations

from typing import Any

import pytest

from components.tpu_pool import TpuNodePool, TpuPoolSpec
from infra.catalog.tpu import tpu_slice
from infra.config.compute import TpuPoolConfig
from infra.engine.plan import STACK_TYPE, Plan
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
RESOURCE_POLICY = "gcp:compute/resourcePolicy:ResourcePolicy"
ZONE = f"{REGION}-a"
MAX_PODS = 32

# The shipped stacks' slices, two slices of one shape, and an Ironwood (TPU7x) multi-host slice.
POOLS: dict[str, dict[str, Any]] = {
    "v5e-dev": stack_config("dev")["aidc:tpu_pools"]["v5e-dev"],
    "v5e-slice": stack_config("staging")["aidc:tpu_pools"]["v5e-slice"],
    "v5p-slice": stack_config("prod")["aidc:tpu_pools"]["v5p-slice"],
    "pair": {"generation": "v5e", "topology": "2x4", "machine_type": "ct5lp-hightpu-4t",
             "slices": 2, "zone": ZONE},
    "iron": {"generation": "tpu7x", "topology": "2x2x2", "zone": ZONE},
    "trillium": {"generation": "v6e", "topology": "2x2", "zone": ZONE},
}


def tpu_plan(pool: str, seen: dict[str, Any] | None = None) -> Plan:
    """The pool alone, wired with plain ids; `seen` gets the component's attributes."""
    cfg = TpuPoolConfig.model_validate(POOLS[pool])

    def program() -> None:
        component = TpuNodePool(
            f"tpu-{pool}", TpuPoolSpec(pool_name=pool, location=REGION, zone=cfg.zone or ZONE,
                                       config=cfg, max_pods_per_node=MAX_PODS,
                                       labels={"environment": "test"}),
            project=PROJECT, cluster_id=CLUSTER_ID, node_service_account=NODE_SA,
            boot_disk_kms_key=DISKS_KEY)
        if seen is not None:
            seen.update(vars(component))
    return plan_of(program)


@pytest.fixture(scope="module")
def plans() -> dict[str, Plan]:
    return {pool: tpu_plan(pool) for pool in POOLS}


@pytest.mark.parametrize("pool", sorted(POOLS))
def test_tpu_pool_children(pool: str, plans: dict[str, Plan]) -> None:
    """One NodePool per slice, `<name>-slice<i>`, parented to the root-level
    aidc:tpu_pool:TpuNodePool; Ironwood multi-host adds its workload policy, and nothing else."""
    plan = plans[pool]
    component = by_name(plan, f"tpu-{pool}")
    assert component.type == "aidc:tpu_pool:TpuNodePool"
    assert plan.by_urn()[component.parent].type == STACK_TYPE
    slices = TpuPoolConfig.model_validate(POOLS[pool]).slices
    expected = {(NODE_POOL, f"tpu-{pool}-slice{i}", f"tpu-{pool}") for i in range(slices)}
    if pool == "iron":
        expected.add((RESOURCE_POLICY, "tpu-iron-workload-policy", "tpu-iron"))
    assert contract(plan, f"tpu-{pool}") == expected


def test_tpu_multi_host_slice(plans: dict[str, Plan]) -> None:
    """v5e 4x4 is four ct5lp-hightpu-4t nodes in one zone under a COMPACT placement naming the
    topology; per-zone limits equal the slice; spot opts out of reservations."""
    seen: dict[str, Any] = {}
    tpu_plan("v5e-slice", seen)
    pool_inputs = inputs(plans["v5e-slice"], "tpu-v5e-slice-slice0")
    assert pool_inputs["name"] == "v5e-slice"
    assert pool_inputs["nodeConfig"]["machineType"] == "ct5lp-hightpu-4t"
    assert pool_inputs["nodeLocations"] == ["us-central1-a"]
    assert pool_inputs["placementPolicy"] == {"type": "COMPACT", "tpuTopology": "4x4"}
    assert pool_inputs["autoscaling"] == {"minNodeCount": 0, "maxNodeCount": 4,
                                          "locationPolicy": "ANY"}
    assert pool_inputs["nodeConfig"]["spot"] is True
    assert (seen["chips_per_slice"], seen["total_chips"]) == (16, 16)
    assert seen["node_selector"] == {"cloud.google.com/gke-tpu-accelerator": "tpu-v5-lite-podslice",
                                     "cloud.google.com/gke-tpu-topology": "4x4"}
    # The scheduling contract Kueue's flavour is written from: GKE's TPU taint, the chips.
    assert seen["tolerations"] == [{"key": "google.com/tpu", "operator": "Exists",
                                    "effect": "NoSchedule"}]
    assert seen["resource_name"] == "google.com/tpu"


def test_tpu_multi_host_slice_held_whole(plans: dict[str, Plan]) -> None:
    """prod's v5p 4x4x4 (64 chips, 16 ct5p-hightpu-4t nodes) stays up whole: min = max = 16."""
    seen: dict[str, Any] = {}
    tpu_plan("v5p-slice", seen)
    pool_inputs = inputs(plans["v5p-slice"], "tpu-v5p-slice-slice0")
    assert pool_inputs["nodeConfig"]["machineType"] == "ct5p-hightpu-4t"
    assert pool_inputs["placementPolicy"] == {"type": "COMPACT", "tpuTopology": "4x4x4"}
    assert (pool_inputs["autoscaling"]["minNodeCount"],
            pool_inputs["autoscaling"]["maxNodeCount"]) == (16, 16)
    assert pool_inputs["initialNodeCount"] == 16
    assert seen["total_chips"] == 64


def test_tpu_single_host_slice(plans: dict[str, Plan]) -> None:
    """A single-host slice (v5e 2x2: one ct5lp-hightpu-4t) sets no placement policy or topology,
    and autoscales up to its max_nodes."""
    seen: dict[str, Any] = {}
    tpu_plan("v5e-dev", seen)
    pool_inputs = inputs(plans["v5e-dev"], "tpu-v5e-dev-slice0")
    assert pool_inputs["nodeConfig"]["machineType"] == "ct5lp-hightpu-4t"
    assert "placementPolicy" not in pool_inputs
    assert pool_inputs["autoscaling"] == {"minNodeCount": 0, "maxNodeCount": 1}
    assert (seen["chips_per_slice"], seen["total_chips"]) == (4, 4)


def test_tpu_one_pool_per_slice(plans: dict[str, Plan]) -> None:
    """slices: 2 is two node pools `<name>-0`, `<name>-1`, each a whole 2x4 slice of two VMs."""
    hosts = tpu_slice("v5e", "2x4", "ct5lp-hightpu-4t").hosts
    assert hosts == 2
    for i in range(2):
        pool_inputs = inputs(plans["pair"], f"tpu-pair-slice{i}")
        assert pool_inputs["name"] == f"pair-{i}"
        assert pool_inputs["placementPolicy"] == {"type": "COMPACT", "tpuTopology": "2x4"}
        assert pool_inputs["autoscaling"]["maxNodeCount"] == hosts
    seen: dict[str, Any] = {}
    tpu_plan("pair", seen)
    assert (seen["chips_per_slice"], seen["total_chips"]) == (8, 16)


@pytest.mark.parametrize("pool", sorted(POOLS))
def test_tpu_pool_hardening(pool: str, plans: dict[str, Plan]) -> None:
    """TPU VMs get what every node gets: the node SA, a CMEK boot disk, secure boot, the GKE
    metadata server, private nodes, and surge upgrades of one node at a time."""
    pool_inputs = inputs(plans[pool], f"tpu-{pool}-slice0")
    node = pool_inputs["nodeConfig"]
    assert node["serviceAccount"] == NODE_SA
    assert node["bootDiskKmsKey"] == DISKS_KEY
    assert node["shieldedInstanceConfig"]["enableSecureBoot"] is True
    assert node["workloadMetadataConfig"]["mode"] == "GKE_METADATA"
    assert pool_inputs["networkConfig"]["enablePrivateNodes"] is True
    assert pool_inputs["upgradeSettings"] == {"strategy": "SURGE", "maxSurge": 0,
                                              "maxUnavailable": 1}


def test_tpu7x_multi_host_uses_a_workload_policy(plans: dict[str, Plan]) -> None:
    """Ironwood multi-host pools reference a HIGH_THROUGHPUT workload policy carrying the
    topology (`--placement-policy`), never `--tpu-topology`."""
    plan = plans["iron"]
    policy = inputs(plan, "tpu-iron-workload-policy")
    assert policy["workloadPolicy"] == {"type": "HIGH_THROUGHPUT", "acceleratorTopology": "2x2x2"}
    assert policy["region"] == REGION
    slice0 = by_name(plan, "tpu-iron-slice0")
    # The policy's name output (the mocks echo its logical name), so the pool waits for it.
    assert slice0.inputs["placementPolicy"] == {"type": "COMPACT",
                                                "policyName": "tpu-iron-workload-policy"}
    assert by_name(plan, "tpu-iron-workload-policy").urn in slice0.dependencies


@pytest.mark.parametrize("pool", sorted(POOLS))
def test_tpu_pool_sets_its_pods_per_node(pool: str, plans: dict[str, Plan]) -> None:
    """Every slice's node pool states its pods per node (the stack's network setting): without
    it GKE gives 110, a /24 per node, four times what a 32-pod plan counted."""
    for i in range(TpuPoolConfig.model_validate(POOLS[pool]).slices):
        assert inputs(plans[pool], f"tpu-{pool}-slice{i}")["maxPodsPerNode"] == MAX_PODS


@pytest.mark.parametrize("pool", sorted(POOLS))
def test_tpu_pool_is_tainted_and_exports_the_toleration(pool: str, plans: dict[str, Plan]) -> None:
    """TPU nodes carry the google.com/tpu NoSchedule taint (as GPU nodes carry nvidia.com/gpu),
    and the scheduling contract exports the toleration that matches it."""
    seen: dict[str, Any] = {}
    tpu_plan(pool, seen)
    node = inputs(plans[pool], f"tpu-{pool}-slice0")["nodeConfig"]
    assert {"key": "google.com/tpu", "value": "present", "effect": "NO_SCHEDULE"} in node["taints"]
    assert {"key": "google.com/tpu", "operator": "Exists", "effect": "NoSchedule"} in \
        seen["tolerations"]


@pytest.mark.parametrize(("pool", "disk"), [("trillium", "hyperdisk-balanced"),
                                            ("iron", "hyperdisk-balanced"),
                                            ("v5p-slice", "pd-balanced"),
                                            ("v5e-dev", "pd-balanced")])
def test_tpu_pool_boots_from_the_disk_its_generation_takes(pool: str, disk: str,
                                                           plans: dict[str, Plan]) -> None:
    """v6e and TPU7x VMs boot only from Hyperdisk Balanced (catalog, with its source); v5e and
    v5p from GKE's default pd-balanced, stated explicitly."""
    assert inputs(plans[pool], f"tpu-{pool}-slice0")["nodeConfig"]["diskType"] == disk
