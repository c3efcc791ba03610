"""GpuNodePool: a GPU node pool derived from a machine type and a capacity mode."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from components.node_config import NodeHardening, capacity_settings
from infra.config.base import Spec
from infra.config.compute import GpuPoolConfig
from infra.errors import AidcError
from infra.gcp import naming

GPU_RESOURCE = "nvidia.com/gpu"
ACCELERATOR_LABEL = "cloud.google.com/gke-accelerator"
NODEPOOL_LABEL = "cloud.google.com/gke-nodepool"


class GpuPoolSpec(Spec):
    """One GPU node pool as the composition resolves it from `aidc:gpu_pools.<name>`."""

    pool_name: str = Field(description="The node pool's cloud name (at most 40 characters).")
    location: str = Field(description="The cluster's region.")
    zones: list[str] = Field(description="Node locations (one zone with compact placement).")
    config: GpuPoolConfig = Field(description="The stack's `aidc:gpu_pools.<name>` entry.")
    max_pods_per_node: int = Field(description="Pods per node (the pool's or the network's).")
    labels: dict[str, str] = Field(default_factory=dict,
                                   description="GCP labels on the nodes, merged with the pool's.")


def upgrade_settings(upgrade: str) -> gcp.container.NodePoolUpgradeSettingsArgs:
    """surge: one node at a time and no spare GPUs (max_surge 0); blue_green: a second set of
    nodes, one node per batch, five minutes' soak."""
    if upgrade == "surge":
        return gcp.container.NodePoolUpgradeSettingsArgs(
            strategy="SURGE", max_surge=0, max_unavailable=1)
    return gcp.container.NodePoolUpgradeSettingsArgs(
        strategy="BLUE_GREEN",
        blue_green_settings=gcp.container.NodePoolUpgradeSettingsBlueGreenSettingsArgs(
            standard_rollout_policy=gcp.container.NodePoolUpgradeSettingsBlueGreenSettingsStandardRolloutPolicyArgs(
                batch_node_count=1, batch_soak_duration="300s")))


class GpuNodePool(pulumi.ComponentResource):
    """Everything but the machine type and capacity mode is derived from the catalog: guest
    accelerators with driver auto-install, gVNIC, Local SSD as ephemeral storage, the GPUDirect
    NICs on the extra VPC subnets, the GPU taint, and surge upgrades that need no spare GPUs
    (max_surge 0, max_unavailable 1); the nodes are hardened as every node (`NodeHardening`).

    The scheduling contract (`node_selector`, `tolerations`, `resource_name`, `gpus_per_node`,
    `max_gpus`) is what workloads and quota requests are written against.
    """

    node_pool: gcp.container.NodePool
    node_selector: dict[str, str]
    tolerations: list[dict[str, str]]
    resource_name: str
    gpus_per_node: int
    max_gpus: int
    accelerator_type: str

    def __init__(self, name: str, spec: GpuPoolSpec, *, project: str,
                 cluster_id: pulumi.Input[str], node_service_account: pulumi.Input[str],
                 boot_disk_kms_key: pulumi.Input[str],
                 gpu_networks: Sequence[tuple[pulumi.Input[str], pulumi.Input[str]]] = (),
                 depends_on: Sequence[pulumi.Resource] = (),
                 opts: pulumi.ResourceOptions | None = None) -> None:
        cfg = spec.config
        gpu = cfg.resolved()
        if cfg.uses_gpudirect and gpu.profile is not None and len(gpu_networks) != gpu.profile.extra_nics:
            raise AidcError(f"pool {spec.pool_name} uses {gpu.gpudirect}, which "
                            f"needs {gpu.profile.extra_nics} extra node networks, "
                            f"{len(gpu_networks)} were wired", field="gpu_networks")
        super().__init__("aidc:gpu_pool:GpuNodePool", name, None, opts)
        capacity = capacity_settings(cfg.capacity, cfg.reservation_name)
        node = NodeHardening(node_service_account, boot_disk_kms_key)
        self.node_pool = gcp.container.NodePool(
            f"{name}-pool",
            name=naming.node_pool_name(spec.pool_name),
            project=project,
            cluster=cluster_id,
            location=spec.location,
            node_locations=spec.zones,
            initial_node_count=0 if cfg.autoscaling.min_nodes == 0 else None,
            max_pods_per_node=spec.max_pods_per_node,
            autoscaling=gcp.container.NodePoolAutoscalingArgs(
                total_min_node_count=cfg.autoscaling.min_nodes,
                total_max_node_count=cfg.autoscaling.max_nodes,
                location_policy=capacity.location_policy),
            management=gcp.container.NodePoolManagementArgs(
                auto_repair=cfg.auto_repair, auto_upgrade=True),
            upgrade_settings=upgrade_settings(cfg.upgrade),
            placement_policy=(gcp.container.NodePoolPlacementPolicyArgs(type="COMPACT")
                              if cfg.placement == "compact" else None),
            queued_provisioning=capacity.queued_provisioning_args(),
            network_config=gcp.container.NodePoolNetworkConfigArgs(
                enable_private_nodes=True,
                additional_node_network_configs=[
                    gcp.container.NodePoolNetworkConfigAdditionalNodeNetworkConfigArgs(
                        network=net, subnetwork=subnet)
                    for net, subnet in gpu_networks] or None,
            ),
            node_config=node.pool_node_config(
                machine_type=gpu.machine_type,
                guest_accelerators=[gcp.container.NodePoolNodeConfigGuestAcceleratorArgs(
                    type=gpu.accelerator_type,
                    count=gpu.accelerator_count,
                    gpu_driver_installation_config=gcp.container.NodePoolNodeConfigGuestAcceleratorGpuDriverInstallationConfigArgs(
                        gpu_driver_version=cfg.gpu_driver_version),
                )],
                gvnic=True,
                ephemeral_ssd_count=cfg.ephemeral_ssd_count,
                raw_ssd_count=cfg.local_ssd.raw_block_count,
                disk_type=cfg.disk_type,
                disk_size_gb=cfg.boot_disk_size_gb,
                labels={**spec.labels, **cfg.node_labels},
                resource_labels=spec.labels,
                taints=cfg.node_taints,
                capacity=capacity,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
        )
        self.accelerator_type = gpu.accelerator_type
        self.resource_name = GPU_RESOURCE
        self.gpus_per_node = gpu.accelerator_count
        self.max_gpus = gpu.accelerator_count * cfg.autoscaling.max_nodes
        self.node_selector = {ACCELERATOR_LABEL: gpu.accelerator_type,
                              NODEPOOL_LABEL: spec.pool_name, **cfg.selector_labels}
        self.tolerations = cfg.tolerations
        self.register_outputs({
            "node_pool": self.node_pool, "node_selector": self.node_selector,
            "tolerations": self.tolerations, "resource_name": self.resource_name,
            "gpus_per_node": self.gpus_per_node, "max_gpus": self.max_gpus,
            "accelerator_type": self.accelerator_type,
        })
