"""Network policies (N1-N3, N5-N9, N12), judged through the analyzer protocol by the real pack."""

from __future__ import annotations

import pytest

from tests.policy_fixtures import (
    CLUSTER,
    DELETE,
    FIREWALL,
    GCP_PROJECT,
    GOLDEN,
    INSTANCE,
    INSTANCE_TEMPLATE,
    K8S_SERVICE,
    NETWORK,
    NODE_POOL,
    SUBNETWORK,
    Case,
    analyzer,  # noqa: F401 (module fixture)
    assert_case,
    case_id,
    mutate,
)

WORLD = mutate(GOLDEN[FIREWALL], {"sourceRanges": ["0.0.0.0/0"]})  # SSH from anywhere
WORLD_HTTPS = mutate(WORLD, {"allows": [{"protocol": "tcp", "ports": ["443"]}]})
PUBLIC_CP = mutate(GOLDEN[CLUSTER], {("privateClusterConfig", "enablePrivateEndpoint"): False})
_MAN = "masterAuthorizedNetworksConfig"
_LB = mutate(GOLDEN[K8S_SERVICE], {("metadata", "annotations"): DELETE})


def _world(allows: list[dict]) -> dict:
    """A rule open to 0.0.0.0/0 with these allow blocks."""
    return mutate(WORLD_HTTPS, {"allows": allows})


