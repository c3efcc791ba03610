"""Encryption: customer-managed keys where the data requires them, and keys that are kept well.

Each rule is `rule(args, config) -> Iterator[message]`. Key material (raw CSEK keys) is only
tested for presence and never echoed.
Each policy's `PolicyMeta` record stands above its rule; `RULES` lists both, in roster order.
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
    duration_problem,
    duration_seconds,
    get,
    iam_grants,
    inherited_from_source,
    is_public_member,
    labels_key_for,
    node_configs,
)
from .protocol import (
    BUCKET,
    CLUSTER,
    CRYPTO_KEY,
    DERIVED_INSTANCES,
    DISK_TYPES,
    FILESTORE,
    INSTANCE,
    KMS_IAM,
    NODE_POOL,
    VM_TYPES,
)
from .record import (
    MAX_ROTATION,
    UNLABELLED,
    Cis,
    PolicyMeta,
    Rule,
    boolean_property,
    classification_property,
    integer_property,
)

_HSM_LEVELS = frozenset({"HSM", "HSM_SINGLE_TENANT", "EXTERNAL", "EXTERNAL_VPC"})


def _level(props: Any, config: Mapping[str, Any], labels_key: str = "labels") -> tuple[str, str]:
    """(classification, how it was found) for messages."""
    level = classification(props, config, labels_key)
    how = "" if classification_label(props, labels_key) == level else " (unlabelled)"
    return level, how


def _require_cmek(args: Any, config: Mapping[str, Any], labels_key: str = "labels",
                  props: Any = None) -> tuple[str, str]:
    level, how = _level(args.props if props is None else props, config, labels_key)
    threshold = str(config["cmekMinClassification"])
    if not at_least(level, threshold):
        args.not_applicable(f"classification {level}{how} is below {threshold}")
    return level, how


CMEK_MIN = {"cmekMinClassification": classification_property(
    "confidential", "Lowest data classification that must be encrypted with a customer-managed "
    "key.")}


D2 = PolicyMeta(
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
    divergence='CKV_GCP_37/38 are the nearest Checkov checks but inspect customer-supplied keys on VM disks; aidc requires a customer-managed key on buckets, Filestore and cluster secrets by data classification (no Checkov check covers those).',
)


def cmek_required_by_classification(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """D2: sensitive data is encrypted with a key we control, revoke and audit."""
    props = args.props
    level, how = _require_cmek(args, config, labels_key_for(args.resource_type))
    if args.resource_type == BUCKET:
        if not get(props, "encryption", "defaultKmsKeyName",
                   default=D2.default("encryption.defaultKmsKeyName")):
            yield (f"{level}{how} bucket uses Google-managed keys: "
                   "encryption.defaultKmsKeyName is not set")
    elif args.resource_type == FILESTORE:
        if not get(props, "kmsKeyName", default=D2.default("kmsKeyName")):
            yield f"{level}{how} Filestore instance uses Google-managed keys: kmsKeyName is not set"
    elif args.resource_type == CLUSTER:
        state = get(props, "databaseEncryption", "state",
                    default=D2.default("databaseEncryption.state"))
        if state != "ENCRYPTED" or not get(props, "databaseEncryption", "keyName"):
            yield (f"{level}{how} cluster does not encrypt Kubernetes secrets with a KMS key: "
                   f"databaseEncryption.state is {state!r}")


E2 = PolicyMeta(
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
    divergence='Stricter than CKV_GCP_43, which only needs rotation_period at most 90 days: the maximum is configurable, and a period that does not parse as seconds (NaN, negative, another unit) fails with a message instead of passing.',
)


def kms_rotation_max(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """E2: a key that never rotates keeps every version's exposure window open (CIS 1.10)."""
    purpose = get(args.props, "purpose", default=E2.default("purpose"))
    if purpose != "ENCRYPT_DECRYPT":
        args.not_applicable(f"purpose {purpose} keys cannot rotate automatically")
    max_days = float(config["kmsMaxRotationDays"])
    raw = get(args.props, "rotationPeriod", default=E2.default("rotationPeriod"))
    if raw is None:
        yield "rotationPeriod is not set, so the key never rotates"
        return
    seconds = duration_seconds(raw)
    if seconds is None:
        yield duration_problem("rotationPeriod", raw, "7776000s")
    elif seconds > max_days * DAY:
        yield f"rotationPeriod {raw} is {seconds / DAY:g} days, more than {max_days:g}"


