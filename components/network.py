"""VpcFabric: the custom-mode VPC every other layer plugs into."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from infra.config.base import Spec
from infra.config.network import NetworkConfig
from infra.gcp import naming
from infra.gcp.netplan import NetworkPlan

# https://cloud.google.com/iap/docs/using-tcp-forwarding#create-firewall-rule
IAP_TCP_RANGE = "35.235.240.0/20"
# Google Cloud health checkers, which load balancers and GKE ingress need to reach nodes.
# https://cloud.google.com/load-balancing/docs/health-check-concepts#ip-ranges
HEALTH_CHECK_RANGES = ("35.191.0.0/16", "130.211.0.0/22")
PODS_RANGE = "pods"
SERVICES_RANGE = "services"


class ExtraNetSpec(Spec):
    """One GPUDirect NIC subnet, in a VPC of its own (TCPX/TCPXO, gVNIC) or in a shared RoCE VPC."""

    vpc: str = Field(description="The NIC's VPC cloud name.")
    subnet: str = Field(description="The NIC's subnet cloud name.")
    cidr: str = Field(description="The subnet's range, carved from network.gpu_supernet.")
    mtu: int = Field(description="The VPC's MTU: the GPUDirect profile's (infra.catalog.gpu).")
    roce_zone: str | None = Field(None, description="Zone of the RDMA network profile, if RoCE.")


class VpcSpec(Spec):
    """`network_name` is the fabric's cloud name (`<network.name>-<environment>`); `config` the
    stack's `aidc:network` section (flow log sampling, NAT logging, IAP SSH)."""

    network_name: str = Field(description="The VPC's cloud name.")
    region: str = Field(description="The region of its subnet, router and NAT.")
    config: NetworkConfig = Field(default_factory=NetworkConfig,
                                  description="The stack's `aidc:network` section.")
    extra_networks: tuple[ExtraNetSpec, ...] = Field(
        (), description="GPUDirect NIC networks; default none.")


def flow_logs(sampling: float) -> gcp.compute.SubnetworkLogConfigArgs:
    """VPC flow logs every 5 seconds with all metadata (CIS GCP 3.8)."""
    return gcp.compute.SubnetworkLogConfigArgs(
        aggregation_interval="INTERVAL_5_SEC", flow_sampling=sampling,
        metadata="INCLUDE_ALL_METADATA")


