"""CIDR planning: GKE's pod-block arithmetic, carving from a base, and every range check."""

from __future__ import annotations

import math
from ipaddress import IPv4Network

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from infra.errors import AidcError
from infra.gcp.netplan import (
    SUBNET_RESERVED_ADDRESSES,
    check_ranges,
    nodes_addressable,
    plan_network,
    pod_block_prefix,
)

N = IPv4Network


# ---------------------------------------------------------------------------------------------
# pod blocks


@pytest.mark.parametrize(("max_pods", "prefix"), [
    # https://cloud.google.com/kubernetes-engine/docs/how-to/flexible-pod-cidr (table)
    (8, 28), (9, 27), (16, 27), (17, 26), (32, 26), (33, 25), (64, 25), (65, 24), (110, 24),
    (128, 24), (129, 23), (256, 23),
])
def test_pod_block_prefix_matches_gke_table(max_pods: int, prefix: int) -> None:
    """Each node gets the smallest block holding twice its max pods, per GKE's table."""
    assert pod_block_prefix(max_pods) == prefix


@pytest.mark.parametrize("max_pods", [0, 7, 257, 1000])
def test_rejects_max_pods_outside_gke_range(max_pods: int) -> None:
    """GKE accepts 8-256 pods per node; anything else is refused with that range."""
    with pytest.raises(AidcError, match="8-256"):
        pod_block_prefix(max_pods)


@pytest.mark.parametrize(("pods", "max_pods", "nodes"), [
    ("10.0.0.0/16", 110, 256), ("10.0.0.0/14", 110, 1024), ("10.0.0.0/24", 110, 1),
    ("10.0.0.0/25", 110, 0), ("10.0.0.0/16", 32, 1024), ("10.0.0.0/21", 8, 128),
])
def test_nodes_addressable(pods: str, max_pods: int, nodes: int) -> None:
    """A pods range holds range size / per-node block nodes, and none when smaller than a block."""
    assert nodes_addressable(N(pods), max_pods) == nodes


# ---------------------------------------------------------------------------------------------
# plans of the shipped stacks (table)


@pytest.mark.parametrize(("base", "max_nodes", "max_pods", "expected"), [
    # dev: 64 nodes x /25 = /19 pods, /20 services, /22 PSA, /25 subnet (68 addresses)
    ("10.16.0.0/16", 64, 64, {"pods": "10.16.0.0/19", "services": "10.16.32.0/20",
                              "psa": "10.16.48.0/22", "subnet": "10.16.52.0/25"}),
    # staging: 256 x /25 = /17 pods, subnet /23 (260 addresses)
    ("10.32.0.0/14", 256, 64, {"pods": "10.32.0.0/17", "services": "10.32.128.0/20",
                               "psa": "10.32.144.0/22", "subnet": "10.32.148.0/23"}),
    # prod: 1024 x /26 = /16 pods, subnet /21 (1028 addresses)
    ("10.64.0.0/12", 1024, 32, {"pods": "10.64.0.0/16", "services": "10.65.0.0/20",
                                "subnet": "10.65.16.0/21", "psa": "10.65.24.0/22"}),
])
def test_carves_largest_first(base: str, max_nodes: int, max_pods: int,
                              expected: dict[str, str]) -> None:
    """Unspecified ranges are carved from the base, largest first, at the first aligned gap."""
    plan = plan_network(base=N(base), max_nodes=max_nodes, max_pods_per_node=max_pods)
    assert {k: str(v) for k, v in plan.ranges().items()} == expected


def test_explicit_ranges_are_kept_and_avoided() -> None:
    """Given ranges are used as they are; carved ones go around them."""
    plan = plan_network(base=N("10.0.0.0/16"), max_nodes=16, max_pods_per_node=32,
                        pods=N("10.0.0.0/20"), psa=N("10.0.16.0/24"))
    assert plan.pods == N("10.0.0.0/20")
    assert plan.psa == N("10.0.16.0/24")
    assert not plan.services.overlaps(plan.pods) and not plan.services.overlaps(plan.psa)
    assert not plan.subnet.overlaps(plan.pods) and not plan.subnet.overlaps(plan.psa)


def test_all_explicit_needs_no_base() -> None:
    """With all four ranges given, no base is needed."""
    plan = plan_network(base=None, max_nodes=10, max_pods_per_node=110,
                        subnet=N("10.0.0.0/24"), pods=N("10.4.0.0/16"),
                        services=N("10.5.0.0/20"), psa=N("10.6.0.0/24"))
    assert plan.subnet == N("10.0.0.0/24")


