"""Identity and access: no long-lived keys, no basic roles for robots, no foreign members on
restricted data, no static cloud credentials in transfer jobs.

Resource rules are `rule(args, config) -> Iterator[message]`; stack rules yield
`(message, urn)`. Credentials are tested for presence only; their values never reach a message.
Each policy's `PolicyMeta` record stands above its rule; `RULES` lists both, in roster order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from ._util import (
    as_list,
    classification,
    get,
    gke_workload_identity,
    iam_grants,
    is_default_compute_sa,
    is_public_member,
    is_service_agent,
    is_workload_identity_member,
    member_domain,
    member_parts,
    service_account_project,
)
from .classification import find_crypto_keys, index_crypto_keys
from .protocol import (
    BUCKET,
    BUCKET_IAM,
    CRYPTO_KEY,
    HIGH_LEVEL_IAM,
    HMAC_KEY,
    KMS_IAM,
    PROJECT_IAM,
    SA_IAM,
    SA_KEY,
    TRANSFER_JOB,
)
from .record import UNLABELLED, Cis, PolicyMeta, Rule, boolean_property, strings_property

_BASIC_ROLES = ("roles/owner", "roles/editor")
_ALL_BASIC_ROLES = frozenset({*_BASIC_ROLES, "roles/viewer"})
_PROJECT_WIDE_SA_ROLES = frozenset({"roles/iam.serviceAccountUser",
                                    "roles/iam.serviceAccountTokenCreator"})
_IMPERSONATION_ROLES = frozenset({
    "roles/iam.serviceAccountTokenCreator", "roles/iam.serviceAccountAdmin",
    "roles/iam.serviceAccountKeyAdmin", "roles/iam.workloadIdentityUser",
})
_KEY_RING = "gcp:kms/keyRing:KeyRing"


I1 = PolicyMeta(
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
    config={"allowedKeyAccounts": strings_property(
        "Service accounts (ids or e-mails) allowed to have user-managed keys.")},
)


def no_user_managed_sa_keys(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """I1: an exported key is a password that never expires (CIS 1.4)."""
    if args.resource_type == HMAC_KEY:
        account = get(args.props, "serviceAccountEmail", default="?")
        kind = "HMAC key"
    else:
        account = get(args.props, "serviceAccountId", default="?")
        kind = ("uploaded public key" if get(args.props, "publicKeyData")
                else "user-managed service account key")
    allowed = as_list(config["allowedKeyAccounts"])
    if str(account) in allowed or str(account).rsplit("/", 1)[-1] in allowed:
        args.not_applicable(f"{account} is listed in allowedKeyAccounts")
    yield f"creates a {kind} for {account}"


I2 = PolicyMeta(
    id="I2", name="no-primitive-roles-for-sa", concern="iam", severity="high",
    description="Service accounts never get basic roles (owner, editor) on a project, "
                "folder or organization.",
    resource_types=HIGH_LEVEL_IAM,
    remediation="Grant the predefined roles the workload needs instead of roles/owner or "
                "roles/editor.",
    url="https://cloud.google.com/iam/docs/roles-overview#basic",
    defaults={},
    cis=(Cis("GCP", "2.0", "1.5"),),
    checkov=("CKV_GCP_42",),
    policy_library=("gcp_iam_allow_ban_roles_v1",),
    config={"primitiveRolesIncludeViewer": boolean_property(
        False, "Also forbid roles/viewer for service accounts.")},
    divergence="Narrower than CKV_GCP_42, which also fails any role whose name contains "
               "'admin' (predefined admin roles are judged by I3/I6 here); wider in scope: "
               "IAMBinding and IAMPolicy bindings, and folder and organization grants, not only "
               "project IAMMember. A `user:` member whose e-mail is a service account's counts "
               "as a service account (as CKV_GCP_42's e-mail match does). Basic roles for every "
               "other member are no-basic-roles (I11).",
)


def _basic_role_grants(args: Any, banned: Iterable[str], *,
                       service_accounts: bool) -> Iterator[str]:
    """Grants of a `banned` role to service accounts (or, `service_accounts=False`, to every
    other member); a policyData that does not parse fails closed."""
    banned = frozenset(banned)
    for role, member in iam_grants(args.props):
        if member == "<invalid policyData>":
            yield "policyData is not valid JSON, so its bindings cannot be verified"
        elif role in banned and (member_parts(member)[0] == "serviceAccount") == service_accounts:
            yield f"grants basic role {role} to {member}"


def no_primitive_roles_for_sa(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """I2: a service account with owner/editor turns one leaked token into the whole project."""
    banned = _BASIC_ROLES + (("roles/viewer",) if config["primitiveRolesIncludeViewer"] else ())
    yield from _basic_role_grants(args, banned, service_accounts=True)


I11 = PolicyMeta(
    id="I11", name="no-basic-roles", concern="iam", severity="high",
    description="No member gets a basic role (owner, editor, viewer) on a project, folder or "
                "organization.",
    resource_types=HIGH_LEVEL_IAM,
    remediation="Grant predefined or custom roles scoped to what the person or group needs "
                "(e.g. roles/container.viewer, roles/storage.objectViewer) instead of "
                "roles/owner, roles/editor or roles/viewer.",
    url="https://cloud.google.com/iam/docs/roles-overview#basic",
    defaults={},
    checkov=("CKV_GCP_115", "CKV_GCP_116", "CKV_GCP_117"),
    policy_library=("gcp_iam_allow_ban_roles_v1",),
    divergence="As CKV_GCP_115/116/117 (organization, folder, project), also for IAMPolicy "
               "bindings; service accounts are left to no-primitive-roles-for-sa (I2), so one "
               "grant is reported once.",
)


def no_basic_roles(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """I11: basic roles predate IAM and grant thousands of permissions across every service."""
    yield from _basic_role_grants(args, _ALL_BASIC_ROLES, service_accounts=False)


I3 = PolicyMeta(
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
)


def no_sa_user_token_creator_at_project(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """I3: project-wide Service Account User lets the member act as every account (CIS 1.6)."""
    for role, member in iam_grants(args.props):
        if role in _PROJECT_WIDE_SA_ROLES:
            yield f"grants {role} to {member} on every service account of the project"


def _is_foreign(member: str, config: Mapping[str, Any], own_projects: set[str]) -> bool:
    if member in as_list(config["allowedMembers"]):
        return False
    if is_public_member(member):
        return True
    kind, value = member_parts(member)
    domains = {d.lower() for d in as_list(config["allowedMemberDomains"])}
    projects = set(as_list(config["allowedProjects"])) | own_projects
    workload = gke_workload_identity(member)
    if workload is not None:  # a Kubernetes workload of the project's own identity pool
        return workload[0] not in projects
    if kind == "serviceAccount":
        if config["allowServiceAgents"] and is_service_agent(value):
            return False
        return service_account_project(value) not in projects
    if kind in ("user", "group", "domain"):
        return member_domain(member) not in domains
    if kind in ("projectOwner", "projectEditor", "projectViewer"):
        return value not in projects
    return True


def _projects_of(resource: Any) -> list[Any]:
    """The resource's own project: its `project` input, else its provider's `project`."""
    provider = getattr(resource, "provider", None)
    return [get(resource.props, "project"),
            get(provider.props, "project") if provider is not None else None]


class _Targets:
    """The stack's buckets, keys and key rings, indexed by the names grants refer to them by."""

    def __init__(self, resources: Sequence[Any]) -> None:
        self.buckets: dict[str, list[Any]] = {}
        self.rings: dict[str, list[Any]] = {}
        self.keys = index_crypto_keys(resources)
        self.keys_of_ring: dict[str, list[Any]] = {}
        for r in resources:
            if r.resource_type == BUCKET:
                for ref in {str(get(r.props, "name", default=r.name)), r.name}:
                    self.buckets.setdefault(ref, []).append(r)
            elif r.resource_type == _KEY_RING:
                for ref in {str(get(r.props, "name", default=r.name)), r.name}:
                    self.rings.setdefault(ref, []).append(r)
            elif r.resource_type == CRYPTO_KEY:
                ring = str(get(r.props, "keyRing", default="")).rstrip("/").rsplit("/", 1)[-1]
                self.keys_of_ring.setdefault(ring, []).append(r)
                for dep in r.property_dependencies.get("keyRing") or []:
                    self.keys_of_ring.setdefault(dep.urn, []).append(r)

    def of(self, grant: Any) -> list[Any]:
        """The bucket(s), key(s) or key ring(s) an IAM resource applies to (engine
        dependencies first, then by name)."""
        for prop in ("bucket", "cryptoKeyId", "keyRingId"):
            deps = [d for d in grant.property_dependencies.get(prop) or []
                    if d.resource_type in (BUCKET, CRYPTO_KEY, _KEY_RING)]
            if deps:
                return deps
        if grant.resource_type in BUCKET_IAM:
            bucket = str(get(grant.props, "bucket", default="")).removeprefix("b/")
            return list(self.buckets.get(bucket, []))
        key_id = get(grant.props, "cryptoKeyId")
        if key_id:
            return find_crypto_keys(grant, str(key_id), self.keys, dependency="cryptoKeyId")
        ring_id = str(get(grant.props, "keyRingId", default=""))
        return list(self.rings.get(ring_id.rstrip("/").rsplit("/", 1)[-1], []))

    def restricted(self, target: Any, config: Mapping[str, Any]) -> bool:
        """A bucket or key by its label; a key ring when any of its keys is restricted."""
        if target.resource_type != _KEY_RING:
            return classification(target.props, config) == "restricted"
        keys = {id(k): k for k in (
            *self.keys_of_ring.get(target.urn, []),
            *self.keys_of_ring.get(str(get(target.props, "name", default=target.name)), []))}
        return any(classification(k.props, config) == "restricted" for k in keys.values())


