"""The platform composition: every layer built from one PlatformConfig, wired in order.

Two halves build it, each from the same components, in one stack (`Platform`, `stacks/`) or as
two layered stacks (`stacks/layers/foundation`, `stacks/layers/cluster`):

- `Foundation`: APIs, KMS, the VPC fabric (GPUDirect networks included), buckets, Filestore and
  dataset transfers: everything that needs no cluster.
- `ClusterLayer`: GKE, node pools, the GPUDirect objects in the cluster, tenancy (Kueue) and
  monitoring, wired to the foundation through a `FoundationWiring`: the same stack's
  components, or a `FoundationContract` read from the foundation stack.

Each half publishes its contract (`infra.layers.contracts`); the one-stack platform publishes
both. Users compose their own stacks the same way: construct the components they want with
specs derived from their config, and pass the outputs of one as the wiring of the next.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.cluster import ClusterSpec, GkeCluster
from components.filestore import FilestoreShare, FilestoreSpec
from components.gpu_pool import GpuNodePool, GpuPoolSpec
from components.gpudirect import GpuDirectNetworking, GpuDirectPool, GpuDirectSpec
from components.kms import PURPOSE_APIS, KmsKeys, KmsSpec
from components.network import PODS_RANGE, SERVICES_RANGE, ExtraNetSpec, VpcFabric, VpcSpec
from components.services import ProjectServices
from components.storage import BucketsSpec, DataBuckets
from components.tenancy.component import Tenancy, WebhookFirewallSpec
from components.tenancy.objects import LOCAL_QUEUE, FlavorSpec, TenancySpec
from components.monitoring.alerts import MonitoredResources
from components.monitoring.stack import MonitoringStack
from components.tpu_pool import TpuNodePool, TpuPoolSpec
from components.transfer import TRANSFER_AGENT_LOOKUP, DatasetTransfer
from infra.engine import provenance
from infra.engine.references import MissingReference
from infra.layers.contracts import ClusterContract, FoundationContract, publish
from infra.gcp import naming
from infra.config.encryption import KEY_PURPOSES
from infra.config.platform import PlatformConfig
from infra.config.storage import ACCESS_LOGS_PURPOSE
from infra.config.tenants import flavor_name, pool_capacities, pool_key
from infra.config.transfers import topic_name
from infra.gcp.netplan import NetworkPlan


@dataclass(frozen=True)
class FoundationWiring:
    """What the cluster half takes from the foundation half: Outputs of the same stack's
    components, or of a foundation contract read from the foundation stack. `key_grants` are
    the service agents' grants on each key, which what uses a key waits for when they are in
    the same stack (in another stack they exist before this one is applied)."""

    network_id: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    extra_subnets: Mapping[str, tuple[pulumi.Input[str], pulumi.Input[str]]]
    key_ids: Mapping[str, pulumi.Input[str]]
    bucket_names: Mapping[str, pulumi.Input[str]]
    key_grants: Mapping[str, Sequence[pulumi.Resource]] = field(default_factory=dict)

    def grants(self, *purposes: str) -> list[pulumi.Resource]:
        """What a resource encrypted with these purposes' keys waits for (none across stacks)."""
        return [g for p in purposes for g in self.key_grants.get(p, ())]

    @classmethod
    def from_contract(cls, cfg: PlatformConfig,
                      contract: pulumi.Output[FoundationContract]) -> FoundationWiring:
        """The wiring from a foundation stack's contract: its structure (NICs, key purposes,
        buckets) is this stack's config, each value the contract's, and a contract that
        disagrees with the config (another project, a NIC or bucket it lacks) is an error."""
        checked = contract.apply(lambda c: _matches(cfg, c))
        nics = [nic.name for nics in cfg.gpudirect_subnets().values() for nic in nics]
        return cls(
            network_id=checked.network_id, subnet_id=checked.subnet_id,
            extra_subnets={n: (checked.gpudirect_networks[n].network,
                               checked.gpudirect_networks[n].subnetwork) for n in nics},
            key_ids={p: checked.kms_keys[p] for p in KEY_PURPOSES},
            bucket_names={p: checked.buckets[p] for p in cfg.storage.buckets})


