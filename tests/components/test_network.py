"""VpcFabric built alone under the mocks: its children, the subnet and GKE ranges from the
network plan, NAT, the firewall baseline, private services access, settings from the
`aidc:network` section, and the GPUDirect networks it is given."""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Any

from components.network import ExtraNetSpec, VpcFabric, VpcSpec
from components.services import ProjectServices
from infra.config.network import NetworkConfig
from infra.engine.plan import Plan, PlanResource
from infra.gcp.netplan import plan_network
from tests.helpers import PROJECT, REGION, Captured, by_name, contract, inputs, of_type, plan_of

FIREWALL = "gcp:compute/firewall:Firewall"
NETWORK = "gcp:compute/network:Network"
SUBNET = "gcp:compute/subnetwork:Subnetwork"

NET_PLAN = plan_network(base=IPv4Network("10.16.0.0/16"), max_nodes=64, max_pods_per_node=64)


def vpc_spec(**network: Any) -> VpcSpec:
    """The test fabric; keyword arguments are the `aidc:network` section's."""
    return VpcSpec(network_name="aidc-test", region=REGION, config=NetworkConfig(**network))


def fabric_plan(**spec: Any) -> Plan:
    return plan_of(lambda: VpcFabric("net", vpc_spec(**spec), NET_PLAN, project=PROJECT))


def test_vpc_fabric_children() -> None:
    """VpcFabric's children, pinned: network, subnet, router, NAT, three baseline firewalls, the
    PSA range and its connection; no IAP rule unless asked."""
    plan = fabric_plan()
    assert contract(plan, "net") == {
        (NETWORK, "net-vpc", "net"),
        (SUBNET, "net-subnet", "net"),
        ("gcp:compute/router:Router", "net-router", "net"),
        ("gcp:compute/routerNat:RouterNat", "net-nat", "net"),
        (FIREWALL, "net-deny-ingress", "net"),
        (FIREWALL, "net-allow-internal", "net"),
        (FIREWALL, "net-allow-health-checks", "net"),
        ("gcp:compute/globalAddress:GlobalAddress", "net-psa-range", "net"),
        ("gcp:servicenetworking/connection:Connection", "net-psa", "net"),
    }
    assert by_name(plan, "net").type == "aidc:network:VpcFabric"


def test_vpc_fabric_iap_ssh_rule_only_when_asked() -> None:
    """iap_ssh adds one rule: SSH (tcp/22) from Google's IAP range only, logged."""
    plan = fabric_plan(iap_ssh=True)
    assert (FIREWALL, "net-allow-iap-ssh", "net") in contract(plan, "net")
    rule = inputs(plan, "net-allow-iap-ssh")
    assert rule["sourceRanges"] == ["35.235.240.0/20"]
    assert rule["allows"] == [{"protocol": "tcp", "ports": ["22"]}]
    assert rule["direction"] == "INGRESS"
    assert rule["logConfig"] == {"metadata": "INCLUDE_ALL_METADATA"}
    assert not any(r.name == "net-allow-iap-ssh" for r in fabric_plan(iap_ssh=False).resources)


def test_vpc_network_is_custom_mode() -> None:
    """The VPC is custom mode (no auto subnets in every region), regional routing."""
    network = inputs(fabric_plan(), "net-vpc")
    assert network["autoCreateSubnetworks"] is False
    assert network["routingMode"] == "REGIONAL"
    assert network["name"] == "aidc-test"
    assert network["project"] == PROJECT


def test_vpc_subnet_ranges_and_logging() -> None:
    """The subnet carries the planned primary range, GKE's secondary ranges named pods and
    services with the planned CIDRs, Private Google Access and flow logs."""
    captured = Captured()

    def program() -> None:
        net = VpcFabric("net", vpc_spec(flow_logs_sampling=0.25), NET_PLAN, project=PROJECT)
        captured.keep("network", net.network_id)

    plan = plan_of(program)
    subnet = inputs(plan, "net-subnet")
    assert subnet["ipCidrRange"] == str(NET_PLAN.subnet)
    assert subnet["secondaryIpRanges"] == [
        {"rangeName": "pods", "ipCidrRange": str(NET_PLAN.pods)},
        {"rangeName": "services", "ipCidrRange": str(NET_PLAN.services)},
    ]
    assert subnet["privateIpGoogleAccess"] is True
    assert subnet["logConfig"] == {"aggregationInterval": "INTERVAL_5_SEC", "flowSampling": 0.25,
                                   "metadata": "INCLUDE_ALL_METADATA"}
    assert subnet["region"] == REGION
    assert subnet["network"] == captured["network"]


