"""Golden compliant resources for the policy tests, and helpers to mutate them one field at a time.

Inputs use the engine's camelCase property names of pulumi-gcp 10 / pulumi-kubernetes 4 (checked
against the providers' `*Args` getters), as a Plan carries them. Every golden resource passes every
policy under the default pack config (a test pins that); a case changes one field.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from infra.check.run import PolicyAnalyzer
from infra.engine.plan import Plan, PlanResource
from infra.check.results import CheckResult
from policies.metadata import BY_NAME

PROJECT, STACK = "aidc", "dev"
KEY_RING = "projects/aidc-dev/locations/europe-west4/keyRings/aidc-dev"
KEY = f"{KEY_RING}/cryptoKeys/training-data"
PROVIDER_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:providers:gcp::default_10_2_0"
DELETE = object()  # a mutation value: remove the field (the provider default applies)

BUCKET = "gcp:storage/bucket:Bucket"
AUDIT_CONFIG = "gcp:projects/iAMAuditConfig:IAMAuditConfig"
BUCKET_IAM_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
BUCKET_IAM_BINDING = "gcp:storage/bucketIAMBinding:BucketIAMBinding"
BUCKET_IAM_POLICY = "gcp:storage/bucketIAMPolicy:BucketIAMPolicy"
BUCKET_ACL = "gcp:storage/bucketACL:BucketACL"
BUCKET_ACCESS_CONTROL = "gcp:storage/bucketAccessControl:BucketAccessControl"
FILESTORE = "gcp:filestore/instance:Instance"
CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
KEY_RING_TYPE = "gcp:kms/keyRing:KeyRing"
CRYPTO_KEY_IAM_MEMBER = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
KEY_RING_IAM_BINDING = "gcp:kms/keyRingIAMBinding:KeyRingIAMBinding"
FIREWALL = "gcp:compute/firewall:Firewall"
SUBNETWORK = "gcp:compute/subnetwork:Subnetwork"
NETWORK = "gcp:compute/network:Network"
GCP_PROJECT = "gcp:organizations/project:Project"
PROJECT_IAM_MEMBER = "gcp:projects/iAMMember:IAMMember"
PROJECT_IAM_BINDING = "gcp:projects/iAMBinding:IAMBinding"
PROJECT_IAM_POLICY = "gcp:projects/iAMPolicy:IAMPolicy"
SA_IAM_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
SA_KEY = "gcp:serviceaccount/key:Key"
HMAC_KEY = "gcp:storage/hmacKey:HmacKey"
TRANSFER_JOB = "gcp:storage/transferJob:TransferJob"
INSTANCE = "gcp:compute/instance:Instance"
INSTANCE_TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate"
REGION_INSTANCE_TEMPLATE = "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate"
INSTANCE_FROM_TEMPLATE = "gcp:compute/instanceFromTemplate:InstanceFromTemplate"
INSTANCE_FROM_MACHINE_IMAGE = "gcp:compute/instanceFromMachineImage:InstanceFromMachineImage"
DISK = "gcp:compute/disk:Disk"
PROJECT_METADATA = "gcp:compute/projectMetadata:ProjectMetadata"
PROJECT_METADATA_ITEM = "gcp:compute/projectMetadataItem:ProjectMetadataItem"
ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
NOTIFICATION_CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
REPLICA_SET = "kubernetes:apps/v1:ReplicaSet"
JOB = "kubernetes:batch/v1:Job"
CRON_JOB = "kubernetes:batch/v1:CronJob"
POD = "kubernetes:core/v1:Pod"
K8S_SERVICE = "kubernetes:core/v1:Service"
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
NAMESPACE = "kubernetes:core/v1:Namespace"
LOCAL_QUEUE = "kubernetes:kueue.x-k8s.io/v1beta2:LocalQueue"
CLUSTER_QUEUE = "kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue"
RESOURCE_FLAVOR = "kubernetes:kueue.x-k8s.io/v1beta2:ResourceFlavor"
SERVICE_API = "gcp:projects/service:Service"

_SA = "serviceAccount:{}@aidc-dev.iam.gserviceaccount.com"
_CMEK = f"{KEY_RING}/cryptoKeys/"

POD_SPEC: dict[str, Any] = {
    "serviceAccountName": "trainer",
    "automountServiceAccountToken": False,
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "nodeSelector": {"cloud.google.com/gke-accelerator": "nvidia-h100-80gb"},
    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    "volumes": [{"name": "scratch", "emptyDir": {"medium": "Memory"}}],
    "containers": [{
        "name": "trainer",
        "image": "europe-docker.pkg.dev/aidc-dev/ml/trainer@sha256:" + "a" * 64,
        "resources": {"limits": {"nvidia.com/gpu": 8, "cpu": "200", "memory": "1800Gi"},
                      "requests": {"cpu": "180", "memory": "1600Gi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True,
                            "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}],
    }],
}
_K8S_META = {"name": "trainer", "namespace": "training",
             "labels": {"app.kubernetes.io/name": "trainer", "app.kubernetes.io/part-of": "aidc",
                        "app.kubernetes.io/managed-by": "pulumi"}}


def _workload(kind: str, api: str) -> dict[str, Any]:
    template = {"metadata": {"labels": {"app": "trainer"}}, "spec": copy.deepcopy(POD_SPEC)}
    if kind == "Pod":
        return {"apiVersion": api, "kind": kind, "metadata": dict(_K8S_META),
                "spec": copy.deepcopy(POD_SPEC)}
    if kind == "CronJob":
        spec: dict[str, Any] = {"schedule": "0 3 * * *", "jobTemplate": {"spec": {
            "template": {**template, "spec": {**template["spec"], "restartPolicy": "Never"}}}}}
    elif kind == "Job":
        spec = {"template": {**template, "spec": {**template["spec"], "restartPolicy": "Never"}}}
    else:
        spec = {"selector": {"matchLabels": {"app": "trainer"}}, "template": template}
    return {"apiVersion": api, "kind": kind, "metadata": dict(_K8S_META), "spec": spec}


WORKLOADS = {
    DEPLOYMENT: _workload("Deployment", "apps/v1"),
    STATEFUL_SET: _workload("StatefulSet", "apps/v1"),
    DAEMON_SET: _workload("DaemonSet", "apps/v1"),
    REPLICA_SET: _workload("ReplicaSet", "apps/v1"),
    JOB: _workload("Job", "batch/v1"),
    CRON_JOB: _workload("CronJob", "batch/v1"),
    POD: _workload("Pod", "v1"),
}
POD_PATH = {  # where each workload kind keeps its pod spec
    DEPLOYMENT: ("spec", "template", "spec"), STATEFUL_SET: ("spec", "template", "spec"),
    DAEMON_SET: ("spec", "template", "spec"), REPLICA_SET: ("spec", "template", "spec"),
    JOB: ("spec", "template", "spec"),
    CRON_JOB: ("spec", "jobTemplate", "spec", "template", "spec"), POD: ("spec",),
}

_TEMPLATE: dict[str, Any] = {
    "namePrefix": "gpu-worker-", "machineType": "a2-highgpu-1g",
    "disks": [{"sourceImage": "projects/cos-cloud/global/images/family/cos-stable",
               "boot": True, "autoDelete": True,
               "diskEncryptionKey": {"kmsKeySelfLink": _CMEK + "disks"}}],
    "networkInterfaces": [{"subnetwork": "aidc-dev-gpu"}],
    "shieldedInstanceConfig": {"enableSecureBoot": True},
    "metadata": {"block-project-ssh-keys": "true"},
    "serviceAccount": {"email": "gpu-worker@aidc-dev.iam.gserviceaccount.com",
                       "scopes": ["cloud-platform"]},
    "labels": {"data-classification": "confidential"},
}


GOLDEN: dict[str, dict[str, Any]] = {
    BUCKET: {
        "name": "aidc-dev-training-data", "project": "aidc-dev", "location": "EUROPE-WEST4",
        "storageClass": "STANDARD", "uniformBucketLevelAccess": True,
        "publicAccessPrevention": "enforced", "forceDestroy": False,
        "labels": {"data-classification": "restricted", "managed-by": "aidc"},
        "encryption": {"defaultKmsKeyName": KEY},
        "versioning": {"enabled": True},
        "logging": {"logBucket": "aidc-dev-access-logs"},
        "softDeletePolicy": {"retentionDurationSeconds": 604800},
    },
    BUCKET_IAM_MEMBER: {"bucket": "aidc-dev-training-data", "role": "roles/storage.objectViewer",
                        "member": _SA.format("trainer")},
    BUCKET_IAM_BINDING: {"bucket": "aidc-dev-training-data", "role": "roles/storage.objectAdmin",
                         "members": [_SA.format("loader")]},
    BUCKET_IAM_POLICY: {"bucket": "aidc-dev-training-data", "policyData": json.dumps(
        {"bindings": [{"role": "roles/storage.objectViewer",
                       "members": [_SA.format("trainer")]}]})},
    BUCKET_ACL: {"bucket": "aidc-dev-training-data",
                 "roleEntities": ["OWNER:project-owners-123456789", "READER:group-ml@example.com"]},
    BUCKET_ACCESS_CONTROL: {"bucket": "aidc-dev-training-data", "role": "READER",
                            "entity": "group-ml@example.com"},
    FILESTORE: {
        "name": "aidc-dev-scratch", "location": "europe-west4-b", "tier": "BASIC_SSD",
        "fileShares": {"name": "scratch", "capacityGb": 2560, "nfsExportOptions": [
            {"ipRanges": ["10.20.0.0/16"], "accessMode": "READ_WRITE",
             "squashMode": "ROOT_SQUASH"}]},
        "networks": [{"network": "aidc-dev-vpc", "modes": ["MODE_IPV4"],
                      "connectMode": "PRIVATE_SERVICE_ACCESS"}],
        "kmsKeyName": _CMEK + "filestore", "labels": {"data-classification": "confidential"},
    },
    CLUSTER: {
        "name": "aidc-dev", "location": "europe-west4", "network": "aidc-dev-vpc",
        "subnetwork": "aidc-dev-gpu", "removeDefaultNodePool": True, "initialNodeCount": 1,
        "deletionProtection": True,
        "resourceLabels": {"data-classification": "confidential"},
        "privateClusterConfig": {"enablePrivateNodes": True, "enablePrivateEndpoint": True,
                                 "masterIpv4CidrBlock": "172.16.0.0/28"},
        "masterAuthorizedNetworksConfig": {"cidrBlocks": [
            {"cidrBlock": "10.0.0.0/8", "displayName": "corp"}]},
        "ipAllocationPolicy": {"clusterSecondaryRangeName": "pods",
                               "servicesSecondaryRangeName": "services"},
        "networkingMode": "VPC_NATIVE", "datapathProvider": "ADVANCED_DATAPATH",
        "workloadIdentityConfig": {"workloadPool": "aidc-dev.svc.id.goog"},
        "databaseEncryption": {"state": "ENCRYPTED", "keyName": _CMEK + "gke-secrets"},
        "releaseChannel": {"channel": "REGULAR"}, "enableShieldedNodes": True,
        "enableLegacyAbac": False,
        "masterAuth": {"clientCertificateConfig": {"issueClientCertificate": False}},
        "loggingConfig": {"enableComponents": ["SYSTEM_COMPONENTS", "WORKLOADS"]},
        "monitoringConfig": {"enableComponents": ["SYSTEM_COMPONENTS"]},
        "binaryAuthorization": {"evaluationMode": "PROJECT_SINGLETON_POLICY_ENFORCE"},
        "authenticatorGroupsConfig": {"securityGroup": "gke-security-groups@acme.example"},
        "enableIntranodeVisibility": True,
    },
    NODE_POOL: {
        "name": "a3-h100", "cluster": "projects/aidc-dev/locations/europe-west4/clusters/aidc-dev",
        "location": "europe-west4", "nodeCount": 2,
        "nodeConfig": {
            "machineType": "a3-highgpu-8g",
            "serviceAccount": "gke-nodes@aidc-dev.iam.gserviceaccount.com",
            "oauthScopes": ["https://www.googleapis.com/auth/cloud-platform"],
            "workloadMetadataConfig": {"mode": "GKE_METADATA"},
            "shieldedInstanceConfig": {"enableSecureBoot": True, "enableIntegrityMonitoring": True},
            "bootDiskKmsKey": _CMEK + "gke-boot", "imageType": "COS_CONTAINERD",
            "guestAccelerators": [{"type": "nvidia-h100-80gb", "count": 8,
                                   "gpuDriverInstallationConfig": {"gpuDriverVersion": "LATEST"}}],
            "resourceLabels": {"data-classification": "confidential"},
            "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}],
        },
        "management": {"autoRepair": True, "autoUpgrade": True},
        "networkConfig": {"enablePrivateNodes": True},
    },
    CRYPTO_KEY: {
        "name": "training-data", "keyRing": KEY_RING, "purpose": "ENCRYPT_DECRYPT",
        "rotationPeriod": "7776000s", "destroyScheduledDuration": "2592000s",
        "labels": {"data-classification": "restricted"},
        "versionTemplate": {"algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION", "protectionLevel": "HSM"},
    },
    KEY_RING_TYPE: {"name": "aidc-dev", "location": "europe-west4", "project": "aidc-dev"},
    CRYPTO_KEY_IAM_MEMBER: {
        "cryptoKeyId": KEY, "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter",
        "member": "serviceAccount:service-123456789@gs-project-accounts.iam.gserviceaccount.com"},
    KEY_RING_IAM_BINDING: {"keyRingId": KEY_RING, "role": "roles/cloudkms.viewer",
                           "members": [_SA.format("kms-admin")]},
    FIREWALL: {
        "name": "allow-iap-ssh", "network": "aidc-dev-vpc", "direction": "INGRESS",
        "priority": 1000, "sourceRanges": ["35.235.240.0/20"], "targetTags": ["gpu-node"],
        "allows": [{"protocol": "tcp", "ports": ["22"]}],
        "logConfig": {"metadata": "INCLUDE_ALL_METADATA"},
    },
    SUBNETWORK: {
        "name": "aidc-dev-gpu", "network": "aidc-dev-vpc", "region": "europe-west4",
        "ipCidrRange": "10.20.0.0/16", "privateIpGoogleAccess": True,
        "secondaryIpRanges": [{"rangeName": "pods", "ipCidrRange": "10.64.0.0/14"},
                              {"rangeName": "services", "ipCidrRange": "10.68.0.0/20"}],
        "logConfig": {"aggregationInterval": "INTERVAL_5_SEC", "flowSampling": 0.5,
                      "metadata": "INCLUDE_ALL_METADATA"},
    },
    NETWORK: {"name": "aidc-dev-vpc", "autoCreateSubnetworks": False, "routingMode": "REGIONAL"},
    GCP_PROJECT: {"name": "aidc-dev", "projectId": "aidc-dev", "orgId": "123456789012",
                  "billingAccount": "012345-6789AB-CDEF01", "autoCreateNetwork": False},
    PROJECT_IAM_MEMBER: {"project": "aidc-dev", "role": "roles/logging.logWriter",
                         "member": _SA.format("gke-nodes")},
    PROJECT_IAM_BINDING: {"project": "aidc-dev", "role": "roles/monitoring.metricWriter",
                          "members": [_SA.format("gke-nodes")]},
    PROJECT_IAM_POLICY: {"project": "aidc-dev", "policyData": json.dumps({"bindings": [
        {"role": "roles/resourcemanager.projectIamAdmin",
         "members": ["group:platform-admins@example.com"]}]})},
    SA_IAM_MEMBER: {
        "serviceAccountId": "projects/aidc-dev/serviceAccounts/trainer@aidc-dev.iam."
                            "gserviceaccount.com",
        "role": "roles/iam.workloadIdentityUser",
        "member": "serviceAccount:aidc-dev.svc.id.goog[training/trainer]"},
    TRANSFER_JOB: {
        "description": "import corp datasets from S3", "project": "aidc-dev",
        "transferSpec": {
            "awsS3DataSource": {"bucketName": "corp-datasets",
                                "roleArn": "arn:aws:iam::123456789012:role/gcs-transfer"},
            "gcsDataSink": {"bucketName": "aidc-dev-training-data", "path": "imagenet/"}},
        "schedule": {"scheduleStartDate": {"year": 2025, "month": 1, "day": 1}},
        "loggingConfig": {"logActions": ["COPY", "DELETE"],
                          "logActionStates": ["SUCCEEDED", "FAILED"]},
    },
    INSTANCE: {
        "name": "bastion", "machineType": "e2-small", "zone": "europe-west4-a",
        "bootDisk": {"initializeParams": {"image": "cos-cloud/cos-stable"},
                     "kmsKeySelfLink": _CMEK + "disks"},
        "networkInterfaces": [{"subnetwork": "aidc-dev-gpu"}],
        "shieldedInstanceConfig": {"enableSecureBoot": True, "enableVtpm": True,
                                   "enableIntegrityMonitoring": True},
        "metadata": {"block-project-ssh-keys": "TRUE", "enable-oslogin": "TRUE"},
        "serviceAccount": {"email": "bastion@aidc-dev.iam.gserviceaccount.com",
                           "scopes": ["cloud-platform"]},
        "canIpForward": False, "labels": {"data-classification": "confidential"},
    },
    INSTANCE_TEMPLATE: _TEMPLATE,
    REGION_INSTANCE_TEMPLATE: {**_TEMPLATE, "region": "europe-west4"},
    # Instances from a template / machine image: the golden ones override what C1-C5, P6, N12
    # and E7 read (a case that deletes an override leaves it to the source).
    INSTANCE_FROM_TEMPLATE: {
        "name": "worker-0", "zone": "europe-west4-a",
        "sourceInstanceTemplate": "projects/aidc-dev/global/instanceTemplates/gpu-worker",
        "bootDisk": {"kmsKeySelfLink": _CMEK + "disks"},
        "networkInterfaces": [{"subnetwork": "aidc-dev-gpu"}],
        "shieldedInstanceConfig": {"enableSecureBoot": True, "enableVtpm": True,
                                   "enableIntegrityMonitoring": True},
        "metadata": {"block-project-ssh-keys": "TRUE"},
        "serviceAccount": {"email": "gpu-worker@aidc-dev.iam.gserviceaccount.com",
                           "scopes": ["cloud-platform"]},
        "labels": {"data-classification": "confidential"},
    },
    INSTANCE_FROM_MACHINE_IMAGE: {
        "name": "restored-0", "zone": "europe-west4-a",
        "sourceMachineImage": "projects/aidc-dev/global/machineImages/bastion-image",
        "labels": {"data-classification": "confidential"},
    },
    DISK: {"name": "dataset-cache", "zone": "europe-west4-a", "size": 1000, "type": "pd-ssd",
           "diskEncryptionKey": {"kmsKeySelfLink": _CMEK + "disks"},
           "labels": {"data-classification": "confidential"}},
    PROJECT_METADATA: {"project": "aidc-dev", "metadata": {"enable-oslogin": "TRUE"}},
    PROJECT_METADATA_ITEM: {"project": "aidc-dev", "key": "enable-oslogin", "value": "TRUE"},
    ALERT_POLICY: {
        "displayName": "GPU node not ready", "combiner": "OR", "enabled": True,
        "conditions": [{"displayName": "node not ready", "conditionThreshold": {
            "filter": 'resource.type = "k8s_node"', "comparison": "COMPARISON_GT",
            "duration": "300s", "thresholdValue": 0}}],
        "notificationChannels": ["projects/aidc-dev/notificationChannels/1234"],
        "documentation": {"content": "A GPU node is not ready. Runbook: go/aidc-gpu-node",
                          "mimeType": "text/markdown"},
    },
    NOTIFICATION_CHANNEL: {"displayName": "on-call", "type": "email",
                           "labels": {"email_address": "oncall@example.com"}},
    K8S_SERVICE: {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "inference", "namespace": "serving",
                     "labels": {"app.kubernetes.io/name": "inference",
                                "app.kubernetes.io/part-of": "aidc",
                                "app.kubernetes.io/managed-by": "pulumi"},
                     "annotations": {"networking.gke.io/load-balancer-type": "Internal"}},
        "spec": {"type": "LoadBalancer", "selector": {"app": "inference"},
                 "ports": [{"port": 80, "targetPort": 8080}]},
    },
    SERVICE_API: {"project": "aidc-dev", "service": "container.googleapis.com"},
    AUDIT_CONFIG: {"project": "aidc-dev", "service": "storage.googleapis.com",
                   "auditLogConfigs": [{"logType": "DATA_READ"}, {"logType": "DATA_WRITE"}]},
    CLUSTER_ROLE_BINDING: {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "trainer-read"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "trainer-read"},
        "subjects": [{"kind": "ServiceAccount", "name": "trainer", "namespace": "training"}],
    },
    ROLE: {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "trainer", "namespace": "training"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}],
    },
    CLUSTER_ROLE: {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "trainer-read"},
        "rules": [{"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["get", "watch"]}],
    },
    # A team (tenancy): its namespace, queue, the pool's flavour and its group's binding.
    NAMESPACE: {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "nlp", "labels": {"aidc.dev/tenant": "nlp",
                                               "data-classification": "restricted"},
                     "annotations": {"aidc.dev/group": "nlp-eng@acme.example"}},
    },
    LOCAL_QUEUE: {
        "apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "LocalQueue",
        "metadata": {"name": "default", "namespace": "nlp"}, "spec": {"clusterQueue": "nlp"},
    },
    CLUSTER_QUEUE: {
        "apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "ClusterQueue",
        "metadata": {"name": "nlp"},
        "spec": {"cohortName": "tenants",
                 "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "nlp"}},
                 "resourceGroups": [{
                     "coveredResources": ["cpu", "memory", "nvidia.com/gpu"],
                     "flavors": [{"name": "gpu-h100", "resources": [
                         {"name": "cpu", "nominalQuota": "100k"},
                         {"name": "memory", "nominalQuota": "1000Ti"},
                         {"name": "nvidia.com/gpu", "nominalQuota": 96, "borrowingLimit": 32,
                          "lendingLimit": 32}]}]}]},
    },
    RESOURCE_FLAVOR: {
        "apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "ResourceFlavor",
        "metadata": {"name": "gpu-h100", "annotations": {
            "aidc.dev/pool": "gpu_pools.h100", "aidc.dev/resource": "nvidia.com/gpu",
            "aidc.dev/capacity": "128"}},
        "spec": {"nodeLabels": {"cloud.google.com/gke-accelerator": "nvidia-h100-80gb"},
                 "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists",
                                  "effect": "NoSchedule"}]},
    },
    ROLE_BINDING: {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "team-edit", "namespace": "nlp"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "edit"},
        "subjects": [{"kind": "Group", "name": "nlp-eng@acme.example",
                      "apiGroup": "rbac.authorization.k8s.io"}],
    },
    **WORKLOADS,
}


# --- building plans ------------------------------------------------------------------------

def urn(type_token: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{type_token}::{name}"


def set_path(inputs: dict[str, Any], path: str | tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A deep copy of `inputs` with `path` ('a.b.c' or a tuple, for keys with dots) set or
    deleted (value DELETE). Missing intermediate objects are created; list indexes are ints."""
    out = copy.deepcopy(inputs)
    keys = tuple(path.split(".")) if isinstance(path, str) else path
    node: Any = out
    for key in keys[:-1]:
        if isinstance(node, list):
            node = node[key]
            continue
        node = node.setdefault(key, {})
    last = keys[-1]
    if value is DELETE:
        if isinstance(node, list):
            del node[last]
        else:
            node.pop(last, None)
    else:
        node[last] = value
    return out


