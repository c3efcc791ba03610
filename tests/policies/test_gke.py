"""GKE hardening policies (G1-G10, I10), judged through the analyzer protocol by the real pack."""

from __future__ import annotations

import pytest

from tests.policy_fixtures import (
    CLUSTER,
    DELETE,
    GOLDEN,
    NODE_POOL,
    Case,
    analyzer,  # noqa: F401 (module fixture)
    assert_case,
    case_id,
    mutate,
)

NC = "nodeConfig"
AUTOPILOT = mutate(GOLDEN[CLUSTER], {
    "enableAutopilot": True, "removeDefaultNodePool": DELETE, "initialNodeCount": DELETE,
    ("clusterAutoscaling", "autoProvisioningDefaults", "serviceAccount"):
        "gke-nodes@aidc-dev.iam.gserviceaccount.com"})

CASES = [
    # G1 node-sa-not-default
    Case("node-sa-not-default", NODE_POOL, {(NC, "serviceAccount"): DELETE},
         expect="serviceAccount is not set"),
    Case("node-sa-not-default", NODE_POOL, {(NC, "serviceAccount"): "default"}),
    Case("node-sa-not-default", NODE_POOL,
         {(NC, "serviceAccount"): "123456789-compute@developer.gserviceaccount.com"}),
    Case("node-sa-not-default", NODE_POOL, {NC: DELETE}, why="no nodeConfig at all"),
    Case("node-sa-not-default", CLUSTER, {"removeDefaultNodePool": False},
         expect="default node pool"),
    Case("node-sa-not-default", CLUSTER,
         {"clusterAutoscaling": {"enabled": True, "autoProvisioningDefaults": {}}},
         expect="autoProvisioningDefaults"),
    Case("node-sa-not-default", CLUSTER, inputs=mutate(AUTOPILOT, {
        ("clusterAutoscaling", "autoProvisioningDefaults", "serviceAccount"): DELETE}),
         why="Autopilot without a node service account"),
    Case("node-sa-not-default", NODE_POOL, fails=False),
    Case("node-sa-not-default", CLUSTER, fails=False, why="default pool removed"),
    Case("node-sa-not-default", CLUSTER, inputs=AUTOPILOT, fails=False),
    # G2 workload-identity-and-scopes
    Case("workload-identity-and-scopes", CLUSTER, {"workloadIdentityConfig": DELETE}),
    Case("workload-identity-and-scopes", NODE_POOL,
         {(NC, "workloadMetadataConfig", "mode"): "GCE_METADATA"}),
    Case("workload-identity-and-scopes", NODE_POOL, {(NC, "workloadMetadataConfig"): DELETE},
         expect="cloud-platform", why="broad scope without an explicit GKE_METADATA"),
    Case("workload-identity-and-scopes", NODE_POOL, fails=False),
    Case("workload-identity-and-scopes", CLUSTER, fails=False),
    Case("workload-identity-and-scopes", CLUSTER, inputs=AUTOPILOT, fails=False,
         why="Autopilot always runs Workload Identity"),
    Case("workload-identity-and-scopes", NODE_POOL,
         {(NC, "workloadMetadataConfig"): DELETE, (NC, "oauthScopes"): DELETE}, fails=False,
         why="omitted scopes are GKE's narrow defaults"),
    # G3 gke-no-legacy-auth
    Case("gke-no-legacy-auth", CLUSTER, {"enableLegacyAbac": True}),
    Case("gke-no-legacy-auth", CLUSTER,
         {("masterAuth", "clientCertificateConfig", "issueClientCertificate"): True}),
    Case("gke-no-legacy-auth", CLUSTER, fails=False),
    Case("gke-no-legacy-auth", CLUSTER, {"masterAuth": DELETE, "enableLegacyAbac": DELETE},
         fails=False, why="omitted: both off by default"),
    # G4 gke-shielded-nodes
    Case("gke-shielded-nodes", CLUSTER, {"enableShieldedNodes": False}),
    Case("gke-shielded-nodes", CLUSTER, fails=False),
    Case("gke-shielded-nodes", CLUSTER, {"enableShieldedNodes": DELETE}, fails=False,
         why="omitted: on by default"),
    # G5 gke-secure-boot-integrity
    Case("gke-secure-boot-integrity", NODE_POOL,
         {(NC, "shieldedInstanceConfig", "enableSecureBoot"): DELETE},
         why="omitted: Secure Boot is off by default"),
    Case("gke-secure-boot-integrity", NODE_POOL,
         {(NC, "shieldedInstanceConfig", "enableIntegrityMonitoring"): False}),
    Case("gke-secure-boot-integrity", CLUSTER, {"removeDefaultNodePool": False},
         why="the kept default pool has no shielded config"),
    Case("gke-secure-boot-integrity", NODE_POOL, fails=False),
    Case("gke-secure-boot-integrity", NODE_POOL,
         {(NC, "shieldedInstanceConfig", "enableIntegrityMonitoring"): DELETE}, fails=False,
         why="omitted: integrity monitoring is on by default"),
    Case("gke-secure-boot-integrity", CLUSTER, inputs=AUTOPILOT, fails=False,
         not_applicable=True),
    # G6 gke-release-channel-autoupgrade
    Case("gke-release-channel-autoupgrade", CLUSTER, {("releaseChannel", "channel"): "UNSPECIFIED"}),
    Case("gke-release-channel-autoupgrade", CLUSTER,
         {"releaseChannel": DELETE, "minMasterVersion": "1.29.4-gke.1043002"},
         why="a pinned version and no channel"),
    Case("gke-release-channel-autoupgrade", NODE_POOL, {("management", "autoUpgrade"): False}),
    Case("gke-release-channel-autoupgrade", NODE_POOL, {("management", "autoRepair"): False}),
    Case("gke-release-channel-autoupgrade", CLUSTER, fails=False),
    Case("gke-release-channel-autoupgrade", CLUSTER, {"releaseChannel": DELETE}, fails=False,
         why="omitted: GKE enrols new clusters in REGULAR"),
    Case("gke-release-channel-autoupgrade", NODE_POOL, {"management": DELETE}, fails=False,
         why="omitted: auto-upgrade and auto-repair are on"),
    # G7 gke-binary-authorization
    Case("gke-binary-authorization", CLUSTER, {"binaryAuthorization": DELETE},
         expect="not set"),
    Case("gke-binary-authorization", CLUSTER,
         {("binaryAuthorization", "evaluationMode"): "DISABLED"}, expect="DISABLED"),
    Case("gke-binary-authorization", CLUSTER, fails=False),
    Case("gke-binary-authorization", CLUSTER, {"binaryAuthorization": {"enabled": True}},
         fails=False, why="the deprecated switch still enforces the project policy"),
    # G8 gke-no-alpha
    Case("gke-no-alpha", CLUSTER, {"enableKubernetesAlpha": True}),
    Case("gke-no-alpha", CLUSTER, fails=False),
    Case("gke-no-alpha", CLUSTER, {"enableKubernetesAlpha": False}, fails=False),
    # G9 gke-cos-containerd
    Case("gke-cos-containerd", NODE_POOL, {(NC, "imageType"): "UBUNTU_CONTAINERD"},
         expect="UBUNTU_CONTAINERD"),
    Case("gke-cos-containerd", CLUSTER,
         {"removeDefaultNodePool": False, "nodeConfig": {"imageType": "COS"}},
         expect="default node pool"),
    Case("gke-cos-containerd", NODE_POOL, fails=False),
    Case("gke-cos-containerd", NODE_POOL, {(NC, "imageType"): DELETE}, fails=False,
         why="absent = COS_CONTAINERD"),
    # G10 gke-security-posture
    Case("gke-security-posture", CLUSTER, {"securityPostureConfig": {"mode": "DISABLED"}}),
    Case("gke-security-posture", CLUSTER,
         {"securityPostureConfig": {"mode": "BASIC", "vulnerabilityMode": "VULNERABILITY_DISABLED"}},
         fails=False, why="GKE removed vulnerability scanning: DISABLED is the only mode it takes"),
    Case("gke-security-posture", CLUSTER, fails=False, why="absent: GKE's BASIC posture"),
    Case("gke-security-posture", CLUSTER,
         {"securityPostureConfig": {"mode": "ENTERPRISE",
                                    "vulnerabilityMode": "VULNERABILITY_ENTERPRISE"}},
         fails=False),
    # I10 gke-rbac-google-groups
    Case("gke-rbac-google-groups", CLUSTER, {"authenticatorGroupsConfig": DELETE},
         expect="not set"),
    Case("gke-rbac-google-groups", CLUSTER,
         {("authenticatorGroupsConfig", "securityGroup"): "k8s-admins@acme.example"},
         expect="gke-security-groups@", why="GKE ignores any other group name"),
    Case("gke-rbac-google-groups", CLUSTER, fails=False),
    # G6 named exemptions: auto-repair off where Google requires it (flex-start and queued
    # provisioning pools, known from the pool's inputs or node label), and nowhere else.
    Case("gke-release-channel-autoupgrade", NODE_POOL,
         {("management", "autoRepair"): False, ("nodeConfig", "flexStart"): True}, fails=False,
         why="flex-start pool: exempt"),
    Case("gke-release-channel-autoupgrade", NODE_POOL,
         {("management", "autoRepair"): False,
          ("nodeConfig", "labels", "cloud.google.com/gke-flex-start"): "true"}, fails=False,
         why="flex-start node label: exempt"),
    Case("gke-release-channel-autoupgrade", NODE_POOL,
         {("management", "autoRepair"): False, ("queuedProvisioning", "enabled"): True},
         fails=False, why="queued provisioning pool: exempt"),
    Case("gke-release-channel-autoupgrade", NODE_POOL,
         {("management", "autoRepair"): False, ("nodeConfig", "spot"): True},
         why="a spot pool gets no exemption"),
    Case("gke-release-channel-autoupgrade", NODE_POOL,
         {("management", "autoUpgrade"): False, ("nodeConfig", "flexStart"): True},
         why="the exemption covers auto-repair only"),
    Case("gke-release-channel-autoupgrade", CLUSTER,
         {"nodePools": [{"name": "dws", "nodeConfig": {"flexStart": True},
                         "management": {"autoRepair": False}}]}, fails=False,
         why="an inline flex-start pool: exempt"),
]


