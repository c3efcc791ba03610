"""What the pack and aidc's offline driver (`infra.check`) must agree on, defined once.

The pack runs stand-alone under the Pulumi CLI and never imports `infra`; `infra` imports this
module (pure constants and the waiver codec, no pulumi-policy) instead of keeping copies.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

SEVERITIES = ("critical", "high", "medium", "low")
CLASSIFICATIONS = ("public", "internal", "confidential", "restricted")
CLASSIFICATION_LABEL = "data-classification"

# Reference prefixes as they appear in a policy's tags (and in reports' references).
CIS_PREFIX = "CIS-"
CHECKOV_PREFIX = "CKV"
POLICY_LIBRARY_PREFIX = "PL:"
PULUMI_PREFIX = "PULUMI:"
REFERENCE_PREFIXES = (CIS_PREFIX, CHECKOV_PREFIX, POLICY_LIBRARY_PREFIX, PULUMI_PREFIX)
ENFORCEMENTS = ("mandatory", "advisory", "disabled")

# Set to "1" in the pack's environment by aidc's offline driver to install the pack's speed-ups
# to pulumi-policy (policies/pack.py); without it (a real `pulumi preview`) the stock SDK runs.
SPEEDUPS_ENV = "AIDC_POLICY_SPEEDUPS"

# --- waivers on the wire ------------------------------------------------------------------------
# A waived violation is reported as "not applicable" (so `pulumi preview` passes it) with a reason
# that carries the violation, which the offline driver decodes back into a waived finding.
WAIVED_HEADER = "waived by configuration"
STACK_WAIVER_RESOURCE = "stack"  # the `resource` of a waiver for a stack-level violation


def encode_waived(items: Iterable[tuple[str, str, str]]) -> str:
    """A not-applicable reason listing waived violations as (urn, reason, message) JSON lines."""
    lines = [json.dumps({"urn": urn, "reason": reason, "message": message}, sort_keys=True)
             for urn, reason, message in items]
    return "\n".join([f"{WAIVED_HEADER}:", *lines])


def decode_waived(text: str) -> list[tuple[str, str, str]] | None:
    """Inverse of `encode_waived`; None when `text` is not a waiver record. Lines that do not
    decode (another pack's text after the header) are skipped."""
    if not text.startswith(f"{WAIVED_HEADER}:"):
        return None
    out = []
    for line in text.splitlines()[1:]:
        try:
            item = json.loads(line)
            out.append((str(item["urn"]), str(item["reason"]), str(item["message"])))
        except (ValueError, KeyError, TypeError):
            continue
    return out


# --- resource type tokens -------------------------------------------------------------------------

WORKLOAD_TYPES = (
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:apps/v1:ReplicaSet",
    "kubernetes:batch/v1:Job",
    "kubernetes:batch/v1:CronJob",
    "kubernetes:core/v1:Pod",
)

BUCKET = "gcp:storage/bucket:Bucket"
AUDIT_CONFIG = "gcp:projects/iAMAuditConfig:IAMAuditConfig"
FILESTORE = "gcp:filestore/instance:Instance"
CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
FIREWALL = "gcp:compute/firewall:Firewall"
SUBNETWORK = "gcp:compute/subnetwork:Subnetwork"
NETWORK = "gcp:compute/network:Network"
PROJECT = "gcp:organizations/project:Project"
INSTANCE = "gcp:compute/instance:Instance"
INSTANCE_TEMPLATES = ("gcp:compute/instanceTemplate:InstanceTemplate",
                      "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate")
VM_TYPES = (INSTANCE, *INSTANCE_TEMPLATES)
DISK_TYPES = ("gcp:compute/disk:Disk", "gcp:compute/regionDisk:RegionDisk")
PROJECT_METADATA = "gcp:compute/projectMetadata:ProjectMetadata"
PROJECT_METADATA_ITEM = "gcp:compute/projectMetadataItem:ProjectMetadataItem"
TRANSFER_JOB = "gcp:storage/transferJob:TransferJob"
ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
NOTIFICATION_CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
SA_KEY = "gcp:serviceaccount/key:Key"
HMAC_KEY = "gcp:storage/hmacKey:HmacKey"
K8S_SERVICE = "kubernetes:core/v1:Service"
K8S_CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
K8S_SECRET = "kubernetes:core/v1:Secret"
K8S_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
K8S_CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
K8S_CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
K8S_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
K8S_NAMESPACE = "kubernetes:core/v1:Namespace"
KUEUE_TYPE_PREFIX = "kubernetes:kueue.x-k8s.io/"  # + "<version>:<Kind>"

# --- tenancy: what the tenancy component writes and the tenancy policies read -------------------
TENANT_LABEL = "aidc.dev/tenant"  # on a team's Namespace (and its objects): the team's name
TENANT_GROUP_ANNOTATION = "aidc.dev/group"  # on a team's Namespace: its Google group
# On a ResourceFlavor: the pool it stands for, the accelerator resource the pool offers, and the
# pool's capacity at maximum size in that resource (what every quota of the flavour shares).
POOL_ANNOTATION = "aidc.dev/pool"
POOL_RESOURCE_ANNOTATION = "aidc.dev/resource"
POOL_CAPACITY_ANNOTATION = "aidc.dev/capacity"


def _iam(prefix: str, *names: str) -> tuple[str, ...]:
    return tuple(f"{prefix}{n}:{n[0].upper()}{n[1:]}" for n in names)


BUCKET_IAM = _iam("gcp:storage/", "bucketIAMMember", "bucketIAMBinding", "bucketIAMPolicy")
KMS_IAM = _iam("gcp:kms/", "cryptoKeyIAMMember", "cryptoKeyIAMBinding", "cryptoKeyIAMPolicy",
               "keyRingIAMMember", "keyRingIAMBinding", "keyRingIAMPolicy")
# IAM on other resources that hold data (datasets, topics, secrets, images, disks, ...).
DATA_IAM = (
    *BUCKET_IAM,
    *_iam("gcp:storage/", "managedFolderIamMember", "managedFolderIamBinding",
          "managedFolderIamPolicy"),
    *_iam("gcp:bigquery/", "datasetIamMember", "datasetIamBinding", "datasetIamPolicy",
          "iamMember", "iamBinding", "iamPolicy"),
    *_iam("gcp:pubsub/", "topicIAMMember", "topicIAMBinding", "topicIAMPolicy",
          "subscriptionIAMMember", "subscriptionIAMBinding", "subscriptionIAMPolicy"),
    *_iam("gcp:secretmanager/", "secretIamMember", "secretIamBinding", "secretIamPolicy"),
    *_iam("gcp:artifactregistry/", "repositoryIamMember", "repositoryIamBinding",
          "repositoryIamPolicy"),
    *_iam("gcp:compute/", "diskIamMember", "diskIamBinding", "diskIamPolicy",
          "imageIamMember", "imageIamBinding", "imageIamPolicy",
          "snapshotIamMember", "snapshotIamBinding", "snapshotIamPolicy",
          "machineImageIamMember", "machineImageIamBinding", "machineImageIamPolicy"),
)
PROJECT_IAM = ("gcp:projects/iAMMember:IAMMember", "gcp:projects/iAMBinding:IAMBinding",
               "gcp:projects/iAMPolicy:IAMPolicy")
HIGH_LEVEL_IAM = (
    *PROJECT_IAM,
    "gcp:folder/iAMMember:IAMMember", "gcp:folder/iAMBinding:IAMBinding",
    "gcp:folder/iAMPolicy:IAMPolicy",
    "gcp:organizations/iAMMember:IAMMember", "gcp:organizations/iAMBinding:IAMBinding",
    "gcp:organizations/iAMPolicy:IAMPolicy",
)
SA_IAM = ("gcp:serviceaccount/iAMMember:IAMMember", "gcp:serviceaccount/iAMBinding:IAMBinding",
          "gcp:serviceaccount/iAMPolicy:IAMPolicy")
BUCKET_ACLS = (
    "gcp:storage/bucketACL:BucketACL",
    "gcp:storage/defaultObjectACL:DefaultObjectACL",
    "gcp:storage/objectACL:ObjectACL",
    "gcp:storage/bucketAccessControl:BucketAccessControl",
    "gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl",
    "gcp:storage/objectAccessControl:ObjectAccessControl",
)