E3 = PolicyMeta(
    id="E3", name="kms-not-public", concern="encryption", severity="critical",
    description="KMS keys and key rings grant nothing to allUsers / allAuthenticatedUsers.",
    resource_types=KMS_IAM,
    remediation="Remove the public member; grant encrypter/decrypter roles to the service "
                "agents that need them.",
    url="https://cloud.google.com/kms/docs/iam",
    defaults={"member": "(required by the provider)"},
    cis=(Cis("GCP", "2.0", "1.9"),),
    checkov=("CKV_GCP_112", "CKV2_GCP_6", "CKV2_GCP_8"),
)


def kms_not_public(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """E3: a public encrypter/decrypter role defeats CMEK (CIS 1.9)."""
    for role, member in iam_grants(args.props):
        if member == "<invalid policyData>":
            yield "policyData is not valid JSON, so its members cannot be verified"
        elif is_public_member(member):
            yield f"grants {role or 'a role'} to {member}"


E4 = PolicyMeta(
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
)


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


E5 = PolicyMeta(
    id="E5", name="kms-key-protected", concern="encryption", severity="medium",
    description="KMS keys cannot be destroyed quickly: a long scheduled-destroy delay, and "
                "Pulumi protect where required.",
    resource_types=(CRYPTO_KEY,),
    remediation="Keep destroy_scheduled_duration at or above kmsMinDestroyScheduledDays and set "
                "protect=True on keys (prod).",
    url="https://cloud.google.com/kms/docs/destroy-restore",
    defaults={"destroyScheduledDuration": "2592000s", "protect": False},
    checkov=("CKV_GCP_82",),
    config={"kmsMinDestroyScheduledDays": integer_property(
                30, "Shortest allowed scheduled-destroy delay for KMS keys, in days (provider "
                "default: 30).", minimum=1, maximum=120),
            "kmsRequireProtect": boolean_property(
                False, "Require the Pulumi protect option on KMS keys (set in prod).")},
)


def kms_key_protected(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """E5: destroying a key destroys every byte encrypted with it; make that slow and explicit."""
    min_days = float(config["kmsMinDestroyScheduledDays"])
    raw = get(args.props, "destroyScheduledDuration",
              default=E5.default("destroyScheduledDuration"))
    seconds = duration_seconds(raw)
    if seconds is None:
        yield duration_problem("destroyScheduledDuration", raw, "2592000s")
    elif seconds < min_days * DAY:
        yield f"destroyScheduledDuration is {seconds / DAY:g} days, less than {min_days:g}"
    if config["kmsRequireProtect"] and not args.opts.protect:
        yield "the key is not protected (set the Pulumi protect option)"


E6 = PolicyMeta(
    id="E6", name="kms-hsm-for-restricted", concern="encryption", severity="medium",
    description="Keys labelled restricted are HSM-backed.",
    resource_types=(CRYPTO_KEY,),
    remediation="Set version_template.protection_level='HSM' on keys for restricted data.",
    url="https://cloud.google.com/kms/docs/hsm",
    defaults={"versionTemplate.protectionLevel": "SOFTWARE"},
    policy_library=("gcp_cmek_settings_v1",),
    config={"kmsRequireHsmForRestricted": boolean_property(
        True, "Keys labelled restricted must be HSM-backed (or external).")},
)


def kms_hsm_for_restricted(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """E6: restricted data gets keys that never leave an HSM."""
    if not config["kmsRequireHsmForRestricted"]:
        args.not_applicable("kmsRequireHsmForRestricted is off")
    level = classification(args.props, config)
    if level != "restricted":
        args.not_applicable(f"key classification is {level}, not restricted")
    protection = get(args.props, "versionTemplate", "protectionLevel",
                     default=E6.default("versionTemplate.protectionLevel"))
    if protection not in _HSM_LEVELS:
        yield f"restricted key uses protectionLevel {protection!r}, not HSM"


E7 = PolicyMeta(
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
)


def disk_cmek(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """E7: VM disks with sensitive data use customer-managed (or customer-supplied) keys."""
    level, how = _require_cmek(args, config)
    props = args.props
    if args.resource_type in DISK_TYPES:
        key = get(props, "diskEncryptionKey", default={})
        if not any(get(key, k) for k in ("kmsKeySelfLink", "rawKey", "rsaEncryptedKey",
                                         "rawKeyWo", "rsaEncryptedKeyWo")):
            yield f"{level}{how} disk uses Google-managed keys: diskEncryptionKey is not set"
    elif args.resource_type in (INSTANCE, *DERIVED_INSTANCES):
        inherited_from_source(args, "bootDisk")
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


RULES: tuple[tuple[PolicyMeta, Rule], ...] = (
    (D2, cmek_required_by_classification),
    (E2, kms_rotation_max),
    (E3, kms_not_public),
    (E4, gke_node_boot_disk_cmek),
    (E5, kms_key_protected),
    (E6, kms_hsm_for_restricted),
    (E7, disk_cmek),
)
