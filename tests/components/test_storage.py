"""DataBuckets built alone (with the KmsKeys whose storage key it uses) under the mocks: one
closed, CMEK-encrypted bucket per purpose of the `aidc:storage` section, ordered after the GCS
agent's key grant, with its versioning, lifecycle, retention, labels and usage logs."""

from __future__ import annotations

import pytest

from components.kms import KmsKeys, KmsSpec
from components.storage import BucketsSpec, DataBuckets
from infra.config.storage import BucketSpec, StorageConfig
from tests.helpers import (
    PROJECT,
    REGION,
    Captured,
    agent,
    by_name,
    contract,
    inputs,
    of_type,
    plan_of,
)

BUCKET = "gcp:storage/bucket:Bucket"
BUCKET_IAM = "gcp:storage/bucketIAMMember:BucketIAMMember"
DAY = 86400


def buckets_spec(buckets: dict[str, BucketSpec], *, access_logs: bool = False,
                 protect: bool = False) -> BucketsSpec:
    return BucketsSpec(
        config=StorageConfig(buckets=buckets), region=REGION,
        bucket_names={p: f"{PROJECT}-test-{p}" for p in buckets},
        access_log_bucket=f"{PROJECT}-test-access-logs" if access_logs else None,
        protect=protect, labels={"managed-by": "aidc", "environment": "test"})


def storage_program(buckets: dict[str, BucketSpec], captured: Captured, *,
                    access_logs: bool = False, protect: bool = False):
    def program() -> None:
        kms = KmsKeys("kms", KmsSpec(key_ring="aidc-test", location=REGION), project=PROJECT)
        captured.keep("storage_key", kms.keys["storage"].id)
        DataBuckets("data", buckets_spec(buckets, access_logs=access_logs, protect=protect),
                    project=PROJECT, kms_key_id=kms.key_ids["storage"],
                    key_grants=kms.grants["storage"])
    return program


BUCKETS = {
    "datasets": BucketSpec(classification="restricted", retention_days=30),
    "checkpoints": BucketSpec(classification="confidential", soft_delete_days=30),
    "models": BucketSpec(classification="internal"),
    "scratch": BucketSpec(classification="public", soft_delete_days=0, storage_class="NEARLINE"),
}


@pytest.mark.parametrize("protect", [True, False])
def test_buckets_protection_follows_spec(protect: bool) -> None:
    """Stateful first: every bucket (the access-log bucket included) is protected exactly when
    the spec says so (stacks set it for production)."""
    plan = plan_of(storage_program(BUCKETS, Captured(), access_logs=True, protect=protect))
    buckets = of_type(plan, BUCKET)
    assert len(buckets) == len(BUCKETS) + 1
    assert {b.protect for b in buckets} == {protect}


def test_buckets_children() -> None:
    """One bucket per purpose named `<name>-<purpose>`, plus the access-log bucket and its
    writer grant when access logs are on; all children of the component."""
    plan = plan_of(storage_program(BUCKETS, Captured(), access_logs=True))
    assert contract(plan, "data") == (
        {(BUCKET, f"data-{p}", "data") for p in BUCKETS}
        | {(BUCKET, "data-access-logs", "data"),
           (BUCKET_IAM, "data-access-logs-writer", "data")})
    assert by_name(plan, "data").type == "aidc:storage:DataBuckets"
    without_logs = plan_of(storage_program(BUCKETS, Captured()))
    assert contract(without_logs, "data") == {(BUCKET, f"data-{p}", "data") for p in BUCKETS}


def test_buckets_encrypted_with_storage_key_after_grant() -> None:
    """Every bucket's default KMS key is the kms-storage CryptoKey's id, and every bucket
    depends on the GCS agent's grant on that key (else creation races the grant)."""
    captured = Captured()
    plan = plan_of(storage_program(BUCKETS, captured, access_logs=True))
    grant = by_name(plan, "kms-storage-agent")
    assert grant.inputs["member"] == agent("gs-project-accounts.iam.gserviceaccount.com")
    for bucket in of_type(plan, BUCKET):
        assert bucket.inputs["encryption"] == {"defaultKmsKeyName": captured["storage_key"]}, bucket.name
        assert grant.urn in bucket.dependencies, bucket.name


def test_buckets_closed_by_default() -> None:
    """Uniform bucket-level access, enforced public access prevention, never force-destroyed,
    in the given location and project, with the cloud name from the spec."""
    plan = plan_of(storage_program(BUCKETS, Captured(), access_logs=True))
    for bucket in of_type(plan, BUCKET):
        i = bucket.inputs
        assert i["uniformBucketLevelAccess"] is True, bucket.name
        assert i["publicAccessPrevention"] == "enforced", bucket.name
        assert i["forceDestroy"] is False, bucket.name
        assert i["location"] == REGION
        assert i["project"] == PROJECT
    for purpose in BUCKETS:
        assert inputs(plan, f"data-{purpose}")["name"] == f"{PROJECT}-test-{purpose}"


