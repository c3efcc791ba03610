"""GkeCluster built alone under the mocks: its children, identities, the control plane inputs
GKE needs from the `aidc:cluster` section, the hardened system pool and the ordering edges.
How infra/platform.py wires it into a stack is tested in test_compute.py."""

from __future__ import annotations

from typing import Any

import pulumi_gcp as gcp
import pytest

from components.cluster import ClusterSpec, GkeCluster
from infra.config.compute import ClusterConfig
from infra.engine.plan import STACK_TYPE, Plan
from tests.helpers import (
    GKE_KEY,
    DISKS_KEY,
    PROJECT,
    REGION,
    STACKS,
    Captured,
    by_name,
    contract,
    inputs,
    last_segment,
    plan_of,
    stack_config,
)

CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
ACCOUNT = "gcp:serviceaccount/account:Account"
PROJECT_IAM = "gcp:projects/iAMMember:IAMMember"
SA_IAM = "gcp:serviceaccount/iAMMember:IAMMember"
NETWORK = f"projects/{PROJECT}/global/networks/aidc-test"
SUBNETWORK = f"projects/{PROJECT}/regions/{REGION}/subnetworks/aidc-test-{REGION}"


def cluster_spec(config: ClusterConfig | None = None, **fields: Any) -> ClusterSpec:
    return ClusterSpec(**{
        "name": "aidc-test-ai", "region": REGION,
        "config": config or ClusterConfig(master_authorized_networks={"corp-vpn": "203.0.113.0/24"}),
        "node_sa_id": "aidc-test-nodes",
        "deletion_protection": False, **fields})


def cluster_plan(spec: ClusterSpec | None = None, captured: Captured | None = None,
                 *, with_api: bool = False) -> Plan:
    """The cluster alone, wired with plain ids (and, `with_api`, after a Service resource)."""
    def program() -> None:
        after = [gcp.projects.Service("api", service="container.googleapis.com",
                                      project=PROJECT)] if with_api else []
        cluster = GkeCluster("gke", spec or cluster_spec(), project=PROJECT, network=NETWORK,
                             subnetwork=SUBNETWORK, pods_range="pods", services_range="services",
                             secrets_key_id=GKE_KEY, disks_key_id=DISKS_KEY, depends_on=after)
        if captured is not None:
            captured.keep("node_sa", cluster.node_sa_email)
    return plan_of(program)


def shipped_cluster(env: str) -> ClusterConfig:
    return ClusterConfig.model_validate(stack_config(env)["aidc:cluster"])


def test_cluster_children() -> None:
    """GkeCluster owns exactly the cluster, the system pool, the node service account and its
    two IAM grants (workload identities are the teams', components.tenancy); it is a
    root-level aidc:cluster:GkeCluster."""
    plan = cluster_plan()
    component = by_name(plan, "gke")
    assert component.type == "aidc:cluster:GkeCluster"
    assert plan.by_urn()[component.parent].type == STACK_TYPE
    assert contract(plan, "gke") == {
        (CLUSTER, "gke-cluster", "gke"),
        (NODE_POOL, "gke-system", "gke"),
        (ACCOUNT, "gke-nodes", "gke"),
        (PROJECT_IAM, "gke-nodes-defaultNodeServiceAccount", "gke"),
        (PROJECT_IAM, "gke-nodes-reader", "gke"),
    }


def test_cluster_identities() -> None:
    """Nodes run as their own least-privilege SA; the cluster binds no workload identity."""
    captured = Captured()
    plan = cluster_plan(captured=captured)
    node_sa = captured["node_sa"]
    assert inputs(plan, "gke-nodes")["accountId"] == node_sa.split("@")[0] == "aidc-test-nodes"
    grants = {inputs(plan, n)["role"]: inputs(plan, n)["member"]
              for n in ("gke-nodes-defaultNodeServiceAccount", "gke-nodes-reader")}
    assert grants == {"roles/container.defaultNodeServiceAccount": f"serviceAccount:{node_sa}",
                      "roles/artifactregistry.reader": f"serviceAccount:{node_sa}"}
    assert not [r for r in plan.resources if r.type == SA_IAM]