def test_usage_reports_capacity_and_demand() -> None:
    """usage() gives capacity against what the declared nodes can consume."""
    plan = plan_network(base=N("10.16.0.0/16"), max_nodes=64, max_pods_per_node=64)
    assert plan.usage() == {
        "subnet": {"capacity": 128 - SUBNET_RESERVED_ADDRESSES, "demand": 64},
        "pods": {"capacity": 8192, "demand": 64 * 128, "nodes_addressable": 64},
    }


def test_extra_subnets_carved_from_supernet() -> None:
    """GPUDirect subnets come from their own supernet, disjoint from each other."""
    plan = plan_network(base=N("10.0.0.0/16"), max_nodes=16, max_pods_per_node=32,
                        extra_subnets=[("a", 29), ("b", 29), ("c", 28)],
                        extra_supernet=N("192.168.0.0/24"))
    carved = list(plan.extra_subnets.values())
    assert all(n.subnet_of(N("192.168.0.0/24")) for n in carved)
    assert all(not a.overlaps(b) for i, a in enumerate(carved) for b in carved[i + 1:])
    assert [n.prefixlen for n in carved] == [29, 29, 28]
    assert list(plan.extra_subnets) == ["a", "b", "c"]


# ---------------------------------------------------------------------------------------------
# failures


def test_rejects_overlapping_ranges() -> None:
    """Two given ranges that overlap are named, both of them."""
    with pytest.raises(AidcError, match=r"subnet_cidr: 10\.0\.0\.0/20 overlaps network\.pods_cidr"):
        plan_network(base=None, max_nodes=8, max_pods_per_node=8, subnet=N("10.0.0.0/20"),
                     pods=N("10.0.8.0/21"), services=N("10.1.0.0/20"), psa=N("10.2.0.0/22"))


def test_rejects_every_overlap_at_once() -> None:
    """check_ranges collects every overlap, not just the first."""
    with pytest.raises(AidcError) as err:
        check_ranges({"a": N("10.0.0.0/16"), "b": N("10.0.1.0/24"), "c": N("10.0.2.0/24")})
    assert "network.a_cidr: 10.0.0.0/16 overlaps network.b_cidr" in str(err.value)
    assert "network.a_cidr: 10.0.0.0/16 overlaps network.c_cidr" in str(err.value)


def test_rejects_public_ranges_unless_allowed() -> None:
    """Ranges outside RFC 1918 are refused unless allow_non_rfc1918 says so."""
    kwargs = dict(base=N("100.64.0.0/16"), max_nodes=8, max_pods_per_node=8)
    with pytest.raises(AidcError, match="outside RFC 1918.*allow_non_rfc1918"):
        plan_network(**kwargs)
    assert plan_network(**kwargs, allow_non_rfc1918=True).pods.subnet_of(N("100.64.0.0/16"))


def test_rejects_missing_base() -> None:
    """Without a base every range must be given; the error lists the missing ones."""
    with pytest.raises(AidcError, match="missing: services, psa"):
        plan_network(base=None, max_nodes=8, max_pods_per_node=8, subnet=N("10.0.0.0/24"),
                     pods=N("10.1.0.0/16"))


def test_rejects_base_smaller_than_a_range() -> None:
    """A base smaller than one of the ranges it must hold names that range and its size."""
    with pytest.raises(AidcError, match="too small for the pods range, which needs a /16"):
        plan_network(base=N("10.0.0.0/20"), max_nodes=256, max_pods_per_node=110)


def test_rejects_base_too_full() -> None:
    """When the ranges do not all fit, the error names the one that did not."""
    with pytest.raises(AidcError, match="no free /20 left for the services range"):
        plan_network(base=N("10.0.0.0/16"), max_nodes=256, max_pods_per_node=110)


def test_rejects_pods_range_too_small() -> None:
    """A pods range that cannot give every declared node its block names both numbers and the
    size that would do."""
    with pytest.raises(AidcError, match=r"addresses 16 nodes .* but 64 nodes are declared; use a /18"):
        plan_network(base=N("10.0.0.0/8"), max_nodes=64, max_pods_per_node=110,
                     pods=N("10.4.0.0/20"))


def test_rejects_subnet_too_small() -> None:
    """A subnet with fewer usable addresses than declared nodes (4 are Google's) is refused."""
    with pytest.raises(AidcError, match="subnet_cidr: 10.0.0.0/26 has 60 usable addresses for 61"):
        plan_network(base=N("10.0.0.0/8"), max_nodes=61, max_pods_per_node=8,
                     subnet=N("10.0.0.0/26"))


def test_rejects_psa_smaller_than_24() -> None:
    """Private services access needs at least a /24."""
    with pytest.raises(AidcError, match="psa_cidr: 10.3.0.0/25 is smaller than the /24"):
        plan_network(base=N("10.0.0.0/8"), max_nodes=8, max_pods_per_node=8, psa=N("10.3.0.0/25"))