def _matches(cfg: PlatformConfig, contract: FoundationContract) -> FoundationContract:
    problems = [f"{name} is {got!r}, this stack's config says {want!r}" for name, got, want in (
        ("project", contract.project, cfg.project), ("region", contract.region, cfg.region))
        if got != want]
    nics = {nic.name for nics in cfg.gpudirect_subnets().values() for nic in nics}
    for what, want, have in (("GPUDirect network", nics, contract.gpudirect_networks),
                             ("KMS key", set(KEY_PURPOSES), contract.kms_keys),
                             ("bucket", set(cfg.storage.buckets), contract.buckets)):
        problems += [f"it publishes no {what} {name!r}" for name in sorted(want - set(have))]
    if problems:
        raise MissingReference("the foundation contract does not fit this stack's config "
                               f"(the two stack files drifted apart?): {'; '.join(problems)}")
    return contract


class Foundation:
    """The half with no cluster dependency: APIs, KMS, VPC fabric, buckets, Filestore and
    dataset transfers."""

    def __init__(self, cfg: PlatformConfig) -> None:
        self.cfg = cfg
        plan = cfg.network_plan()
        labels = cfg.resource_labels()
        prefix = cfg.name_prefix

        # Every component below (and each of its children) waits for the APIs it calls, which
        # are enabled on first need: derived from infra.catalog.apply_facts, never listed here.
        self.services = ProjectServices("apis", project=cfg.project, extra=cfg.apis)
        self.ordered = self.services.transformations
        self.kms = KmsKeys(
            "kms",
            KmsSpec(key_ring=naming.key_ring_id(cfg.encryption.key_ring, cfg.environment),
                    location=cfg.region, config=cfg.encryption,
                    classification=cfg.highest_classification, labels=labels),
            project=cfg.project,
            agents={p: self.services.agent(api) for p, api in PURPOSE_APIS.items()},
            opts=self.ordered,
        )
        self.network = VpcFabric(
            "net",
            VpcSpec(network_name=prefix, region=cfg.region, config=cfg.network,
                    extra_networks=gpudirect_networks(cfg, plan)),
            plan,
            project=cfg.project,
            opts=self.ordered,
        )
        self.buckets = self._buckets(cfg, labels)
        self.filestore = self._filestore(cfg, plan, labels)
        self.transfers = self._transfers(cfg, labels)

    def wiring(self) -> FoundationWiring:
        """This half's outputs as the cluster half of the same stack takes them."""
        return FoundationWiring(
            network_id=self.network.network_id, subnet_id=self.network.subnet.id,
            extra_subnets=self.network.extra_subnets, key_ids=self.kms.key_ids,
            bucket_names=self.buckets.names if self.buckets is not None else {},
            key_grants=self.kms.grants)

    def _buckets(self, cfg: PlatformConfig, labels: dict[str, str]) -> DataBuckets | None:
        storage = cfg.storage
        if not storage.buckets:
            return None
        return DataBuckets(
            "data",
            BucketsSpec(
                config=storage,
                region=cfg.region,
                bucket_names={p: naming.bucket_name(cfg.project, cfg.environment, p)
                              for p in storage.buckets},
                access_log_bucket=(naming.bucket_name(cfg.project, cfg.environment, ACCESS_LOGS_PURPOSE)
                                   if storage.usage_logged else None),
                protect=cfg.is_production,
                labels=labels,
            ),
            project=cfg.project,
            kms_key_id=self.kms.key_ids["storage"],
            key_grants=self.kms.grants["storage"],
            opts=self.ordered,
        )

    def _filestore(self, cfg: PlatformConfig, plan, labels: dict[str, str]) -> FilestoreShare | None:
        fs = cfg.storage.filestore
        if fs is None:
            return None
        return FilestoreShare(
            "share",
            FilestoreSpec(config=fs, instance_name=naming.filestore_instance_name(cfg.name_prefix, fs.name),
                          location=fs.location(cfg.region, cfg.zones),
                          export_ranges=(str(plan.subnet), str(plan.pods)), labels=labels),
            project=cfg.project,
            network=self.network.network.name,  # same-project VPC: Filestore takes its name
            reserved_ip_range=self.network.psa_range.name,
            kms_key_id=self.kms.key_ids["filestore"] if fs.cmek else None,
            depends_on=[self.network.psa_connection,
                        *(self.kms.grants["filestore"] if fs.cmek else [])],
            opts=self.ordered,
        )

    def _transfers(self, cfg: PlatformConfig, labels: dict[str, str]) -> dict[str, DatasetTransfer]:
        jobs = {}
        for job, spec in cfg.transfers.items():
            assert self.buckets is not None  # check_sinks guarantees the sink bucket exists
            jobs[job] = DatasetTransfer(
                f"transfer-{job}", spec, project=cfg.project,
                sink_bucket=self.buckets.buckets[spec.sink_bucket].name,
                grant_key=lambda n, m: self.kms.grant(n, "storage", m),
                topic_name=topic_name(cfg.name_prefix, job), labels=labels,
                depends_on=self.services.before_invoke(TRANSFER_AGENT_LOOKUP),
                opts=self.ordered)
        return jobs

    def note_config_sources(self) -> None:
        """The stack-file key each component was built from (`infra.engine.provenance`), so
        that reports point a reviewer at that line; a bucket at its own purpose's key."""
        note = provenance.config_source
        note(self.services, "aidc:apis")
        note(self.kms, "aidc:encryption")
        note(self.network, "aidc:network")
        if self.buckets is not None:
            note(self.buckets, "aidc:storage", "buckets")
            for purpose, bucket in self.buckets.buckets.items():
                note(bucket, "aidc:storage", "buckets", purpose)
        if self.filestore is not None:
            note(self.filestore, "aidc:storage", "filestore")
        for job, transfer in self.transfers.items():
            note(transfer, "aidc:transfers", job)

    def publish(self) -> None:
        """The foundation contract, and what else this half exports."""
        cfg = self.cfg
        publish(FoundationContract, {
            "project": cfg.project, "region": cfg.region,
            "network": self.network.network_self_link, "network_id": self.network.network_id,
            "network_name": self.network.network.name,
            "subnet": self.network.subnet_self_link, "subnet_id": self.network.subnet.id,
            "gpudirect_networks": {nic: {"network": vpc, "subnetwork": subnet}
                                   for nic, (vpc, subnet) in self.network.extra_subnets.items()},
            "kms_key_ring": self.kms.key_ring.id, "kms_keys": self.kms.key_ids,
            "buckets": self.buckets.names if self.buckets is not None else {},
        })
        if self.filestore is not None:
            pulumi.export("filestore_ips", self.filestore.ip_addresses)
        for job, transfer in self.transfers.items():
            # What the AWS role's trust policy names: the agent's subject id as
            # accounts.google.com:sub (and its e-mail, for logs and audits).
            # https://cloud.google.com/storage-transfer/docs/source-amazon-s3#federated_identity
            pulumi.export(f"transfer_{job}", {"agent_email": transfer.agent_email,
                                              "agent_subject_id": transfer.agent_subject_id,
                                              "job_name": transfer.job_name})


