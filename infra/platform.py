"""The platform composition: every layer built from one PlatformConfig, wired in order.

Users compose their own stacks the same way: construct the components they want with specs
derived from their config, and pass the outputs of one as the wiring of the next.
"""

from __future__ import annotations

from collections.abc import Iterable

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
from infra.gcp import naming
from infra.config.platform import PlatformConfig
from infra.config.storage import ACCESS_LOGS_PURPOSE
from infra.config.tenants import flavor_name, pool_capacities, pool_key
from infra.config.transfers import topic_name
from infra.gcp.netplan import NetworkPlan


class Platform:
    """The components of one stack, as attributes, for stacks that build on top of them."""

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
        self.cluster = self._cluster(cfg, labels)
        self._k8s: k8s.Provider | None = None
        self.gpu_pools = self._gpu_pools(cfg, labels)
        self.gpudirect = self._gpudirect(cfg)
        self.tpu_pools = self._tpu_pools(cfg, labels)
        self.transfers = self._transfers(cfg, labels)
        self.tenancy = self._tenancy(cfg)
        self.monitoring = self._monitoring(cfg, labels)
        self._export()
        self._note_config_sources()

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
            network=self.network.network_id,
            subnetwork=self.network.subnet.id,
            pods_range=PODS_RANGE,
            services_range=SERVICES_RANGE,
            secrets_key_id=self.kms.key_ids["gke"],
            disks_key_id=self.kms.key_ids["disks"],
            depends_on=[*self.kms.grants["gke"], *self.kms.grants["disks"]],
            opts=self.ordered,
        )
        return cluster

    def _gpu_pools(self, cfg: PlatformConfig, labels: dict[str, str]) -> dict[str, GpuNodePool]:
        assert self.cluster is not None or not cfg.gpu_pools
        pools = {}
        nic_subnets = cfg.gpudirect_subnets()
        for name, pool in cfg.gpu_pools.items():
            networks = [self.network.extra_subnets[nic.name] for nic in nic_subnets.get(name, ())]
            pools[name] = GpuNodePool(
                f"gpu-{name}",
                GpuPoolSpec(pool_name=name, location=cfg.region, zones=pool.zones or cfg.zones,
                            config=pool,
                            max_pods_per_node=pool.max_pods_per_node or cfg.network.max_pods_per_node,
                            labels=labels),
                project=cfg.project,
                cluster_id=self.cluster.cluster_id,
                node_service_account=self.cluster.node_sa_email,
                boot_disk_kms_key=self.kms.key_ids["disks"],
                gpu_networks=networks,
                depends_on=self.kms.grants["disks"],
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
            "gpudirect", GpuDirectSpec(pools=pools), networks=self.network.extra_subnets,
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
                boot_disk_kms_key=self.kms.key_ids["disks"],
                depends_on=self.kms.grants["disks"],
                opts=self.ordered,
            )
        return pools

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
            network=self.network.network_id, node_service_account=self.cluster.node_sa_email,
            buckets=self.buckets.names if self.buckets is not None else {},
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
            "monitoring", cfg.monitoring, monitored_resources(cfg, self.kms.keys),
            project=cfg.project,
            name_prefix=cfg.name_prefix, k8s_provider=provider,
            gke_managed_dcgm=cfg.gke_managed_dcgm,  # what GkeCluster was told to enable
            labels=labels,
            opts=self.ordered)

    def _note_config_sources(self) -> None:
        """The stack-file key each component was built from, so that reports point a reviewer
        at that line (`infra.engine.provenance`); a bucket at its own purpose's key."""
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
        if self.cluster is not None:
            note(self.cluster, "aidc:cluster")
        for name, gpu in self.gpu_pools.items():
            note(gpu, "aidc:gpu_pools", name)
        for name, tpu in self.tpu_pools.items():
            note(tpu, "aidc:tpu_pools", name)
        for job, transfer in self.transfers.items():
            note(transfer, "aidc:transfers", job)
        if self.monitoring is not None:
            note(self.monitoring, "aidc:monitoring")

    def _export(self) -> None:
        pulumi.export("network", self.network.network_self_link)
        pulumi.export("subnet", self.network.subnet_self_link)
        pulumi.export("kms_keys", self.kms.key_ids)
        if self.buckets is not None:
            pulumi.export("buckets", self.buckets.names)
        if self.filestore is not None:
            pulumi.export("filestore_ips", self.filestore.ip_addresses)
        if self.cluster is not None:
            pulumi.export("cluster", self.cluster.name)
            pulumi.export("kubeconfig", self.cluster.kubeconfig)
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
        for job, transfer in self.transfers.items():
            # What the AWS role's trust policy names: the agent's subject id as
            # accounts.google.com:sub (and its e-mail, for logs and audits).
            # https://cloud.google.com/storage-transfer/docs/source-amazon-s3#federated_identity
            pulumi.export(f"transfer_{job}", {"agent_email": transfer.agent_email,
                                              "agent_subject_id": transfer.agent_subject_id,
                                              "job_name": transfer.job_name})
        if self.tenancy is not None:
            pulumi.export("tenants", {team: {"namespace": ns, "local_queue": LOCAL_QUEUE,
                                             "service_account": self.tenancy.service_accounts[team]}
                                      for team, ns in self.tenancy.namespaces.items()})


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


def pool_flavors(cfg: PlatformConfig, platform: Platform) -> dict[str, FlavorSpec]:
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