@pytest.mark.parametrize("env", STACKS)
def test_cluster_inputs_gke_needs(env: str) -> None:
    """With each shipped stack's cluster section: private nodes, authorized networks, Workload
    Identity, Dataplane V2, the configured channel and maintenance window, shielded nodes,
    secrets under the gke key, no default pool, managed Prometheus with DCGM, the GCS FUSE and
    Filestore CSI drivers and image streaming."""
    cfg = shipped_cluster(env)
    captured = Captured()
    cluster = inputs(cluster_plan(cluster_spec(cfg), captured), "gke-cluster")
    assert cluster["name"] == "aidc-test-ai" and cluster["location"] == REGION
    assert (cluster["network"], cluster["subnetwork"]) == (NETWORK, SUBNETWORK)
    assert cluster["ipAllocationPolicy"] == {"clusterSecondaryRangeName": "pods",
                                             "servicesSecondaryRangeName": "services"}
    assert cluster["privateClusterConfig"]["enablePrivateNodes"] is True
    assert cluster["privateClusterConfig"]["enablePrivateEndpoint"] is cfg.private_endpoint
    assert cluster["masterAuthorizedNetworksConfig"]["cidrBlocks"] == [
        {"displayName": k, "cidrBlock": str(v)}
        for k, v in sorted(cfg.master_authorized_networks.items())]
    assert cluster["workloadIdentityConfig"]["workloadPool"] == f"{PROJECT}.svc.id.goog"
    assert cluster["datapathProvider"] == "ADVANCED_DATAPATH"
    assert cluster["releaseChannel"]["channel"] == cfg.release_channel
    window = cluster["maintenancePolicy"]["recurringWindow"]
    assert window == {"startTime": cfg.maintenance.start_time,
                      "endTime": cfg.maintenance.end_time,
                      "recurrence": cfg.maintenance.recurrence}
    assert cluster["enableShieldedNodes"] is True
    assert cluster["databaseEncryption"] == {"state": "ENCRYPTED", "keyName": GKE_KEY}
    assert cluster["removeDefaultNodePool"] is True
    assert cluster["monitoringConfig"]["managedPrometheus"]["enabled"] is True
    assert "DCGM" in cluster["monitoringConfig"]["enableComponents"]
    assert cluster["addonsConfig"]["gcsFuseCsiDriverConfig"]["enabled"] is True
    assert cluster["addonsConfig"]["gcpFilestoreCsiDriverConfig"]["enabled"] is True
    assert cluster["nodePoolDefaults"]["nodeConfigDefaults"]["gcfsConfig"]["enabled"] is True
    assert cluster["nodeConfig"]["serviceAccount"] == captured["node_sa"]


@pytest.mark.parametrize("env", STACKS)
def test_cluster_rbac_groups_and_intranode_visibility(env: str) -> None:
    """Google Groups for RBAC and intranode visibility follow the config (both set in prod)."""
    cfg = shipped_cluster(env)
    cluster = inputs(cluster_plan(cluster_spec(cfg)), "gke-cluster")
    assert cluster["enableIntranodeVisibility"] is cfg.intranode_visibility
    groups = cluster.get("authenticatorGroupsConfig")
    assert groups == ({"securityGroup": cfg.security_group} if cfg.security_group else None)


def test_cluster_maintenance_exclusion() -> None:
    """A named exclusion becomes a NO_UPGRADES window (prod's model launch)."""
    cluster = inputs(cluster_plan(cluster_spec(shipped_cluster("prod"))), "gke-cluster")
    assert cluster["maintenancePolicy"]["maintenanceExclusions"] == [{
        "exclusionName": "model-launch", "startTime": "2027-01-10T00:00:00Z",
        "endTime": "2027-01-24T00:00:00Z", "exclusionOptions": {"scope": "NO_UPGRADES"}}]
    assert "maintenanceExclusions" not in inputs(cluster_plan(), "gke-cluster")["maintenancePolicy"]


@pytest.mark.parametrize("protected", [True, False])
def test_cluster_deletion_protection_follows_spec(protected: bool) -> None:
    """Stateful first: a cluster with deletion_protection is retained twice over, by GKE's
    deletion protection and by Pulumi's protect; without it, neither."""
    cluster = by_name(cluster_plan(cluster_spec(deletion_protection=protected)), "gke-cluster")
    assert cluster.inputs["deletionProtection"] is protected
    assert cluster.protect is protected


@pytest.mark.parametrize("multi", [True, False])
def test_cluster_multi_networking_follows_spec(multi: bool) -> None:
    """multi_networking turns GKE multi-networking on; off, it stays the provider's default."""
    cluster = inputs(cluster_plan(cluster_spec(multi_networking=multi)), "gke-cluster")
    assert cluster.get("enableMultiNetworking") is (True if multi else None)


def test_cluster_waits_for_its_depends_on_and_node_grants() -> None:
    """The cluster is created after what it is given (the API, key grants) and after the node
    account's roles; the system pool after the cluster."""
    plan = cluster_plan(with_api=True)
    deps = {last_segment(u) for u in by_name(plan, "gke-cluster").dependencies}
    assert {"api", "gke-nodes-defaultNodeServiceAccount", "gke-nodes-reader"} <= deps
    assert by_name(plan, "gke-cluster").urn in by_name(plan, "gke-system").dependencies


def test_system_pool() -> None:
    """A small always-on pool: the configured machine type and size, surge upgrades that add a
    node first, auto-repair and auto-upgrade, gVNIC, and the hardened node settings."""
    captured = Captured()
    plan = cluster_plan(captured=captured)
    pool = inputs(plan, "gke-system")
    assert pool["name"] == "system" and pool["location"] == REGION
    assert pool["autoscaling"] == {"totalMinNodeCount": 1, "totalMaxNodeCount": 3,
                                   "locationPolicy": "BALANCED"}
    assert pool["upgradeSettings"] == {"strategy": "SURGE", "maxSurge": 1, "maxUnavailable": 0}
    assert pool["management"] == {"autoRepair": True, "autoUpgrade": True}
    node = pool["nodeConfig"]
    assert (node["machineType"], node["diskType"], node["diskSizeGb"]) == \
        ("e2-standard-4", "pd-balanced", 100)
    assert node["gvnic"] == {"enabled": True}
    assert node["labels"] == {"aidc.dev/pool": "system"}
    assert node["serviceAccount"] == captured["node_sa"]
    assert node["bootDiskKmsKey"] == DISKS_KEY
    assert node["shieldedInstanceConfig"] == {"enableSecureBoot": True,
                                              "enableIntegrityMonitoring": True}
    assert node["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
