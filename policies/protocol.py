"""What the pack and aidc's offline driver (`infra.check`) must agree on, defined once.

The pack runs stand-alone under the Pulumi CLI and never imports `infra`; `infra` imports this
module (pure constants, the waiver and exemption codec and waiver expiry, no pulumi-policy)
instead of keeping copies.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

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
# A policy's named exemptions appear among its tags as "exemption:<id>".
EXEMPTION_TAG = "exemption:"

# Set to "1" in the pack's environment by aidc's offline driver to install the pack's speed-ups
# to pulumi-policy (policies/pack.py); without it (a real `pulumi preview`) the stock SDK runs.
SPEEDUPS_ENV = "AIDC_POLICY_SPEEDUPS"

# --- waivers and exemptions on the wire --------------------------------------------------------
# A waived violation, and one a policy's named exemption covers, is reported as "not applicable"
# (so `pulumi preview` passes it) with a reason that carries the violation, which the offline
# driver decodes back into a waived or exempt finding.
WAIVED_HEADER = "not applicable: waived by configuration or exempt by a named rule"
STACK_WAIVER_RESOURCE = "stack"  # the `resource` of a waiver for a stack-level violation


@dataclass(frozen=True)
class Suppressed:
    """A violation the pack did not report: waived (`reason`) or exempt (`exemption`)."""

    urn: str
    message: str
    reason: str = ""
    exemption: str = ""


def encode_waived(items: Iterable[Suppressed]) -> str:
    """A not-applicable reason listing suppressed violations, one JSON object a line."""
    lines = []
    for item in items:
        record = {"urn": item.urn, "message": item.message}
        record.update({"exemption": item.exemption} if item.exemption else
                      {"reason": item.reason})
        lines.append(json.dumps(record, sort_keys=True))
    return "\n".join([f"{WAIVED_HEADER}:", *lines])


def decode_waived(text: str) -> list[Suppressed] | None:
    """Inverse of `encode_waived`; None when `text` is not such a record. Lines that do not
    decode (another pack's text after the header) are skipped."""
    if not text.startswith(f"{WAIVED_HEADER}:"):
        return None
    out = []
    for line in text.splitlines()[1:]:
        try:
            item = json.loads(line)
            out.append(Suppressed(urn=str(item["urn"]), message=str(item["message"]),
                                  reason=str(item.get("reason") or ""),
                                  exemption=str(item.get("exemption") or "")))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    return out


# --- waiver expiry -------------------------------------------------------------------------------
# A waiver may carry `expires` (an ISO date, YYYY-MM-DD): it waives through that day (UTC) and
# not after; an expired waiver no longer waives, and the finding says when it expired.

def today() -> date:
    """The date waivers are judged on: today in UTC, the same on every runner."""
    return datetime.now(timezone.utc).date()


def waiver_expiry(waiver: Mapping[str, Any]) -> date | None:
    """The waiver's expiry date; None when it has none. A date that does not parse expires
    the waiver (date.min): a typo must not make a waiver last for ever."""
    raw = waiver.get("expires")
    if raw in (None, ""):
        return None
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        return date.min


@dataclass(frozen=True)
class WaiverVerdict:
    """What the waivers say about one finding: the reason of the active waiver covering it, or
    else when the one that covered it expired (and its reason)."""

    reason: str | None = None
    expired_on: date | None = None
    expired_reason: str = ""

    @property
    def note(self) -> str:
        """The sentence an expired waiver adds to the finding's message."""
        if self.expired_on is None:
            return ""
        when = "an unreadable date" if self.expired_on == date.min else str(self.expired_on)
        return f"the waiver for it expired on {when} ({self.expired_reason})"


def judge_waivers(waivers: Iterable[Any], resources: Iterable[str | None],
                  on: date | None = None) -> WaiverVerdict:
    """The waivers (mappings with resource, reason, expires) that name any of `resources` (a
    logical name, a URN): active first; else the latest expired one."""
    on = on or today()
    names = {r for r in resources if r}
    expired: list[tuple[date, str]] = []
    for waiver in waivers or ():
        if not isinstance(waiver, Mapping):
            continue
        reason = str(waiver.get("reason") or "").strip()
        if not reason or waiver.get("resource") not in names:
            continue
        expiry = waiver_expiry(waiver)
        if expiry is None or on <= expiry:
            return WaiverVerdict(reason=reason)
        expired.append((expiry, reason))
    if expired:
        when, reason = max(expired)
        return WaiverVerdict(expired_on=when, expired_reason=reason)
    return WaiverVerdict()


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
# VMs created from a template or a machine image: what they leave unset, they inherit.
DERIVED_INSTANCES = ("gcp:compute/instanceFromTemplate:InstanceFromTemplate",
                     "gcp:compute/instanceFromMachineImage:InstanceFromMachineImage")
# Every resource type that creates or templates a Compute Engine VM.
VM_TYPES = (INSTANCE, *INSTANCE_TEMPLATES, *DERIVED_INSTANCES)
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
