"""Data classification: the `data-classification` label drives how strict every data rule is.

Resource rules are `rule(args, config) -> Iterator[message]`; stack rules are
`rule(args, config) -> Iterator[(message, urn)]`.
Each policy's `PolicyMeta` record stands above its rule; `RULES` lists both, in roster order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ._util import (
    DAY,
    classification,
    classification_label,
    default_sa_findings,
    duration_problem,
    duration_seconds,
    get,
    is_true,
    labels_key_for,
)
from .protocol import (
    BUCKET,
    CLASSIFICATION_LABEL,
    CLASSIFICATIONS,
    CLUSTER,
    CRYPTO_KEY,
    FILESTORE,
    NODE_POOL,
)
from .record import MAX_ROTATION, UNLABELLED, Cis, PolicyMeta, Rule, integer_property


D1 = PolicyMeta(
    id="D1", name="data-classification-label", concern="classification", severity="high",
    description="Data holders carry a valid data-classification label.",
    resource_types=(BUCKET, FILESTORE, CLUSTER, CRYPTO_KEY),
    remediation="Label the resource data-classification=<public|internal|confidential|"
                "restricted> (Cluster: resource_labels). aidc sets it from `classification`: "
                "a bucket's or the Filestore share's in aidc:storage, the cluster's in "
                "aidc:cluster, KmsSpec.classification for keys (default confidential).",
    url="https://cloud.google.com/resource-manager/docs/labels-overview",
    defaults={"labels": {}, "resourceLabels": {}},
    checkov=("CKV_GCP_21",),
    policy_library=("gcp_enforce_labels_v1",),
    pulumi=("configureRecommendedLabels",),
)


def data_classification_label(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """D1: every data rule keys off this label, so it must be there and valid."""
    key = labels_key_for(args.resource_type)
    value = classification_label(args.props, key)
    if value is None:
        yield f"{key} has no {CLASSIFICATION_LABEL!r} label (one of {', '.join(CLASSIFICATIONS)})"
    elif value not in CLASSIFICATIONS:
        yield (f"{key}.{CLASSIFICATION_LABEL} is {value!r}, not one of "
               f"{', '.join(CLASSIFICATIONS)}")


D3 = PolicyMeta(
    id="D3", name="restricted-versioning-or-retention", concern="classification",
    severity="high",
    description="Restricted buckets keep versions or a retention period.",
    resource_types=(BUCKET,),
    remediation="Enable versioning, or set a retention_policy (or soft_delete_policy) of at "
                "least restrictedMinRetentionDays.",
    url="https://cloud.google.com/storage/docs/object-versioning",
    defaults={"versioning.enabled": False, "retentionPolicy.retentionPeriod": None,
              "softDeletePolicy.retentionDurationSeconds": 604800},
    checkov=("CKV_GCP_78",),
    policy_library=("gcp_storage_bucket_retention_v1",),
    config={**UNLABELLED, "restrictedMinRetentionDays": integer_property(
        30, "Restricted buckets without versioning need a retention or soft-delete period of "
        "at least this many days.", minimum=0)},
)


def restricted_versioning_or_retention(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """D3: restricted data must survive an accidental or malicious delete."""
    level = classification(args.props, config)
    if level != "restricted":
        args.not_applicable(f"classification is {level}, not restricted")
    if is_true(get(args.props, "versioning", "enabled", default=D3.default("versioning.enabled"))):
        return
    min_seconds = float(config["restrictedMinRetentionDays"]) * DAY
    raw_retention = get(args.props, "retentionPolicy", "retentionPeriod")
    retention = duration_seconds(raw_retention)
    if retention is not None and retention >= min_seconds:
        return
    raw_soft = get(args.props, "softDeletePolicy", "retentionDurationSeconds",
                   default=D3.default("softDeletePolicy.retentionDurationSeconds"))
    soft = duration_seconds(raw_soft)
    if soft is not None and soft >= min_seconds:
        return
    if raw_retention is not None and retention is None:
        yield duration_problem("retentionPolicy.retentionPeriod", raw_retention, "2592000")
    if soft is None:
        yield duration_problem("softDeletePolicy.retentionDurationSeconds", raw_soft, "2592000")
        return
    yield (f"restricted bucket has versioning off and no retention or soft-delete period of at "
           f"least {min_seconds / DAY:g} days (soft delete: {(soft or 0) / DAY:g} days)")


def _key_ref(key_id: str) -> tuple[str, str | None]:
    """'projects/P/locations/L/keyRings/R/cryptoKeys/K' → ('K', 'R'); a bare name → (name, None)."""
    parts = key_id.strip("/").split("/")
    key = parts[parts.index("cryptoKeys") + 1] if "cryptoKeys" in parts[:-1] else parts[-1]
    ring = parts[parts.index("keyRings") + 1] if "keyRings" in parts[:-1] else None
    return key, ring


def index_crypto_keys(resources: Sequence[Any]) -> dict[str, list[Any]]:
    """The stack's CryptoKeys by `name` input, logical name and URN (for `find_crypto_keys`)."""
    index: dict[str, list[Any]] = {}
    for key in resources:
        if key.resource_type == CRYPTO_KEY:
            for ref in {get(key.props, "name", default=key.name), key.name, key.urn}:
                index.setdefault(str(ref), []).append(key)
    return index


