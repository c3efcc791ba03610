"""The IAM roles of the identities that deploy the platform, each with what needs it.

`DEPLOYER_ROLES` are what a `pulumi up` of the platform (stacks/ or its layers) needs on the
environment's project: one predefined role per kind of resource the platform creates, never
Owner or Editor (README, "What a first `pulumi up` needs"). `PREVIEW_ROLES` are the read-only
counterparts `pulumi preview --refresh` needs to read every resource back: viewer roles per
service plus Security Reviewer for IAM policies, never a basic role (the pack's
`no-basic-roles`). The bootstrap (stacks/bootstrap) grants them; the state bucket and the
secrets key are granted separately, per environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from infra.catalog.source import Source

ROLES_SOURCE = Source("https://cloud.google.com/iam/docs/understanding-roles",
                      date(2026, 12, 3),
                      "the predefined roles and the permissions each holds")


@dataclass(frozen=True)
class RoleUse:
    """A role and the resources of the platform that need it."""

    role: str
    needed_for: str


DEPLOYER_ROLES: tuple[RoleUse, ...] = (
    RoleUse("roles/serviceusage.serviceUsageAdmin", "enabling APIs, generating service agents"),
    RoleUse("roles/resourcemanager.projectIamAdmin", "project IAM grants (node account roles, "
                                                     "audit config)"),
    RoleUse("roles/iam.serviceAccountAdmin", "the node service account"),
    RoleUse("roles/iam.serviceAccountUser", "running nodes as the node service account"),
    RoleUse("roles/cloudkms.admin", "key ring, keys, their IAM grants"),
    RoleUse("roles/compute.networkAdmin", "VPCs, subnets, NAT, placement policies"),
    RoleUse("roles/compute.securityAdmin", "firewalls"),
    RoleUse("roles/servicenetworking.networksAdmin", "private services access for Filestore"),
    RoleUse("roles/container.admin", "the cluster, node pools and the Kubernetes objects "
                                     "(through the DNS endpoint: container.clusters.connect)"),
    RoleUse("roles/storage.admin", "buckets and their IAM"),
    RoleUse("roles/file.editor", "Filestore"),
    RoleUse("roles/monitoring.editor", "alerts, dashboards, notification channels"),
    RoleUse("roles/logging.configWriter", "log-based metrics"),
    RoleUse("roles/storagetransfer.admin", "transfer jobs (stacks with aidc:transfers)"),
    RoleUse("roles/pubsub.admin", "transfer notifications (stacks with aidc:transfers)"),
)

PREVIEW_ROLES: tuple[RoleUse, ...] = (
    RoleUse("roles/iam.securityReviewer", "reading every IAM policy (getIamPolicy)"),
    RoleUse("roles/serviceusage.serviceUsageViewer", "enabled APIs"),
    RoleUse("roles/iam.serviceAccountViewer", "service accounts"),
    RoleUse("roles/cloudkms.viewer", "key rings and keys"),
    RoleUse("roles/compute.networkViewer", "VPCs, subnets, routers, firewalls"),
    RoleUse("roles/container.viewer", "the cluster, node pools and Kubernetes objects "
                                      "(no Secret contents)"),
    RoleUse("roles/storage.bucketViewer", "bucket metadata"),
    RoleUse("roles/file.viewer", "Filestore"),
    RoleUse("roles/monitoring.viewer", "alerts, dashboards, notification channels"),
    RoleUse("roles/logging.viewer", "log-based metrics"),
    RoleUse("roles/storagetransfer.viewer", "transfer jobs"),
    RoleUse("roles/pubsub.viewer", "transfer notification topics"),
)

# On the state bucket and the secrets key (bootstrap project), per environment.
STATE_WRITER = "roles/storage.objectUser"      # read, write and delete state, history, locks
STATE_READER = "roles/storage.objectViewer"    # read state
SECRETS_USER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"  # pulumi config set --secret; up
SECRETS_READER = "roles/cloudkms.cryptoKeyDecrypter"          # preview decrypts, never encrypts
WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"

ROLE_NEEDS = MappingProxyType({r.role: r.needed_for for r in DEPLOYER_ROLES + PREVIEW_ROLES})
