"""GkeCluster: a regional, private, hardened GKE Standard cluster for accelerator pools."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from infra.config.compute import ClusterConfig
from infra.config.base import Spec
from infra.gcp.kubeconfig import gke_kubeconfig
from policies.protocol import CLASSIFICATION_LABEL

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
# GKE's least-privilege role for node service accounts (logging, monitoring, metadata).
# https://cloud.google.com/kubernetes-engine/docs/how-to/service-accounts#default-gke-service-agent
NODE_ROLES = ("roles/container.defaultNodeServiceAccount", "roles/artifactregistry.reader")
MONITORED_COMPONENTS = (
    "SYSTEM_COMPONENTS", "APISERVER", "SCHEDULER", "CONTROLLER_MANAGER", "STORAGE", "POD",
    "DEPLOYMENT", "STATEFULSET", "DAEMONSET", "HPA", "JOBSET", "DCGM",
)


class ClusterSpec(Spec):
    name: str
    region: str
    config: ClusterConfig
    node_sa_id: str
    workload_sa_id: str
    deletion_protection: bool
    multi_networking: bool = False
    labels: dict[str, str] = Field(default_factory=dict)


def node_config_defaults(*, service_account: pulumi.Input[str],
                         boot_disk_kms_key: pulumi.Input[str]) -> dict:
    """Settings every node of every pool shares (CIS GKE 5.2.1, 5.4.2, 5.5.5-5.5.7)."""
    return dict(
        service_account=service_account,
        oauth_scopes=[CLOUD_PLATFORM],  # access is governed by IAM on the SA, not scopes
        boot_disk_kms_key=boot_disk_kms_key,
        image_type="COS_CONTAINERD",
        metadata={"disable-legacy-endpoints": "true"},
    )


class GkeCluster(pulumi.ComponentResource):
    """The control plane and a small system pool; accelerator pools attach with `cluster_id`.

    - Private nodes, optional private endpoint, authorized networks only (no 0.0.0.0/0).
    - Workload Identity; nodes run as a dedicated least-privilege service account, workloads as
      another one bound to one Kubernetes service account.
    - Dataplane V2 (network policy enforcement), multi-networking when a pool needs extra NICs.
    - Secrets encrypted with the gke KMS key: the GKE agent's grant is ordered first.
    - Managed Prometheus and DCGM metrics, GCS FUSE and Filestore CSI drivers, image streaming.
    - The default node pool is removed; deletion protection in production.
    """

    cluster: gcp.container.Cluster
    node_service_account: gcp.serviceaccount.Account
    workload_service_account: gcp.serviceaccount.Account
    system_pool: gcp.container.NodePool
    cluster_id: pulumi.Output[str]
    name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
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
        child = pulumi.ResourceOptions(parent=self)
        self.node_service_account = gcp.serviceaccount.Account(
            f"{name}-nodes", account_id=spec.node_sa_id, project=project,
            display_name=f"GKE nodes of {spec.name}", opts=child)
        self.workload_service_account = gcp.serviceaccount.Account(
            f"{name}-workloads", account_id=spec.workload_sa_id, project=project,
            display_name=f"Workloads of {spec.name} (Workload Identity)", opts=child)
        node_member = self.node_service_account.email.apply(lambda e: f"serviceAccount:{e}")
        node_grants = [
            gcp.projects.IAMMember(f"{name}-nodes-{role.split('/')[-1].split('.')[-1]}",
                                   project=project, role=role, member=node_member, opts=child)
            for role in NODE_ROLES
        ]
        gcp.serviceaccount.IAMMember(
            f"{name}-workloads-wi",
            service_account_id=self.workload_service_account.name,
            role="roles/iam.workloadIdentityUser",
            member=f"serviceAccount:{project}.svc.id.goog[{cfg.workload_namespace}/{cfg.workload_ksa}]",
            opts=child,
        )
        defaults = node_config_defaults(service_account=self.node_service_account.email,
                                        boot_disk_kms_key=disks_key_id)
        maintenance = cfg.maintenance
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
            node_config=gcp.container.ClusterNodeConfigArgs(
                **defaults,
                shielded_instance_config=gcp.container.ClusterNodeConfigShieldedInstanceConfigArgs(
                    enable_secure_boot=True, enable_integrity_monitoring=True),
                workload_metadata_config=gcp.container.ClusterNodeConfigWorkloadMetadataConfigArgs(
                    mode="GKE_METADATA"),
            ),
            networking_mode="VPC_NATIVE",
            ip_allocation_policy=gcp.container.ClusterIpAllocationPolicyArgs(
                cluster_secondary_range_name=pods_range,
                services_secondary_range_name=services_range),
            datapath_provider="ADVANCED_DATAPATH",
            enable_multi_networking=spec.multi_networking or None,
            private_cluster_config=gcp.container.ClusterPrivateClusterConfigArgs(
                enable_private_nodes=True,
                enable_private_endpoint=cfg.private_endpoint,
                master_ipv4_cidr_block=str(cfg.master_ipv4_cidr),
                master_global_access_config=gcp.container.ClusterPrivateClusterConfigMasterGlobalAccessConfigArgs(
                    enabled=True),
            ),
            master_authorized_networks_config=gcp.container.ClusterMasterAuthorizedNetworksConfigArgs(
                cidr_blocks=[gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(
                    display_name=label, cidr_block=str(cidr))
                    for label, cidr in sorted(cfg.master_authorized_networks.items())],
                gcp_public_cidrs_access_enabled=False,
            ),
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
            maintenance_policy=gcp.container.ClusterMaintenancePolicyArgs(
                recurring_window=gcp.container.ClusterMaintenancePolicyRecurringWindowArgs(
                    start_time=maintenance.start_time, end_time=maintenance.end_time,
                    recurrence=maintenance.recurrence),
                maintenance_exclusions=[
                    gcp.container.ClusterMaintenancePolicyMaintenanceExclusionArgs(
                        exclusion_name=label, start_time=start, end_time=end,
                        exclusion_options=gcp.container.ClusterMaintenancePolicyMaintenanceExclusionExclusionOptionsArgs(
                            scope="NO_UPGRADES"))
                    for label, (start, end) in sorted(maintenance.exclusions.items())] or None,
            ),
            monitoring_config=gcp.container.ClusterMonitoringConfigArgs(
                enable_components=list(MONITORED_COMPONENTS),
                managed_prometheus=gcp.container.ClusterMonitoringConfigManagedPrometheusArgs(enabled=True),
            ),
            logging_config=gcp.container.ClusterLoggingConfigArgs(
                enable_components=["SYSTEM_COMPONENTS", "WORKLOADS"]),
            addons_config=gcp.container.ClusterAddonsConfigArgs(
                gcs_fuse_csi_driver_config=gcp.container.ClusterAddonsConfigGcsFuseCsiDriverConfigArgs(enabled=True),
                gcp_filestore_csi_driver_config=gcp.container.ClusterAddonsConfigGcpFilestoreCsiDriverConfigArgs(enabled=True),
                gce_persistent_disk_csi_driver_config=gcp.container.ClusterAddonsConfigGcePersistentDiskCsiDriverConfigArgs(enabled=True),
            ),
            node_pool_defaults=gcp.container.ClusterNodePoolDefaultsArgs(
                node_config_defaults=gcp.container.ClusterNodePoolDefaultsNodeConfigDefaultsArgs(
                    gcfs_config=gcp.container.ClusterNodePoolDefaultsNodeConfigDefaultsGcfsConfigArgs(
                        enabled=True))),
            security_posture_config=gcp.container.ClusterSecurityPostureConfigArgs(
                mode="BASIC", vulnerability_mode="VULNERABILITY_BASIC"),
            binary_authorization=gcp.container.ClusterBinaryAuthorizationArgs(
                evaluation_mode="PROJECT_SINGLETON_POLICY_ENFORCE") if cfg.binary_authorization else None,
            authenticator_groups_config=gcp.container.ClusterAuthenticatorGroupsConfigArgs(
                security_group=cfg.security_group) if cfg.security_group else None,
            resource_labels={**spec.labels, CLASSIFICATION_LABEL: cfg.classification},
            deletion_protection=spec.deletion_protection,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*depends_on, *node_grants],
                                        protect=spec.deletion_protection),
        )
        self.system_pool = gcp.container.NodePool(
            f"{name}-system",
            name="system",
            project=project,
            cluster=self.cluster.id,
            location=spec.region,
            autoscaling=gcp.container.NodePoolAutoscalingArgs(
                total_min_node_count=cfg.system_pool.min_nodes,
                total_max_node_count=cfg.system_pool.max_nodes,
                location_policy="BALANCED"),
            initial_node_count=1,
            management=gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
            upgrade_settings=gcp.container.NodePoolUpgradeSettingsArgs(
                strategy="SURGE", max_surge=1, max_unavailable=0),
            node_config=gcp.container.NodePoolNodeConfigArgs(
                **defaults,
                machine_type=cfg.system_pool.machine_type,
                disk_type="pd-balanced",
                disk_size_gb=100,
                shielded_instance_config=secure_boot(),
                workload_metadata_config=gke_metadata(),
                gcfs_config=gcp.container.NodePoolNodeConfigGcfsConfigArgs(enabled=True),
                gvnic=gcp.container.NodePoolNodeConfigGvnicArgs(enabled=True),
                labels={"aidc.dev/pool": "system"},
                resource_labels=spec.labels,
            ),
            opts=child,
        )
        self.cluster_id = self.cluster.id
        self.name = self.cluster.name
        self.endpoint = self.cluster.endpoint
        self.ca_certificate = self.cluster.master_auth.cluster_ca_certificate
        self.node_sa_email = self.node_service_account.email
        self.kubeconfig = pulumi.Output.all(self.cluster.name, self.endpoint, self.ca_certificate) \
            .apply(lambda a: gke_kubeconfig(f"gke_{project}_{spec.region}_{a[0]}", a[1], a[2]))
        self.register_outputs({
            "cluster_id": self.cluster_id, "endpoint": self.endpoint,
            "node_service_account": self.node_sa_email,
            "workload_service_account": self.workload_service_account.email,
        })


def secure_boot() -> gcp.container.NodePoolNodeConfigShieldedInstanceConfigArgs:
    """Secure boot and integrity monitoring (CIS GKE 5.5.6, 5.5.7); GKE's drivers are signed."""
    return gcp.container.NodePoolNodeConfigShieldedInstanceConfigArgs(
        enable_secure_boot=True, enable_integrity_monitoring=True)


def gke_metadata() -> gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs:
    """Pods see the GKE metadata server, never the node's credentials (CIS GKE 5.4.2)."""
    return gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs(mode="GKE_METADATA")