class VpcFabric(pulumi.ComponentResource):
    """Custom-mode VPC, one regional subnet with GKE's secondary ranges, Cloud NAT, a deny-by-
    default firewall baseline and private services access for Filestore.

    Nodes have no external IPs, so Cloud NAT is their only way out and Private Google Access
    their way to Google APIs; both are therefore always on.
    """

    network: gcp.compute.Network
    subnet: gcp.compute.Subnetwork
    psa_range: gcp.compute.GlobalAddress
    nat: gcp.compute.RouterNat
    psa_connection: gcp.servicenetworking.Connection
    network_id: pulumi.Output[str]
    network_self_link: pulumi.Output[str]
    subnet_self_link: pulumi.Output[str]
    extra_subnets: dict[str, tuple[pulumi.Output[str], pulumi.Output[str]]]

    def __init__(self, name: str, spec: VpcSpec, plan: NetworkPlan, *, project: str,
                 depends_on: Sequence[pulumi.Resource] = (),
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aidc:network:VpcFabric", name, None, opts)
        # Every child waits for `depends_on` (e.g. the Compute Engine API), the GPUDirect
        # networks included, not only the main VPC.
        child = pulumi.ResourceOptions(parent=self, depends_on=list(depends_on))
        self._child = child
        net = spec.network_name
        self.network = gcp.compute.Network(
            f"{name}-vpc", name=net, project=project, auto_create_subnetworks=False,
            routing_mode="REGIONAL", description="aidc VPC fabric", opts=child)
        self.subnet = gcp.compute.Subnetwork(
            f"{name}-subnet",
            name=f"{net}-{spec.region}",
            project=project,
            region=spec.region,
            network=self.network.id,
            ip_cidr_range=str(plan.subnet),
            private_ip_google_access=True,
            secondary_ip_ranges=[
                gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=PODS_RANGE,
                                                           ip_cidr_range=str(plan.pods)),
                gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=SERVICES_RANGE,
                                                           ip_cidr_range=str(plan.services)),
            ],
            log_config=flow_logs(spec.config.flow_logs_sampling),
            opts=child,
        )
        self.nat = self._nat(name, spec, project)
        self._firewalls(name, spec, plan, project, child)
        self.extra_subnets = self._extra_networks(name, spec, project)
        self.psa_range = gcp.compute.GlobalAddress(
            f"{name}-psa-range",
            name=f"{net}-psa",
            project=project,
            purpose="VPC_PEERING",
            address_type="INTERNAL",
            address=str(plan.psa.network_address),
            prefix_length=plan.psa.prefixlen,
            network=self.network.id,
            opts=child,
        )
        self.psa_connection = gcp.servicenetworking.Connection(
            f"{name}-psa",
            network=self.network.id,
            service="servicenetworking.googleapis.com",
            reserved_peering_ranges=[self.psa_range.name],
            # Deleting the peering fails while any producer (Filestore) still uses it; abandon it
            # on destroy instead of blocking the whole teardown.
            deletion_policy="ABANDON",
            opts=child,
        )
        self.network_id = self.network.id
        self.network_self_link = self.network.self_link
        self.subnet_self_link = self.subnet.self_link
        self.register_outputs({
            "network_id": self.network_id, "network_self_link": self.network_self_link,
            "subnet_self_link": self.subnet_self_link, "extra_subnets": self.extra_subnets,
        })

    def _nat(self, name: str, spec: VpcSpec, project: str) -> gcp.compute.RouterNat:
        """Cloud NAT for the subnet, the nodes' only way out, on a router of its own."""
        child = self._child
        router = gcp.compute.Router(
            f"{name}-router", name=f"{spec.network_name}-router", project=project,
            region=spec.region, network=self.network.id, opts=child)
        return gcp.compute.RouterNat(
            f"{name}-nat",
            name=naming.nat_name(spec.network_name),
            project=project,
            region=spec.region,
            router=router.name,
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
            subnetworks=[gcp.compute.RouterNatSubnetworkArgs(
                name=self.subnet.id, source_ip_ranges_to_nats=["ALL_IP_RANGES"])],
            # Training nodes open many connections (image pulls, datasets): allocate ports on
            # demand instead of a fixed 64 per VM, which is what exhausts NAT first.
            enable_dynamic_port_allocation=True,
            enable_endpoint_independent_mapping=False,
            min_ports_per_vm=64,
            max_ports_per_vm=16384,
            log_config=gcp.compute.RouterNatLogConfigArgs(
                enable=True, filter=spec.config.nat_log_filter),
            opts=child,
        )

    def _extra_networks(self, name: str, spec: VpcSpec,
                        project: str) -> dict[str, tuple[pulumi.Output[str], pulumi.Output[str]]]:
        """The GPUDirect VPCs: jumbo MTU, no internet route needed, internal traffic allowed.

        RoCE VPCs take Google's RDMA network profile of their zone and carry no firewall rules
        (the profile does not support them). https://cloud.google.com/vpc/docs/rdma-network-profiles
        """
        child = self._child
        networks: dict[str, gcp.compute.Network] = {}
        out: dict[str, tuple[pulumi.Output[str], pulumi.Output[str]]] = {}
        for extra in spec.extra_networks:
            vpc = networks.get(extra.vpc)
            if vpc is None:
                vpc = networks[extra.vpc] = gcp.compute.Network(
                    f"{name}-{extra.vpc}", name=naming.extra_network_name(spec.network_name, extra.vpc),
                    project=project,
                    auto_create_subnetworks=False, routing_mode="REGIONAL", mtu=extra.mtu,
                    network_profile=(f"projects/{project}/global/networkProfiles/{extra.roce_zone}-vpc-roce"
                                     if extra.roce_zone else None),
                    description="GPUDirect NIC network", opts=child)
                if not extra.roce_zone:
                    gcp.compute.Firewall(
                        f"{name}-{extra.vpc}-internal",
                        name=naming.extra_firewall_name(spec.network_name, extra.vpc),
                        project=project, network=vpc.id, direction="INGRESS", priority=1000,
                        allows=[gcp.compute.FirewallAllowArgs(protocol=p) for p in ("tcp", "udp", "icmp")],
                        source_ranges=[e.cidr for e in spec.extra_networks if e.vpc == extra.vpc],
                        log_config=gcp.compute.FirewallLogConfigArgs(metadata="INCLUDE_ALL_METADATA"),
                        description="GPU-to-GPU traffic between nodes", opts=child)
            subnet = gcp.compute.Subnetwork(
                f"{name}-{extra.subnet}",
                name=naming.extra_subnet_name(spec.network_name, extra.subnet), project=project,
                region=spec.region, network=vpc.id, ip_cidr_range=extra.cidr,
                private_ip_google_access=True,
                log_config=None if extra.roce_zone else flow_logs(spec.config.flow_logs_sampling),
                opts=child)
            out[extra.subnet] = (vpc.name, subnet.name)
        return out

    def _firewalls(self, name: str, spec: VpcSpec, plan: NetworkPlan, project: str,
                   child: pulumi.ResourceOptions) -> None:
        """The ingress baseline: deny everything at the lowest priority but one, then allow the
        fabric's own nodes and pods, Google's health checkers and, if asked, SSH through IAP."""
        net = spec.network_name
        logged = gcp.compute.FirewallLogConfigArgs(metadata="INCLUDE_ALL_METADATA")
        gcp.compute.Firewall(
            f"{name}-deny-ingress",
            name=f"{net}-deny-all-ingress",
            project=project,
            network=self.network.id,
            direction="INGRESS",
            priority=65534,
            denies=[gcp.compute.FirewallDenyArgs(protocol="all")],
            source_ranges=["0.0.0.0/0"],
            log_config=logged,
            description="Baseline: deny every ingress not allowed by a higher-priority rule",
            opts=child,
        )
        gcp.compute.Firewall(
            f"{name}-allow-internal",
            name=f"{net}-allow-internal",
            project=project,
            network=self.network.id,
            direction="INGRESS",
            priority=1000,
            allows=[gcp.compute.FirewallAllowArgs(protocol="tcp"),
                    gcp.compute.FirewallAllowArgs(protocol="udp"),
                    gcp.compute.FirewallAllowArgs(protocol="icmp")],
            source_ranges=[str(plan.subnet), str(plan.pods)],
            log_config=logged,
            description="Nodes and pods of this fabric talk to each other",
            opts=child,
        )
        gcp.compute.Firewall(
            f"{name}-allow-health-checks",
            name=f"{net}-allow-health-checks",
            project=project,
            network=self.network.id,
            direction="INGRESS",
            priority=1000,
            allows=[gcp.compute.FirewallAllowArgs(protocol="tcp")],
            source_ranges=list(HEALTH_CHECK_RANGES),
            log_config=logged,
            description="Google Cloud load balancer health checks",
            opts=child,
        )
        if spec.config.iap_ssh:
            gcp.compute.Firewall(
                f"{name}-allow-iap-ssh",
                name=f"{net}-allow-iap-ssh",
                project=project,
                network=self.network.id,
                direction="INGRESS",
                priority=1000,
                allows=[gcp.compute.FirewallAllowArgs(protocol="tcp", ports=["22"])],
                source_ranges=[IAP_TCP_RANGE],
                log_config=logged,
                description="SSH through Identity-Aware Proxy only",
                opts=child,
            )