class ClusterLayer:
    """The half on the cluster: GKE, GPU and TPU pools, GPUDirect objects, tenancy and
    monitoring, on the foundation's network and keys (`base`). `services` enables the APIs
    this half calls: the foundation's, in one stack; a ProjectServices of its own, layered."""

    def __init__(self, cfg: PlatformConfig, base: FoundationWiring,
                 services: ProjectServices) -> None:
        self.cfg = cfg
        self.base = base
        self.services = services
        self.ordered = services.transformations
        labels = cfg.resource_labels()
        self.cluster = self._cluster(cfg, labels)
        self._k8s: k8s.Provider | None = None
        self.gpu_pools = self._gpu_pools(cfg, labels)
        self.gpudirect = self._gpudirect(cfg)
        self.tpu_pools = self._tpu_pools(cfg, labels)
        self.tenancy = self._tenancy(cfg)
        self.monitoring = self._monitoring(cfg, labels)

    def _cluster(self, cfg: PlatformConfig, labels: dict[str, str]) -> GkeCluster | None:
        if cfg.cluster is None:
            return None
        prefix = cfg.name_prefix
        cluster = GkeCluster(
            "gke",
            ClusterSpec(name=naming.cluster_name(prefix, cfg.cluster.name), region=cfg.region,
                        config=cfg.cluster,
                        node_sa_id=naming.service_account_id(prefix, "nodes"),
                        deletion_protection=cfg.is_production,
                        max_pods_per_node=cfg.network.max_pods_per_node,
                        multi_networking=any(p.uses_gpudirect for p in cfg.gpu_pools.values()),
                        managed_dcgm=cfg.gke_managed_dcgm,
                        labels=labels),
            project=cfg.project,
            network=self.base.network_id,
            subnetwork=self.base.subnet_id,
            pods_range=PODS_RANGE,
            services_range=SERVICES_RANGE,
            secrets_key_id=self.base.key_ids["gke"],
            disks_key_id=self.base.key_ids["disks"],
            depends_on=self.base.grants("gke", "disks"),
            opts=self.ordered,
        )
        return cluster

    def _gpu_pools(self, cfg: PlatformConfig, labels: dict[str, str]) -> dict[str, GpuNodePool]:
        assert self.cluster is not None or not cfg.gpu_pools
        pools = {}
        nic_subnets = cfg.gpudirect_subnets()
        for name, pool in cfg.gpu_pools.items():
            networks = [self.base.extra_subnets[nic.name] for nic in nic_subnets.get(name, ())]
            pools[name] = GpuNodePool(
                f"gpu-{name}",
                GpuPoolSpec(pool_name=name, location=cfg.region, zones=pool.zones or cfg.zones,
                            config=pool,
                            max_pods_per_node=pool.max_pods_per_node or cfg.network.max_pods_per_node,
                            labels=labels),
                project=cfg.project,
                cluster_id=self.cluster.cluster_id,
                node_service_account=self.cluster.node_sa_email,
                boot_disk_kms_key=self.base.key_ids["disks"],
                gpu_networks=networks,
                depends_on=self.base.grants("disks"),
                opts=self.ordered,
            )
        return pools

    def _gpudirect(self, cfg: PlatformConfig) -> GpuDirectNetworking | None:
        """The cluster half of GPUDirect: each extra node network's GKE objects, the NCCL
        plugin installers and the device injector (components.gpudirect)."""
        pools = {}
        for name, nics in cfg.gpudirect_subnets().items():
            gpu = cfg.gpu_pools[name].resolved()
            assert gpu.profile is not None  # nics imply a profile
            pools[name] = GpuDirectPool(profile=gpu.profile.name,
                                        accelerator_type=gpu.accelerator_type, nics=nics)
        if not pools or self.cluster is None:
            return None
        return GpuDirectNetworking(
            "gpudirect", GpuDirectSpec(pools=pools), networks=self.base.extra_subnets,
            k8s_provider=self._k8s_provider(), opts=self.ordered)

    def _k8s_provider(self) -> k8s.Provider:
        """The cluster's Kubernetes provider, built from its outputs: it reaches the control
        plane at its DNS endpoint (IAM-authorised, from anywhere Google APIs are reachable)
        unless the cluster turns that off, and authenticates through the GKE auth plugin."""
        assert self.cluster is not None
        if self._k8s is None:
            self._k8s = k8s.Provider("gke-k8s", kubeconfig=self.cluster.kubeconfig,
                                     opts=pulumi.ResourceOptions(parent=self.cluster))
        return self._k8s

    def _tpu_pools(self, cfg: PlatformConfig, labels: dict[str, str]) -> dict[str, TpuNodePool]:
        pools = {}
        for name, tpu in cfg.tpu_pools.items():
            pools[name] = TpuNodePool(
                f"tpu-{name}",
                TpuPoolSpec(pool_name=name, location=cfg.region, zone=tpu.zone or cfg.zones[0],
                            config=tpu, max_pods_per_node=cfg.network.max_pods_per_node,
                            labels=labels),
                project=cfg.project,
                cluster_id=self.cluster.cluster_id,
                node_service_account=self.cluster.node_sa_email,
                boot_disk_kms_key=self.base.key_ids["disks"],
                depends_on=self.base.grants("disks"),
                opts=self.ordered,
            )
        return pools

    def _tenancy(self, cfg: PlatformConfig) -> Tenancy | None:
        if not cfg.tenants:
            return None
        assert self.cluster is not None and cfg.cluster is not None  # _tenants_need_rbac_groups
        return Tenancy(
            "tenancy",
            TenancySpec(tenants=cfg.tenants, flavors=pool_flavors(cfg, self),
                        bucket_classifications={p: b.classification
                                                for p, b in cfg.storage.buckets.items()}),
            WebhookFirewallSpec(name=naming.webhook_firewall_name(cfg.name_prefix),
                                control_plane_cidr=str(cfg.cluster.master_ipv4_cidr)),
            project=cfg.project, k8s_provider=self._k8s_provider(),
            network=self.base.network_id, node_service_account=self.cluster.node_sa_email,
            buckets=dict(self.base.bucket_names),
            # The workload identity pool exists once the cluster does; the controllers need
            # the system pool's nodes to run on.
            workload_pool=[self.cluster.cluster],
            depends_on=[self.cluster.system_pool],
            opts=self.ordered)

    def _monitoring(self, cfg: PlatformConfig, labels: dict[str, str]) -> MonitoringStack | None:
        if cfg.monitoring is None:
            return None
        provider = self._k8s_provider() if self.cluster is not None else None
        return MonitoringStack(
            "monitoring", cfg.monitoring, monitored_resources(cfg, self.base.key_ids),
            project=cfg.project,
            name_prefix=cfg.name_prefix, k8s_provider=provider,
            gke_managed_dcgm=cfg.gke_managed_dcgm,  # what GkeCluster was told to enable
            labels=labels,
            opts=self.ordered)

    def note_config_sources(self) -> None:
        """The stack-file key each component was built from (`infra.engine.provenance`)."""
        note = provenance.config_source
        if self.cluster is not None:
            note(self.cluster, "aidc:cluster")
        for name, gpu in self.gpu_pools.items():
            note(gpu, "aidc:gpu_pools", name)
        for name, tpu in self.tpu_pools.items():
            note(tpu, "aidc:tpu_pools", name)
        if self.monitoring is not None:
            note(self.monitoring, "aidc:monitoring")

    def publish(self) -> None:
        """The cluster contract (with a cluster), each pool's workload contract, the tenants."""
        cfg = self.cfg
        if self.cluster is not None:
            publish(ClusterContract, {
                "cluster_id": self.cluster.cluster_id, "cluster": self.cluster.name,
                "cluster_location": cfg.region, "endpoint": self.cluster.endpoint,
                "dns_endpoint": self.cluster.dns_endpoint,
                "node_service_account": self.cluster.node_sa_email,
                "workload_pool": f"{cfg.project}.svc.id.goog",
                "kubeconfig": self.cluster.kubeconfig,
            })
        contracts = self.gpudirect.contracts if self.gpudirect is not None else {}
        for name, gpu in self.gpu_pools.items():
            pulumi.export(f"gpu_pool_{name}", {
                "node_selector": gpu.node_selector, "tolerations": gpu.tolerations,
                "resource_name": gpu.resource_name, "gpus_per_node": gpu.gpus_per_node,
                "max_gpus": gpu.max_gpus,
                # The workload contract of a GPUDirect pool: annotations, NCCL env, sidecar.
                **({"gpudirect": contracts[name]} if name in contracts else {})})
        for name, tpu in self.tpu_pools.items():
            pulumi.export(f"tpu_pool_{name}", {"chips_per_slice": tpu.chips_per_slice,
                                               "total_chips": tpu.total_chips,
                                               "node_selector": tpu.node_selector,
                                               "tolerations": tpu.tolerations})
        if self.tenancy is not None:
            pulumi.export("tenants", {team: {"namespace": ns, "local_queue": LOCAL_QUEUE,
                                             "service_account": self.tenancy.service_accounts[team]}
                                      for team, ns in self.tenancy.namespaces.items()})