def find_crypto_keys(referrer: Any, key_id: str, keys: Mapping[str, list[Any]],
                     dependency: str = "encryption") -> list[Any]:
    """The stack's CryptoKey(s) that `key_id` (a bucket's `defaultKmsKeyName`, a grant's
    `cryptoKeyId`) refers to.

    First the engine's property dependencies (exact); else by id: a key whose `name` input (or
    logical name, or URN) is the id's key segment, narrowed to the id's key ring when the key's
    `keyRing` input is a path. Offline the id is the mock's
    `projects/P/locations/L/keyRings/R/cryptoKeys/K`, so this stays lenient on purpose.
    """
    deps = [d for d in (referrer.property_dependencies.get(dependency) or [])
            if d.resource_type == CRYPTO_KEY]
    if deps:
        return deps
    key_name, ring = _key_ref(key_id)
    found = list(keys.get(key_id) or keys.get(key_name) or [])
    if ring is not None and len(found) > 1:
        narrowed = [k for k in found
                    if str(get(k.props, "keyRing", default="")).rstrip("/").endswith(
                        f"keyRings/{ring}")]
        found = narrowed or found
    return found


D4 = PolicyMeta(
    id="D4", name="restricted-bucket-key-rotation", concern="classification",
    severity="high", stack=True,
    description="Every restricted bucket's key is managed in the stack and rotates within "
                "the configured maximum.",
    resource_types=(BUCKET, CRYPTO_KEY),
    remediation="Create the bucket's key in the same stack (aidc's kms component) with a "
                "rotation_period of at most kmsMaxRotationDays.",
    url="https://cloud.google.com/kms/docs/key-rotation",
    defaults={"rotationPeriod": None, "encryption.defaultKmsKeyName": None},
    cis=(Cis("GCP", "2.0", "1.10"),),
    config={**UNLABELLED, **MAX_ROTATION},
)


def restricted_bucket_key_rotation(args: Any, config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """D4 (stack): a restricted bucket's key must be ours and must rotate within the limit."""
    max_seconds = float(config["kmsMaxRotationDays"]) * DAY
    keys = index_crypto_keys(args.resources)
    for bucket in args.resources:
        if bucket.resource_type != BUCKET or classification(bucket.props, config) != "restricted":
            continue
        key_id = get(bucket.props, "encryption", "defaultKmsKeyName")
        if not key_id:
            yield "restricted bucket has no customer-managed key", bucket.urn
            continue
        found = find_crypto_keys(bucket, str(key_id), keys)
        if not found:
            yield (f"restricted bucket's key {key_id!r} is not managed in this stack, so its "
                   "rotation cannot be verified"), bucket.urn
            continue
        for key in found:
            raw = get(key.props, "rotationPeriod")
            period = duration_seconds(raw)
            if raw is None:
                yield (f"restricted bucket's key {key.name!r} has no rotationPeriod (it never "
                       "rotates)"), bucket.urn
            elif period is None:
                yield (f"restricted bucket's key {key.name!r}: "
                       + duration_problem("rotationPeriod", raw, "7776000s")), bucket.urn
            elif period > max_seconds:
                yield (f"restricted bucket's key {key.name!r} rotates every {period / DAY:g} days, "
                       f"more than {max_seconds / DAY:g}"), bucket.urn


D5 = PolicyMeta(
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
)


def no_node_pool_on_default_sa(args: Any, config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """D5 (stack): not one set of nodes in the stack may run as the project-Editor default SA."""
    for resource in args.resources:
        if resource.resource_type in (CLUSTER, NODE_POOL):
            for message in default_sa_findings(resource.resource_type, resource.props):
                yield f"{resource.name}: {message}", resource.urn


RULES: tuple[tuple[PolicyMeta, Rule], ...] = (
    (D1, data_classification_label),
    (D3, restricted_versioning_or_retention),
    (D4, restricted_bucket_key_rotation),
    (D5, no_node_pool_on_default_sa),
)