def mutate(inputs: Mapping[str, Any], changes: Mapping[Any, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(inputs))
    for path, value in changes.items():
        out = set_path(out, path, value)
    return out


def resource(type_token: str, name: str = "case", changes: Mapping[Any, Any] | None = None,
             *, inputs: Mapping[str, Any] | None = None, protect: bool = False,
             property_dependencies: Mapping[str, list[str]] | None = None) -> PlanResource:
    base = GOLDEN[type_token] if inputs is None else inputs
    return PlanResource(
        urn=urn(type_token, name), type=type_token, name=name,
        parent=f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}",
        provider=(f"{PROVIDER_URN}::04da6b54-80e4-46f7-96ec-b56ff0331ba9"
                  if type_token.startswith("gcp:") else None),
        inputs=mutate(base, changes or {}), protect=protect,
        property_dependencies=dict(property_dependencies or {}))


def provider_resource() -> PlanResource:
    return PlanResource(urn=PROVIDER_URN, type="pulumi:providers:gcp", name="default_10_2_0",
                        inputs={"project": "aidc-dev", "region": "europe-west4"})


def plan_of(*resources: PlanResource) -> Plan:
    return Plan(project=PROJECT, stack=STACK, resources=[provider_resource(), *resources])


def golden_plan() -> Plan:
    """One compliant resource of every type (the bucket's key is in it, for the stack rules)."""
    return plan_of(*(resource(t, f"golden-{i}") for i, t in enumerate(GOLDEN)))


