"""Data-classification policies (D1, D3) and the two stack policies (D4, D5), judged through the
analyzer protocol by the real pack."""

from __future__ import annotations

import pytest

from tests.policy_fixtures import (
    BUCKET,
    CLUSTER,
    CRYPTO_KEY,
    DELETE,
    FILESTORE,
    GOLDEN,
    KEY,
    NODE_POOL,
    Case,
    analyzer,  # noqa: F401 (module fixture)
    assert_case,
    case_id,
    mutate,
    resource,
    urn,
)

LABEL = ("labels", "data-classification")
_KEY_OK = resource(CRYPTO_KEY, "training-data-key")
_KEY_180 = resource(CRYPTO_KEY, "training-data-key", {"rotationPeriod": "15552000s"})
_KEY_NEVER = resource(CRYPTO_KEY, "training-data-key", {"rotationPeriod": DELETE})
_UNVERSIONED = {"versioning.enabled": False}

CASES = [
    # D1 data-classification-label
    Case("data-classification-label", BUCKET, {LABEL: DELETE}),
    Case("data-classification-label", BUCKET, {LABEL: "secret"}, expect="'secret'"),
    Case("data-classification-label", FILESTORE, {"labels": DELETE}),
    Case("data-classification-label", CLUSTER,
         {("resourceLabels", "data-classification"): DELETE}),
    Case("data-classification-label", CRYPTO_KEY, {LABEL: DELETE}),
    Case("data-classification-label", BUCKET, fails=False),
    Case("data-classification-label", CLUSTER, fails=False),
    Case("data-classification-label", FILESTORE, fails=False),
    Case("data-classification-label", CRYPTO_KEY, fails=False),
    # D3 restricted-versioning-or-retention
    Case("restricted-versioning-or-retention", BUCKET, _UNVERSIONED),
    Case("restricted-versioning-or-retention", BUCKET, {"versioning": DELETE},
         why="versioning omitted and the 7-day default soft delete"),
    Case("restricted-versioning-or-retention", BUCKET,
         {**_UNVERSIONED, "retentionPolicy": {"retentionPeriod": "86400"}},
         why="a 1-day retention is too short"),
    Case("restricted-versioning-or-retention", BUCKET, fails=False),
    Case("restricted-versioning-or-retention", BUCKET,
         {**_UNVERSIONED, "retentionPolicy": {"retentionPeriod": "2592000"}}, fails=False,
         why="30-day retention instead of versioning"),
    Case("restricted-versioning-or-retention", BUCKET,
         {**_UNVERSIONED, ("softDeletePolicy", "retentionDurationSeconds"): 7776000},
         fails=False, why="90-day soft delete instead of versioning"),
    Case("restricted-versioning-or-retention", BUCKET, {"versioning": DELETE}, fails=False,
         config={"restricted-versioning-or-retention": {"restrictedMinRetentionDays": 7}},
         why="the default 7-day soft delete meets a 7-day minimum"),
    Case("restricted-versioning-or-retention", BUCKET, {**_UNVERSIONED, LABEL: "internal"},
         fails=False, not_applicable=True, why="internal data"),
    # D4 restricted-bucket-key-rotation (stack)
    Case("restricted-bucket-key-rotation", BUCKET, extra=[_KEY_OK], fails=False,
         why="key in the stack rotates every 90 days"),
    Case("restricted-bucket-key-rotation", BUCKET, extra=[_KEY_180], expect="180 days"),
    Case("restricted-bucket-key-rotation", BUCKET, extra=[_KEY_NEVER], expect="never rotates"),
    Case("restricted-bucket-key-rotation", BUCKET, expect="not managed in this stack",
         why="the key is not in the stack"),
    Case("restricted-bucket-key-rotation", BUCKET, {"encryption": DELETE}, extra=[_KEY_OK],
         expect="no customer-managed key"),
    Case("restricted-bucket-key-rotation", BUCKET, extra=[_KEY_180], fails=False,
         config={"restricted-bucket-key-rotation": {"kmsMaxRotationDays": 180}},
         why="a 180-day maximum"),
    Case("restricted-bucket-key-rotation", BUCKET,
         {("encryption", "defaultKmsKeyName"): "mock-key-id-7"},
         deps={"encryption": [urn(CRYPTO_KEY, "training-data-key")]}, extra=[_KEY_180],
         expect="180 days", why="key found through the engine's property dependencies"),
    Case("restricted-bucket-key-rotation", BUCKET, {LABEL: "internal"}, fails=False,
         why="internal buckets are not checked"),
    # D5 no-node-pool-on-default-sa (stack)
    Case("no-node-pool-on-default-sa", NODE_POOL, {("nodeConfig", "serviceAccount"): DELETE},
         expect="default compute SA"),
    Case("no-node-pool-on-default-sa", NODE_POOL, {("nodeConfig", "serviceAccount"): "default"}),
    Case("no-node-pool-on-default-sa", CLUSTER, {"removeDefaultNodePool": False},
         why="the kept default pool has no service account"),
    Case("no-node-pool-on-default-sa", CLUSTER,
         {"clusterAutoscaling": {"enabled": True, "autoProvisioningDefaults": {}}},
         why="node auto-provisioning without a service account"),
    Case("no-node-pool-on-default-sa", NODE_POOL, fails=False),
    Case("no-node-pool-on-default-sa", CLUSTER, fails=False),
    # A duration that does not parse fails, saying so.
    Case("restricted-versioning-or-retention", BUCKET,
         {**_UNVERSIONED, "retentionPolicy": {"retentionPeriod": "thirty days"}},
         expect="is not a duration"),
    Case("restricted-bucket-key-rotation", BUCKET,
         extra=[resource(CRYPTO_KEY, "training-data-key", {"rotationPeriod": "NaNs"})],
         expect="is not a duration"),
]


