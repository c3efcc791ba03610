"""CIDR planning: the subnet, GKE's secondary ranges and the private-service-access range.

GKE gives every node a pod block of the smallest power of two holding twice its max pods
(https://cloud.google.com/kubernetes-engine/docs/how-to/flexible-pod-cidr), so a pods range
addresses `size // block` nodes at most; a too-small range surfaces only when a node pool
cannot grow. Each subnet loses four addresses to Google
(https://cloud.google.com/vpc/docs/subnets#reserved_ip_addresses_in_every_subnet).
"""

from __future__ import annotations

import ipaddress
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network

from infra.errors import AidcError, Problem, raise_problems

RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
SUBNET_RESERVED_ADDRESSES = 4
# Private services access needs a /24 at least; Filestore takes a /29 (Basic) or /26 (others)
# from it per instance. https://cloud.google.com/filestore/docs/private-service-access
PSA_MIN_PREFIX = 24
DEFAULT_PREFIXES = {"services": 20, "psa": 22}


def pod_block_prefix(max_pods_per_node: int) -> int:
    """The prefix of the per-node pod block GKE assigns for this max-pods setting."""
    if not 8 <= max_pods_per_node <= 256:
        raise AidcError(f"{max_pods_per_node} is outside GKE's 8-256", field="max_pods_per_node")
    return 32 - math.ceil(math.log2(2 * max_pods_per_node))


def nodes_addressable(pods: IPv4Network, max_pods_per_node: int) -> int:
    """How many nodes a pods range can hold at this max-pods setting."""
    block = pod_block_prefix(max_pods_per_node)
    return 0 if pods.prefixlen > block else 2 ** (block - pods.prefixlen)


def _prefix_for(addresses: int) -> int:
    return 32 - max(0, math.ceil(math.log2(max(addresses, 1))))


@dataclass(frozen=True)
class NetworkPlan:
    """The ranges one VPC fabric uses, all checked together."""

    subnet: IPv4Network
    pods: IPv4Network
    services: IPv4Network
    psa: IPv4Network
    max_nodes: int
    max_pods_per_node: int
    extra_subnets: dict[str, IPv4Network] = field(default_factory=dict)

    def ranges(self) -> dict[str, IPv4Network]:
        base = {"subnet": self.subnet, "pods": self.pods, "services": self.services,
                "psa": self.psa}
        base.update({f"extra_subnets.{k}": v for k, v in self.extra_subnets.items()})
        return base

    def usage(self) -> dict[str, dict[str, int]]:
        """Addresses each range holds against what the declared nodes can consume."""
        block = 2 ** (32 - pod_block_prefix(self.max_pods_per_node))
        return {
            "subnet": {"capacity": self.subnet.num_addresses - SUBNET_RESERVED_ADDRESSES,
                       "demand": self.max_nodes},
            "pods": {"capacity": self.pods.num_addresses, "demand": self.max_nodes * block,
                     "nodes_addressable": nodes_addressable(self.pods, self.max_pods_per_node)},
        }