def test_vpc_nat_logs_and_covers_subnet() -> None:
    """Cloud NAT (the nodes' only way out) serves the subnet, allocates ports dynamically and
    logs with the configured filter."""
    captured = Captured()

    def program() -> None:
        net = VpcFabric("net", vpc_spec(nat_log_filter="ALL"), NET_PLAN, project=PROJECT)
        captured.keep("subnet", net.subnet.id)

    plan = plan_of(program)
    nat = inputs(plan, "net-nat")
    assert nat["logConfig"] == {"enable": True, "filter": "ALL"}
    assert nat["router"] == inputs(plan, "net-router")["name"]
    assert nat["sourceSubnetworkIpRangesToNat"] == "LIST_OF_SUBNETWORKS"
    assert nat["subnetworks"] == [{"name": captured["subnet"],
                                   "sourceIpRangesToNats": ["ALL_IP_RANGES"]}]
    assert nat["natIpAllocateOption"] == "AUTO_ONLY"
    assert nat["enableDynamicPortAllocation"] is True


def test_vpc_deny_all_ingress_baseline() -> None:
    """A logged deny-all ingress rule at priority 65534 sits under every allow rule."""
    rule = inputs(fabric_plan(), "net-deny-ingress")
    assert rule["priority"] == 65534
    assert rule["direction"] == "INGRESS"
    assert rule["denies"] == [{"protocol": "all"}]
    assert rule["sourceRanges"] == ["0.0.0.0/0"]
    assert rule["logConfig"] == {"metadata": "INCLUDE_ALL_METADATA"}
    assert "allows" not in rule


def test_vpc_allow_rules_are_narrow() -> None:
    """No allow rule admits the internet: internal traffic from the subnet and pods ranges only,
    health checks from Google's checker ranges only, and every rule is logged."""
    plan = fabric_plan(iap_ssh=True)
    internal = inputs(plan, "net-allow-internal")
    assert internal["sourceRanges"] == [str(NET_PLAN.subnet), str(NET_PLAN.pods)]
    checks = inputs(plan, "net-allow-health-checks")
    assert checks["sourceRanges"] == ["35.191.0.0/16", "130.211.0.0/22"]
    for rule in of_type(plan, FIREWALL):
        if "allows" in rule.inputs:
            assert "0.0.0.0/0" not in rule.inputs["sourceRanges"], rule.name
            assert rule.inputs["priority"] < 65534, rule.name
        assert rule.inputs["logConfig"] == {"metadata": "INCLUDE_ALL_METADATA"}, rule.name


def test_vpc_private_services_access() -> None:
    """The PSA range is an internal VPC_PEERING GlobalAddress at the planned address and prefix,
    and the servicenetworking connection reserves it on this network."""
    captured = Captured()

    def program() -> None:
        net = VpcFabric("net", vpc_spec(), NET_PLAN, project=PROJECT)
        captured.keep("network", net.network_id)

    plan = plan_of(program)
    psa = inputs(plan, "net-psa-range")
    assert psa["purpose"] == "VPC_PEERING"
    assert psa["addressType"] == "INTERNAL"
    assert psa["address"] == str(NET_PLAN.psa.network_address)
    assert psa["prefixLength"] == NET_PLAN.psa.prefixlen
    assert psa["network"] == captured["network"]
    connection = by_name(plan, "net-psa")
    assert connection.inputs["service"] == "servicenetworking.googleapis.com"
    assert connection.inputs["reservedPeeringRanges"] == [psa["name"]]
    assert connection.inputs["network"] == captured["network"]
    assert by_name(plan, "net-psa-range").urn in connection.dependencies


