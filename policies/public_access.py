"""Public access: nothing that holds data is readable by the internet.

Each rule is `rule(args, config) -> Iterator[message]`; the pack (`policies/pack.py`) filters by
resource type, applies waivers and reports. Messages name the offending setting, never a secret.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._util import as_list, get, iam_grants, is_public_member, is_world, within
from .metadata import meta

_PUBLIC_READ_ROLES = frozenset({
    "roles/storage.objectViewer", "roles/storage.legacyObjectReader",
    "roles/storage.legacyBucketReader",
})
_BUCKET_IAM_PREFIX = "gcp:storage/bucketIAM"


def _bucket_allowed_public(args: Any, config: Mapping[str, Any], bucket: Any) -> bool:
    allowed = as_list(config.get("allowedPublicBuckets"))
    return isinstance(bucket, str) and bool(allowed) and (
        bucket in allowed or bucket.removeprefix("b/") in allowed)


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


def bucket_public_access_prevention(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """P2: enforced public access prevention makes P1/P4 mistakes harmless."""
    m = meta("P2")
    name = get(args.props, "name", default=args.name)
    allowed = as_list(config.get("allowedPublicBuckets"))
    if name in allowed or args.name in allowed:
        args.not_applicable(f"bucket {name!r} is listed in allowedPublicBuckets")
    value = get(args.props, "publicAccessPrevention", default=m.default("publicAccessPrevention"))
    if value != "enforced":
        yield (f"publicAccessPrevention is {value!r}"
               f"{' (the provider default)' if 'publicAccessPrevention' not in args.props else ''}"
               ", not 'enforced'")


def bucket_uniform_access(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """P3: object ACLs bypass IAM and the public access checks built on it."""
    value = get(args.props, "uniformBucketLevelAccess",
                default=meta("P3").default("uniformBucketLevelAccess"))
    if value is not True:
        yield "uniformBucketLevelAccess is off, so object ACLs can grant access outside IAM"


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


def filestore_export_restricted(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """P5: without export options every VPC client mounts the share as root."""
    m = meta("P5")
    options = as_list(get(args.props, "fileShares", "nfsExportOptions"))
    if not options:
        yield ("fileShares has no nfsExportOptions: every client on the VPC may mount the share "
               "read-write with root access")
        return
    allowed = as_list(config.get("allowedNfsRanges"))
    for i, option in enumerate(options):
        ranges = as_list(get(option, "ipRanges"))
        if not ranges:
            yield f"nfsExportOptions[{i}] has no ipRanges, so it applies to every client"
        for cidr in ranges:
            if is_world(cidr):
                yield f"nfsExportOptions[{i}] exports to {cidr}"
            elif allowed and not within(str(cidr).split("-")[0], allowed):
                yield f"nfsExportOptions[{i}] range {cidr} is outside allowedNfsRanges"
        mode = get(option, "accessMode", default=m.default("nfsExportOptions[].accessMode"))
        squash = get(option, "squashMode", default=m.default("nfsExportOptions[].squashMode"))
        if mode == "READ_WRITE" and squash != "ROOT_SQUASH":
            yield (f"nfsExportOptions[{i}] is READ_WRITE with squashMode {squash!r}: clients get "
                   "root on the share")


def instance_no_external_ip(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """P6: an external IP puts the VM on the internet; use IAP and Cloud NAT."""
    for i, nic in enumerate(as_list(get(args.props, "networkInterfaces"))):
        if as_list(get(nic, "accessConfigs")):
            yield f"networkInterfaces[{i}] has an accessConfig (external IPv4 address)"
        if as_list(get(nic, "ipv6AccessConfigs")):
            yield f"networkInterfaces[{i}] has an ipv6AccessConfig (external IPv6 address)"


RULES = {
    "P1": no_public_members,
    "P2": bucket_public_access_prevention,
    "P3": bucket_uniform_access,
    "P4": bucket_acl_not_public,
    "P5": filestore_export_restricted,
    "P6": instance_no_external_ip,
}
