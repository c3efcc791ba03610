"""Every policy's metadata, in one place.

One `PolicyMeta` record per policy: its id and name, what it checks, its severity and the
enforcement it gets when no stack says otherwise, how to fix a violation, the provider default it
assumes for an absent property, and the references it implements (CIS items with the benchmark
version, Checkov ids, Google policy-library templates, Pulumi compliance policies), so that a
security reviewer can trace each rule to its source.

Pure data, no pulumi-policy import: `infra.config.policy` reads the roster from here to validate
policy names in stack config, and the pack (`policies/pack.py`) turns each record into
pulumi-policy's own fields. Config properties are declared here as JSON schema with their
defaults; the engine fills the defaults in, and the rule functions fall back to them too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .protocol import (
    ALERT_POLICY, AUDIT_CONFIG, BUCKET, BUCKET_ACLS, BUCKET_IAM, CIS_PREFIX, CLASSIFICATIONS,
    CLUSTER, CRYPTO_KEY, DATA_IAM, DISK_TYPES, FILESTORE, FIREWALL, HIGH_LEVEL_IAM, HMAC_KEY,
    K8S_CLUSTER_ROLE, K8S_CLUSTER_ROLE_BINDING, K8S_CONFIG_MAP, K8S_ROLE, K8S_SECRET,
    K8S_SERVICE, KMS_IAM, NETWORK, NODE_POOL, NOTIFICATION_CHANNEL, POLICY_LIBRARY_PREFIX,
    PROJECT, PROJECT_IAM, PROJECT_METADATA, PROJECT_METADATA_ITEM, PULUMI_PREFIX, SA_IAM,
    SA_KEY, SEVERITIES, SUBNETWORK, TRANSFER_JOB, VM_TYPES, WORKLOAD_TYPES,
)

_CIS_BENCHMARKS = {
    "GCP": "CIS Google Cloud Platform Foundation Benchmark",
    "GKE": "CIS Google Kubernetes Engine (GKE) Benchmark",
}


@dataclass(frozen=True)
class Cis:
    """One CIS benchmark item, with the benchmark version it was taken from."""

    benchmark: str  # "GCP" (Foundations) or "GKE"
    version: str  # "2.0", "1.4", "1.5"
    item: str  # "5.2"

    @property
    def tag(self) -> str:
        return f"{CIS_PREFIX}{self.benchmark}-{self.version}:{self.item}"

    @property
    def framework_name(self) -> str:
        return _CIS_BENCHMARKS[self.benchmark]


@dataclass(frozen=True)
class PolicyMeta:
    """A policy's metadata record; the rule function lives in the module named by `concern`."""

    id: str
    name: str
    concern: str
    description: str
    severity: str
    resource_types: tuple[str, ...]
    remediation: str
    url: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    cis: tuple[Cis, ...] = ()
    checkov: tuple[str, ...] = ()
    policy_library: tuple[str, ...] = ()
    pulumi: tuple[str, ...] = ()
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    stack: bool = False
    enforcement: str = ""  # "" = the built-in default for the severity

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.id}: severity {self.severity!r} not in {SEVERITIES}")
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))

    @property
    def default_enforcement(self) -> str:
        """Mandatory for critical and high severity, advisory for the rest, unless pinned."""
        if self.enforcement:
            return self.enforcement
        return "mandatory" if self.severity in ("critical", "high") else "advisory"

    @property
    def references(self) -> tuple[str, ...]:
        return (
            tuple(c.tag for c in self.cis)
            + self.checkov
            + tuple(POLICY_LIBRARY_PREFIX + t for t in self.policy_library)
            + tuple(PULUMI_PREFIX + p for p in self.pulumi)
        )

    @property
    def tags(self) -> list[str]:
        """pulumi-policy tags: id, concern, severity, then every reference (see REFERENCE_PREFIXES)."""
        return [f"id:{self.id}", f"concern:{self.concern}", *self.references]

    def config_defaults(self) -> dict[str, Any]:
        return {k: v["default"] for k, v in self.config.items() if "default" in v}

    def default(self, path: str) -> Any:
        """The provider default this policy assumes when `path` is absent."""
        return self.defaults[path]


# --- shared config property schemas -------------------------------------------------------

def _classification(default: str, description: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(CLASSIFICATIONS), "default": default,
            "description": description}


def _strings(description: str, default: list[str] | None = None) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string"}, "default": list(default or []),
            "description": description}


CMEK_MIN = {"cmekMinClassification": _classification(
    "confidential", "Lowest data classification that requires a customer-managed key.")}
UNLABELLED = {"unlabelledClassification": _classification(
    "confidential", "Classification assumed for a resource without a data-classification label "
    "(unknown data is treated as sensitive).")}
MAX_ROTATION = {"maxRotationDays": {
    "type": "number", "minimum": 1, "default": 90,
    "description": "Longest allowed KMS key rotation period, in days (CIS GCP 1.10: 90)."}}
ALLOWED_PUBLIC_BUCKETS = {"allowedPublicBuckets": _strings(
    "Bucket names (or Pulumi logical names) that may be public: `public`-classified content only.")}
REQUIRE_CHANNELS = {"requireNotificationChannels": {
    "type": "boolean", "default": False,
    "description": "Require notification channels (set in prod)."}}
HOST_NAMESPACES = {"hostAccessNamespaces": _strings(
    "Namespaces whose workloads may run privileged or use host namespaces and paths "
    "(GPU device plugin, DCGM exporter, node agents).")}
WAIVERS_SCHEMA = {"waivers": {
    "type": "array",
    "default": [],
    "description": "Per-resource waivers: the resource's name or URN, and a mandatory reason.",
    "items": {
        "type": "object",
        "properties": {"resource": {"type": "string", "minLength": 1},
                       "reason": {"type": "string", "minLength": 1}},
        "required": ["resource", "reason"],
    },
}}

_K8S_PSS = "https://kubernetes.io/docs/concepts/security/pod-security-standards/"

# --- the roster -------------------------------------------------------------------------------

