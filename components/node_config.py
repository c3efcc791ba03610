"""What every node pool shares, written once: the hardened node configuration (the cluster's
default node config, the system pool, GPU and TPU pools) and how a pool obtains its VMs.

https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import pulumi
import pulumi_gcp as gcp

from infra.config.compute import Capacity

# Access is governed by IAM on the node service account, not by scopes (CIS GKE 5.2.1).
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
# Container-Optimized OS with containerd: the hardened node image (CIS GKE 5.5.1).
IMAGE_TYPE = "COS_CONTAINERD"
# The v0.1/v1beta1 metadata endpoints serve credentials without the Metadata-Flavor header.
NODE_METADATA = {"disable-legacy-endpoints": "true"}
# Pods see the GKE metadata server, never the node's credentials (CIS GKE 5.4.2).
WORKLOAD_METADATA_MODE = "GKE_METADATA"
RESERVATION_KEY = "compute.googleapis.com/reservation-name"

A = TypeVar("A")


@dataclass(frozen=True)
class NodeHardening:
    """The settings every node of every pool gets: its own least-privilege service account, a
    boot disk under the disks CMEK key, COS, no legacy metadata endpoints, shielded VMs with
    secure boot and integrity monitoring (CIS GKE 5.5.6, 5.5.7; GKE's drivers are signed), the
    GKE metadata server and image streaming."""

    service_account: pulumi.Input[str]
    boot_disk_kms_key: pulumi.Input[str]

    def pool_node_config(
        self, *, machine_type: str, labels: Mapping[str, str],
        resource_labels: Mapping[str, str], capacity: CapacitySettings | None = None,
        disk_type: str | None = None, disk_size_gb: int | None = None, gvnic: bool = False,
        guest_accelerators: Sequence[gcp.container.NodePoolNodeConfigGuestAcceleratorArgs] = (),
        ephemeral_ssd_count: int | None = None, raw_ssd_count: int | None = None,
        taints: Sequence[Mapping[str, str]] = (),
    ) -> gcp.container.NodePoolNodeConfigArgs:
        """A node pool's node_config: these settings plus the pool's own; what a pool leaves
        out stays at the provider's default (unset)."""
        capacity = capacity or CapacitySettings()
        return self._hardened(
            gcp.container.NodePoolNodeConfigArgs,
            gcp.container.NodePoolNodeConfigShieldedInstanceConfigArgs,
            gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs,
            gcfs_config=gcp.container.NodePoolNodeConfigGcfsConfigArgs(enabled=True),
            machine_type=machine_type,
            disk_type=disk_type,
            disk_size_gb=disk_size_gb,
            gvnic=gcp.container.NodePoolNodeConfigGvnicArgs(enabled=True) if gvnic else None,
            guest_accelerators=list(guest_accelerators) or None,
            ephemeral_storage_local_ssd_config=(
                gcp.container.NodePoolNodeConfigEphemeralStorageLocalSsdConfigArgs(
                    local_ssd_count=ephemeral_ssd_count) if ephemeral_ssd_count else None),
            local_nvme_ssd_block_config=(
                gcp.container.NodePoolNodeConfigLocalNvmeSsdBlockConfigArgs(
                    local_ssd_count=raw_ssd_count) if raw_ssd_count else None),
            labels=dict(labels),
            resource_labels=dict(resource_labels),
            taints=[gcp.container.NodePoolNodeConfigTaintArgs(
                key=t["key"], value=t["value"], effect=t["effect"]) for t in taints] or None,
            spot=capacity.spot,
            flex_start=capacity.flex_start,
            reservation_affinity=capacity.reservation_affinity_args(),
        )

    def cluster_node_config(self) -> gcp.container.ClusterNodeConfigArgs:
        """The cluster's own node_config (its default pool, which is removed at creation), so
        that not even that pool runs unhardened. Image streaming comes from the cluster's node
        pool defaults instead (`image_streaming`)."""
        return self._hardened(
            gcp.container.ClusterNodeConfigArgs,
            gcp.container.ClusterNodeConfigShieldedInstanceConfigArgs,
            gcp.container.ClusterNodeConfigWorkloadMetadataConfigArgs)

    def _hardened(self, node_config: Callable[..., A], shielded: Callable[..., object],
                  workload_metadata: Callable[..., object], **own: Any) -> A:
        """The hardened settings, written once, in the provider's node pool or cluster shape
        (the same fields, under two sets of Args classes), plus the caller's own fields."""
        return node_config(
            service_account=self.service_account,
            oauth_scopes=[CLOUD_PLATFORM],
            boot_disk_kms_key=self.boot_disk_kms_key,
            image_type=IMAGE_TYPE,
            metadata=dict(NODE_METADATA),
            shielded_instance_config=shielded(enable_secure_boot=True,
                                              enable_integrity_monitoring=True),
            workload_metadata_config=workload_metadata(mode=WORKLOAD_METADATA_MODE),
            **own,
        )


def image_streaming() -> gcp.container.ClusterNodePoolDefaultsArgs:
    """The cluster's default for every pool: image streaming (layers pulled on demand)."""
    return gcp.container.ClusterNodePoolDefaultsArgs(
        node_config_defaults=gcp.container.ClusterNodePoolDefaultsNodeConfigDefaultsArgs(
            gcfs_config=gcp.container.ClusterNodePoolDefaultsNodeConfigDefaultsGcfsConfigArgs(
                enabled=True)))


ReservationAffinity = Literal["NO_RESERVATION", "SPECIFIC_RESERVATION"]


@dataclass(frozen=True)
class CapacitySettings:
    """How a pool obtains VMs, as the fields GKE reads; None leaves one at the provider's
    default. The pools read each field explicitly."""

    location_policy: Literal["BALANCED", "ANY"] = "BALANCED"
    spot: bool | None = None
    flex_start: bool | None = None
    queued_provisioning: bool = False
    reservation_affinity: ReservationAffinity | None = None
    reservation: str | None = None

    def reservation_affinity_args(self) -> gcp.container.NodePoolNodeConfigReservationAffinityArgs | None:
        if self.reservation_affinity is None:
            return None
        specific = self.reservation_affinity == "SPECIFIC_RESERVATION"
        return gcp.container.NodePoolNodeConfigReservationAffinityArgs(
            consume_reservation_type=self.reservation_affinity,
            key=RESERVATION_KEY if specific else None,
            values=[self.reservation] if specific else None)

    def queued_provisioning_args(self) -> gcp.container.NodePoolQueuedProvisioningArgs | None:
        return (gcp.container.NodePoolQueuedProvisioningArgs(enabled=True)
                if self.queued_provisioning else None)


def capacity_settings(capacity: Capacity, reservation: str | None) -> CapacitySettings:
    """Spot, a specific reservation, or Dynamic Workload Scheduler (queued / flex-start).

    Spot and DWS capacity never comes from a reservation, so they opt out explicitly; the
    autoscaler may look in any zone (`ANY`) for them, which is where such capacity is found.
    https://cloud.google.com/kubernetes-engine/docs/concepts/dws
    """
    if capacity == "spot":
        return CapacitySettings("ANY", spot=True, reservation_affinity="NO_RESERVATION")
    if capacity == "reservation":
        return CapacitySettings(reservation_affinity="SPECIFIC_RESERVATION",
                                reservation=reservation)
    if capacity == "queued":
        return CapacitySettings("ANY", queued_provisioning=True,
                                reservation_affinity="NO_RESERVATION")
    if capacity == "flex_start":
        return CapacitySettings("ANY", flex_start=True, reservation_affinity="NO_RESERVATION")
    return CapacitySettings()
