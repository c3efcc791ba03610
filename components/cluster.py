"""GkeCluster: a regional, private, hardened GKE Standard cluster for accelerator pools."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from components.node_config import NodeHardening, image_streaming
from infra.config.base import Spec
from infra.config.compute import SYSTEM_POOL, ClusterConfig, Maintenance
from infra.gcp.kubeconfig import gke_kubeconfig
from policies.protocol import CLASSIFICATION_LABEL

# GKE's least-privilege role for node service accounts (logging, monitoring, metadata).
# https://cloud.google.com/kubernetes-engine/docs/how-to/service-accounts#default-gke-service-agent
NODE_ROLES = ("roles/container.defaultNodeServiceAccount", "roles/artifactregistry.reader")
# GKE Standard's pods-per-node default when a cluster sets none: 110, a /24 of the pods range
# per node. https://cloud.google.com/kubernetes-engine/docs/how-to/flexible-pod-cidr
DEFAULT_MAX_PODS_PER_NODE = 110
# Workload vulnerability scanning is gone from GKE (standard tier shut down 2025-07-31, Advanced
# Vulnerability Insights deprecated 2025-06-16) and the API refuses to enable either; the
# posture's configuration audit (mode BASIC) stays. Scan images in Artifact Registry instead.
# https://cloud.google.com/kubernetes-engine/docs/deprecations/posture-management-deprecation
VULNERABILITY_MODE = "VULNERABILITY_DISABLED"
MONITORED_COMPONENTS = (
    "SYSTEM_COMPONENTS", "APISERVER", "SCHEDULER", "CONTROLLER_MANAGER", "STORAGE", "POD",
    "DEPLOYMENT", "STATEFULSET", "DAEMONSET", "HPA", "JOBSET", "DCGM",
)


class ClusterSpec(Spec):
    """The GKE cluster as the composition resolves it from the stack's `aidc:cluster`."""

    name: str = Field(description="The cluster's cloud name (infra.gcp.naming.cluster_name).")
    region: str = Field(description="The region of the regional cluster.")
    config: ClusterConfig = Field(description="The stack's `aidc:cluster` section.")
    node_sa_id: str = Field(description="Account id of the node service account it creates "
                                        "(never the default compute account).")
    deletion_protection: bool = Field(description="GKE's deletion protection, and Pulumi's "
                                                  "`protect`, on the cluster (on in prod).")
    max_pods_per_node: int = Field(
        DEFAULT_MAX_PODS_PER_NODE, ge=8, le=256,
        description="The cluster's default pods per node and the system pool's (the stack's "
                    "network.max_pods_per_node); GKE's own default is 110, a /24 per node.")
    multi_networking: bool = Field(False, description="GKE multi-networking, which GPUDirect "
                                                      "pools' extra NICs need.")
    managed_dcgm: bool = Field(
        True, description="GKE collects the GPUs' DCGM metrics (the DCGM monitoring component). "
                          "Off when the stack runs its own DCGM exporter (monitoring mode "
                          "self-managed): two DCGM clients on one GPU contend.")
    labels: dict[str, str] = Field(default_factory=dict,
                                   description="GCP labels on the cluster and its node pools.")


def private_cluster(cfg: ClusterConfig) -> gcp.container.ClusterPrivateClusterConfigArgs:
    """Nodes without external IPs; the endpoint private when asked, reachable across regions."""
    return gcp.container.ClusterPrivateClusterConfigArgs(
        enable_private_nodes=True,
        enable_private_endpoint=cfg.private_endpoint,
        master_ipv4_cidr_block=str(cfg.master_ipv4_cidr),
        master_global_access_config=gcp.container.ClusterPrivateClusterConfigMasterGlobalAccessConfigArgs(
            enabled=True),
    )


