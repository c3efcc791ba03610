"""What every node pool shares: the capacity modes as GKE fields (pure table tests) and the one
hardened node configuration, the same on the cluster, the system pool, GPU and TPU pools."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from components.cluster import ClusterSpec, GkeCluster
from components.gpu_pool import GpuNodePool, GpuPoolSpec
from components.node_config import CapacitySettings, capacity_settings
from components.tpu_pool import TpuNodePool, TpuPoolSpec
from infra.config.compute import Capacity, ClusterConfig, GpuPoolConfig, TpuPoolConfig
from tests.helpers import DISKS_KEY, GKE_KEY, PROJECT, REGION, Captured, inputs, plan_of

# mode -> (location policy, spot, flex_start, queued, reservation affinity, reservation)
CAPACITY = {
    "on_demand": ("BALANCED", None, None, False, None, None),
    "spot": ("ANY", True, None, False, "NO_RESERVATION", None),
    "reservation": ("BALANCED", None, None, False, "SPECIFIC_RESERVATION", "r1"),
    "queued": ("ANY", None, None, True, "NO_RESERVATION", None),
    "flex_start": ("ANY", None, True, False, "NO_RESERVATION", None),
}


def test_every_capacity_mode_has_settings() -> None:
    """The table covers exactly the modes the config accepts."""
    assert set(CAPACITY) == set(get_args(Capacity))


@pytest.mark.parametrize("mode", sorted(CAPACITY))
def test_capacity_settings(mode: str) -> None:
    """Spot and DWS opt out of reservations and let the autoscaler look in any zone; a
    specific reservation is consumed by name; on demand leaves every field at GKE's default."""
    settings = capacity_settings(mode, "r1" if mode == "reservation" else None)  # type: ignore[arg-type]
    assert (settings.location_policy, settings.spot, settings.flex_start,
            settings.queued_provisioning, settings.reservation_affinity,
            settings.reservation) == CAPACITY[mode]


def test_capacity_renders_typed_args() -> None:
    """The settings render as the provider's typed Args: a specific reservation with its key
    and one value, opting out with the type alone, queued provisioning only when on."""
    specific = CapacitySettings(reservation_affinity="SPECIFIC_RESERVATION", reservation="r1")
    args = specific.reservation_affinity_args()
    assert (args.consume_reservation_type, args.key, args.values) == \
        ("SPECIFIC_RESERVATION", "compute.googleapis.com/reservation-name", ["r1"])
    opt_out = CapacitySettings(reservation_affinity="NO_RESERVATION").reservation_affinity_args()
    assert (opt_out.consume_reservation_type, opt_out.key, opt_out.values) == \
        ("NO_RESERVATION", None, None)
    assert CapacitySettings().reservation_affinity_args() is None
    assert CapacitySettings().queued_provisioning_args() is None
    assert CapacitySettings(queued_provisioning=True).queued_provisioning_args().enabled is True


HARDENED = ("serviceAccount", "oauthScopes", "bootDiskKmsKey", "imageType", "metadata",
            "shieldedInstanceConfig", "workloadMetadataConfig")


def test_every_node_is_hardened_the_same() -> None:
    """The cluster's own node config, its system pool, a GPU pool and a TPU pool carry the same
    hardened settings (one definition): the node SA with the cloud-platform scope, the disks
    CMEK key, COS, no legacy metadata endpoints, secure boot with integrity monitoring and the
    GKE metadata server; every pool also streams images."""
    captured = Captured()

    def program() -> None:
        cluster = GkeCluster(
            "gke", ClusterSpec(name="aidc-test-ai", region=REGION, config=ClusterConfig(),
                               node_sa_id="aidc-test-nodes",
                               deletion_protection=False),
            project=PROJECT, network="n", subnetwork="s", pods_range="pods",
            services_range="services", secrets_key_id=GKE_KEY, disks_key_id=DISKS_KEY)
        captured.keep("node_sa", cluster.node_sa_email)
        wiring: dict[str, Any] = dict(project=PROJECT, cluster_id=cluster.cluster_id,
                                      node_service_account=cluster.node_sa_email,
                                      boot_disk_kms_key=DISKS_KEY)
        GpuNodePool("gpu-l4", GpuPoolSpec(
            pool_name="l4", location=REGION, zones=[f"{REGION}-a"], max_pods_per_node=64,
            config=GpuPoolConfig(machine_type="g2-standard-8")), **wiring)
        TpuNodePool("tpu-v5e", TpuPoolSpec(
            pool_name="v5e", location=REGION, zone=f"{REGION}-a", max_pods_per_node=64,
            config=TpuPoolConfig(generation="v5e", topology="2x2")), **wiring)

    plan = plan_of(program)
    configs = {"cluster": inputs(plan, "gke-cluster")["nodeConfig"],
               **{name: inputs(plan, name)["nodeConfig"]
                  for name in ("gke-system", "gpu-l4-pool", "tpu-v5e-slice0")}}
    expected = {
        "serviceAccount": captured["node_sa"],
        "oauthScopes": ["https://www.googleapis.com/auth/cloud-platform"],
        "bootDiskKmsKey": DISKS_KEY,
        "imageType": "COS_CONTAINERD",
        "metadata": {"disable-legacy-endpoints": "true"},
        "shieldedInstanceConfig": {"enableSecureBoot": True, "enableIntegrityMonitoring": True},
        "workloadMetadataConfig": {"mode": "GKE_METADATA"},
    }
    for name, node in configs.items():
        assert {k: node.get(k) for k in HARDENED} == expected, name
        if name != "cluster":
            assert node["gcfsConfig"] == {"enabled": True}, name