def _allocate(base: IPv4Network, prefix: int, taken: list[IPv4Network], what: str,
              field: str = "base_cidr") -> IPv4Network:
    """First aligned block of this prefix inside `base` (the range `network.<field>`) that
    overlaps nothing taken."""
    if prefix < base.prefixlen:
        hint = (f"use a larger base or give network.{what}_cidr explicitly" if field == "base_cidr"
                else f"use a larger {field}")
        raise AidcError(f"{base} is too small for the {what} range, which needs a /{prefix}; "
                        f"{hint}", field=("network", field))
    step = 2 ** (32 - prefix)
    start = int(base.network_address)
    end = int(base.broadcast_address)
    candidate = start
    while candidate + step - 1 <= end:
        block = IPv4Network((candidate, prefix))
        clash = next((t for t in taken if t.overlaps(block)), None)
        if clash is None:
            return block
        candidate = max(candidate + step, (int(clash.broadcast_address) + 1 + step - 1) // step * step)
    raise AidcError(f"{base} has no free /{prefix} left for the {what} range after "
                    f"{', '.join(map(str, taken))}; use a larger {field}", field=("network", field))


def check_ranges(ranges: dict[str, IPv4Network], *, allow_non_rfc1918: bool = False) -> None:
    """Every range private (unless allowed) and no two overlapping; collects every problem."""
    problems = []
    if not allow_non_rfc1918:
        for name, net in ranges.items():
            if not any(net.subnet_of(private) for private in RFC1918):
                problems.append(Problem(_range_loc(name), (
                    f"{net} is outside RFC 1918 (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16); set "
                    "network.allow_non_rfc1918: true if this is intended")))
    names = list(ranges)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if ranges[a].overlaps(ranges[b]):
                problems.append(Problem(_range_loc(a), (
                    f"{ranges[a]} overlaps {config_name(b)} {ranges[b]}")))
    raise_problems(problems)


def config_name(range_name: str) -> str:
    """How the stack file names a range of the plan (`pods` -> `network.pods_cidr`)."""
    return "network." + ".".join(map(str, _range_loc(range_name)[1:]))


def _range_loc(range_name: str) -> tuple[str, ...]:
    if range_name.startswith("extra_subnets."):  # carved from the GPU supernet
        return ("network", "gpu_supernet", range_name.split(".", 1)[1])
    return ("network", f"{range_name}_cidr")


def plan_network(
    *,
    base: IPv4Network | None,
    max_nodes: int,
    max_pods_per_node: int,
    subnet: IPv4Network | None = None,
    pods: IPv4Network | None = None,
    services: IPv4Network | None = None,
    psa: IPv4Network | None = None,
    services_prefix: int = DEFAULT_PREFIXES["services"],
    psa_prefix: int = DEFAULT_PREFIXES["psa"],
    extra_subnets: Sequence[tuple[str, int]] = (),
    extra_supernet: IPv4Network | None = None,
    allow_non_rfc1918: bool = False,
) -> NetworkPlan:
    """Carve what is not given explicitly from `base`, largest first, then check everything.

    `extra_subnets` are (name, prefix length) pairs carved in order from `extra_supernet` (the
    GPU networks that GPUDirect needs live in VPCs of their own, so they only have to avoid each
    other and the main ranges); a name given twice is refused, never carved once for both.
    """
    if max_nodes < 1:
        raise AidcError(f"{max_nodes}; at least 1 node is needed", field=("network", "max_nodes"))
    block_prefix = pod_block_prefix(max_pods_per_node)
    need = {
        "pods": _prefix_for(max_nodes * 2 ** (32 - block_prefix)),
        "subnet": min(29, _prefix_for(max_nodes + SUBNET_RESERVED_ADDRESSES)),
        "services": services_prefix,
        "psa": min(psa_prefix, PSA_MIN_PREFIX),
    }
    given = {"subnet": subnet, "pods": pods, "services": services, "psa": psa}
    missing = [k for k, v in given.items() if v is None]
    if missing and base is None:
        raise AidcError("give base_cidr, or all of subnet_cidr, pods_cidr, services_cidr and "
                        f"psa_cidr (missing: {', '.join(missing)})", field="network")
    taken = [v for v in given.values() if v is not None]
    for what in sorted(missing, key=lambda k: need[k]):
        block = _allocate(base, need[what], taken, what)  # type: ignore[arg-type]
        given[what] = block
        taken.append(block)
    plan = NetworkPlan(
        subnet=given["subnet"], pods=given["pods"], services=given["services"],  # type: ignore[arg-type]
        psa=given["psa"], max_nodes=max_nodes, max_pods_per_node=max_pods_per_node,  # type: ignore[arg-type]
    )
    if extra_subnets:
        if extra_supernet is None:
            raise AidcError("GPUDirect pools need extra VPC subnets; set it (e.g. "
                            "192.168.0.0/16) to carve them from", field=("network", "gpu_supernet"))
        twice = sorted(name for name, n in Counter(name for name, _ in extra_subnets).items() if n > 1)
        if twice:
            raise AidcError(f"extra subnets named more than once: {', '.join(twice)}; each "
                            "needs a name of its own", field=("network", "gpu_supernet"))
        carved: dict[str, IPv4Network] = {}
        for name, prefix in extra_subnets:
            carved[name] = _allocate(extra_supernet, prefix, list(carved.values()), name,
                                     "gpu_supernet")
        plan = NetworkPlan(**{**plan.__dict__, "extra_subnets": carved})
    check_ranges(plan.ranges(), allow_non_rfc1918=allow_non_rfc1918)
    _check_capacity(plan)
    return plan


def _check_capacity(plan: NetworkPlan) -> None:
    problems = []
    if plan.psa.prefixlen > PSA_MIN_PREFIX:
        problems.append(Problem(("network", "psa_cidr"), (
            f"{plan.psa} is smaller than the /{PSA_MIN_PREFIX} private services access needs")))
    addressable = nodes_addressable(plan.pods, plan.max_pods_per_node)
    if addressable < plan.max_nodes:
        block = pod_block_prefix(plan.max_pods_per_node)
        problems.append(Problem(("network", "pods_cidr"), (
            f"{plan.pods} addresses {addressable} nodes at max_pods_per_node "
            f"{plan.max_pods_per_node} (a /{block} per node), but {plan.max_nodes} nodes are "
            f"declared; use a /{_prefix_for(plan.max_nodes * 2 ** (32 - block))} or larger, or "
            "lower max_pods_per_node")))
    usable = plan.subnet.num_addresses - SUBNET_RESERVED_ADDRESSES
    if usable < plan.max_nodes:
        problems.append(Problem(("network", "subnet_cidr"), (
            f"{plan.subnet} has {usable} usable addresses for {plan.max_nodes} declared nodes")))
    raise_problems(problems)