def test_rejects_no_nodes() -> None:
    """At least one node must be declared."""
    with pytest.raises(AidcError, match="max_nodes"):
        plan_network(base=N("10.0.0.0/8"), max_nodes=0, max_pods_per_node=8)


def test_rejects_extra_subnets_without_supernet() -> None:
    """GPUDirect subnets with nowhere to carve them from are refused, naming gpu_supernet."""
    with pytest.raises(AidcError, match="gpu_supernet"):
        plan_network(base=N("10.0.0.0/8"), max_nodes=8, max_pods_per_node=8,
                     extra_subnets=[("a", 29)])


def test_rejects_extra_subnets_named_twice() -> None:
    """Two extra subnets of one name are refused, naming it, rather than carved once for both."""
    with pytest.raises(AidcError, match="gpu_supernet: extra subnets named more than once: a;"):
        plan_network(base=N("10.0.0.0/8"), max_nodes=8, max_pods_per_node=8,
                     extra_subnets=[("a", 29), ("b", 29), ("a", 28)],
                     extra_supernet=N("192.168.0.0/24"))


# ---------------------------------------------------------------------------------------------
# properties


def _size(prefix: int) -> int:
    return 2 ** (32 - prefix)


def _needs(max_nodes: int, max_pods: int, services_prefix: int, psa_prefix: int) -> dict[str, int]:
    """The prefix each range needs, computed independently of netplan."""
    block = 2 ** math.ceil(math.log2(2 * max_pods))
    pods = 32 - math.ceil(math.log2(max_nodes * block))
    subnet = min(29, 32 - math.ceil(math.log2(max_nodes + SUBNET_RESERVED_ADDRESSES)))
    return {"pods": pods, "subnet": subnet, "services": services_prefix, "psa": min(psa_prefix, 24)}


# Aligned blocks of 10.0.0.0/8 from /8 to /24.
bases = st.builds(
    lambda prefix, index: IPv4Network((0x0A000000 + index % 2 ** (prefix - 8) * _size(prefix), prefix)),
    st.integers(8, 24), st.integers(0, 2 ** 16 - 1))


@settings(max_examples=300, deadline=None)
@given(base=bases, max_nodes=st.integers(1, 15000), max_pods=st.integers(8, 256),
       services_prefix=st.integers(16, 27), psa_prefix=st.integers(16, 24))
def test_carving_property(base: IPv4Network, max_nodes: int, max_pods: int,
                          services_prefix: int, psa_prefix: int) -> None:
    """Carving succeeds exactly when the four power-of-two ranges fit in the base; then the
    ranges lie inside the base, never overlap, have the sizes asked for, the pods range
    addresses at least max_nodes nodes and the subnet holds them."""
    need = _needs(max_nodes, max_pods, services_prefix, psa_prefix)
    fits = sum(_size(p) for p in need.values()) <= base.num_addresses
    try:
        plan = plan_network(base=base, max_nodes=max_nodes, max_pods_per_node=max_pods,
                            services_prefix=services_prefix, psa_prefix=psa_prefix)
    except AidcError:
        assert not fits
        return
    assert fits
    ranges = plan.ranges()
    assert {k: v.prefixlen for k, v in ranges.items()} == need
    assert all(r.subnet_of(base) for r in ranges.values())
    items = list(ranges.values())
    assert all(not a.overlaps(b) for i, a in enumerate(items) for b in items[i + 1:])
    assert nodes_addressable(plan.pods, max_pods) >= max_nodes
    assert plan.pods.num_addresses >= max_nodes * 2 ** (32 - pod_block_prefix(max_pods))
    assert plan.subnet.num_addresses - SUBNET_RESERVED_ADDRESSES >= max_nodes


@settings(max_examples=200, deadline=None)
@given(max_nodes=st.integers(1, 2000), max_pods=st.integers(8, 256),
       given_prefix=st.integers(16, 28), slot=st.integers(0, 255),
       which=st.sampled_from(["subnet", "pods", "services", "psa"]))
def test_carving_avoids_given_range(max_nodes: int, max_pods: int, given_prefix: int,
                                    slot: int, which: str) -> None:
    """With one range given anywhere in the base, the carved ones never overlap it or each
    other, and any failure is an AidcError."""
    base = N("10.0.0.0/12")
    offset = (slot * _size(given_prefix)) % base.num_addresses
    fixed = IPv4Network((int(base.network_address) + offset, given_prefix))
    assume(fixed.subnet_of(base))
    try:
        plan = plan_network(base=base, max_nodes=max_nodes, max_pods_per_node=max_pods,
                            **{which: fixed})
    except AidcError:
        return
    ranges = plan.ranges()
    assert ranges[which] == fixed
    items = list(ranges.values())
    assert all(not a.overlaps(b) for i, a in enumerate(items) for b in items[i + 1:])
    assert all(r.subnet_of(base) for r in items)