def endpoints(cfg: ClusterConfig) -> gcp.container.ClusterControlPlaneEndpointsConfigArgs:
    """GKE's DNS-based control-plane endpoint, when asked (the default): reachable from any
    network that reaches Google APIs and authorised by IAM (`container.clusters.connect`), so
    this program's Kubernetes objects are created without network access to the private IP
    endpoint. https://cloud.google.com/kubernetes-engine/docs/concepts/network-isolation"""
    return gcp.container.ClusterControlPlaneEndpointsConfigArgs(
        dns_endpoint_config=gcp.container.ClusterControlPlaneEndpointsConfigDnsEndpointConfigArgs(
            allow_external_traffic=cfg.dns_endpoint))


def authorized_networks(cfg: ClusterConfig) -> gcp.container.ClusterMasterAuthorizedNetworksConfigArgs:
    """Only the listed networks reach the control plane; Google's public ranges do not."""
    return gcp.container.ClusterMasterAuthorizedNetworksConfigArgs(
        cidr_blocks=[gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(
            display_name=label, cidr_block=str(cidr))
            for label, cidr in sorted(cfg.master_authorized_networks.items())],
        gcp_public_cidrs_access_enabled=False,
    )


def maintenance_policy(maintenance: Maintenance) -> gcp.container.ClusterMaintenancePolicyArgs:
    """The recurring window, and each named exclusion as a window without upgrades."""
    return gcp.container.ClusterMaintenancePolicyArgs(
        recurring_window=gcp.container.ClusterMaintenancePolicyRecurringWindowArgs(
            start_time=maintenance.start_time, end_time=maintenance.end_time,
            recurrence=maintenance.recurrence),
        maintenance_exclusions=[
            gcp.container.ClusterMaintenancePolicyMaintenanceExclusionArgs(
                exclusion_name=label, start_time=start, end_time=end,
                exclusion_options=gcp.container.ClusterMaintenancePolicyMaintenanceExclusionExclusionOptionsArgs(
                    scope="NO_UPGRADES"))
            for label, (start, end) in sorted(maintenance.exclusions.items())] or None,
    )


def observability(managed_dcgm: bool = True) -> tuple[gcp.container.ClusterMonitoringConfigArgs,
                                                     gcp.container.ClusterLoggingConfigArgs]:
    """Managed Prometheus with GKE's DCGM metrics (the monitoring alerts read them) unless the
    stack collects DCGM itself; system and workload logs."""
    return (gcp.container.ClusterMonitoringConfigArgs(
                enable_components=[c for c in MONITORED_COMPONENTS if managed_dcgm or c != "DCGM"],
                managed_prometheus=gcp.container.ClusterMonitoringConfigManagedPrometheusArgs(enabled=True)),
            gcp.container.ClusterLoggingConfigArgs(
                enable_components=["SYSTEM_COMPONENTS", "WORKLOADS"]))


def addons() -> gcp.container.ClusterAddonsConfigArgs:
    """The GCS FUSE and Filestore CSI drivers (datasets, the shared share) and persistent disks."""
    return gcp.container.ClusterAddonsConfigArgs(
        gcs_fuse_csi_driver_config=gcp.container.ClusterAddonsConfigGcsFuseCsiDriverConfigArgs(enabled=True),
        gcp_filestore_csi_driver_config=gcp.container.ClusterAddonsConfigGcpFilestoreCsiDriverConfigArgs(enabled=True),
        gce_persistent_disk_csi_driver_config=gcp.container.ClusterAddonsConfigGcePersistentDiskCsiDriverConfigArgs(enabled=True),
    )