class Platform:
    """The one-stack platform: both halves in one stack, wired directly, publishing both
    contracts. The components are attributes, for stacks that build on top of them."""

    def __init__(self, cfg: PlatformConfig) -> None:
        self.cfg = cfg
        self.foundation = Foundation(cfg)
        self.layer = ClusterLayer(cfg, self.foundation.wiring(), self.foundation.services)
        f, c = self.foundation, self.layer
        self.services, self.kms, self.network = f.services, f.kms, f.network
        self.buckets, self.filestore, self.transfers = f.buckets, f.filestore, f.transfers
        self.cluster, self.gpu_pools, self.gpudirect = c.cluster, c.gpu_pools, c.gpudirect
        self.tpu_pools, self.tenancy, self.monitoring = c.tpu_pools, c.tenancy, c.monitoring
        f.publish()
        c.publish()
        f.note_config_sources()
        c.note_config_sources()


def gpudirect_networks(cfg: PlatformConfig, plan: NetworkPlan) -> tuple[ExtraNetSpec, ...]:
    """One VPC per TCPX/TCPXO NIC or gVNIC network; one RoCE VPC holding all RDMA subnets."""
    out = []
    for name, nics in cfg.gpudirect_subnets().items():
        pool = cfg.gpu_pools[name]
        mtu = pool.resolved().profile.mtu  # type: ignore[union-attr]  # nics imply a profile
        zone = (pool.zones or cfg.zones)[0]
        out.extend(ExtraNetSpec(vpc=nic.vpc, subnet=nic.name, cidr=str(plan.extra_subnets[nic.name]),
                                mtu=mtu, roce_zone=zone if nic.kind == "rdma" else None)
                   for nic in nics)
    return tuple(out)


