"""GpuNodePool: a GPU node pool derived from a machine type and a capacity mode."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from components.cluster import CLOUD_PLATFORM, gke_metadata, secure_boot
from components.node_config import capacity_settings, taints
from infra.config.compute import GPU_TAINT, QUEUED_LABEL, QUEUED_TAINT, GpuPoolConfig
from infra.config.base import Spec
from infra.errors import AidcError

GPU_RESOURCE = "nvidia.com/gpu"
ACCELERATOR_LABEL = "cloud.google.com/gke-accelerator"
NODEPOOL_LABEL = "cloud.google.com/gke-nodepool"


class GpuPoolSpec(Spec):
    pool_name: str
    location: str
    zones: list[str]
    config: GpuPoolConfig
    max_pods_per_node: int
    labels: dict[str, str] = Field(default_factory=dict)


class GpuNodePool(pulumi.ComponentResource):
    """Everything but the machine type and capacity mode is derived from the catalog: guest
    accelerators with driver auto-install, gVNIC, Local SSD as ephemeral storage, the GPUDirect
    NICs on the extra VPC subnets, CMEK boot disks, secure boot, the GKE metadata server, the
    GPU taint, and surge upgrades that need no spare GPUs (max_surge 0, max_unavailable 1).

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
        super().__init__("aidc:gpu_pool:GpuNodePool", name, None, opts)
        cfg = spec.config
        gpu = cfg.resolved()
        if cfg.uses_gpudirect and gpu.profile is not None and len(gpu_networks) != gpu.profile.extra_nics:
            raise AidcError(f"pool {spec.pool_name} uses {gpu.gpudirect}, which "
                            f"needs {gpu.profile.extra_nics} extra node networks, "
                            f"{len(gpu_networks)} were wired", field="gpu_networks")
        capacity = capacity_settings(cfg.capacity, cfg.reservation_name)
        labels = {**spec.labels, **cfg.labels}
        pool_taints = [GPU_TAINT]
        if cfg.capacity == "queued":
            labels[QUEUED_LABEL[0]] = QUEUED_LABEL[1]
            pool_taints.append(QUEUED_TAINT)
        ssd = cfg.local_ssd
        raw = ssd.raw_block_count
        ephemeral = ssd.ephemeral_count if ssd.ephemeral_count is not None else (
            None if raw else gpu.local_ssd_count or None)
        self.node_pool = gcp.container.NodePool(
            f"{name}-pool",
            name=spec.pool_name,
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
            upgrade_settings=(
                gcp.container.NodePoolUpgradeSettingsArgs(strategy="SURGE", max_surge=0, max_unavailable=1)
                if cfg.upgrade == "surge" else
                gcp.container.NodePoolUpgradeSettingsArgs(
                    strategy="BLUE_GREEN",
                    blue_green_settings=gcp.container.NodePoolUpgradeSettingsBlueGreenSettingsArgs(
                        standard_rollout_policy=gcp.container.NodePoolUpgradeSettingsBlueGreenSettingsStandardRolloutPolicyArgs(
                            batch_node_count=1, batch_soak_duration="300s")))),
            placement_policy=(gcp.container.NodePoolPlacementPolicyArgs(type="COMPACT")
                              if cfg.placement == "compact" else None),
            network_config=gcp.container.NodePoolNetworkConfigArgs(
                enable_private_nodes=True,
                additional_node_network_configs=[
                    gcp.container.NodePoolNetworkConfigAdditionalNodeNetworkConfigArgs(
                        network=net, subnetwork=subnet)
                    for net, subnet in gpu_networks] or None,
            ),
            node_config=gcp.container.NodePoolNodeConfigArgs(
                machine_type=gpu.machine_type,
                guest_accelerators=[gcp.container.NodePoolNodeConfigGuestAcceleratorArgs(
                    type=gpu.accelerator_type,
                    count=gpu.accelerator_count,
                    gpu_driver_installation_config=gcp.container.NodePoolNodeConfigGuestAcceleratorGpuDriverInstallationConfigArgs(
                        gpu_driver_version=cfg.gpu_driver_version),
                )],
                gvnic=gcp.container.NodePoolNodeConfigGvnicArgs(enabled=True),
                ephemeral_storage_local_ssd_config=(
                    gcp.container.NodePoolNodeConfigEphemeralStorageLocalSsdConfigArgs(
                        local_ssd_count=ephemeral) if ephemeral else None),
                local_nvme_ssd_block_config=(
                    gcp.container.NodePoolNodeConfigLocalNvmeSsdBlockConfigArgs(local_ssd_count=raw)
                    if raw else None),
                service_account=node_service_account,
                oauth_scopes=[CLOUD_PLATFORM],
                boot_disk_kms_key=boot_disk_kms_key,
                disk_type=cfg.disk_type,
                disk_size_gb=cfg.boot_disk_size_gb,
                image_type="COS_CONTAINERD",
                metadata={"disable-legacy-endpoints": "true"},
                shielded_instance_config=secure_boot(),
                workload_metadata_config=gke_metadata(),
                gcfs_config=gcp.container.NodePoolNodeConfigGcfsConfigArgs(enabled=True),
                labels=labels,
                resource_labels=spec.labels,
                taints=taints(*pool_taints),
                **capacity.node_config,
            ),
            **capacity.pool,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
        )
        self.accelerator_type = gpu.accelerator_type
        self.resource_name = GPU_RESOURCE
        self.gpus_per_node = gpu.accelerator_count
        self.max_gpus = gpu.accelerator_count * cfg.autoscaling.max_nodes
        self.node_selector = {ACCELERATOR_LABEL: gpu.accelerator_type, NODEPOOL_LABEL: spec.pool_name}
        self.tolerations = [{"key": GPU_TAINT["key"], "operator": "Exists", "effect": "NoSchedule"}]
        if cfg.capacity == "queued":
            self.node_selector[QUEUED_LABEL[0]] = QUEUED_LABEL[1]
            self.tolerations.append({"key": QUEUED_TAINT["key"], "operator": "Equal",
                                     "value": "true", "effect": "NoSchedule"})
        self.register_outputs({
            "node_pool": self.node_pool.name, "node_selector": self.node_selector,
            "tolerations": self.tolerations, "resource_name": self.resource_name,
            "gpus_per_node": self.gpus_per_node, "max_gpus": self.max_gpus,
        })