def test_buckets_versioning_defaults() -> None:
    """Versioning is on for checkpoints and models, off otherwise, unless the spec says."""
    buckets = {
        "checkpoints": BucketSpec(), "models": BucketSpec(), "datasets": BucketSpec(),
        "artifacts": BucketSpec(versioning=True), "weights": BucketSpec(),
    }
    plan = plan_of(storage_program(
        {**buckets, "models": BucketSpec(versioning=False)}, Captured()))
    got = {p: inputs(plan, f"data-{p}")["versioning"]["enabled"] for p in buckets}
    assert got == {"checkpoints": True, "models": False, "datasets": False, "artifacts": True,
                   "weights": False}


def test_buckets_soft_delete_and_retention() -> None:
    """Soft delete is the configured days in seconds (7 by default, 0 disables); a retention
    policy appears only when set, as a string of seconds."""
    plan = plan_of(storage_program(BUCKETS, Captured()))
    soft = {p: inputs(plan, f"data-{p}")["softDeletePolicy"]["retentionDurationSeconds"]
            for p in BUCKETS}
    assert soft == {"datasets": 7 * DAY, "checkpoints": 30 * DAY, "models": 7 * DAY, "scratch": 0}
    assert inputs(plan, "data-datasets")["retentionPolicy"] == {"retentionPeriod": str(30 * DAY)}
    for purpose in ("checkpoints", "models", "scratch"):
        assert "retentionPolicy" not in inputs(plan, f"data-{purpose}")


def test_buckets_labels_and_class() -> None:
    """Each bucket carries its data-classification and purpose labels over the stack's labels,
    its own labels, and its storage class."""
    buckets = {"datasets": BucketSpec(classification="restricted", labels={"owner": "data-eng"}),
               "scratch": BucketSpec(classification="public", storage_class="NEARLINE")}
    plan = plan_of(storage_program(buckets, Captured()))
    assert inputs(plan, "data-datasets")["labels"] == {
        "managed-by": "aidc", "environment": "test", "owner": "data-eng",
        "purpose": "datasets", "data-classification": "restricted"}
    assert inputs(plan, "data-scratch")["labels"]["data-classification"] == "public"
    assert inputs(plan, "data-scratch")["storageClass"] == "NEARLINE"
    assert inputs(plan, "data-datasets")["storageClass"] == "STANDARD"


def test_buckets_lifecycle_rules() -> None:
    """Every bucket aborts stale multipart uploads after 7 days; versioned ones drop noncurrent
    versions after 30; the user's rules follow, in order, as written."""
    buckets = {
        "checkpoints": BucketSpec(lifecycle=[
            {"action": "SetStorageClass", "age_days": 30, "storage_class": "NEARLINE"},
            {"action": "Delete", "age_days": 90, "noncurrent_only": True}]),
        "datasets": BucketSpec(),
    }
    plan = plan_of(storage_program(buckets, Captured()))
    assert inputs(plan, "data-checkpoints")["lifecycleRules"] == [
        {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": 7}},
        {"action": {"type": "Delete"}, "condition": {"daysSinceNoncurrentTime": 30}},
        {"action": {"type": "SetStorageClass", "storageClass": "NEARLINE"},
         "condition": {"age": 30, "withState": "ANY"}},
        {"action": {"type": "Delete"}, "condition": {"age": 90, "withState": "ARCHIVED"}},
    ]
    assert inputs(plan, "data-datasets")["lifecycleRules"] == [
        {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": 7}}]


def test_buckets_access_logs_for_confidential_and_above() -> None:
    """Confidential and restricted buckets write usage logs to the access-log bucket; internal
    and public ones do not; Cloud Storage's analytics group may create objects there."""
    plan = plan_of(storage_program(BUCKETS, Captured(), access_logs=True))
    log_name = f"{PROJECT}-test-access-logs"
    assert inputs(plan, "data-access-logs")["name"] == log_name
    for purpose, spec in BUCKETS.items():
        logging = inputs(plan, f"data-{purpose}").get("logging")
        if spec.classification in ("confidential", "restricted"):
            assert logging == {"logBucket": log_name}, purpose
        else:
            assert logging is None, purpose
    writer = inputs(plan, "data-access-logs-writer")
    assert writer == {"bucket": log_name, "role": "roles/storage.objectCreator",
                      "member": "group:cloud-storage-analytics@google.com"}