_RECORDS: tuple[PolicyMeta, ...] = (
    # ---- public access --------------------------------------------------------------------
    PolicyMeta(
        id="P1", name="no-public-members", concern="public_access", severity="critical",
        description="No allUsers / allAuthenticatedUsers IAM members on resources that hold data.",
        resource_types=(*DATA_IAM, *PROJECT_IAM),
        remediation="Remove the allUsers/allAuthenticatedUsers member and grant the role to the "
                    "groups or service accounts that need it. A bucket that must serve public "
                    "content is labelled data-classification=public and listed in "
                    "allowedPublicBuckets, and may then grant read roles only.",
        url="https://cloud.google.com/storage/docs/access-control/iam",
        defaults={"member": "(required by the provider)"},
        cis=(Cis("GCP", "2.0", "5.1"),),
        checkov=("CKV_GCP_28", "CKV_GCP_15", "CKV_GCP_98", "CKV_GCP_99", "CKV_GCP_100",
                 "CKV_GCP_101", "CKV_GCP_102", "CKV_GCP_107"),
        policy_library=("gcp_storage_bucket_world_readable_v1",),
        pulumi=("storage-bucket-no-public-read",),
        config={**ALLOWED_PUBLIC_BUCKETS},
    ),
    PolicyMeta(
        id="P2", name="bucket-public-access-prevention", concern="public_access",
        severity="critical",
        description="Buckets enforce public access prevention.",
        resource_types=(BUCKET,),
        remediation="Set public_access_prevention='enforced' on the bucket (aidc's storage "
                    "component does so by default).",
        url="https://cloud.google.com/storage/docs/public-access-prevention",
        defaults={"publicAccessPrevention": "inherited"},
        checkov=("CKV_GCP_114",),
        pulumi=("gcp-storage-bucket-enforce-public-access-prevention",),
        config={**ALLOWED_PUBLIC_BUCKETS},
    ),
    PolicyMeta(
        id="P3", name="bucket-uniform-access", concern="public_access", severity="high",
        description="Buckets use uniform bucket-level access (IAM only, no object ACLs).",
        resource_types=(BUCKET,),
        remediation="Set uniform_bucket_level_access=True on the bucket.",
        url="https://cloud.google.com/storage/docs/uniform-bucket-level-access",
        defaults={"uniformBucketLevelAccess": False},
        cis=(Cis("GCP", "2.0", "5.2"),),
        checkov=("CKV_GCP_29",),
        policy_library=("gcp_storage_bucket_policy_only_v1",),
    ),
    PolicyMeta(
        id="P4", name="bucket-acl-not-public", concern="public_access", severity="critical",
        description="Bucket and object ACLs grant nothing to allUsers / allAuthenticatedUsers.",
        resource_types=BUCKET_ACLS,
        remediation="Drop the public predefined ACL or the allUsers/allAuthenticatedUsers "
                    "entity; prefer uniform bucket-level access and IAM.",
        url="https://cloud.google.com/storage/docs/access-control/lists",
        defaults={"predefinedAcl": None, "roleEntities": []},
        cis=(Cis("GCP", "2.0", "5.1"),),
        pulumi=("storage-bucket-no-public-read",),
    ),
    PolicyMeta(
        id="P5", name="filestore-export-restricted", concern="public_access", severity="high",
        description="Filestore shares export only to allow-listed client ranges, with root "
                    "squash on read-write exports.",
        resource_types=(FILESTORE,),
        remediation="Add fileShares.nfsExportOptions with ipRanges limited to the GPU node "
                    "subnets and squashMode ROOT_SQUASH for READ_WRITE exports (use a separate "
                    "READ_ONLY or admin range for anything that needs root).",
        url="https://cloud.google.com/filestore/docs/ip-based-access-control",
        defaults={"fileShares.nfsExportOptions": "none: every client on the VPC may mount, "
                                                 "as root",
                  "nfsExportOptions[].accessMode": "READ_WRITE",
                  "nfsExportOptions[].squashMode": "NO_ROOT_SQUASH"},
        config={"allowedNfsRanges": _strings(
            "CIDRs that Filestore exports may be opened to; empty = any non-world range.")},
    ),
    PolicyMeta(
        id="P6", name="instance-no-external-ip", concern="public_access", severity="medium",
        description="VMs have no external IP address.",
        resource_types=VM_TYPES,
        remediation="Remove access_configs (and ipv6_access_configs) from the network "
                    "interfaces; reach the VM through IAP or Cloud NAT.",
        url="https://cloud.google.com/compute/docs/ip-addresses",
        defaults={"networkInterfaces[].accessConfigs": [],
                  "networkInterfaces[].ipv6AccessConfigs": []},
        cis=(Cis("GCP", "2.0", "4.9"),),
        checkov=("CKV_GCP_40",),
        policy_library=("gcp_compute_external_ip_address",),
    ),
    # ---- data classification ----------------------------------------------------------------
    PolicyMeta(
        id="D1", name="data-classification-label", concern="classification", severity="high",
        description="Data holders carry a valid data-classification label.",
        resource_types=(BUCKET, FILESTORE, CLUSTER, CRYPTO_KEY),
        remediation="Label the resource data-classification=<public|internal|confidential|"
                    "restricted> (Cluster: resource_labels); aidc components set it from the "
                    "spec's data_classification.",
        url="https://cloud.google.com/resource-manager/docs/labels-overview",
        defaults={"labels": {}, "resourceLabels": {}},
        checkov=("CKV_GCP_21",),
        policy_library=("gcp_enforce_labels_v1",),
        pulumi=("configureRecommendedLabels",),
    ),
    PolicyMeta(
        id="D2", name="cmek-required-by-classification", concern="encryption",
        severity="critical",
        description="Data classified at or above the threshold is encrypted with a "
                    "customer-managed key (CMEK).",
        resource_types=(BUCKET, FILESTORE, CLUSTER),
        remediation="Set the key: Bucket encryption.default_kms_key_name, Filestore "
                    "kms_key_name, Cluster database_encryption {state: ENCRYPTED, key_name}; "
                    "grant the service agent cryptoKeyEncrypterDecrypter first.",
        url="https://cloud.google.com/kms/docs/cmek",
        defaults={"encryption.defaultKmsKeyName": None, "kmsKeyName": None,
                  "databaseEncryption.state": "DECRYPTED"},
        cis=(Cis("GKE", "1.4", "5.3.1"),),
        checkov=("CKV_GCP_37", "CKV_GCP_38"),
        policy_library=("gcp_storage_cmek_encryption_v1",),
        config={**CMEK_MIN, **UNLABELLED},
    ),
    PolicyMeta(
        id="D3", name="restricted-versioning-or-retention", concern="classification",
        severity="high",
        description="Restricted buckets keep versions or a retention period.",
        resource_types=(BUCKET,),
        remediation="Enable versioning, or set a retention_policy (or soft_delete_policy) of at "
                    "least minRetentionDays.",
        url="https://cloud.google.com/storage/docs/object-versioning",
        defaults={"versioning.enabled": False, "retentionPolicy.retentionPeriod": None,
                  "softDeletePolicy.retentionDurationSeconds": 604800},
        checkov=("CKV_GCP_78",),
        policy_library=("gcp_storage_bucket_retention_v1",),
        config={**UNLABELLED, "minRetentionDays": {
            "type": "number", "minimum": 0, "default": 30,
            "description": "Shortest retention/soft-delete period that counts, in days."}},
    ),
    PolicyMeta(
        id="D4", name="restricted-bucket-key-rotation", concern="classification",
        severity="high", stack=True,
        description="Every restricted bucket's key is managed in the stack and rotates within "
                    "the configured maximum.",
        resource_types=(BUCKET, CRYPTO_KEY),
        remediation="Create the bucket's key in the same stack (aidc's kms component) with a "
                    "rotation_period of at most maxRotationDays.",
        url="https://cloud.google.com/kms/docs/key-rotation",
        defaults={"rotationPeriod": None, "encryption.defaultKmsKeyName": None},
        cis=(Cis("GCP", "2.0", "1.10"),),
        config={**UNLABELLED, **MAX_ROTATION},
    ),
    PolicyMeta(
        id="D5", name="no-node-pool-on-default-sa", concern="classification", severity="high",
        stack=True,
        description="No cluster or node pool in the stack runs its nodes as the default compute "
                    "service account.",
        resource_types=(CLUSTER, NODE_POOL),
        remediation="Give every node pool (and the cluster's default pool / auto-provisioning "
                    "defaults) a dedicated least-privilege service account.",
        url="https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster",
        defaults={"nodeConfig.serviceAccount": "default (the Compute Engine default SA)"},
        cis=(Cis("GKE", "1.4", "5.2.1"),),
    ),
    # ---- encryption -------------------------------------------------------------------------
    PolicyMeta(
        id="E2", name="kms-rotation-max", concern="encryption", severity="high",
        description="Symmetric KMS keys rotate automatically within the configured maximum.",
        resource_types=(CRYPTO_KEY,),
        remediation="Set rotation_period (e.g. '7776000s' = 90 days) on the key.",
        url="https://cloud.google.com/kms/docs/key-rotation",
        defaults={"purpose": "ENCRYPT_DECRYPT", "rotationPeriod": None},
        cis=(Cis("GCP", "2.0", "1.10"),),
        checkov=("CKV_GCP_43",),
        policy_library=("gcp_cmek_rotation_v1",),
        config={**MAX_ROTATION},
    ),
    PolicyMeta(
        id="E3", name="kms-not-public", concern="encryption", severity="critical",
        description="KMS keys and key rings grant nothing to allUsers / allAuthenticatedUsers.",
        resource_types=KMS_IAM,
        remediation="Remove the public member; grant encrypter/decrypter roles to the service "
                    "agents that need them.",
        url="https://cloud.google.com/kms/docs/iam",
        defaults={"member": "(required by the provider)"},
        cis=(Cis("GCP", "2.0", "1.9"),),
        checkov=("CKV_GCP_112", "CKV2_GCP_6", "CKV2_GCP_8"),
    ),
    PolicyMeta(
        id="E4", name="gke-node-boot-disk-cmek", concern="encryption", severity="medium",
        description="Node boot disks use a customer-managed key when the data requires CMEK.",
        resource_types=(CLUSTER, NODE_POOL),
        remediation="Set node_config.boot_disk_kms_key (and the auto-provisioning defaults' "
                    "boot_disk_kms_key); grant the Compute Engine service agent on the key.",
        url="https://cloud.google.com/kubernetes-engine/docs/how-to/using-cmek",
        defaults={"nodeConfig.bootDiskKmsKey": None,
                  "nodeConfig.resourceLabels": "{} (node pools are classified by their "
                                               "data-classification resource label)"},
        cis=(Cis("GKE", "1.4", "5.9.1"),),
        config={**CMEK_MIN, **UNLABELLED},
    ),
    PolicyMeta(
        id="E5", name="kms-key-protected", concern="encryption", severity="medium",
        description="KMS keys cannot be destroyed quickly: a long scheduled-destroy delay, and "
                    "Pulumi protect where required.",
        resource_types=(CRYPTO_KEY,),
        remediation="Keep destroy_scheduled_duration at or above minDestroyScheduledDays and set "
                    "protect=True on keys (prod).",
        url="https://cloud.google.com/kms/docs/destroy-restore",
        defaults={"destroyScheduledDuration": "2592000s", "protect": False},
        checkov=("CKV_GCP_82",),
        config={"minDestroyScheduledDays": {
                    "type": "number", "minimum": 1, "default": 30,
                    "description": "Shortest allowed scheduled-destroy delay, in days."},
                "requireProtect": {
                    "type": "boolean", "default": False,
                    "description": "Require the Pulumi protect option on keys (set in prod)."}},
    ),
    PolicyMeta(
        id="E6", name="kms-hsm-for-restricted", concern="encryption", severity="medium",
        description="Keys labelled restricted are HSM-backed.",
        resource_types=(CRYPTO_KEY,),
        remediation="Set version_template.protection_level='HSM' on keys for restricted data.",
        url="https://cloud.google.com/kms/docs/hsm",
        defaults={"versionTemplate.protectionLevel": "SOFTWARE"},
        policy_library=("gcp_cmek_settings_v1",),
        config={"requireHsmForRestricted": {
            "type": "boolean", "default": True,
            "description": "Require HSM (or external) protection for restricted keys."}},
    ),
    PolicyMeta(
        id="E7", name="disk-cmek", concern="encryption", severity="high",
        description="VM disks use a customer-managed (or customer-supplied) key when the data "
                    "requires it.",
        resource_types=(*DISK_TYPES, *VM_TYPES),
        remediation="Set disk_encryption_key.kms_key_self_link (Instance: boot_disk."
                    "kms_key_self_link; templates: disks[].disk_encryption_key).",
        url="https://cloud.google.com/compute/docs/disks/customer-managed-encryption",
        defaults={"diskEncryptionKey": None, "bootDisk.kmsKeySelfLink": None,
                  "labels": "{} (see unlabelledClassification)"},
        cis=(Cis("GCP", "2.0", "4.7"),),
        checkov=("CKV_GCP_37", "CKV_GCP_38"),
        config={**CMEK_MIN, **UNLABELLED},
    ),
    # ---- IAM --------------------------------------------------------------------------------
    PolicyMeta(
        id="I1", name="no-user-managed-sa-keys", concern="iam", severity="high",
        description="No user-managed service account keys or HMAC keys (long-lived credentials).",
        resource_types=(SA_KEY, HMAC_KEY),
        remediation="Use Workload Identity, workload identity federation or impersonation "
                    "instead of exported keys; if a key is unavoidable, allow-list the account.",
        url="https://cloud.google.com/iam/docs/best-practices-for-managing-service-account-keys",
        defaults={"publicKeyData": None},
        cis=(Cis("GCP", "2.0", "1.4"),),
        checkov=("CKV2_GCP_3",),
        policy_library=("gcp_iam_restrict_service_account_key_type_v1",),
        config={"allowedKeyAccounts": _strings(
            "Service account ids/e-mails allowed to have user-managed keys.")},
    ),
    PolicyMeta(
        id="I2", name="no-primitive-roles-for-sa", concern="iam", severity="high",
        description="Service accounts never get basic roles (owner, editor) on a project, "
                    "folder or organization.",
        resource_types=HIGH_LEVEL_IAM,
        remediation="Grant the predefined roles the workload needs instead of roles/owner or "
                    "roles/editor.",
        url="https://cloud.google.com/iam/docs/roles-overview#basic",
        defaults={},
        cis=(Cis("GCP", "2.0", "1.5"),),
        checkov=("CKV_GCP_42", "CKV_GCP_117"),
        policy_library=("gcp_iam_allow_ban_roles_v1",),
        config={"includeViewer": {"type": "boolean", "default": False,
                                  "description": "Also forbid roles/viewer."}},
    ),
    PolicyMeta(
        id="I3", name="no-sa-user-token-creator-at-project", concern="iam", severity="high",
        description="Service Account User / Token Creator are granted on a service account, "
                    "never project-wide.",
        resource_types=HIGH_LEVEL_IAM,
        remediation="Grant roles/iam.serviceAccountUser or serviceAccountTokenCreator on the one "
                    "service account (gcp.serviceaccount.IAMMember).",
        url="https://cloud.google.com/iam/docs/service-account-permissions",
        defaults={},
        cis=(Cis("GCP", "2.0", "1.6"),),
        checkov=("CKV_GCP_41",),
    ),
    PolicyMeta(
        id="I4", name="restricted-no-foreign-members", concern="iam", severity="high",
        stack=True,
        description="IAM on restricted buckets and keys names only members from the allowed "
                    "domains and projects.",
        resource_types=(*BUCKET_IAM, *KMS_IAM),
        remediation="Grant restricted data only to identities of the allowed domains/projects "
                    "(the resource's own project always counts); add a legitimate partner to "
                    "allowedMemberDomains/allowedProjects/allowedMembers.",
        url="https://cloud.google.com/resource-manager/docs/organization-policy/"
            "restricting-domains",
        defaults={"labels.data-classification": "see unlabelledClassification"},
        cis=(Cis("GCP", "2.0", "1.1"),),
        policy_library=("gcp_iam_allowed_policy_member_domains",),
        config={**UNLABELLED,
                "allowedMemberDomains": _strings("Domains of user/group/domain members."),
                "allowedProjects": _strings("Projects whose service accounts are allowed."),
                "allowedMembers": _strings("Exact members allowed (e.g. a principal:// id)."),
                "allowServiceAgents": {"type": "boolean", "default": True,
                                       "description": "Google service agents are allowed."}},
    ),
    PolicyMeta(
        id="I5", name="default-compute-sa-not-granted", concern="iam", severity="medium",
        description="The default compute service account gets no project roles.",
        resource_types=HIGH_LEVEL_IAM,
        remediation="Use a dedicated service account instead of "
                    "<number>-compute@developer.gserviceaccount.com.",
        url="https://cloud.google.com/compute/docs/access/service-accounts"
            "#default_service_account",
        defaults={},
        checkov=("CKV_GCP_46",),
    ),
    PolicyMeta(
        id="I6", name="no-sa-impersonation-roles", concern="iam", severity="medium",
        description="Service account impersonation roles go only to allow-listed members.",
        resource_types=(*PROJECT_IAM, *SA_IAM),
        remediation="Remove the impersonation grant or add the member to allowedImpersonators. "
                    "Workload Identity bindings (PROJECT.svc.id.goog[ns/ksa]) are always allowed "
                    "for roles/iam.workloadIdentityUser.",
        url="https://cloud.google.com/iam/docs/service-account-permissions",
        defaults={},
        checkov=("CKV_GCP_49",),
        config={"allowedImpersonators": _strings("Members that may impersonate accounts.")},
    ),
    PolicyMeta(
        id="I7", name="transfer-job-no-static-keys", concern="iam", severity="high",
        description="Storage transfer jobs use federated identity (roleArn), not static cloud "
                    "credentials.",
        resource_types=(TRANSFER_JOB,),
        remediation="Replace aws_access_key with role_arn (Storage Transfer's federated "
                    "identity), and Azure SAS tokens with federated_identity_config; rotate the "
                    "exposed key.",
        url="https://cloud.google.com/storage-transfer/docs/source-amazon-s3",
        defaults={"transferSpec.awsS3DataSource.awsAccessKey": None,
                  "transferSpec.awsS3DataSource.roleArn": None},
    ),
    # ---- network ----------------------------------------------------------------------------
    PolicyMeta(
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
    ),
    PolicyMeta(
        id="N2", name="no-world-all-ports", concern="network", severity="critical",
        description="No firewall rule opens all ports or all protocols to the internet.",
        resource_types=(FIREWALL,),
        remediation="Allow only the protocols and ports the service needs, from known ranges.",
        url="https://cloud.google.com/firewall/docs/firewalls",
        defaults={"direction": "INGRESS", "disabled": False,
                  "sourceRanges": ["0.0.0.0/0"], "allows[].ports": "all ports"},
        checkov=("CKV2_GCP_12",),
        policy_library=("restrict_fw_rules_world_open_tcp_udp_all_ports",),
    ),
    PolicyMeta(
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
            "description": "TCP/UDP ports that must never be open to the internet."}},
    ),
    PolicyMeta(
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
    ),
    PolicyMeta(
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
    ),
    PolicyMeta(
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
    ),
    PolicyMeta(
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
    ),
    PolicyMeta(
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
        config={"allowedLoadBalancerRanges": _strings(
            "CIDRs public load balancers may admit; empty = any non-world range.")},
    ),
    PolicyMeta(
        id="N10", name="subnet-private-google-access", concern="network", severity="low",
        description="Subnets with VMs reach Google APIs privately (Private Google Access).",
        resource_types=(SUBNETWORK,),
        remediation="Set private_ip_google_access=True on the subnetwork.",
        url="https://cloud.google.com/vpc/docs/configure-private-google-access",
        defaults={"privateIpGoogleAccess": False, "purpose": "PRIVATE"},
        checkov=("CKV_GCP_74",),
        policy_library=("gcp_network_enable_private_google_access_v1",),
    ),
    PolicyMeta(
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
    ),
    PolicyMeta(
        id="N12", name="instance-no-ip-forwarding", concern="network", severity="medium",
        description="VMs do not forward IP packets (no routing appliances by accident).",
        resource_types=VM_TYPES,
        remediation="Set can_ip_forward=False.",
        url="https://cloud.google.com/vpc/docs/using-routes",
        defaults={"canIpForward": False},
        cis=(Cis("GCP", "2.0", "4.6"),),
        checkov=("CKV_GCP_36",),
    ),
    # ---- GKE --------------------------------------------------------------------------------
    PolicyMeta(
        id="G1", name="node-sa-not-default", concern="gke", severity="high",
        description="GKE nodes run as a dedicated service account, not the default compute SA.",
        resource_types=(NODE_POOL, CLUSTER),
        remediation="Set node_config.service_account (and cluster_autoscaling."
                    "auto_provisioning_defaults.service_account) to a least-privilege account.",
        url="https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster",
        defaults={"nodeConfig.serviceAccount": "default",
                  "removeDefaultNodePool": False, "enableAutopilot": False},
        cis=(Cis("GKE", "1.4", "5.2.1"),),
        checkov=("CKV2_GCP_1",),
        policy_library=("gcp_gke_disable_default_service_account_v1",
                        "gcp_gke_allowed_node_sa_v1"),
    ),
    PolicyMeta(
        id="G2", name="workload-identity-and-scopes", concern="gke", severity="high",
        description="Workload Identity is on, nodes serve the GKE metadata server, and broad "
                    "OAuth scopes appear only with both.",
        resource_types=(CLUSTER, NODE_POOL),
        remediation="Set workload_identity_config.workload_pool='<project>.svc.id.goog' and "
                    "node_config.workload_metadata_config.mode='GKE_METADATA'.",
        url="https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity",
        defaults={"workloadIdentityConfig.workloadPool": None,
                  "nodeConfig.workloadMetadataConfig.mode": "inherits the cluster "
                                                            "(GKE_METADATA when WI is on)",
                  "nodeConfig.oauthScopes": "GKE default scopes (storage read-only, logging, "
                                            "monitoring, service control, trace): not broad"},
        cis=(Cis("GKE", "1.4", "5.2.2"), Cis("GKE", "1.5", "5.4.2")),
        checkov=("CKV_GCP_69",),
        policy_library=("gcp_gke_enable_workload_identity_v1",),
    ),
    PolicyMeta(
        id="G3", name="gke-no-legacy-auth", concern="gke", severity="high",
        description="Legacy ABAC and client-certificate authentication are off.",
        resource_types=(CLUSTER,),
        remediation="Set enable_legacy_abac=False and master_auth.client_certificate_config."
                    "issue_client_certificate=False.",
        url="https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster",
        defaults={"enableLegacyAbac": False,
                  "masterAuth.clientCertificateConfig.issueClientCertificate": False},
        cis=(Cis("GKE", "1.4", "5.8.1"), Cis("GKE", "1.4", "5.8.2"),
             Cis("GKE", "1.4", "5.8.4")),
        checkov=("CKV_GCP_7", "CKV_GCP_13"),
        policy_library=("gcp_gke_legacy_abac_v1", "gcp_gke_restrict_client_auth_methods_v1"),
    ),
    PolicyMeta(
        id="G4", name="gke-shielded-nodes", concern="gke", severity="medium",
        description="Shielded GKE nodes are enabled.",
        resource_types=(CLUSTER,),
        remediation="Leave enable_shielded_nodes unset or True.",
        url="https://cloud.google.com/kubernetes-engine/docs/how-to/shielded-gke-nodes",
        defaults={"enableShieldedNodes": True},
        cis=(Cis("GKE", "1.4", "5.5.5"),),
        checkov=("CKV_GCP_71",),
    ),
    PolicyMeta(
        id="G5", name="gke-secure-boot-integrity", concern="gke", severity="medium",
        description="GKE nodes boot with Secure Boot and integrity monitoring.",
        resource_types=(NODE_POOL, CLUSTER),
        remediation="Set node_config.shielded_instance_config {enable_secure_boot: True, "
                    "enable_integrity_monitoring: True}; waive a GPU pool whose drivers are not "
                    "signed.",
        url="https://cloud.google.com/kubernetes-engine/docs/how-to/shielded-gke-nodes",
        defaults={"nodeConfig.shieldedInstanceConfig.enableSecureBoot": False,
                  "nodeConfig.shieldedInstanceConfig.enableIntegrityMonitoring": True},
        cis=(Cis("GKE", "1.4", "5.5.6"), Cis("GKE", "1.4", "5.5.7")),
        checkov=("CKV_GCP_68", "CKV_GCP_72"),
    ),
    PolicyMeta(
        id="G6", name="gke-release-channel-autoupgrade", concern="gke", severity="low",
        description="Clusters follow a release channel; node pools auto-upgrade and "
                    "auto-repair.",
        resource_types=(CLUSTER, NODE_POOL),
        remediation="Set release_channel.channel (REGULAR or STABLE), drop pinned versions, and "
                    "keep management.auto_upgrade/auto_repair on.",
        url="https://cloud.google.com/kubernetes-engine/docs/concepts/release-channels",
        defaults={"releaseChannel.channel": "REGULAR (GKE enrols new clusters without a pinned "
                                            "version)",
                  "management.autoUpgrade": True, "management.autoRepair": True},
        cis=(Cis("GKE", "1.4", "5.5.2"), Cis("GKE", "1.4", "5.5.3"),
             Cis("GKE", "1.4", "5.5.4")),
        checkov=("CKV_GCP_70", "CKV_GCP_9", "CKV_GCP_10"),
    ),
    PolicyMeta(
        id="G7", name="gke-binary-authorization", concern="gke", severity="medium",
        description="Binary Authorization admits only images its policy allows.",
        resource_types=(CLUSTER,),
        remediation="Set binary_authorization.evaluation_mode=\"PROJECT_SINGLETON_POLICY_ENFORCE\""
                    " and keep a project policy requiring attestations.",
        url="https://cloud.google.com/binary-authorization/docs/setting-up",
        defaults={"binaryAuthorization.evaluationMode": "DISABLED"},
        cis=(Cis("GKE", "1.4", "5.10.5"),),
        checkov=("CKV_GCP_66",),
        policy_library=("gcp_gke_enable_binauthz_v1",),
    ),
    PolicyMeta(
        id="G8", name="gke-no-alpha", concern="gke", severity="medium",
        description="Clusters are not alpha clusters (no SLA, no upgrades, deleted in 30 days).",
        resource_types=(CLUSTER,),
        remediation="Drop enable_kubernetes_alpha; use beta APIs or a separate test cluster.",
        url="https://cloud.google.com/kubernetes-engine/docs/concepts/alpha-clusters",
        defaults={"enableKubernetesAlpha": False},
        checkov=("CKV2_GCP_19",),
    ),
    PolicyMeta(
        id="G9", name="gke-cos-containerd", concern="gke", severity="low",
        description="Nodes run Container-Optimized OS with containerd.",
        resource_types=(CLUSTER, NODE_POOL),
        remediation="Set node_config.image_type=\"COS_CONTAINERD\" (or leave it unset).",
        url="https://cloud.google.com/kubernetes-engine/docs/concepts/node-images",
        defaults={"nodeConfig.imageType": "COS_CONTAINERD"},
        cis=(Cis("GKE", "1.4", "5.5.1"),),
        checkov=("CKV_GCP_22",),
        policy_library=("gcp_gke_container_optimized_os",),
    ),
    PolicyMeta(
        id="G10", name="gke-security-posture", concern="gke", severity="low",
        description="The GKE security posture dashboard and vulnerability scanning are not "
                    "disabled.",
        resource_types=(CLUSTER,),
        remediation="Set security_posture_config {mode: \"BASIC\", vulnerability_mode: "
                    "\"VULNERABILITY_BASIC\"} (or ENTERPRISE).",
        url="https://cloud.google.com/kubernetes-engine/docs/concepts/about-security-posture-"
            "dashboard",
        defaults={"securityPostureConfig.mode": "GKE's default (BASIC)",
                  "securityPostureConfig.vulnerabilityMode": "GKE's default"},
    ),
    PolicyMeta(
        id="I10", name="gke-rbac-google-groups", concern="gke", severity="medium",
        description="Clusters use Google Groups for RBAC (gke-security-groups@<domain>).",
        resource_types=(CLUSTER,),
        remediation="Set authenticator_groups_config.security_group to "
                    "gke-security-groups@<your domain> and bind roles to its member groups.",
        url="https://cloud.google.com/kubernetes-engine/docs/how-to/google-groups-rbac",
        defaults={"authenticatorGroupsConfig.securityGroup": None},
        cis=(Cis("GKE", "1.4", "5.8.3"),),
        checkov=("CKV_GCP_65",),
    ),
    # ---- compute ----------------------------------------------------------------------------
    PolicyMeta(
        id="C1", name="instance-shielded-vm", concern="compute", severity="medium",
        description="VMs are Shielded VMs: Secure Boot, vTPM and integrity monitoring.",
        resource_types=VM_TYPES,
        remediation="Set shielded_instance_config {enable_secure_boot: True, enable_vtpm: True, "
                    "enable_integrity_monitoring: True} and use a Shielded VM image.",
        url="https://cloud.google.com/compute/shielded-vm/docs/shielded-vm",
        defaults={"shieldedInstanceConfig.enableSecureBoot": False,
                  "shieldedInstanceConfig.enableVtpm": True,
                  "shieldedInstanceConfig.enableIntegrityMonitoring": True},
        cis=(Cis("GCP", "2.0", "4.8"),),
        checkov=("CKV_GCP_39",),
    ),
    PolicyMeta(
        id="C2", name="instance-os-login", concern="compute", severity="medium",
        description="OS Login is on: project metadata enables it and no VM turns it off.",
        resource_types=(*VM_TYPES, PROJECT_METADATA, PROJECT_METADATA_ITEM),
        remediation="Set metadata enable-oslogin=TRUE on the project; remove enable-oslogin="
                    "FALSE from VMs.",
        url="https://cloud.google.com/compute/docs/oslogin",
        defaults={"metadata.enable-oslogin": "VM: inherits the project; ProjectMetadata "
                                             "(authoritative): off"},
        cis=(Cis("GCP", "2.0", "4.4"),),
        checkov=("CKV_GCP_34", "CKV_GCP_33"),
    ),
    PolicyMeta(
        id="C3", name="instance-block-project-ssh-keys", concern="compute", severity="medium",
        description="VMs block project-wide SSH keys.",
        resource_types=VM_TYPES,
        remediation="Set metadata block-project-ssh-keys=TRUE (or rely on OS Login).",
        url="https://cloud.google.com/compute/docs/connect/restrict-ssh-keys",
        defaults={"metadata.block-project-ssh-keys": False},
        cis=(Cis("GCP", "2.0", "4.3"),),
        checkov=("CKV_GCP_32",),
    ),
    PolicyMeta(
        id="C4", name="instance-no-serial-port", concern="compute", severity="medium",
        description="Interactive serial console access is off (VMs and project metadata).",
        resource_types=(*VM_TYPES, PROJECT_METADATA, PROJECT_METADATA_ITEM),
        remediation="Remove metadata serial-port-enable (or set it to FALSE).",
        url="https://cloud.google.com/compute/docs/troubleshooting/"
            "troubleshooting-using-serial-console",
        defaults={"metadata.serial-port-enable": False},
        cis=(Cis("GCP", "2.0", "4.5"),),
        checkov=("CKV_GCP_35",),
    ),
    PolicyMeta(
        id="C5", name="instance-no-default-sa", concern="compute", severity="high",
        description="VMs do not run as the default compute service account.",
        resource_types=VM_TYPES,
        remediation="Set service_account.email to a dedicated least-privilege account.",
        url="https://cloud.google.com/compute/docs/access/service-accounts",
        defaults={"serviceAccount": None,
                  "serviceAccount.email": "the default compute service account"},
        cis=(Cis("GCP", "2.0", "4.1"), Cis("GCP", "2.0", "4.2")),
        checkov=("CKV_GCP_30", "CKV_GCP_31"),
    ),
    # ---- kubernetes workloads ----------------------------------------------------------------
    PolicyMeta(
        id="K1", name="k8s-no-privileged-host-access", concern="kubernetes", severity="high",
        description="Workloads are not privileged and use no host namespaces or host paths "
                    "outside the allow lists.",
        resource_types=WORKLOAD_TYPES,
        remediation="Drop privileged / hostNetwork / hostPID / hostIPC and hostPath volumes; "
                    "node agents that need them go in a namespace listed in "
                    "hostAccessNamespaces, host paths in allowedHostPaths.",
        url=_K8S_PSS,
        defaults={"securityContext.privileged": False, "hostNetwork": False, "hostPID": False,
                  "hostIPC": False, "metadata.namespace": "default"},
        cis=(Cis("GKE", "1.5", "4.2.1"),),
        checkov=("CKV_K8S_16", "CKV_K8S_17", "CKV_K8S_18", "CKV_K8S_19", "CKV_K8S_27"),
        config={**HOST_NAMESPACES, "allowedHostPaths": _strings(
            "hostPath patterns (fnmatch) allowed anywhere, e.g. /dev/nvidia*.")},
    ),
    PolicyMeta(
        id="K2", name="k8s-gpu-limits", concern="kubernetes", severity="medium",
        description="Pods that target GPU/TPU nodes set accelerator, CPU and memory limits.",
        resource_types=WORKLOAD_TYPES,
        remediation="Set resources.limits (nvidia.com/gpu or google.com/tpu, cpu, memory) on "
                    "every container of an accelerator pod.",
        url="https://cloud.google.com/kubernetes-engine/docs/how-to/gpus",
        defaults={"resources.limits": {}},
        checkov=("CKV_K8S_11", "CKV_K8S_13"),
    ),
    PolicyMeta(
        id="K3", name="k8s-no-default-sa", concern="kubernetes", severity="medium",
        description="Workloads run as a dedicated Kubernetes service account, not 'default'.",
        resource_types=WORKLOAD_TYPES,
        remediation="Create a ServiceAccount per workload and set serviceAccountName; set "
                    "automountServiceAccountToken=false where the API is not used.",
        url="https://kubernetes.io/docs/tasks/configure-pod-container/"
            "configure-service-account/",
        defaults={"serviceAccountName": "default", "automountServiceAccountToken": True},
        cis=(Cis("GKE", "1.5", "4.1.5"), Cis("GKE", "1.5", "4.1.6")),
        checkov=("CKV_K8S_38", "CKV_K8S_41"),
    ),
    PolicyMeta(
        id="K4", name="k8s-no-privilege-escalation", concern="kubernetes", severity="medium",
        description="Containers run as non-root without privilege escalation.",
        resource_types=WORKLOAD_TYPES,
        remediation="Set securityContext.allowPrivilegeEscalation=false and runAsNonRoot=true "
                    "(pod or container).",
        url=_K8S_PSS,
        defaults={"securityContext.allowPrivilegeEscalation": True,
                  "securityContext.runAsNonRoot": False},
        cis=(Cis("GKE", "1.5", "4.2.1"),),
        checkov=("CKV_K8S_20", "CKV_K8S_23"),
        config={**HOST_NAMESPACES},
    ),
    PolicyMeta(
        id="K5", name="k8s-capabilities", concern="kubernetes", severity="medium",
        description="Containers add no dangerous capabilities and drop NET_RAW.",
        resource_types=WORKLOAD_TYPES,
        remediation="Remove SYS_ADMIN/NET_ADMIN/ALL from capabilities.add; set "
                    "capabilities.drop: [ALL] (or at least NET_RAW).",
        url=_K8S_PSS,
        defaults={"securityContext.capabilities.add": [],
                  "securityContext.capabilities.drop": []},
        cis=(Cis("GKE", "1.5", "4.2.1"),),
        checkov=("CKV_K8S_25", "CKV_K8S_28", "CKV_K8S_39"),
        config={**HOST_NAMESPACES, "forbiddenCapabilities": _strings(
            "Capabilities a container may not add.", ["ALL", "NET_ADMIN", "SYS_ADMIN"])},
    ),
    PolicyMeta(
        id="K6", name="k8s-seccomp-runtime-default", concern="kubernetes", severity="medium",
        description="Containers run under the RuntimeDefault (or a Localhost) seccomp profile.",
        resource_types=WORKLOAD_TYPES,
        remediation="Set securityContext.seccompProfile.type: RuntimeDefault on the pod (or on "
                    "every container).",
        url="https://kubernetes.io/docs/tutorials/security/seccomp/",
        defaults={"securityContext.seccompProfile.type": "Unconfined (GKE Standard)"},
        cis=(Cis("GKE", "1.5", "4.6.2"),),
        checkov=("CKV_K8S_31",),
    ),
    PolicyMeta(
        id="K7", name="k8s-no-default-namespace", concern="kubernetes", severity="low",
        description="Workloads, services, config maps and secrets live in a namespace of their "
                    "own, not 'default'.",
        resource_types=(*WORKLOAD_TYPES, K8S_SERVICE, K8S_CONFIG_MAP, K8S_SECRET),
        remediation="Set metadata.namespace to the team's or workload's namespace.",
        url="https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/",
        defaults={"metadata.namespace": "the provider's default namespace ('default')"},
        cis=(Cis("GKE", "1.5", "4.6.4"),),
        checkov=("CKV_K8S_21",),
    ),
    PolicyMeta(
        id="K8", name="k8s-image-pinned", concern="kubernetes", severity="medium",
        description="Container images are pinned: a tag other than 'latest', or a digest where "
                    "required.",
        resource_types=WORKLOAD_TYPES,
        remediation="Reference images by @sha256: digest (or at least an immutable version tag).",
        url="https://cloud.google.com/kubernetes-engine/docs/concepts/about-container-images",
        defaults={"containers[].image tag": "latest"},
        checkov=("CKV_K8S_14", "CKV_K8S_43"),
        config={"requireImageDigest": {"type": "boolean", "default": False,
                                       "description": "Only @sha256: digests pass (prod)."}},
    ),
    PolicyMeta(
        id="K9", name="k8s-read-only-root-fs", concern="kubernetes", severity="low",
        description="Containers mount their root filesystem read-only (scratch space as "
                    "emptyDir volumes).",
        resource_types=WORKLOAD_TYPES,
        remediation="Set securityContext.readOnlyRootFilesystem=true and mount emptyDir volumes "
                    "where the job writes.",
        url=_K8S_PSS,
        defaults={"securityContext.readOnlyRootFilesystem": False},
        checkov=("CKV_K8S_22",),
        pulumi=("kubernetes-apps-v1-deployment-enable-read-only-root-filesystem",),
    ),
    PolicyMeta(
        id="K10", name="k8s-secrets-not-in-env", concern="kubernetes", severity="medium",
        description="Secrets are mounted as files, not passed in environment variables.",
        resource_types=WORKLOAD_TYPES,
        remediation="Replace env[].valueFrom.secretKeyRef and envFrom[].secretRef with a secret "
                    "volume (or the Secret Manager CSI driver).",
        url="https://kubernetes.io/docs/concepts/configuration/secret/",
        defaults={"env": [], "envFrom": []},
        cis=(Cis("GKE", "1.5", "4.4.1"),),
        checkov=("CKV_K8S_35",),
    ),
    PolicyMeta(
        id="K11", name="k8s-no-host-port", concern="kubernetes", severity="medium",
        description="Containers bind no host ports outside the allow-listed namespaces.",
        resource_types=WORKLOAD_TYPES,
        remediation="Drop ports[].hostPort and expose the pod through a Service.",
        url=_K8S_PSS,
        defaults={"ports[].hostPort": None},
        cis=(Cis("GKE", "1.5", "4.2.1"),),
        checkov=("CKV_K8S_26",),
        config={**HOST_NAMESPACES},
    ),
    PolicyMeta(
        id="D6", name="k8s-recommended-labels", concern="kubernetes", severity="low",
        description="Workloads and services carry the recommended app.kubernetes.io labels.",
        resource_types=(*WORKLOAD_TYPES, K8S_SERVICE),
        remediation="Label metadata with app.kubernetes.io/name, app.kubernetes.io/part-of and "
                    "app.kubernetes.io/managed-by.",
        url="https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/",
        defaults={"metadata.labels": {}},
        pulumi=("configureRecommendedLabels",),
    ),
    PolicyMeta(
        id="I8", name="k8s-no-cluster-admin-binding", concern="kubernetes", severity="high",
        description="cluster-admin is bound only to allow-listed subjects.",
        resource_types=(K8S_CLUSTER_ROLE_BINDING,),
        remediation="Bind a narrower ClusterRole, or list the subject in "
                    "allowedClusterAdminSubjects with a reason.",
        url="https://cloud.google.com/kubernetes-engine/docs/best-practices/rbac",
        defaults={"subjects": []},
        cis=(Cis("GKE", "1.5", "4.1.1"),),
        config={"allowedClusterAdminSubjects": _strings(
            "Subjects (Kind/name, fnmatch patterns) that may hold cluster-admin.")},
    ),
    PolicyMeta(
        id="I9", name="k8s-no-wildcard-rbac", concern="kubernetes", severity="medium",
        description="Roles and ClusterRoles grant no '*' API groups, resources or verbs.",
        resource_types=(K8S_ROLE, K8S_CLUSTER_ROLE),
        remediation="List the API groups, resources and verbs the role needs.",
        url="https://kubernetes.io/docs/concepts/security/rbac-good-practices/",
        defaults={"rules": []},
        cis=(Cis("GKE", "1.5", "4.1.3"),),
        checkov=("CKV_K8S_49",),
    ),
    # ---- logging and monitoring --------------------------------------------------------------
    PolicyMeta(
        id="L1", name="gke-logging-monitoring", concern="logging_monitoring", severity="medium",
        description="GKE sends system and workload logs and system metrics to Cloud "
                    "Operations.",
        resource_types=(CLUSTER,),
        remediation="Leave logging_service/monitoring_service at their defaults; when "
                    "logging_config/monitoring_config list components, include SYSTEM_COMPONENTS "
                    "(and WORKLOADS for logs).",
        url="https://cloud.google.com/kubernetes-engine/docs/concepts/observability",
        defaults={"loggingService": "logging.googleapis.com/kubernetes",
                  "monitoringService": "monitoring.googleapis.com/kubernetes",
                  "loggingConfig.enableComponents": ["SYSTEM_COMPONENTS", "WORKLOADS"]},
        cis=(Cis("GKE", "1.4", "5.7.1"),),
        checkov=("CKV_GCP_1", "CKV_GCP_8"),
    ),
    PolicyMeta(
        id="L2", name="subnet-flow-logs", concern="logging_monitoring", severity="low",
        description="Subnets record VPC flow logs.",
        resource_types=(SUBNETWORK,),
        remediation="Add log_config (aggregation_interval, flow_sampling, metadata) to the "
                    "subnetwork.",
        url="https://cloud.google.com/vpc/docs/using-flow-logs",
        defaults={"logConfig": None, "purpose": "PRIVATE"},
        cis=(Cis("GCP", "2.0", "3.8"),),
        checkov=("CKV_GCP_26",),
        policy_library=("gcp_network_enable_flow_logs_v1",),
    ),
    PolicyMeta(
        id="L3", name="firewall-logging", concern="logging_monitoring", severity="low",
        description="Firewall rules that allow traffic log the connections they admit.",
        resource_types=(FIREWALL,),
        remediation="Add log_config {metadata: \"INCLUDE_ALL_METADATA\"} to the allow rule.",
        url="https://cloud.google.com/firewall/docs/firewall-rules-logging",
        defaults={"logConfig": None},
        policy_library=("gcp_network_enable_firewall_logs_v1",),
    ),
    PolicyMeta(
        id="L4", name="bucket-access-logging", concern="logging_monitoring", severity="low",
        description="Buckets holding confidential data or above write usage logs elsewhere.",
        resource_types=(BUCKET,),
        remediation="Set logging.log_bucket to a separate log bucket.",
        url="https://cloud.google.com/storage/docs/access-logs",
        defaults={"logging.logBucket": None},
        checkov=("CKV_GCP_62", "CKV_GCP_63"),
        policy_library=("gcp_storage_logging_v1",),
        config={**UNLABELLED, "accessLoggingMinClassification": _classification(
            "confidential", "Lowest classification that requires usage logs.")},
    ),
    PolicyMeta(
        id="L5", name="data-access-audit-logs", concern="logging_monitoring", severity="medium",
        stack=True,
        description="A stack holding confidential data or above turns on data access audit logs "
                    "for Cloud Storage (DATA_READ and DATA_WRITE, no exempted members).",
        resource_types=(BUCKET, AUDIT_CONFIG),
        remediation="Add a gcp.projects.IAMAuditConfig for storage.googleapis.com (or "
                    "allServices) logging DATA_READ and DATA_WRITE without exempted members "
                    "(aidc: storage.data_access_logs).",
        url="https://cloud.google.com/logging/docs/audit/configure-data-access",
        defaults={"auditLogConfigs": "none: Cloud Storage writes no data access logs"},
        cis=(Cis("GCP", "2.0", "2.1"),),
        checkov=("CKV2_GCP_5",),
        config={**UNLABELLED, "dataAccessLogsMinClassification": _classification(
            "confidential", "Lowest classification whose buckets need data access audit logs.")},
    ),
    PolicyMeta(
        id="L6", name="alerts-have-channels", concern="logging_monitoring", severity="medium",
        description="Alert policies are enabled and notify at least one channel (when required, "
                    "i.e. in prod).",
        resource_types=(ALERT_POLICY,),
        remediation="Set notification_channels (and enabled=True) on the alert policy.",
        url="https://cloud.google.com/monitoring/alerts",
        defaults={"enabled": True, "notificationChannels": []},
        cis=(Cis("GCP", "2.0", "2.4"),),
        config={**REQUIRE_CHANNELS},
    ),
    PolicyMeta(
        id="L7", name="gke-intranode-visibility", concern="logging_monitoring", severity="low",
        description="Same-node pod traffic goes through the VPC, so flow logs and firewall rules "
                    "see it (advisory: it adds a hop and flow-log volume).",
        resource_types=(CLUSTER,),
        remediation="Set enable_intranode_visibility=True (aidc: cluster.intranode_visibility).",
        url="https://cloud.google.com/kubernetes-engine/docs/how-to/intranode-visibility",
        defaults={"enableIntranodeVisibility": "False (Standard); True (Autopilot)"},
        cis=(Cis("GKE", "1.4", "5.6.1"),),
        checkov=("CKV_GCP_61",),
    ),
    PolicyMeta(
        id="L8", name="transfer-job-logging", concern="logging_monitoring", severity="low",
        description="Storage transfer jobs log copies (and deletions when they delete).",
        resource_types=(TRANSFER_JOB,),
        remediation="Set logging_config.log_actions ['COPY', 'DELETE'] and log_action_states "
                    "['SUCCEEDED', 'FAILED'].",
        url="https://cloud.google.com/storage-transfer/docs/cloud-logging",
        defaults={"loggingConfig.logActions": []},
    ),
    PolicyMeta(
        id="L9", name="alert-policy-documented", concern="logging_monitoring", severity="low",
        description="Alert policies carry documentation telling the on-call what to do.",
        resource_types=(ALERT_POLICY,),
        remediation="Set documentation.content (markdown: what fired, impact, runbook link).",
        url="https://cloud.google.com/monitoring/alerts/doc-variables",
        defaults={"documentation.content": None},
    ),
    PolicyMeta(
        id="L10", name="notification-channel-present", concern="logging_monitoring",
        severity="medium", stack=True,
        description="The stack declares at least one enabled notification channel (when "
                    "required, i.e. in prod).",
        resource_types=(NOTIFICATION_CHANNEL,),
        remediation="Add a gcp.monitoring.NotificationChannel (e-mail, PagerDuty, Pub/Sub) and "
                    "reference it from the alert policies.",
        url="https://cloud.google.com/monitoring/support/notification-options",
        defaults={"enabled": True},
        cis=(Cis("GCP", "2.0", "2.4"),),
        config={**REQUIRE_CHANNELS},
    ),
)

POLICIES: Mapping[str, PolicyMeta] = MappingProxyType({m.id: m for m in _RECORDS})
BY_NAME: Mapping[str, PolicyMeta] = MappingProxyType({m.name: m for m in _RECORDS})
POLICY_NAMES: tuple[str, ...] = tuple(m.name for m in _RECORDS)
CONCERNS: tuple[str, ...] = ("public_access", "classification", "encryption", "iam", "network",
                             "gke", "compute", "kubernetes", "logging_monitoring")

if len(POLICIES) != len(_RECORDS) or len(BY_NAME) != len(_RECORDS):
    raise ValueError("policy ids and names must be unique")


def meta(policy_id: str) -> PolicyMeta:
    """The record of one policy, by id ("P1")."""
    return POLICIES[policy_id]


def all_config_properties() -> dict[str, dict[str, Any]]:
    """Every config property any policy declares (same name = same meaning, same default)."""
    out: dict[str, dict[str, Any]] = {}
    for record in _RECORDS:
        for key, schema in record.config.items():
            if key in out and out[key].get("default") != schema.get("default"):
                raise ValueError(f"config property {key} has two defaults")
            out[key] = dict(schema)
    return out
