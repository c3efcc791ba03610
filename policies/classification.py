"""Data classification: the `data-classification` label drives how strict every data rule is.

Resource rules are `rule(args, config) -> Iterator[message]`; stack rules are
`rule(args, config) -> Iterator[(message, urn)]`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ._util import (
    DAY,
    classification,
    classification_label,
    default_sa_findings,
    duration_seconds,
    get,
    is_true,
    labels_key_for,
)
from .metadata import meta
from .protocol import BUCKET, CLASSIFICATION_LABEL, CLASSIFICATIONS, CLUSTER, CRYPTO_KEY, NODE_POOL


def data_classification_label(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """D1: every data rule keys off this label, so it must be there and valid."""
    key = labels_key_for(args.resource_type)
    value = classification_label(args.props, key)
    if value is None:
        yield f"{key} has no {CLASSIFICATION_LABEL!r} label (one of {', '.join(CLASSIFICATIONS)})"
    elif value not in CLASSIFICATIONS:
        yield (f"{key}.{CLASSIFICATION_LABEL} is {value!r}, not one of "
               f"{', '.join(CLASSIFICATIONS)}")


def restricted_versioning_or_retention(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """D3: restricted data must survive an accidental or malicious delete."""
    m = meta("D3")
    level = classification(args.props, config)
    if level != "restricted":
        args.not_applicable(f"classification is {level}, not restricted")
    if is_true(get(args.props, "versioning", "enabled", default=m.default("versioning.enabled"))):
        return
    min_seconds = float(config.get("minRetentionDays", 30)) * DAY
    retention = duration_seconds(get(args.props, "retentionPolicy", "retentionPeriod"))
    if retention is not None and retention >= min_seconds:
        return
    soft = duration_seconds(get(args.props, "softDeletePolicy", "retentionDurationSeconds",
                                default=m.default("softDeletePolicy.retentionDurationSeconds")))
    if soft is not None and soft >= min_seconds:
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


def restricted_bucket_key_rotation(args: Any, config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """D4 (stack): a restricted bucket's key must be ours and must rotate within the limit."""
    max_seconds = float(config.get("maxRotationDays", 90)) * DAY
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
            period = duration_seconds(get(key.props, "rotationPeriod"))
            if period is None:
                yield (f"restricted bucket's key {key.name!r} has no rotationPeriod (it never "
                       "rotates)"), bucket.urn
            elif period > max_seconds:
                yield (f"restricted bucket's key {key.name!r} rotates every {period / DAY:g} days, "
                       f"more than {max_seconds / DAY:g}"), bucket.urn


def no_node_pool_on_default_sa(args: Any, config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """D5 (stack): not one set of nodes in the stack may run as the project-Editor default SA."""
    for resource in args.resources:
        if resource.resource_type in (CLUSTER, NODE_POOL):
            for message in default_sa_findings(resource.resource_type, resource.props):
                yield f"{resource.name}: {message}", resource.urn


RULES = {
    "D1": data_classification_label,
    "D3": restricted_versioning_or_retention,
    "D4": restricted_bucket_key_rotation,
    "D5": no_node_pool_on_default_sa,
}