def test_vpc_network_waits_for_apis() -> None:
    """The network depends on the APIs it is given (compute, servicenetworking)."""
    def program() -> None:
        apis = ProjectServices("apis", project=PROJECT)
        VpcFabric("net", vpc_spec(), NET_PLAN, project=PROJECT,
                  depends_on=apis.enabled("compute.googleapis.com"))

    plan = plan_of(program)
    assert by_name(plan, "apis-compute").urn in by_name(plan, "net-vpc").dependencies


# ---------------------------------------------------------------------------------------------
# GPUDirect networks

TCPX = (ExtraNetSpec(vpc="p-gpu0", subnet="p-gpu0", cidr="192.168.0.0/29", mtu=8244),
        ExtraNetSpec(vpc="p-gpu1", subnet="p-gpu1", cidr="192.168.0.8/29", mtu=8244))
RDMA = (ExtraNetSpec(vpc="r-gvnic0", subnet="r-gvnic0", cidr="192.168.1.0/29", mtu=8896),
        *(ExtraNetSpec(vpc="r-roce", subnet=f"r-gpu{i}", cidr=f"192.168.2.{8 * i}/29", mtu=8896,
                       roce_zone=f"{REGION}-b") for i in range(2)))


def one(plan: Plan, type_token: str, name: str) -> PlanResource:
    """The one resource of this type and name (a NIC network and its subnet share a name)."""
    (found,) = [r for r in of_type(plan, type_token) if r.name == name]
    return found


def test_gpudirect_networks_each_in_a_vpc_of_their_own() -> None:
    """A TCPX/TCPXO or gVNIC NIC network is a VPC with the given MTU, one subnet of the given
    range with flow logs, and a firewall rule admitting that range only; all children of the
    fabric, named `<name>-<vpc>`, `<name>-<subnet>`, `<name>-<vpc>-internal`."""
    plan = plan_of(lambda: VpcFabric("net", VpcSpec(network_name="aidc-test", region=REGION,
                                                    extra_networks=TCPX), NET_PLAN, project=PROJECT))
    for nic in TCPX:
        assert {(NETWORK, f"net-{nic.vpc}", "net"), (SUBNET, f"net-{nic.subnet}", "net"),
                (FIREWALL, f"net-{nic.vpc}-internal", "net")} <= contract(plan, "net")
        vpc = one(plan, NETWORK, f"net-{nic.vpc}")
        assert (vpc.inputs["name"], vpc.inputs["mtu"]) == (f"aidc-test-{nic.vpc}", 8244)
        assert "networkProfile" not in vpc.inputs
        subnet = one(plan, SUBNET, f"net-{nic.subnet}")
        assert subnet.inputs["ipCidrRange"] == nic.cidr
        assert subnet.inputs["logConfig"]["flowSampling"] == 0.5
        assert inputs(plan, f"net-{nic.vpc}-internal")["sourceRanges"] == [nic.cidr]


def test_rdma_subnets_share_one_roce_vpc_without_firewall() -> None:
    """RDMA subnets share one VPC with the zone's RoCE network profile, which takes no firewall
    rules and no flow logs; the gVNIC network beside it is an ordinary NIC network. The
    attachment pairs come back by subnet, in the given order."""
    seen: dict[str, Any] = {}

    def program() -> None:
        net = VpcFabric("net", VpcSpec(network_name="aidc-test", region=REGION,
                                       extra_networks=RDMA), NET_PLAN, project=PROJECT)
        seen["order"] = list(net.extra_subnets)
    plan = plan_of(program)
    assert seen["order"] == ["r-gvnic0", "r-gpu0", "r-gpu1"]
    assert one(plan, NETWORK, "net-r-roce").inputs["networkProfile"] == \
        f"projects/{PROJECT}/global/networkProfiles/{REGION}-b-vpc-roce"
    firewalls = {r.name for r in of_type(plan, FIREWALL)}
    assert "net-r-gvnic0-internal" in firewalls and "net-r-roce-internal" not in firewalls
    for i in range(2):
        subnet = one(plan, SUBNET, f"net-r-gpu{i}")
        assert subnet.inputs["network"].endswith("/networks/aidc-test-r-roce")
        assert "logConfig" not in subnet.inputs