def monitored_resources(cfg: PlatformConfig, key_purposes: Iterable[str]) -> MonitoredResources:
    """What the stack's monitoring watches, by the cloud names its components are given (the
    same `infra.gcp.naming` functions), so every alert is known before anything is created."""
    fs = cfg.storage.filestore
    ring = naming.key_ring_id(cfg.encryption.key_ring, cfg.environment)
    return MonitoredResources(
        cluster=naming.cluster_name(cfg.name_prefix, cfg.cluster.name) if cfg.cluster else None,
        gpu_pools=tuple(cfg.gpu_pools), tpu_pools=tuple(cfg.tpu_pools),
        filestore_instance=naming.filestore_instance_name(cfg.name_prefix, fs.name) if fs else None,
        nat_name=naming.nat_name(cfg.name_prefix),
        kms_keys={p: naming.crypto_key_id(cfg.project, cfg.region, ring, p) for p in key_purposes})


def pool_flavors(cfg: PlatformConfig, platform: ClusterLayer) -> dict[str, FlavorSpec]:
    """Every accelerator pool as a Kueue flavour, by pool key: the pool component's scheduling
    contract (node selector, tolerations) and the pool's capacity at maximum size."""
    capacities = pool_capacities(cfg.gpu_pools, cfg.tpu_pools)
    contracts = [("gpu_pools", name, pool, cfg.gpu_pools[name].capacity)
                 for name, pool in platform.gpu_pools.items()]
    contracts += [("tpu_pools", name, pool, cfg.tpu_pools[name].capacity)
                  for name, pool in platform.tpu_pools.items()]
    return {pool_key(section, name): FlavorSpec(
                name=flavor_name(section, name), node_labels=pool.node_selector,
                tolerations=pool.tolerations, capacity=capacities[pool_key(section, name)],
                queued=capacity == "queued")
            for section, name, pool, capacity in contracts}
