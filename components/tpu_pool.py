"""TpuNodePool: one GKE node pool per TPU slice."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from components.node_config import NodeHardening, capacity_settings
from infra.catalog.tpu import TPU_RESOURCE, TpuSlice, tpu_generation
from infra.config.base import Spec
from infra.config.compute import TpuPoolConfig
from infra.gcp import naming


class TpuPoolSpec(Spec):
    """TPU slices as the composition resolves them from `aidc:tpu_pools.<name>`."""

    pool_name: str = Field(description="Node pool name prefix; slices add '-<index>'.")
    location: str = Field(description="The cluster's region.")
    zone: str = Field(description="The slices' zone.")
    config: TpuPoolConfig = Field(description="The stack's `aidc:tpu_pools.<name>` entry.")
    max_pods_per_node: int = Field(
        description="Pods per node, set on every slice's node pool (the stack's "
                    "network.max_pods_per_node): GKE's default of 110 would take a /24 per node.")
    labels: dict[str, str] = Field(default_factory=dict, description="GCP labels on the nodes.")


def needs_workload_policy(tpu: TpuSlice) -> bool:
    """Ironwood (TPU7x) multi-host slices take their topology from a HIGH_THROUGHPUT workload
    policy (`--placement-policy`), not from `--tpu-topology`."""
    return tpu.multi_host and tpu_generation(tpu.generation).multi_host_workload_policy


def placement(tpu: TpuSlice, workload_policy: gcp.compute.ResourcePolicy | None,
              ) -> gcp.container.NodePoolPlacementPolicyArgs | None:
    """A multi-host slice is COMPACT and names its topology (directly or through the workload
    policy); a single-host slice never sets a topology (GKE rejects it)."""
    if not tpu.multi_host:
        return None
    if workload_policy is not None:
        return gcp.container.NodePoolPlacementPolicyArgs(
            type="COMPACT", policy_name=workload_policy.name)
    return gcp.container.NodePoolPlacementPolicyArgs(type="COMPACT", tpu_topology=tpu.topology)


class TpuNodePool(pulumi.ComponentResource):
    """A multi-host slice is one node pool of exactly `hosts` VMs in one zone with a COMPACT
    placement policy naming the topology (Ironwood, TPU7x: a COMPACT placement referencing a
    child HIGH_THROUGHPUT workload policy that carries the topology); GKE creates and scales it
    atomically, so its per-zone node limits equal the slice (0 or all of it). A single-host
    slice autoscales up to `max_nodes`. TPU VMs are hardened as every node (`NodeHardening`),
    boot from the disk type their generation takes (Hyperdisk Balanced for v6e and TPU7x) and
    carry the `google.com/tpu` taint; the scheduling contract (`node_selector`, `tolerations`)
    mirrors the GPU pools'.
    """

    node_pools: list[gcp.container.NodePool]
    workload_policy: gcp.compute.ResourcePolicy | None
    chips_per_slice: int
    total_chips: int
    node_selector: dict[str, str]
    tolerations: list[dict[str, str]]
    resource_name: str

    def __init__(self, name: str, spec: TpuPoolSpec, *, project: str,
                 cluster_id: pulumi.Input[str], node_service_account: pulumi.Input[str],
                 boot_disk_kms_key: pulumi.Input[str],
                 depends_on: Sequence[pulumi.Resource] = (),
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aidc:tpu_pool:TpuNodePool", name, None, opts)
        cfg = spec.config
        tpu = cfg.slice()
        capacity = capacity_settings(cfg.capacity, cfg.reservation_name)
        node = NodeHardening(node_service_account, boot_disk_kms_key)
        self.workload_policy = gcp.compute.ResourcePolicy(
            f"{name}-workload-policy",
            project=project,
            region=spec.location,
            workload_policy=gcp.compute.ResourcePolicyWorkloadPolicyArgs(
                type="HIGH_THROUGHPUT", accelerator_topology=tpu.topology),
            opts=pulumi.ResourceOptions(parent=self)) if needs_workload_policy(tpu) else None
        self.node_pools = [gcp.container.NodePool(
            f"{name}-slice{index}",
            name=naming.node_pool_name(spec.pool_name, index, cfg.slices),
            project=project,
            cluster=cluster_id,
            location=spec.location,
            node_locations=[spec.zone],
            initial_node_count=cfg.min_nodes,
            max_pods_per_node=spec.max_pods_per_node,
            autoscaling=gcp.container.NodePoolAutoscalingArgs(
                min_node_count=cfg.min_nodes, max_node_count=cfg.max_nodes_per_slice,
                location_policy="ANY" if capacity.location_policy == "ANY" else None),
            placement_policy=placement(tpu, self.workload_policy),
            management=gcp.container.NodePoolManagementArgs(
                auto_repair=cfg.auto_repair, auto_upgrade=True),
            upgrade_settings=gcp.container.NodePoolUpgradeSettingsArgs(
                strategy="SURGE", max_surge=0, max_unavailable=1),
            queued_provisioning=capacity.queued_provisioning_args(),
            network_config=gcp.container.NodePoolNetworkConfigArgs(enable_private_nodes=True),
            node_config=node.pool_node_config(
                machine_type=tpu.machine_type,
                disk_type=cfg.disk_type,
                labels={**spec.labels, **cfg.labels},
                resource_labels=spec.labels,
                taints=cfg.node_taints,
                capacity=capacity,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
        ) for index in range(cfg.slices)]
        self.chips_per_slice = tpu.chips
        self.total_chips = tpu.chips * cfg.slices
        self.node_selector = {"cloud.google.com/gke-tpu-accelerator": tpu.accelerator_label,
                              "cloud.google.com/gke-tpu-topology": tpu.topology}
        self.tolerations = cfg.tolerations
        self.resource_name = TPU_RESOURCE
        self.register_outputs({"node_pools": self.node_pools,
                               "workload_policy": self.workload_policy,
                               "chips_per_slice": self.chips_per_slice,
                               "total_chips": self.total_chips,
                               "node_selector": self.node_selector,
                               "tolerations": self.tolerations,
                               "resource_name": self.resource_name})