# --- reading results -----------------------------------------------------------------------

def fired(result: CheckResult, urn_: str | None = None) -> set[str]:
    """Names of the policies with a violation on `urn_` (any resource if None) that neither a
    waiver nor a named exemption covers."""
    return {v.policy for v in result.violations
            if v.waiver is None and v.exemption is None and (urn_ is None or v.urn == urn_)}


def messages(result: CheckResult, policy: str) -> list[str]:
    return [v.message for v in result.violations if v.policy == policy]


@pytest.fixture(scope="module")
def analyzer() -> Iterator[PolicyAnalyzer]:
    """The real pack, started once per test module and reused by every case in it."""
    with PolicyAnalyzer(project=PROJECT, stack=STACK) as running:
        yield running


# --- table-driven cases ----------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One policy judged on one resource: the golden resource of `type` with `changes` applied
    (or `inputs` instead, for a named multi-field scenario), plus `extra` resources in the plan."""

    policy: str
    type: str
    changes: Mapping[Any, Any] = field(default_factory=dict)
    fails: bool = True
    why: str = ""
    config: Mapping[str, Any] | None = None
    inputs: Mapping[str, Any] | None = None
    extra: Sequence[PlanResource] = ()
    protect: bool = False
    not_applicable: bool = False  # passes *because* the policy reported "not applicable"
    deps: Mapping[str, list[str]] | None = None
    expect: str = ""  # a failing case's message must contain this

    @property
    def id(self) -> str:
        verdict = "fails" if self.fails else ("n/a" if self.not_applicable else "passes")
        what = self.why or ",".join(
            f"{'.'.join(map(str, k)) if isinstance(k, tuple) else k}"
            f"={'<omitted>' if v is DELETE else json.dumps(v)[:40]}"
            for k, v in self.changes.items()) or (
                "custom inputs" if self.inputs is not None else "golden")
        return f"{self.policy}:{self.type.rsplit(':', 1)[-1]}:{verdict}:{what}"


def run_case(analyzer: PolicyAnalyzer, case: Case) -> tuple[CheckResult, PlanResource]:
    subject = resource(case.type, "case", case.changes, inputs=case.inputs,
                       protect=case.protect, property_dependencies=case.deps)
    return analyzer.check(plan_of(subject, *case.extra), pack_config=case.config), subject


def assert_case(analyzer: PolicyAnalyzer, case: Case) -> CheckResult:
    """Run a case through the analyzer protocol and check its verdict for `case.policy`."""
    assert case.policy in BY_NAME, f"unknown policy {case.policy}"
    result, subject = run_case(analyzer, case)
    stack = BY_NAME[case.policy].stack
    hits = fired(result) if stack else fired(result, subject.urn)
    unverifiable = [d for d in result.diagnostics if d.policy == case.policy]
    assert not unverifiable, f"{case.id}: not verifiable: {unverifiable}"
    if case.fails:
        assert case.policy in hits, (
            f"{case.id}: expected a violation, got {sorted(hits)}")
        if case.expect:
            found = messages(result, case.policy)
            assert any(case.expect in m for m in found), f"{case.id}: {found}"
    else:
        assert case.policy not in hits, (
            f"{case.id}: unexpected violation: {messages(result, case.policy)}")
        na = {p for p, urn_, _ in analyzer.last_not_applicable
              if urn_ in (subject.urn, "")}
        if case.not_applicable:
            assert case.policy in na, f"{case.id}: expected not applicable"
    return result


def case_id(case: Case) -> str:
    """pytest ids for parametrized cases: policy:type:verdict:change."""
    return case.id
