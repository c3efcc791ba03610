"""Encryption: customer-managed keys where the data requires them, and keys that are kept well.

Each rule is `rule(args, config) -> Iterator[message]`. Key material (raw CSEK keys) is only
tested for presence and never echoed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._util import (
    DAY,
    as_list,
    at_least,
    classification,
    classification_label,
    duration_seconds,
    get,
    iam_grants,
    is_public_member,
    labels_key_for,
    node_configs,
)
from .metadata import meta
from .protocol import BUCKET, CLUSTER, DISK_TYPES, FILESTORE, INSTANCE

_HSM_LEVELS = frozenset({"HSM", "HSM_SINGLE_TENANT", "EXTERNAL", "EXTERNAL_VPC"})


def _level(props: Any, config: Mapping[str, Any], labels_key: str = "labels") -> tuple[str, str]:
    """(classification, how it was found) for messages."""
    level = classification(props, config, labels_key)
    how = "" if classification_label(props, labels_key) == level else " (unlabelled)"
    return level, how


def _require_cmek(args: Any, config: Mapping[str, Any], labels_key: str = "labels",
                  props: Any = None) -> tuple[str, str]:
    level, how = _level(args.props if props is None else props, config, labels_key)
    threshold = str(config.get("cmekMinClassification", "confidential"))
    if not at_least(level, threshold):
        args.not_applicable(f"classification {level}{how} is below {threshold}")
    return level, how


def cmek_required_by_classification(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """D2: sensitive data is encrypted with a key we control, revoke and audit."""
    m = meta("D2")
    props = args.props
    level, how = _require_cmek(args, config, labels_key_for(args.resource_type))
    if args.resource_type == BUCKET:
        if not get(props, "encryption", "defaultKmsKeyName",
                   default=m.default("encryption.defaultKmsKeyName")):
            yield (f"{level}{how} bucket uses Google-managed keys: "
                   "encryption.defaultKmsKeyName is not set")
    elif args.resource_type == FILESTORE:
        if not get(props, "kmsKeyName", default=m.default("kmsKeyName")):
            yield f"{level}{how} Filestore instance uses Google-managed keys: kmsKeyName is not set"
    elif args.resource_type == CLUSTER:
        state = get(props, "databaseEncryption", "state",
                    default=m.default("databaseEncryption.state"))
        if state != "ENCRYPTED" or not get(props, "databaseEncryption", "keyName"):
            yield (f"{level}{how} cluster does not encrypt Kubernetes secrets with a KMS key: "
                   f"databaseEncryption.state is {state!r}")


def kms_rotation_max(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """E2: a key that never rotates keeps every version's exposure window open (CIS 1.10)."""
    m = meta("E2")
    purpose = get(args.props, "purpose", default=m.default("purpose"))
    if purpose != "ENCRYPT_DECRYPT":
        args.not_applicable(f"purpose {purpose} keys cannot rotate automatically")
    max_days = float(config.get("maxRotationDays", 90))
    raw = get(args.props, "rotationPeriod", default=m.default("rotationPeriod"))
    if raw is None:
        yield "rotationPeriod is not set, so the key never rotates"
        return
    seconds = duration_seconds(raw)
    if seconds is None:
        yield f"rotationPeriod {raw!r} is not a duration like '7776000s'"
    elif seconds > max_days * DAY:
        yield f"rotationPeriod {raw} is {seconds / DAY:g} days, more than {max_days:g}"


def kms_not_public(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """E3: a public encrypter/decrypter role defeats CMEK (CIS 1.9)."""
    for role, member in iam_grants(args.props):
        if member == "<invalid policyData>":
            yield "policyData is not valid JSON, so its members cannot be verified"
        elif is_public_member(member):
            yield f"grants {role or 'a role'} to {member}"


def gke_node_boot_disk_cmek(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """E4: node boot disks hold images, caches and scratch copies of the data."""
    if args.resource_type == CLUSTER:
        level, how = _require_cmek(args, config, "resourceLabels")
    else:
        level, how = _require_cmek(args, config, "resourceLabels",
                                   props=get(args.props, "nodeConfig", default={}))
    for where, block in node_configs(args.resource_type, args.props):
        if not get(block, "bootDiskKmsKey"):
            yield f"{level}{how} nodes: {where}.bootDiskKmsKey is not set"


def kms_key_protected(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """E5: destroying a key destroys every byte encrypted with it; make that slow and explicit."""
    m = meta("E5")
    min_days = float(config.get("minDestroyScheduledDays", 30))
    raw = get(args.props, "destroyScheduledDuration", default=m.default("destroyScheduledDuration"))
    seconds = duration_seconds(raw)
    if seconds is None:
        yield f"destroyScheduledDuration {raw!r} is not a duration like '2592000s'"
    elif seconds < min_days * DAY:
        yield f"destroyScheduledDuration is {seconds / DAY:g} days, less than {min_days:g}"
    if config.get("requireProtect") and not args.opts.protect:
        yield "the key is not protected (set the Pulumi protect option)"


def kms_hsm_for_restricted(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """E6: restricted data gets keys that never leave an HSM."""
    if not config.get("requireHsmForRestricted", True):
        args.not_applicable("requireHsmForRestricted is off")
    level = classification(args.props, config)
    if level != "restricted":
        args.not_applicable(f"key classification is {level}, not restricted")
    protection = get(args.props, "versionTemplate", "protectionLevel",
                     default=meta("E6").default("versionTemplate.protectionLevel"))
    if protection not in _HSM_LEVELS:
        yield f"restricted key uses protectionLevel {protection!r}, not HSM"


def disk_cmek(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """E7: VM disks with sensitive data use customer-managed (or customer-supplied) keys."""
    level, how = _require_cmek(args, config)
    props = args.props
    if args.resource_type in DISK_TYPES:
        key = get(props, "diskEncryptionKey", default={})
        if not any(get(key, k) for k in ("kmsKeySelfLink", "rawKey", "rsaEncryptedKey",
                                         "rawKeyWo", "rsaEncryptedKeyWo")):
            yield f"{level}{how} disk uses Google-managed keys: diskEncryptionKey is not set"
    elif args.resource_type == INSTANCE:
        boot = get(props, "bootDisk", default={})
        if get(boot, "source"):
            return  # an existing Disk: judged on the Disk resource itself
        if not any(get(boot, k) for k in ("kmsKeySelfLink", "diskEncryptionKeyRaw",
                                          "diskEncryptionKeyRsa")):
            yield f"{level}{how} VM boot disk uses Google-managed keys: bootDisk.kmsKeySelfLink is not set"
    else:
        for i, disk in enumerate(as_list(get(props, "disks"))):
            if get(disk, "source"):
                continue
            if not get(disk, "diskEncryptionKey", "kmsKeySelfLink"):
                yield (f"{level}{how} template disks[{i}] uses Google-managed keys: "
                       "diskEncryptionKey.kmsKeySelfLink is not set")


RULES = {
    "D2": cmek_required_by_classification,
    "E2": kms_rotation_max,
    "E3": kms_not_public,
    "E4": gke_node_boot_disk_cmek,
    "E5": kms_key_protected,
    "E6": kms_hsm_for_restricted,
    "E7": disk_cmek,
}