@pytest.mark.parametrize("case", [c for c in CASES if c.fails], ids=case_id)
def test_flags_violation(analyzer, case: Case) -> None:  # noqa: F811
    """Each departure from the golden resource is a violation of the policy it breaks."""
    assert_case(analyzer, case)


@pytest.mark.parametrize("case", [c for c in CASES if not c.fails], ids=case_id)
def test_passes_compliant(analyzer, case: Case) -> None:  # noqa: F811
    """Golden resources, provider defaults that are safe and classifications below the bar pass."""
    assert_case(analyzer, case)


def test_flags_each_offending_resource_in_the_stack(analyzer) -> None:  # noqa: F811
    """The default-SA stack policy names every node pool on the default SA, by URN."""
    from tests.policy_fixtures import plan_of

    bad = [resource(NODE_POOL, f"pool-{i}", {("nodeConfig", "serviceAccount"): DELETE})
           for i in range(3)]
    result = analyzer.check(plan_of(resource(NODE_POOL, "good"), *bad))
    urns = {v.urn for v in result.violations if v.policy == "no-node-pool-on-default-sa"}
    assert urns == {r.urn for r in bad}


def test_flags_key_in_other_ring_when_names_collide(analyzer) -> None:  # noqa: F811
    """Two keys share a name: the bucket's key id picks the one in its own key ring."""
    from tests.policy_fixtures import plan_of

    other_ring = resource(CRYPTO_KEY, "other", inputs=mutate(GOLDEN[CRYPTO_KEY], {
        "keyRing": "projects/aidc-dev/locations/europe-west4/keyRings/other"}))
    own_ring_slow = resource(CRYPTO_KEY, "own", {"rotationPeriod": "15552000s"})
    assert KEY.endswith("/keyRings/aidc-dev/cryptoKeys/training-data")
    result = analyzer.check(plan_of(resource(BUCKET), other_ring, own_ring_slow))
    found = [v.message for v in result.violations if v.policy == "restricted-bucket-key-rotation"]
    assert len(found) == 1 and "'own'" in found[0]
