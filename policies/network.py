"""Network: nothing sensitive is reachable from the internet, and the VPC is planned, not default.

Each rule is `rule(args, config) -> Iterator[message]`.
Each policy's `PolicyMeta` record stands above its rule; `RULES` lists both, in roster order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._util import (
    NO_VM_SUBNET_PURPOSES,
    as_list,
    covers,
    firewall_scope_reason,
    get,
    is_all_ports,
    is_false,
    is_true,
    is_world,
    within,
    world_open_allows,
)
from .protocol import (
    CLUSTER,
    FIREWALL,
    K8S_SERVICE,
    NETWORK,
    NODE_POOL,
    PROJECT,
    SUBNETWORK,
    VM_TYPES,
)
from .record import Cis, PolicyMeta, Rule, strings_property

_SSH_RDP = ((22, "SSH"), (3389, "RDP"))
_INTERNAL_LB_ANNOTATIONS = ("networking.gke.io/load-balancer-type",
                            "cloud.google.com/load-balancer-type")


def _world_allows(args: Any, record: PolicyMeta) -> list[tuple[str, list[tuple[int, int]]]]:
    defaults = record.defaults
    reason = firewall_scope_reason(args.props, defaults)
    if reason:
        args.not_applicable(reason)
    return list(world_open_allows(args.props, defaults))


def _ranges_text(ranges: list[tuple[int, int]]) -> str:
    return ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)


N1 = PolicyMeta(
    id="N1", name="no-world-ssh-rdp", concern="network", severity="critical",
    description="No firewall rule opens SSH (22) or RDP (3389) to the internet.",
    resource_types=(FIREWALL,),
    remediation="Restrict source_ranges to IAP (35.235.240.0/20) or a bastion range.",
    url="https://cloud.google.com/firewall/docs/firewalls",
    defaults={"direction": "INGRESS", "disabled": False,
              "sourceRanges": ["0.0.0.0/0"], "allows[].ports": "all ports"},
    cis=(Cis("GCP", "2.0", "3.6"), Cis("GCP", "2.0", "3.7")),
    checkov=("CKV_GCP_2", "CKV_GCP_3"),
    policy_library=("gcp_restricted_firewall_rules_v1",),
    divergence="Stricter than CKV_GCP_2/3, which look for the literal 0.0.0.0/0 in the first source range and need ports listed: aidc reads every source range in every spelling of anywhere (0.0.0.0/0, 0.0.0.0, ::/0, ::0, ::), a rule with no source at all (the provider's 0.0.0.0/0), port ranges, protocol all and port-less tcp.",
)


def no_world_ssh_rdp(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """N1: SSH and RDP open to 0.0.0.0/0 are the most common way in (CIS 3.6, 3.7)."""
    for protocol, ranges in _world_allows(args, N1):
        if protocol not in ("tcp", "all"):
            continue
        for port, service in _SSH_RDP:
            if covers(ranges, port):
                yield f"allows {service} ({protocol} {port}) from the internet"


N2 = PolicyMeta(
    id="N2", name="no-world-all-ports", concern="network", severity="critical",
    description="No firewall rule opens all ports or all protocols to the internet.",
    resource_types=(FIREWALL,),
    remediation="Allow only the protocols and ports the service needs, from known ranges.",
    url="https://cloud.google.com/firewall/docs/firewalls",
    defaults={"direction": "INGRESS", "disabled": False,
              "sourceRanges": ["0.0.0.0/0"], "allows[].ports": "all ports"},
    checkov=("CKV2_GCP_12",),
    policy_library=("restrict_fw_rules_world_open_tcp_udp_all_ports",),
)


def no_world_all_ports(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """N2: every port open to the internet exposes whatever happens to listen."""
    for protocol, ranges in _world_allows(args, N2):
        if protocol == "all":
            yield "allows all protocols and ports from the internet"
        elif is_all_ports(ranges):
            yield f"allows every {protocol} port ({_ranges_text(ranges)}) from the internet"


N3 = PolicyMeta(
    id="N3", name="no-world-sensitive-ports", concern="network", severity="high",
    description="No firewall rule opens a sensitive port (databases, NFS, notebooks, "
                "plain HTTP, FTP) to the internet.",
    resource_types=(FIREWALL,),
    remediation="Serve through a load balancer / IAP, or restrict source_ranges.",
    url="https://cloud.google.com/firewall/docs/firewalls",
    defaults={"direction": "INGRESS", "disabled": False,
              "sourceRanges": ["0.0.0.0/0"], "allows[].ports": "all ports"},
    checkov=("CKV_GCP_75", "CKV_GCP_77", "CKV_GCP_88", "CKV_GCP_106"),
    pulumi=("gcp-compute-firewallpolicyrule-disallow-inbound-http-traffic",),
    config={"sensitivePorts": {
        "type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 65535},
        "default": [20, 21, 80, 2049, 3306, 5432, 6379, 8888, 9200],
        "description": "TCP/UDP ports never open to the internet (besides SSH/RDP and all "
                       "ports, which other policies forbid)."}},
)


def no_world_sensitive_ports(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """N3: databases, NFS, notebooks and plain HTTP must sit behind a proxy or a known range."""
    ports = [int(p) for p in as_list(config["sensitivePorts"])] or [
        int(p) for p in N3.config["sensitivePorts"]["default"]]
    for protocol, ranges in _world_allows(args, N3):
        open_ports = [p for p in ports if covers(ranges, p)]
        if open_ports:
            yield (f"allows sensitive port(s) {', '.join(map(str, open_ports))} ({protocol}) "
                   "from the internet")


N5 = PolicyMeta(
    id="N5", name="gke-control-plane-not-public", concern="network", severity="high",
    description="The GKE control plane is not reachable from the whole internet.",
    resource_types=(CLUSTER,),
    remediation="Enable the private endpoint, or disable the IP endpoint (DNS endpoint), or "
                "set master_authorized_networks_config with ranges other than 0.0.0.0/0 and "
                "gcp_public_cidrs_access_enabled=False.",
    url="https://cloud.google.com/kubernetes-engine/docs/how-to/authorized-networks",
    defaults={"privateClusterConfig.enablePrivateEndpoint": False,
              "controlPlaneEndpointsConfig.ipEndpointsConfig.enabled": True,
              "masterAuthorizedNetworksConfig": None},
    cis=(Cis("GKE", "1.4", "5.6.3"), Cis("GKE", "1.4", "5.6.4")),
    checkov=("CKV_GCP_18", "CKV_GCP_20"),
    policy_library=("gcp_gke_master_authorized_networks_enabled_v1",
                    "gcp_gke_enable_private_endpoint"),
)


def gke_control_plane_not_public(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """N5: the API server is the cluster; keep it off the open internet (CIS GKE 5.6.3/5.6.4)."""
    props = args.props
    if is_true(get(props, "privateClusterConfig", "enablePrivateEndpoint")):
        return
    if is_false(get(props, "controlPlaneEndpointsConfig", "ipEndpointsConfig", "enabled")):
        return
    networks = get(props, "masterAuthorizedNetworksConfig")
    if networks is None:
        yield ("the control plane's public endpoint accepts any source: no private endpoint and "
               "no masterAuthorizedNetworksConfig")
        return
    for block in as_list(get(networks, "cidrBlocks")):
        cidr = get(block, "cidrBlock")
        if is_world(cidr):
            yield f"masterAuthorizedNetworksConfig admits {cidr}"
    if is_true(get(networks, "gcpPublicCidrsAccessEnabled")):
        yield "masterAuthorizedNetworksConfig admits every Google Cloud public IP"


N10 = PolicyMeta(
    id="N10", name="subnet-private-google-access", concern="network", severity="low",
    description="Subnets with VMs reach Google APIs privately (Private Google Access).",
    resource_types=(SUBNETWORK,),
    remediation="Set private_ip_google_access=True on the subnetwork.",
    url="https://cloud.google.com/vpc/docs/configure-private-google-access",
    defaults={"privateIpGoogleAccess": False, "purpose": "PRIVATE"},
    checkov=("CKV_GCP_74",),
    policy_library=("gcp_network_enable_private_google_access_v1",),
)


def subnet_private_google_access(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """N10: nodes without external IPs reach Google APIs (GCS, Artifact Registry) only with
    Private Google Access; without it, pulls and dataset reads fail or go through NAT."""
    purpose = get(args.props, "purpose", default=N10.default("purpose"))
    if purpose in NO_VM_SUBNET_PURPOSES:
        args.not_applicable(f"{purpose} subnets hold no VMs")
        return
    if not is_true(get(args.props, "privateIpGoogleAccess")):
        yield "privateIpGoogleAccess is not true: private nodes cannot reach Google APIs directly"


N11 = PolicyMeta(
    id="N11", name="gke-vpc-native", concern="network", severity="medium",
    description="GKE clusters are VPC-native (alias IPs), not routes-based.",
    resource_types=(CLUSTER,),
    remediation="Set networking_mode=\"VPC_NATIVE\" with an ip_allocation_policy naming the "
                "pods and services secondary ranges.",
    url="https://cloud.google.com/kubernetes-engine/docs/concepts/alias-ips",
    defaults={"networkingMode": "VPC_NATIVE (the provider's default for new clusters)"},
    cis=(Cis("GKE", "1.4", "5.6.2"),),
    checkov=("CKV_GCP_23",),
    policy_library=("gcp_gke_enable_alias_ip_ranges",),
)


def gke_vpc_native(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """N11: routes-based clusters get no alias IPs, so pod traffic bypasses VPC firewall rules
    and flow logs (CIS GKE 5.6.2). New clusters default to VPC_NATIVE (the provider's doc)."""
    if get(args.props, "networkingMode") == "ROUTES":
        yield "networkingMode is ROUTES: pods get no alias IPs (use VPC_NATIVE)"


N6 = PolicyMeta(
    id="N6", name="gke-private-nodes", concern="network", severity="medium",
    description="GKE nodes have only private IP addresses.",
    resource_types=(CLUSTER, NODE_POOL),
    remediation="Set private_cluster_config.enable_private_nodes=True; do not override it "
                "to False in a node pool's network_config.",
    url="https://cloud.google.com/kubernetes-engine/docs/how-to/latest/network-isolation",
    defaults={"privateClusterConfig.enablePrivateNodes": False,
              "networkConfig.enablePrivateNodes": "inherits the cluster"},
    cis=(Cis("GKE", "1.4", "5.6.5"),),
    checkov=("CKV_GCP_64", "CKV_GCP_25"),
    policy_library=("gcp_gke_private_cluster_v1",),
)


def gke_private_nodes(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """N6: nodes with public IPs are reachable from the internet (CIS GKE 5.6.5)."""
    if args.resource_type == CLUSTER:
        if not is_true(get(args.props, "privateClusterConfig", "enablePrivateNodes")):
            yield "privateClusterConfig.enablePrivateNodes is not set, so nodes get public IPs"
    elif args.resource_type == NODE_POOL:
        if is_false(get(args.props, "networkConfig", "enablePrivateNodes")):
            yield "networkConfig.enablePrivateNodes is false: this pool's nodes get public IPs"


N7 = PolicyMeta(
    id="N7", name="gke-network-policy", concern="network", severity="medium",
    description="GKE enforces Kubernetes network policy (Calico or Dataplane V2).",
    resource_types=(CLUSTER,),
    remediation="Set datapath_provider='ADVANCED_DATAPATH' (Dataplane V2) or "
                "network_policy.enabled=True.",
    url="https://cloud.google.com/kubernetes-engine/docs/how-to/network-policy",
    defaults={"networkPolicy.enabled": False, "datapathProvider": "LEGACY_DATAPATH",
              "enableAutopilot": False},
    cis=(Cis("GKE", "1.4", "5.6.7"),),
    checkov=("CKV_GCP_12",),
    policy_library=("gcp_gke_restrict_pod_traffic_v2",),
)


def gke_network_policy(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """N7: without network policy every pod can reach every other pod (CIS GKE 5.6.7)."""
    props = args.props
    if is_true(get(props, "enableAutopilot")):
        args.not_applicable("Autopilot clusters always run Dataplane V2")
    if get(props, "datapathProvider") == "ADVANCED_DATAPATH":
        return
    if is_true(get(props, "networkPolicy", "enabled")):
        return
    yield "neither Dataplane V2 (datapathProvider ADVANCED_DATAPATH) nor networkPolicy is enabled"


N8 = PolicyMeta(
    id="N8", name="no-default-network", concern="network", severity="medium",
    description="No auto-mode or 'default' VPC network; projects do not create one.",
    resource_types=(PROJECT, NETWORK),
    remediation="Set auto_create_network=False on projects and auto_create_subnetworks="
                "False on networks; plan subnets explicitly.",
    url="https://cloud.google.com/vpc/docs/vpc#default-network",
    defaults={"autoCreateNetwork": True, "autoCreateSubnetworks": True},
    cis=(Cis("GCP", "2.0", "3.1"),),
    checkov=("CKV_GCP_27",),
    policy_library=("gcp_network_restrict_default_v1",),
)


def no_default_network(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """N8: the default / auto-mode network has permissive rules and unplanned ranges (CIS 3.1)."""
    if args.resource_type == PROJECT:
        if is_true(get(args.props, "autoCreateNetwork", default=N8.default("autoCreateNetwork"))):
            yield "autoCreateNetwork is on (the provider default): the project gets a 'default' network"
    elif args.resource_type == NETWORK:
        if get(args.props, "name") == "default":
            yield "the network is named 'default'"
        if is_true(get(args.props, "autoCreateSubnetworks",
                       default=N8.default("autoCreateSubnetworks"))):
            yield "autoCreateSubnetworks is on (the provider default): an auto-mode network"


N9 = PolicyMeta(
    id="N9", name="k8s-lb-internal", concern="network", severity="medium",
    description="Kubernetes LoadBalancer services are internal or limited to allow-listed "
                "source ranges.",
    resource_types=(K8S_SERVICE,),
    remediation="Annotate networking.gke.io/load-balancer-type: Internal, or set "
                "spec.loadBalancerSourceRanges to known ranges.",
    url="https://cloud.google.com/kubernetes-engine/docs/how-to/internal-load-balancing",
    defaults={"spec.type": "ClusterIP", "spec.loadBalancerSourceRanges": []},
    cis=(Cis("GKE", "1.5", "5.6.8"),),
    pulumi=("kubernetes-core-v1-service-disallow-load-balancer",),
    config={"allowedLoadBalancerRanges": strings_property(
        "CIDRs public Kubernetes load balancers may admit; empty: any range but the "
        "internet.")},
)


def k8s_lb_internal(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """N9: a public LoadBalancer service puts a workload on the internet."""
    spec_type = get(args.props, "spec", "type", default="ClusterIP")
    if spec_type != "LoadBalancer":
        args.not_applicable(f"service type {spec_type}")
    annotations = get(args.props, "metadata", "annotations", default={})
    if any(str(get(annotations, a, default="")).lower() == "internal"
           for a in _INTERNAL_LB_ANNOTATIONS):
        return
    ranges = [str(r) for r in as_list(get(args.props, "spec", "loadBalancerSourceRanges"))]
    if not ranges:
        yield "LoadBalancer service is external and admits any source (no loadBalancerSourceRanges)"
        return
    allowed = as_list(config["allowedLoadBalancerRanges"])
    for cidr in ranges:
        if is_world(cidr):
            yield f"loadBalancerSourceRanges admits {cidr}"
        elif allowed and not within(cidr, allowed):
            yield f"loadBalancerSourceRanges {cidr} is outside allowedLoadBalancerRanges"


N12 = PolicyMeta(
    id="N12", name="instance-no-ip-forwarding", concern="network", severity="medium",
    description="VMs do not forward IP packets (no routing appliances by accident).",
    resource_types=VM_TYPES,
    remediation="Set can_ip_forward=False.",
    url="https://cloud.google.com/vpc/docs/using-routes",
    defaults={"canIpForward": False},
    cis=(Cis("GCP", "2.0", "4.6"),),
    checkov=("CKV_GCP_36",),
)


def instance_no_ip_forwarding(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """N12: IP forwarding lets a VM route (and spoof) traffic for others (CIS 4.6)."""
    if is_true(get(args.props, "canIpForward", default=N12.default("canIpForward"))):
        yield "canIpForward is on"


RULES: tuple[tuple[PolicyMeta, Rule], ...] = (
    (N1, no_world_ssh_rdp),
    (N2, no_world_all_ports),
    (N3, no_world_sensitive_ports),
    (N5, gke_control_plane_not_public),
    (N6, gke_private_nodes),
    (N7, gke_network_policy),
    (N8, no_default_network),
    (N9, k8s_lb_internal),
    (N10, subnet_private_google_access),
    (N11, gke_vpc_native),
    (N12, instance_no_ip_forwarding),
)