@pytest.mark.parametrize("case", [c for c in CASES if c.fails], ids=case_id)
def test_flags_violation(analyzer, case: Case) -> None:  # noqa: F811
    """Each departure from the golden cluster or node pool is a violation of its policy."""
    assert_case(analyzer, case)


@pytest.mark.parametrize("case", [c for c in CASES if not c.fails], ids=case_id)
def test_passes_compliant(analyzer, case: Case) -> None:  # noqa: F811
    """Golden clusters and node pools, Autopilot and safe provider defaults pass."""
    assert_case(analyzer, case)


def test_exemption_is_named_in_the_finding_and_listed_in_the_metadata(analyzer) -> None:  # noqa: F811
    """An exempt finding is reported, not dropped: it carries the exemption's id (listed in the
    policy's metadata and served among its tags) and why, and does not block."""
    from policies.metadata import BY_NAME
    from tests.policy_fixtures import plan_of, resource

    pool = resource(NODE_POOL, "dws", {("management", "autoRepair"): False,
                                       ("nodeConfig", "flexStart"): True})
    result = analyzer.check(plan_of(pool), pack_config={"all": "mandatory"})
    [found] = [v for v in result.violations if v.policy == "gke-release-channel-autoupgrade"]
    assert found.exemption == "flex-start-no-auto-repair" and not found.blocking
    assert "flex-start" in found.message and result.exit_code == 0
    meta = BY_NAME["gke-release-channel-autoupgrade"]
    assert "flex-start-no-auto-repair" in {e.id for e in meta.exemptions}
    served = {p.name: p for p in analyzer.start().policies}["gke-release-channel-autoupgrade"]
    assert "exemption:flex-start-no-auto-repair" in served.tags
