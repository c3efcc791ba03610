"""What GPU and TPU node pools share: capacity modes, management and security settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi_gcp as gcp

RESERVATION_KEY = "compute.googleapis.com/reservation-name"


@dataclass
class CapacitySettings:
    """How a pool obtains VMs, as NodePool and node_config arguments."""

    node_config: dict[str, Any] = field(default_factory=dict)
    pool: dict[str, Any] = field(default_factory=dict)
    location_policy: str = "BALANCED"


def capacity_settings(capacity: str, reservation: str | None) -> CapacitySettings:
    """Spot, a specific reservation, or Dynamic Workload Scheduler (queued / flex-start).

    Spot and DWS capacity never comes from a reservation, so they opt out explicitly; the
    autoscaler may look in any zone (`ANY`) for them, which is where such capacity is found.
    https://cloud.google.com/kubernetes-engine/docs/concepts/dws
    """
    none = gcp.container.NodePoolNodeConfigReservationAffinityArgs(
        consume_reservation_type="NO_RESERVATION")
    if capacity == "spot":
        return CapacitySettings({"spot": True, "reservation_affinity": none}, {}, "ANY")
    if capacity == "reservation":
        return CapacitySettings({"reservation_affinity": gcp.container.NodePoolNodeConfigReservationAffinityArgs(
            consume_reservation_type="SPECIFIC_RESERVATION", key=RESERVATION_KEY,
            values=[reservation])}, {}, "BALANCED")
    if capacity == "queued":
        return CapacitySettings(
            {"reservation_affinity": none},
            {"queued_provisioning": gcp.container.NodePoolQueuedProvisioningArgs(enabled=True)},
            "ANY")
    if capacity == "flex_start":
        return CapacitySettings({"flex_start": True, "reservation_affinity": none}, {}, "ANY")
    return CapacitySettings()


def taints(*items: dict[str, str]) -> list[gcp.container.NodePoolNodeConfigTaintArgs]:
    return [gcp.container.NodePoolNodeConfigTaintArgs(**t) for t in items]
