"""TpuNodePool: one GKE node pool per TPU slice."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from components.cluster import CLOUD_PLATFORM, gke_metadata, secure_boot
from components.node_config import capacity_settings
from infra.catalog.tpu import tpu_generation
from infra.config.compute import TpuPoolConfig
from infra.config.base import Spec

TPU_RESOURCE = "google.com/tpu"


class TpuPoolSpec(Spec):
    pool_name: str
    location: str
    zone: str
    config: TpuPoolConfig
    labels: dict[str, str] = Field(default_factory=dict)


class TpuNodePool(pulumi.ComponentResource):
    """A multi-host slice is one node pool of exactly `hosts` VMs in one zone with a COMPACT
    placement policy naming the topology (Ironwood, TPU7x: a COMPACT placement referencing a
    child HIGH_THROUGHPUT workload policy that carries the topology); GKE creates and scales it atomically, so its per-zone
    node limits equal the slice. A single-host slice never sets a topology (GKE rejects it).
    TPU VMs get the same hardening as every node: CMEK boot disk, secure boot, GKE metadata.
    """

    node_pools: list[gcp.container.NodePool]
    workload_policy: gcp.compute.ResourcePolicy | None
    chips_per_slice: int
    total_chips: int
    node_selector: dict[str, str]

    def __init__(self, name: str, spec: TpuPoolSpec, *, project: str,
                 cluster_id: pulumi.Input[str], node_service_account: pulumi.Input[str],
                 boot_disk_kms_key: pulumi.Input[str],
                 depends_on: Sequence[pulumi.Resource] = (),
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aidc:tpu_pool:TpuNodePool", name, None, opts)
        cfg = spec.config
        tpu = cfg.slice()
        capacity = capacity_settings(cfg.capacity, cfg.reservation_name)
        self.workload_policy = None
        if tpu.multi_host:
            # A slice is all or nothing: per-zone min/max are 0 or the whole slice.
            scaling = gcp.container.NodePoolAutoscalingArgs(
                min_node_count=cfg.min_nodes, max_node_count=tpu.hosts,
                location_policy="ANY" if capacity.location_policy == "ANY" else None)
            if tpu_generation(tpu.generation).multi_host_workload_policy:
                # TPU7x takes the topology from a workload policy (`--placement-policy`), not
                # `--tpu-topology`.
                self.workload_policy = gcp.compute.ResourcePolicy(
                    f"{name}-workload-policy",
                    project=project,
                    region=spec.location,
                    workload_policy=gcp.compute.ResourcePolicyWorkloadPolicyArgs(
                        type="HIGH_THROUGHPUT", accelerator_topology=tpu.topology),
                    opts=pulumi.ResourceOptions(parent=self))
                placement = gcp.container.NodePoolPlacementPolicyArgs(
                    type="COMPACT", policy_name=self.workload_policy.name)
            else:
                placement = gcp.container.NodePoolPlacementPolicyArgs(
                    type="COMPACT", tpu_topology=tpu.topology)
        else:
            scaling = gcp.container.NodePoolAutoscalingArgs(
                min_node_count=cfg.min_nodes, max_node_count=cfg.max_nodes or 1,
                location_policy="ANY" if capacity.location_policy == "ANY" else None)
            placement = None
        self.node_pools = []
        for index in range(cfg.slices):
            suffix = f"-{index}" if cfg.slices > 1 else ""
            self.node_pools.append(gcp.container.NodePool(
                f"{name}-slice{index}",
                name=f"{spec.pool_name}{suffix}",
                project=project,
                cluster=cluster_id,
                location=spec.location,
                node_locations=[spec.zone],
                initial_node_count=cfg.min_nodes,
                autoscaling=scaling,
                placement_policy=placement,
                management=gcp.container.NodePoolManagementArgs(
                    auto_repair=cfg.auto_repair, auto_upgrade=True),
                upgrade_settings=gcp.container.NodePoolUpgradeSettingsArgs(
                    strategy="SURGE", max_surge=0, max_unavailable=1),
                network_config=gcp.container.NodePoolNetworkConfigArgs(enable_private_nodes=True),
                node_config=gcp.container.NodePoolNodeConfigArgs(
                    machine_type=tpu.machine_type,
                    service_account=node_service_account,
                    oauth_scopes=[CLOUD_PLATFORM],
                    boot_disk_kms_key=boot_disk_kms_key,
                    image_type="COS_CONTAINERD",
                    metadata={"disable-legacy-endpoints": "true"},
                    shielded_instance_config=secure_boot(),
                    workload_metadata_config=gke_metadata(),
                    gcfs_config=gcp.container.NodePoolNodeConfigGcfsConfigArgs(enabled=True),
                    labels={**spec.labels, **cfg.labels},
                    resource_labels=spec.labels,
                    **capacity.node_config,
                ),
                **capacity.pool,
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
            ))
        self.chips_per_slice = tpu.chips
        self.total_chips = tpu.chips * cfg.slices
        self.node_selector = {"cloud.google.com/gke-tpu-accelerator": tpu.accelerator_label,
                              "cloud.google.com/gke-tpu-topology": tpu.topology}
        self.register_outputs({"node_pools": [p.name for p in self.node_pools],
                               "chips_per_slice": self.chips_per_slice,
                               "total_chips": self.total_chips})