CASES = [
    # N1 no-world-ssh-rdp
    Case("no-world-ssh-rdp", FIREWALL, {"sourceRanges": ["0.0.0.0/0"]}, expect="SSH"),
    Case("no-world-ssh-rdp", FIREWALL, {"sourceRanges": ["::/0"]}),
    Case("no-world-ssh-rdp", FIREWALL, {"sourceRanges": DELETE},
         why="no source at all: the provider applies 0.0.0.0/0"),
    Case("no-world-ssh-rdp", FIREWALL, inputs=_world([{"protocol": "tcp",
                                                              "ports": ["3389"]}]),
         expect="RDP"),
    Case("no-world-ssh-rdp", FIREWALL, inputs=_world([{"protocol": "tcp",
                                                              "ports": ["20-30"]}]),
         why="a range covering 22"),
    Case("no-world-ssh-rdp", FIREWALL, inputs=_world([{"protocol": "all"}])),
    Case("no-world-ssh-rdp", FIREWALL, inputs=_world([{"protocol": "6"}]),
         why="protocol number 6 without ports"),
    Case("no-world-ssh-rdp", FIREWALL, fails=False, why="IAP range only"),
    Case("no-world-ssh-rdp", FIREWALL, inputs=WORLD_HTTPS, fails=False, why="443 only"),
    Case("no-world-ssh-rdp", FIREWALL, inputs=mutate(WORLD, {"direction": "EGRESS"}),
         fails=False, not_applicable=True),
    Case("no-world-ssh-rdp", FIREWALL, inputs=mutate(WORLD, {"disabled": True}), fails=False,
         not_applicable=True),
    Case("no-world-ssh-rdp", FIREWALL,
         inputs=mutate(WORLD, {"sourceRanges": DELETE, "sourceTags": ["bastion"]}), fails=False,
         why="source tags only: not the world"),
    # N2 no-world-all-ports
    Case("no-world-all-ports", FIREWALL, inputs=_world([{"protocol": "all"}])),
    Case("no-world-all-ports", FIREWALL, inputs=_world([{"protocol": "tcp"}]),
         why="tcp without ports"),
    Case("no-world-all-ports", FIREWALL, inputs=_world([{"protocol": "udp",
                                                                "ports": ["0-65535"]}])),
    Case("no-world-all-ports", FIREWALL, inputs=_world([
        {"protocol": "tcp", "ports": ["1-32767", "32768-65535"]}]), why="split ranges"),
    Case("no-world-all-ports", FIREWALL, inputs=WORLD, fails=False),
    Case("no-world-all-ports", FIREWALL, inputs=_world([{"protocol": "udp",
                                                                "ports": ["53"]}]),
         fails=False),
    # N3 no-world-sensitive-ports
    Case("no-world-sensitive-ports", FIREWALL, inputs=_world([{"protocol": "tcp",
                                                                      "ports": ["5432"]}])),
    Case("no-world-sensitive-ports", FIREWALL, inputs=_world([{"protocol": "tcp",
                                                                      "ports": ["80"]}])),
    Case("no-world-sensitive-ports", FIREWALL,
         inputs=_world([{"protocol": "tcp", "ports": ["8000-9000"]}]), expect="8888"),
    Case("no-world-sensitive-ports", FIREWALL, inputs=WORLD_HTTPS,
         config={"no-world-sensitive-ports": {"sensitivePorts": [443]}}),
    Case("no-world-sensitive-ports", FIREWALL, inputs=WORLD_HTTPS, fails=False),
    Case("no-world-sensitive-ports", FIREWALL,
         {"allows": [{"protocol": "tcp", "ports": ["5432"]}]}, fails=False,
         why="database port from the IAP range only"),
    # N5 gke-control-plane-not-public
    Case("gke-control-plane-not-public", CLUSTER, inputs=mutate(PUBLIC_CP, {_MAN: DELETE}),
         expect="no masterAuthorizedNetworksConfig"),
    Case("gke-control-plane-not-public", CLUSTER, inputs=mutate(PUBLIC_CP, {
        (_MAN, "cidrBlocks"): [{"cidrBlock": "0.0.0.0/0"}]})),
    Case("gke-control-plane-not-public", CLUSTER, inputs=mutate(PUBLIC_CP, {
        (_MAN, "gcpPublicCidrsAccessEnabled"): True})),
    Case("gke-control-plane-not-public", CLUSTER, {"privateClusterConfig": DELETE, _MAN: DELETE},
         why="everything omitted: public"),
    Case("gke-control-plane-not-public", CLUSTER, fails=False),
    Case("gke-control-plane-not-public", CLUSTER, inputs=PUBLIC_CP, fails=False,
         why="public endpoint behind authorized networks"),
    Case("gke-control-plane-not-public", CLUSTER, inputs=mutate(PUBLIC_CP, {
        _MAN: DELETE, ("controlPlaneEndpointsConfig", "ipEndpointsConfig", "enabled"): False}),
         fails=False, why="IP endpoint off (DNS endpoint only)"),
    # N6 gke-private-nodes
    Case("gke-private-nodes", CLUSTER, {("privateClusterConfig", "enablePrivateNodes"): False}),
    Case("gke-private-nodes", CLUSTER, {"privateClusterConfig": DELETE}),
    Case("gke-private-nodes", NODE_POOL, {("networkConfig", "enablePrivateNodes"): False}),
    Case("gke-private-nodes", CLUSTER, fails=False),
    Case("gke-private-nodes", NODE_POOL, {"networkConfig": DELETE}, fails=False,
         why="a node pool inherits the cluster's private nodes"),
    # N7 gke-network-policy
    Case("gke-network-policy", CLUSTER, {"datapathProvider": DELETE}),
    Case("gke-network-policy", CLUSTER, {"datapathProvider": "LEGACY_DATAPATH"}),
    Case("gke-network-policy", CLUSTER, fails=False),
    Case("gke-network-policy", CLUSTER,
         {"datapathProvider": DELETE, ("networkPolicy", "enabled"): True}, fails=False,
         why="Calico network policy"),
    Case("gke-network-policy", CLUSTER, {"datapathProvider": DELETE, "enableAutopilot": True},
         fails=False, not_applicable=True),
    # N8 no-default-network
    Case("no-default-network", GCP_PROJECT, {"autoCreateNetwork": DELETE}),
    Case("no-default-network", GCP_PROJECT, {"autoCreateNetwork": True}),
    Case("no-default-network", NETWORK, {"autoCreateSubnetworks": DELETE}),
    Case("no-default-network", NETWORK, {"name": "default"}),
    Case("no-default-network", GCP_PROJECT, fails=False),
    Case("no-default-network", NETWORK, fails=False),
    # N9 k8s-lb-internal
    Case("k8s-lb-internal", K8S_SERVICE, {("metadata", "annotations"): DELETE}),
    Case("k8s-lb-internal", K8S_SERVICE, inputs=mutate(_LB, {
        ("spec", "loadBalancerSourceRanges"): ["0.0.0.0/0"]})),
    Case("k8s-lb-internal", K8S_SERVICE,
         inputs=mutate(_LB, {("spec", "loadBalancerSourceRanges"): ["198.51.100.0/24"]}),
         config={"k8s-lb-internal": {"allowedLoadBalancerRanges": ["203.0.113.0/24"]}}),
    Case("k8s-lb-internal", K8S_SERVICE, fails=False),
    Case("k8s-lb-internal", K8S_SERVICE,
         inputs=mutate(_LB, {("spec", "loadBalancerSourceRanges"): ["203.0.113.0/24"]}),
         fails=False, why="external but limited to a partner range"),
    Case("k8s-lb-internal", K8S_SERVICE, {("spec", "type"): "ClusterIP"}, fails=False,
         not_applicable=True),
    # N10 subnet-private-google-access
    Case("subnet-private-google-access", SUBNETWORK, {"privateIpGoogleAccess": False}),
    Case("subnet-private-google-access", SUBNETWORK, {"privateIpGoogleAccess": DELETE},
         expect="privateIpGoogleAccess", why="absent = off"),
    Case("subnet-private-google-access", SUBNETWORK, fails=False),
    Case("subnet-private-google-access", SUBNETWORK,
         {"privateIpGoogleAccess": DELETE, "purpose": "REGIONAL_MANAGED_PROXY"}, fails=False,
         not_applicable=True, why="a proxy-only subnet holds no VMs"),
    # N11 gke-vpc-native
    Case("gke-vpc-native", CLUSTER, {"networkingMode": "ROUTES", "ipAllocationPolicy": DELETE},
         expect="ROUTES"),
    Case("gke-vpc-native", CLUSTER, fails=False),
    Case("gke-vpc-native", CLUSTER, {"networkingMode": DELETE}, fails=False,
         why="the provider creates new clusters VPC-native"),
    # N12 instance-no-ip-forwarding
    Case("instance-no-ip-forwarding", INSTANCE, {"canIpForward": True}),
    Case("instance-no-ip-forwarding", INSTANCE_TEMPLATE, {"canIpForward": True}),
    Case("instance-no-ip-forwarding", INSTANCE, fails=False),
    Case("instance-no-ip-forwarding", INSTANCE, {"canIpForward": DELETE}, fails=False),
    # "Anywhere" in every spelling the provider accepts (Checkov's firewall checks look for the
    # literal "0.0.0.0/0" only, so these pass there).
    *(Case("no-world-ssh-rdp", FIREWALL, {"sourceRanges": [anywhere]}, why=f"source {anywhere}")
      for anywhere in ("0.0.0.0", "::/0", "::0", "::", " 0.0.0.0/0 ")),
    Case("no-world-all-ports", FIREWALL, {"sourceRanges": ["::"],
                                          "allows": [{"protocol": "all"}]}),
    Case("no-world-ssh-rdp", FIREWALL, {"sourceRanges": ["10.0.0.0"]}, fails=False,
         why="a single private address is not the world"),
]


@pytest.mark.parametrize("case", [c for c in CASES if c.fails], ids=case_id)
def test_flags_violation(analyzer, case: Case) -> None:  # noqa: F811
    """Each departure from the golden resource is a violation of the policy it breaks."""
    assert_case(analyzer, case)


@pytest.mark.parametrize("case", [c for c in CASES if not c.fails], ids=case_id)
def test_passes_compliant(analyzer, case: Case) -> None:  # noqa: F811
    """Golden resources, known sources and rules that cannot reach the internet pass."""
    assert_case(analyzer, case)
