"""Public access: nothing that holds data is readable by the internet.

Each rule is `rule(args, config) -> Iterator[message]`; the pack (`policies/pack.py`) filters by
resource type, applies waivers and reports. Messages name the offending setting, never a secret.
Each policy's `PolicyMeta` record stands above its rule; `RULES` lists both, in roster order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._util import as_list, get, iam_grants, is_public_member, is_world, within
from .protocol import BUCKET, BUCKET_ACLS, DATA_IAM, FILESTORE, PROJECT_IAM, VM_TYPES
from .record import Cis, PolicyMeta, Rule, strings_property

_PUBLIC_READ_ROLES = frozenset({
    "roles/storage.objectViewer", "roles/storage.legacyObjectReader",
    "roles/storage.legacyBucketReader",
})
_BUCKET_IAM_PREFIX = "gcp:storage/bucketIAM"


def _bucket_allowed_public(args: Any, config: Mapping[str, Any], bucket: Any) -> bool:
    allowed = as_list(config["allowedPublicBuckets"])
    return isinstance(bucket, str) and bool(allowed) and (
        bucket in allowed or bucket.removeprefix("b/") in allowed)


ALLOWED_PUBLIC_BUCKETS = {"allowedPublicBuckets": strings_property(
    "Bucket names (or Pulumi logical names) that may be public: `public`-classified content only.")}


P1 = PolicyMeta(
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
)


def no_public_members(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """P1: allUsers / allAuthenticatedUsers on a data holder (or project) is a data leak."""
    bucket = get(args.props, "bucket")
    for role, member in iam_grants(args.props):
        if member == "<invalid policyData>":
            yield "policyData is not valid JSON, so its members cannot be verified"
        elif is_public_member(member):
            if (args.resource_type.startswith(_BUCKET_IAM_PREFIX) and role in _PUBLIC_READ_ROLES
                    and _bucket_allowed_public(args, config, bucket)):
                continue
            target = f" on bucket {bucket!r}" if bucket else ""
            yield f"grants {role or 'a role'} to {member}{target}"


P2 = PolicyMeta(
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
)


def bucket_public_access_prevention(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """P2: enforced public access prevention makes P1/P4 mistakes harmless."""
    name = get(args.props, "name", default=args.name)
    allowed = as_list(config["allowedPublicBuckets"])
    if name in allowed or args.name in allowed:
        args.not_applicable(f"bucket {name!r} is listed in allowedPublicBuckets")
    value = get(args.props, "publicAccessPrevention", default=P2.default("publicAccessPrevention"))
    if value != "enforced":
        yield (f"publicAccessPrevention is {value!r}"
               f"{' (the provider default)' if 'publicAccessPrevention' not in args.props else ''}"
               ", not 'enforced'")


P3 = PolicyMeta(
    id="P3", name="bucket-uniform-access", concern="public_access", severity="high",
    description="Buckets use uniform bucket-level access (IAM only, no object ACLs).",
    resource_types=(BUCKET,),
    remediation="Set uniform_bucket_level_access=True on the bucket.",
    url="https://cloud.google.com/storage/docs/uniform-bucket-level-access",
    defaults={"uniformBucketLevelAccess": False},
    cis=(Cis("GCP", "2.0", "5.2"),),
    checkov=("CKV_GCP_29",),
    policy_library=("gcp_storage_bucket_policy_only_v1",),
)


def bucket_uniform_access(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """P3: object ACLs bypass IAM and the public access checks built on it."""
    value = get(args.props, "uniformBucketLevelAccess",
                default=P3.default("uniformBucketLevelAccess"))
    if value is not True:
        yield "uniformBucketLevelAccess is off, so object ACLs can grant access outside IAM"


P4 = PolicyMeta(
    id="P4", name="bucket-acl-not-public", concern="public_access", severity="critical",
    description="Bucket and object ACLs grant nothing to allUsers / allAuthenticatedUsers.",
    resource_types=BUCKET_ACLS,
    remediation="Drop the public predefined ACL or the allUsers/allAuthenticatedUsers "
                "entity; prefer uniform bucket-level access and IAM.",
    url="https://cloud.google.com/storage/docs/access-control/lists",
    defaults={"predefinedAcl": None, "roleEntities": []},
    cis=(Cis("GCP", "2.0", "5.1"),),
    pulumi=("storage-bucket-no-public-read",),
)


def bucket_acl_not_public(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """P4: a public predefined ACL or entity is P1 through the back door."""
    props = args.props
    predefined = get(props, "predefinedAcl")
    if isinstance(predefined, str) and "public" in predefined.lower():
        yield f"predefinedAcl {predefined!r} makes the data public"
    for entry in as_list(get(props, "roleEntities")):
        _, _, entity = str(entry).partition(":")
        if is_public_member(entity):
            yield f"roleEntities grants {entry!r}"
    entity = get(props, "entity")
    if isinstance(entity, str) and is_public_member(entity):
        yield f"entity {entity!r} is public (role {get(props, 'role', default='?')})"


P5 = PolicyMeta(
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
    config={"allowedNfsRanges": strings_property(
        "CIDRs Filestore shares may be exported to; empty: any range but the internet.")},
)


def filestore_export_restricted(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """P5: without export options every VPC client mounts the share as root."""
    options = as_list(get(args.props, "fileShares", "nfsExportOptions"))
    if not options:
        yield ("fileShares has no nfsExportOptions: every client on the VPC may mount the share "
               "read-write with root access")
        return
    allowed = as_list(config["allowedNfsRanges"])
    for i, option in enumerate(options):
        ranges = as_list(get(option, "ipRanges"))
        if not ranges:
            yield f"nfsExportOptions[{i}] has no ipRanges, so it applies to every client"
        for cidr in ranges:
            if is_world(cidr):
                yield f"nfsExportOptions[{i}] exports to {cidr}"
            elif allowed and not within(str(cidr).split("-")[0], allowed):
                yield f"nfsExportOptions[{i}] range {cidr} is outside allowedNfsRanges"
        mode = get(option, "accessMode", default=P5.default("nfsExportOptions[].accessMode"))
        squash = get(option, "squashMode", default=P5.default("nfsExportOptions[].squashMode"))
        if mode == "READ_WRITE" and squash != "ROOT_SQUASH":
            yield (f"nfsExportOptions[{i}] is READ_WRITE with squashMode {squash!r}: clients get "
                   "root on the share")


P6 = PolicyMeta(
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
)


def instance_no_external_ip(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """P6: an external IP puts the VM on the internet; use IAP and Cloud NAT."""
    for i, nic in enumerate(as_list(get(args.props, "networkInterfaces"))):
        if as_list(get(nic, "accessConfigs")):
            yield f"networkInterfaces[{i}] has an accessConfig (external IPv4 address)"
        if as_list(get(nic, "ipv6AccessConfigs")):
            yield f"networkInterfaces[{i}] has an ipv6AccessConfig (external IPv6 address)"


RULES: tuple[tuple[PolicyMeta, Rule], ...] = (
    (P1, no_public_members),
    (P2, bucket_public_access_prevention),
    (P3, bucket_uniform_access),
    (P4, bucket_acl_not_public),
    (P5, filestore_export_restricted),
    (P6, instance_no_external_ip),
)