I4 = PolicyMeta(
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
            "allowedMemberDomains": strings_property(
                "Domains whose users and groups may be granted restricted data."),
            "allowedProjects": strings_property(
                "Projects whose service accounts may be granted restricted data (the "
                "resource's own project always may)."),
            "allowedMembers": strings_property(
                "Exact IAM members allowed on restricted data, e.g. a federated principal://."),
            "allowServiceAgents": boolean_property(
                True, "Google service agents (service-NNN@...) may be granted restricted data.")},
)


def restricted_no_foreign_members(args: Any, config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """I4 (stack): restricted data is shared only inside the organisation's domains/projects."""
    index = _Targets(args.resources)
    for grant in args.resources:
        if grant.resource_type not in BUCKET_IAM and grant.resource_type not in KMS_IAM:
            continue
        targets = [t for t in index.of(grant) if index.restricted(t, config)]
        if not targets:
            continue
        names = ", ".join(sorted({t.name for t in targets}))
        own = {str(p) for t in targets for p in _projects_of(t) if p}
        for role, member in iam_grants(grant.props):
            if member == "<invalid policyData>":
                yield f"policyData on restricted {names} is not valid JSON", grant.urn
            elif _is_foreign(member, config, own):
                yield (f"grants {role or 'a role'} on restricted {names} to {member}, outside "
                       "allowedMemberDomains/allowedProjects"), grant.urn


I5 = PolicyMeta(
    id="I5", name="default-compute-sa-not-granted", concern="iam", severity="medium",
    description="The default compute service account gets no project roles.",
    resource_types=HIGH_LEVEL_IAM,
    remediation="Use a dedicated service account instead of "
                "<number>-compute@developer.gserviceaccount.com.",
    url="https://cloud.google.com/compute/docs/access/service-accounts"
        "#default_service_account",
    defaults={},
    checkov=("CKV_GCP_46",),
)


def default_compute_sa_not_granted(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """I5: roles on the default compute SA reach every VM that runs as it."""
    for role, member in iam_grants(args.props):
        if member_parts(member)[0] == "serviceAccount" and is_default_compute_sa(member):
            yield f"grants {role} to the default compute service account {member}"


I6 = PolicyMeta(
    id="I6", name="no-sa-impersonation-roles", concern="iam", severity="medium",
    description="Service account impersonation roles go only to allow-listed members.",
    resource_types=(*PROJECT_IAM, *SA_IAM),
    remediation="Remove the impersonation grant or add the member to allowedImpersonators. "
                "Workload Identity bindings (PROJECT.svc.id.goog[ns/ksa]) are always allowed "
                "for roles/iam.workloadIdentityUser.",
    url="https://cloud.google.com/iam/docs/service-account-permissions",
    defaults={},
    checkov=("CKV_GCP_49",),
    config={"allowedImpersonators": strings_property(
        "Members allowed service-account impersonation roles.")},
)


def no_sa_impersonation_roles(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """I6: impersonation is privilege escalation unless the member is meant to have it."""
    allowed = as_list(config["allowedImpersonators"])
    for role, member in iam_grants(args.props):
        if role not in _IMPERSONATION_ROLES or member in allowed:
            continue
        if role == "roles/iam.workloadIdentityUser" and is_workload_identity_member(member):
            continue
        scope = "on the service account" if args.resource_type in SA_IAM else "project-wide"
        yield f"grants {role} to {member} {scope}; not in allowedImpersonators"


I7 = PolicyMeta(
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
)


def transfer_job_no_static_keys(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """I7: static AWS/Azure keys in a transfer job are long-lived secrets in state."""
    spec = get(args.props, "transferSpec", default={})
    aws = get(spec, "awsS3DataSource")
    azure = get(spec, "azureBlobStorageDataSource")
    if aws is None and azure is None:
        args.not_applicable("the job reads neither Amazon S3 nor Azure Blob Storage")
    if aws is not None and "awsAccessKey" in aws and get(aws, "awsAccessKey") is not None:
        yield (f"S3 source {get(aws, 'bucketName', default='?')!r} uses a static AWS access key "
               "(awsAccessKey) instead of roleArn federation; the key is stored in state")
    if azure is not None and get(azure, "azureCredentials") is not None:
        yield (f"Azure source {get(azure, 'container', default='?')!r} uses a static SAS token "
               "(azureCredentials) instead of federatedIdentityConfig")


RULES: tuple[tuple[PolicyMeta, Rule], ...] = (
    (I1, no_user_managed_sa_keys),
    (I2, no_primitive_roles_for_sa),
    (I11, no_basic_roles),
    (I3, no_sa_user_token_creator_at_project),
    (I4, restricted_no_foreign_members),
    (I5, default_compute_sa_not_granted),
    (I6, no_sa_impersonation_roles),
    (I7, transfer_job_no_static_keys),
)
