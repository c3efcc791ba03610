"""Network: nothing sensitive is reachable from the internet, and the VPC is planned, not default.

Each rule is `rule(args, config) -> Iterator[message]`.
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
from .metadata import meta
from .protocol import CLUSTER, NETWORK, NODE_POOL, PROJECT

_SSH_RDP = ((22, "SSH"), (3389, "RDP"))
_INTERNAL_LB_ANNOTATIONS = ("networking.gke.io/load-balancer-type",
                            "cloud.google.com/load-balancer-type")


def _world_allows(args: Any, policy_id: str) -> list[tuple[str, list[tuple[int, int]]]]:
    defaults = meta(policy_id).defaults
    reason = firewall_scope_reason(args.props, defaults)
    if reason:
        args.not_applicable(reason)
    return list(world_open_allows(args.props, defaults))


def _ranges_text(ranges: list[tuple[int, int]]) -> str:
    return ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)


def no_world_ssh_rdp(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """N1: SSH and RDP open to 0.0.0.0/0 are the most common way in (CIS 3.6, 3.7)."""
    for protocol, ranges in _world_allows(args, "N1"):
        if protocol not in ("tcp", "all"):
            continue
        for port, service in _SSH_RDP:
            if covers(ranges, port):
                yield f"allows {service} ({protocol} {port}) from the internet"


def no_world_all_ports(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """N2: every port open to the internet exposes whatever happens to listen."""
    for protocol, ranges in _world_allows(args, "N2"):
        if protocol == "all":
            yield "allows all protocols and ports from the internet"
        elif is_all_ports(ranges):
            yield f"allows every {protocol} port ({_ranges_text(ranges)}) from the internet"


def no_world_sensitive_ports(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """N3: databases, NFS, notebooks and plain HTTP must sit behind a proxy or a known range."""
    ports = [int(p) for p in as_list(config.get("sensitivePorts"))] or [
        int(p) for p in meta("N3").config["sensitivePorts"]["default"]]
    for protocol, ranges in _world_allows(args, "N3"):
        open_ports = [p for p in ports if covers(ranges, p)]
        if open_ports:
            yield (f"allows sensitive port(s) {', '.join(map(str, open_ports))} ({protocol}) "
                   "from the internet")


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


def subnet_private_google_access(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """N10: nodes without external IPs reach Google APIs (GCS, Artifact Registry) only with
    Private Google Access; without it, pulls and dataset reads fail or go through NAT."""
    purpose = get(args.props, "purpose", default=meta("N10").default("purpose"))
    if purpose in NO_VM_SUBNET_PURPOSES:
        args.not_applicable(f"{purpose} subnets hold no VMs")
        return
    if not is_true(get(args.props, "privateIpGoogleAccess")):
        yield "privateIpGoogleAccess is not true: private nodes cannot reach Google APIs directly"


def gke_vpc_native(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """N11: routes-based clusters get no alias IPs, so pod traffic bypasses VPC firewall rules
    and flow logs (CIS GKE 5.6.2). New clusters default to VPC_NATIVE (the provider's doc)."""
    if get(args.props, "networkingMode") == "ROUTES":
        yield "networkingMode is ROUTES: pods get no alias IPs (use VPC_NATIVE)"


def gke_private_nodes(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """N6: nodes with public IPs are reachable from the internet (CIS GKE 5.6.5)."""
    if args.resource_type == CLUSTER:
        if not is_true(get(args.props, "privateClusterConfig", "enablePrivateNodes")):
            yield "privateClusterConfig.enablePrivateNodes is not set, so nodes get public IPs"
    elif args.resource_type == NODE_POOL:
        if is_false(get(args.props, "networkConfig", "enablePrivateNodes")):
            yield "networkConfig.enablePrivateNodes is false: this pool's nodes get public IPs"


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


def no_default_network(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """N8: the default / auto-mode network has permissive rules and unplanned ranges (CIS 3.1)."""
    m = meta("N8")
    if args.resource_type == PROJECT:
        if is_true(get(args.props, "autoCreateNetwork", default=m.default("autoCreateNetwork"))):
            yield "autoCreateNetwork is on (the provider default): the project gets a 'default' network"
    elif args.resource_type == NETWORK:
        if get(args.props, "name") == "default":
            yield "the network is named 'default'"
        if is_true(get(args.props, "autoCreateSubnetworks",
                       default=m.default("autoCreateSubnetworks"))):
            yield "autoCreateSubnetworks is on (the provider default): an auto-mode network"


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
    allowed = as_list(config.get("allowedLoadBalancerRanges"))
    for cidr in ranges:
        if is_world(cidr):
            yield f"loadBalancerSourceRanges admits {cidr}"
        elif allowed and not within(cidr, allowed):
            yield f"loadBalancerSourceRanges {cidr} is outside allowedLoadBalancerRanges"


def instance_no_ip_forwarding(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """N12: IP forwarding lets a VM route (and spoof) traffic for others (CIS 4.6)."""
    if is_true(get(args.props, "canIpForward", default=meta("N12").default("canIpForward"))):
        yield "canIpForward is on"


RULES = {
    "N1": no_world_ssh_rdp,
    "N2": no_world_all_ports,
    "N3": no_world_sensitive_ports,
    "N5": gke_control_plane_not_public,
    "N6": gke_private_nodes,
    "N7": gke_network_policy,
    "N8": no_default_network,
    "N9": k8s_lb_internal,
    "N10": subnet_private_google_access,
    "N11": gke_vpc_native,
    "N12": instance_no_ip_forwarding,
}