class GkeCluster(pulumi.ComponentResource):
    """The control plane and a small system pool; accelerator pools attach with `cluster_id`.

    - Private nodes, optional private endpoint, authorized networks only (no 0.0.0.0/0), and
      the IAM-authorised DNS endpoint, which `kubeconfig` uses when it is on.
    - Workload Identity; nodes run as a dedicated least-privilege service account. Workloads
      get their identities per team from `components.tenancy` (aidc:tenants); any binding of a
      Kubernetes service account waits for the cluster (`bind_workload_identity`).
    - Every pool's pods per node explicit (`max_pods_per_node`), never GKE's 110 by default.
    - Dataplane V2 (network policy enforcement), multi-networking when a pool needs extra NICs.
    - Secrets encrypted with the gke KMS key: the GKE agent's grant is ordered first.
    - Managed Prometheus and DCGM metrics, GCS FUSE and Filestore CSI drivers, image streaming.
    - The default node pool is removed; deletion protection in production.
    """

    cluster: gcp.container.Cluster
    node_service_account: gcp.serviceaccount.Account
    system_pool: gcp.container.NodePool
    cluster_id: pulumi.Output[str]
    name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    dns_endpoint: pulumi.Output[str]
    ca_certificate: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    node_sa_email: pulumi.Output[str]

    def __init__(self, name: str, spec: ClusterSpec, *, project: str,
                 network: pulumi.Input[str], subnetwork: pulumi.Input[str],
                 pods_range: str, services_range: str,
                 secrets_key_id: pulumi.Input[str], disks_key_id: pulumi.Input[str],
                 depends_on: Sequence[pulumi.Resource] = (),
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aidc:cluster:GkeCluster", name, None, opts)
        cfg = spec.config
        node_grants = self._identities(name, spec, project)
        node = NodeHardening(self.node_service_account.email, disks_key_id)
        monitoring, logging = observability(spec.managed_dcgm)
        self.cluster = gcp.container.Cluster(
            f"{name}-cluster",
            name=spec.name,
            project=project,
            location=spec.region,
            network=network,
            subnetwork=subnetwork,
            min_master_version=cfg.min_master_version,
            release_channel=gcp.container.ClusterReleaseChannelArgs(channel=cfg.release_channel),
            remove_default_node_pool=True,
            initial_node_count=1,
            node_config=node.cluster_node_config(),
            node_pool_defaults=image_streaming(),
            networking_mode="VPC_NATIVE",
            default_max_pods_per_node=spec.max_pods_per_node,
            ip_allocation_policy=gcp.container.ClusterIpAllocationPolicyArgs(
                cluster_secondary_range_name=pods_range,
                services_secondary_range_name=services_range),
            datapath_provider="ADVANCED_DATAPATH",
            enable_multi_networking=spec.multi_networking or None,
            private_cluster_config=private_cluster(cfg),
            control_plane_endpoints_config=endpoints(cfg),
            master_authorized_networks_config=authorized_networks(cfg),
            master_auth=gcp.container.ClusterMasterAuthArgs(
                client_certificate_config=gcp.container.ClusterMasterAuthClientCertificateConfigArgs(
                    issue_client_certificate=False)),
            enable_legacy_abac=False,
            workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(
                workload_pool=f"{project}.svc.id.goog"),
            enable_shielded_nodes=True,
            enable_intranode_visibility=cfg.intranode_visibility,
            database_encryption=gcp.container.ClusterDatabaseEncryptionArgs(
                state="ENCRYPTED", key_name=secrets_key_id),
            maintenance_policy=maintenance_policy(cfg.maintenance),
            monitoring_config=monitoring,
            logging_config=logging,
            addons_config=addons(),
            security_posture_config=gcp.container.ClusterSecurityPostureConfigArgs(
                mode="BASIC", vulnerability_mode=VULNERABILITY_MODE),
            binary_authorization=gcp.container.ClusterBinaryAuthorizationArgs(
                evaluation_mode="PROJECT_SINGLETON_POLICY_ENFORCE") if cfg.binary_authorization else None,
            authenticator_groups_config=gcp.container.ClusterAuthenticatorGroupsConfigArgs(
                security_group=cfg.security_group) if cfg.security_group else None,
            resource_labels={**spec.labels, CLASSIFICATION_LABEL: cfg.classification},
            deletion_protection=spec.deletion_protection,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*depends_on, *node_grants],
                                        protect=spec.deletion_protection),
        )
        self.system_pool = self._system_pool(name, spec, project, node)
        self.cluster_id = self.cluster.id
        self.name = self.cluster.name
        self.endpoint = self.cluster.endpoint
        self.dns_endpoint = self.cluster.control_plane_endpoints_config.apply(
            lambda c: c.dns_endpoint_config.endpoint if c and c.dns_endpoint_config else "")
        self.ca_certificate = self.cluster.master_auth.cluster_ca_certificate
        self.node_sa_email = self.node_service_account.email
        self.kubeconfig = pulumi.Output.all(
            self.cluster.name, self.dns_endpoint if cfg.dns_endpoint else self.endpoint,
            self.ca_certificate,
        ).apply(lambda a: gke_kubeconfig(f"gke_{project}_{spec.region}_{a[0]}", a[1],
                                         None if cfg.dns_endpoint else a[2]))
        self.register_outputs({
            "cluster_id": self.cluster_id, "name": self.name, "endpoint": self.endpoint,
            "dns_endpoint": self.dns_endpoint, "ca_certificate": self.ca_certificate,
            "kubeconfig": self.kubeconfig, "node_sa_email": self.node_sa_email,
        })

    def _identities(self, name: str, spec: ClusterSpec, project: str) -> list[pulumi.Resource]:
        """The node service account and its least-privilege roles (returned: the cluster waits
        for them). Workload identities are the teams' (components.tenancy)."""
        child = pulumi.ResourceOptions(parent=self)
        self.node_service_account = gcp.serviceaccount.Account(
            f"{name}-nodes", account_id=spec.node_sa_id, project=project,
            display_name=f"GKE nodes of {spec.name}", opts=child)
        node_member = self.node_service_account.email.apply(lambda e: f"serviceAccount:{e}")
        return [gcp.projects.IAMMember(f"{name}-nodes-{role.split('/')[-1].split('.')[-1]}",
                                       project=project, role=role, member=node_member, opts=child)
                for role in NODE_ROLES]

    def workload_identity_member(self, project: str, namespace: str, ksa: str) -> str:
        """The IAM member of a Kubernetes service account under this cluster's Workload
        Identity pool (`PROJECT.svc.id.goog`)."""
        return f"serviceAccount:{project}.svc.id.goog[{namespace}/{ksa}]"

    def bind_workload_identity(self, resource_name: str, service_account_id: pulumi.Input[str],
                               member: str) -> gcp.serviceaccount.IAMMember:
        """Let one Kubernetes service account act as a Google service account. The binding
        waits for the cluster: the pool it names exists only once a Workload Identity cluster
        does, and before that the grant fails with "Identity Pool does not exist"
        (infra.check.apply_order checks every such grant)."""
        return gcp.serviceaccount.IAMMember(
            resource_name, service_account_id=service_account_id,
            role="roles/iam.workloadIdentityUser", member=member,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.cluster]))

    def _system_pool(self, name: str, spec: ClusterSpec, project: str,
                     node: NodeHardening) -> gcp.container.NodePool:
        """A small, always-on pool for system workloads, so accelerator pools can scale to 0."""
        pool = spec.config.system_pool
        return gcp.container.NodePool(
            f"{name}-system",
            name=SYSTEM_POOL,
            project=project,
            cluster=self.cluster.id,
            location=spec.region,
            autoscaling=gcp.container.NodePoolAutoscalingArgs(
                total_min_node_count=pool.min_nodes, total_max_node_count=pool.max_nodes,
                location_policy="BALANCED"),
            initial_node_count=1,
            max_pods_per_node=spec.max_pods_per_node,
            management=gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
            upgrade_settings=gcp.container.NodePoolUpgradeSettingsArgs(
                strategy="SURGE", max_surge=1, max_unavailable=0),
            node_config=node.pool_node_config(
                machine_type=pool.machine_type, disk_type="pd-balanced", disk_size_gb=100,
                gvnic=True, labels={"aidc.dev/pool": SYSTEM_POOL}, resource_labels=spec.labels),
            opts=pulumi.ResourceOptions(parent=self),
        )
