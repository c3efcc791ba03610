"""DataBuckets: Cloud Storage buckets by purpose, encrypted and closed by default."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from infra.config.base import Spec
from infra.config.storage import ACCESS_LOGS_PURPOSE, BucketSpec, StorageConfig
from infra.gcp.labels import PURPOSE_LABEL
from policies.protocol import CLASSIFICATION_LABEL

SECONDS_PER_DAY = 86400
# Cloud Storage writes usage logs as this group; it needs objectCreator on the log bucket.
# https://cloud.google.com/storage/docs/access-logs#delivery
STORAGE_ANALYTICS = "group:cloud-storage-analytics@google.com"
# The access-log bucket itself: internal, logs kept a year.
ACCESS_LOG_SPEC = BucketSpec(classification="internal",
                             lifecycle=[{"action": "Delete", "age_days": 365}])


class BucketsSpec(Spec):
    """`config` is the stack's `aidc:storage` section (buckets by purpose, location, data access
    logs); `bucket_names` the cloud name of each purpose (`infra.gcp.naming.bucket_name`), and
    `access_log_bucket` the usage-log bucket's, needed when a bucket is `usage_logged`."""

    config: StorageConfig = Field(description="The stack's `aidc:storage` section.")
    region: str = Field(description="Where the buckets live unless config.location says.")
    bucket_names: dict[str, str] = Field(description="Each purpose's bucket cloud name.")
    access_log_bucket: str | None = Field(
        None, description="The usage-log bucket's name; default none (no bucket usage_logged).")
    protect: bool = Field(False, description="Pulumi `protect` on every bucket (prod).")
    labels: dict[str, str] = Field(default_factory=dict, description="GCP labels on each bucket.")


def lifecycle_rules(spec: BucketSpec, versioned: bool) -> list[gcp.storage.BucketLifecycleRuleArgs]:
    rules = [gcp.storage.BucketLifecycleRuleArgs(
        # Multi-part uploads that never finished still cost storage.
        action=gcp.storage.BucketLifecycleRuleActionArgs(type="AbortIncompleteMultipartUpload"),
        condition=gcp.storage.BucketLifecycleRuleConditionArgs(age=7),
    )]
    if versioned:
        rules.append(gcp.storage.BucketLifecycleRuleArgs(
            # Old checkpoint versions pile up fast; keep 30 days of history.
            action=gcp.storage.BucketLifecycleRuleActionArgs(type="Delete"),
            condition=gcp.storage.BucketLifecycleRuleConditionArgs(days_since_noncurrent_time=30),
        ))
    for rule in spec.lifecycle:
        rules.append(gcp.storage.BucketLifecycleRuleArgs(
            action=gcp.storage.BucketLifecycleRuleActionArgs(
                type=rule.action, storage_class=rule.storage_class),
            condition=gcp.storage.BucketLifecycleRuleConditionArgs(
                age=rule.age_days, with_state="ARCHIVED" if rule.noncurrent_only else "ANY",
                num_newer_versions=rule.num_newer_versions),
        ))
    return rules


class DataBuckets(pulumi.ComponentResource):
    """One bucket per purpose. Every bucket is CMEK-encrypted with the storage key, uses uniform
    bucket-level access (CIS GCP 5.2), enforces public access prevention, keeps soft-deleted
    objects, carries its data-classification label and never force-destroys. Optionally, data
    access audit logs for Cloud Storage (who read or wrote which object).

    The bucket `depends_on` the GCS service agent's grant on the key: without it, creating a
    bucket with a default KMS key fails with a permission error on the first `pulumi up`.
    """

    buckets: dict[str, gcp.storage.Bucket]
    names: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, spec: BucketsSpec, *, project: str,
                 kms_key_id: pulumi.Input[str],
                 key_grants: Sequence[pulumi.Resource] = (),
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aidc:storage:DataBuckets", name, None, opts)
        self._name = name
        self.buckets = {}
        log_bucket = None
        if spec.access_log_bucket:
            log_bucket = self._bucket(name, ACCESS_LOGS_PURPOSE, spec.access_log_bucket,
                                      ACCESS_LOG_SPEC, spec, project, kms_key_id, key_grants, None)
            gcp.storage.BucketIAMMember(
                f"{name}-{ACCESS_LOGS_PURPOSE}-writer",
                bucket=log_bucket.name,
                role="roles/storage.objectCreator",
                member=STORAGE_ANALYTICS,
                opts=pulumi.ResourceOptions(parent=self),
            )
        for purpose, bucket_spec in spec.config.buckets.items():
            logs_to = log_bucket.name if log_bucket is not None and bucket_spec.usage_logged else None
            self._bucket(name, purpose, spec.bucket_names[purpose], bucket_spec, spec, project,
                         kms_key_id, key_grants, logs_to)
        if spec.config.data_access_logs:
            # Project-wide for the service: GCS has no per-bucket data access audit logs.
            gcp.projects.IAMAuditConfig(
                f"{name}-data-access-logs",
                project=project,
                service="storage.googleapis.com",
                audit_log_configs=[gcp.projects.IAMAuditConfigAuditLogConfigArgs(log_type=t)
                                   for t in ("ADMIN_READ", "DATA_READ", "DATA_WRITE")],
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.names = {p: b.name for p, b in self.buckets.items()}
        self.register_outputs({"buckets": self.buckets, "names": self.names})

    def grant(self, purpose: str, role: str, member: pulumi.Input[str], *,
              who: str) -> gcp.storage.BucketIAMMember:
        """Bucket-level access for one identity (never project-wide storage roles)."""
        return gcp.storage.BucketIAMMember(
            f"{self._name}-{purpose}-{who}", bucket=self.buckets[purpose].name, role=role,
            member=member, opts=pulumi.ResourceOptions(parent=self))

    def _bucket(self, name: str, purpose: str, bucket_name: str, bucket: BucketSpec,
                spec: BucketsSpec, project: str, kms_key_id: pulumi.Input[str],
                key_grants: Sequence[pulumi.Resource],
                logs_to: pulumi.Input[str] | None) -> gcp.storage.Bucket:
        versioned = bucket.versioned(purpose)
        resource = gcp.storage.Bucket(
            f"{name}-{purpose}",
            name=bucket_name,
            project=project,
            location=spec.config.bucket_location(spec.region),
            storage_class=bucket.storage_class,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning=gcp.storage.BucketVersioningArgs(enabled=versioned),
            encryption=gcp.storage.BucketEncryptionArgs(default_kms_key_name=kms_key_id),
            soft_delete_policy=gcp.storage.BucketSoftDeletePolicyArgs(
                retention_duration_seconds=bucket.soft_delete_days * SECONDS_PER_DAY),
            retention_policy=(gcp.storage.BucketRetentionPolicyArgs(
                retention_period=str(bucket.retention_days * SECONDS_PER_DAY))
                if bucket.retention_days else None),
            lifecycle_rules=lifecycle_rules(bucket, versioned),
            logging=gcp.storage.BucketLoggingArgs(log_bucket=logs_to) if logs_to is not None else None,
            labels={**spec.labels, **bucket.labels, PURPOSE_LABEL: purpose,
                    CLASSIFICATION_LABEL: bucket.classification},
            force_destroy=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(key_grants),
                                        protect=spec.protect),
        )
        self.buckets[purpose] = resource
        return resource
