"""`aidc:storage`: data buckets by purpose and the Filestore share."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from infra.catalog import regions
from infra.catalog.filestore import check_capacity, filestore_tier
from infra.config.base import Classification, Labels, Spec
from infra.errors import AidcError, Problem, raise_problems
from infra.gcp import naming
from policies.protocol import CLASSIFICATIONS

VERSIONED_BY_DEFAULT = ("checkpoints", "models")
# A retention period is "greater than zero and less than 100 years" (retentionPolicy.
# retentionPeriod, in seconds; the provider states it as "less than 3,155,760,000 seconds").
RETENTION_LIMIT_URL = "https://cloud.google.com/storage/docs/json_api/v1/buckets"
MAX_RETENTION_DAYS = 3_155_760_000 // 86_400 - 1  # 36,524 days
# The purpose DataBuckets gives its own usage-log bucket; reserved for it.
ACCESS_LOGS_PURPOSE = "access-logs"
# Buckets of this classification or a stricter one write usage logs to the access-log bucket.
LOGGED_FROM = "confidential"


class LifecycleRule(Spec):
    """One Object Lifecycle Management rule: an action when an object reaches an age."""

    action: Literal["Delete", "SetStorageClass", "AbortIncompleteMultipartUpload"] = Field(
        description="What Cloud Storage does to a matching object.")
    age_days: int = Field(ge=0, description="Days since the object was created.")
    storage_class: Literal["NEARLINE", "COLDLINE", "ARCHIVE"] | None = Field(
        None, description="The class SetStorageClass moves objects to; only with that action.")
    noncurrent_only: bool = Field(False, description="Apply to noncurrent versions only.")
    num_newer_versions: int | None = Field(
        None, ge=1, description="Only versions with at least this many newer versions (a "
                                "versioned bucket keeps that many); default any.")

    @model_validator(mode="after")
    def _class_only_with_set(self) -> LifecycleRule:
        if (self.action == "SetStorageClass") != (self.storage_class is not None):
            raise ValueError("storage_class is required with action SetStorageClass and only there")
        return self


class BucketSpec(Spec):
    """A data bucket. CMEK, uniform access and public access prevention are not options."""

    classification: Classification = Field(
        "internal", description="Sets the data-classification label the policy pack reads.")
    storage_class: Literal["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"] = Field(
        "STANDARD", description="Default storage class of new objects.")
    versioning: bool | None = Field(
        None, description="Object Versioning. Default: on for checkpoints and models (they are "
                          "overwritten in place), unless the bucket has a retention policy: Cloud "
                          "Storage refuses both on one bucket, and a retention policy already "
                          "keeps every object from being replaced or deleted early. "
                          "https://cloud.google.com/storage/docs/bucket-lock")
    soft_delete_days: int = Field(
        7, ge=0, le=90,
        description="Soft delete window: 0 (off) or 7-90 days; the GCS default is 7 days. "
                    "https://cloud.google.com/storage/docs/soft-delete#retention-duration")
    retention_days: int | None = Field(
        None, ge=1, json_schema_extra={"maximum": MAX_RETENTION_DAYS},
        description="Retention policy: objects cannot be deleted or replaced sooner. Cloud "
                    "Storage takes less than 100 years (3,155,760,000 s, so at most "
                    f"{MAX_RETENTION_DAYS} days): {RETENTION_LIMIT_URL}. Excludes versioning: true.")
    lifecycle: list[LifecycleRule] = Field(
        default_factory=list, description="Object lifecycle rules; default none.")
    labels: Labels = Field(default_factory=dict, description="Extra GCP labels on the bucket; "
                                                             "merged over the stack's labels.")

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, v: int | None) -> int | None:
        if v is not None and v > MAX_RETENTION_DAYS:
            raise AidcError(f"{v} days; Cloud Storage takes a retention period of less than 100 "
                            f"years (3,155,760,000 s), at most {MAX_RETENTION_DAYS} days: "
                            f"{RETENTION_LIMIT_URL}")
        return v

    @field_validator("soft_delete_days")
    @classmethod
    def _soft_delete(cls, v: int) -> int:
        if 0 < v < 7:
            raise AidcError(f"{v}; Cloud Storage accepts 0 (off) or 7-90 days")
        return v

    @model_validator(mode="after")
    def _versioning_or_retention(self) -> BucketSpec:
        if self.versioning and self.retention_days:
            raise AidcError(
                f"true with retention_days: {self.retention_days}; Cloud Storage refuses Object Versioning on a bucket with a retention policy "
                "(https://cloud.google.com/storage/docs/bucket-lock). Keep retention_days "
                "(objects cannot be replaced or deleted for that long; remove versioning) or "
                "versioning (remove retention_days)", field="versioning")
        return self

    def versioned(self, purpose: str) -> bool:
        """As set, else on for the purposes overwritten in place (VERSIONED_BY_DEFAULT) unless
        a retention policy already protects them (the two exclude each other)."""
        if self.versioning is not None:
            return self.versioning
        return purpose in VERSIONED_BY_DEFAULT and not self.retention_days

    @property
    def usage_logged(self) -> bool:
        """Whether the bucket writes usage logs: classifications from LOGGED_FROM up."""
        return CLASSIFICATIONS.index(self.classification) >= CLASSIFICATIONS.index(LOGGED_FROM)


class FilestoreConfig(Spec):
    """A Filestore share for shared training data and home directories."""

    name: str = Field("shared", description="Instance name suffix.")
    tier: str = Field("ZONAL", description="Filestore API tier name (see `aidc catalog filestore`).")
    capacity_gib: int = Field(1024, description="Must fit one of the tier's ranges and steps.")
    share_name: str = Field("data", description="The NFS export's name (clients mount "
                                                "<ip>:/<share_name>).")
    zone: str | None = Field(None, description="For zonal tiers; default the stack's first zone.")
    cmek: bool = Field(True, description="Encrypt with the filestore KMS key (tiers that take it).")
    classification: Classification = Field(
        "confidential", description="The most sensitive data on the share, written as its "
                                    "data-classification label.")
    labels: Labels = Field(default_factory=dict, description="Extra GCP labels on the instance; "
                                                             "merged over the stack's labels.")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return naming.check_rfc1035(v)

    @field_validator("tier")
    @classmethod
    def _tier(cls, v: str) -> str:
        return filestore_tier(v).tier  # the API's spelling, whatever case the user wrote

    @field_validator("share_name")
    @classmethod
    def _share(cls, v: str) -> str:
        return naming.check_share_name(v)

    def location(self, region: str, zones: list[str]) -> str:
        """The instance's location: the region for regional tiers, else `zone` or the stack's
        first zone."""
        if filestore_tier(self.tier).location_kind == "region":
            return region
        return self.zone or zones[0]

    @model_validator(mode="after")
    def _tier_rules(self) -> FilestoreConfig:
        tier = filestore_tier(self.tier)
        check_capacity(self.tier, self.capacity_gib)
        problems = []
        if self.cmek and not tier.cmek:
            problems.append(Problem(("cmek",), (
                f"tier {self.tier} cannot take a customer-managed key; choose a tier that can "
                "(see `aidc catalog filestore`) or set cmek: false explicitly")))
        if self.zone and tier.location_kind == "region":
            problems.append(Problem(("zone",), (
                f"{self.zone!r} is set, but tier {self.tier} is regional (its instance lives in "
                "the stack's region, not a zone); remove zone or choose a zonal tier")))
        raise_problems(problems)
        return self


class StorageConfig(Spec):
    location: str | None = Field(None, description="Bucket location; default the stack region.")
    buckets: dict[str, BucketSpec] = Field(
        default_factory=dict, description="Buckets by purpose: datasets, checkpoints, models, ...")
    filestore: FilestoreConfig | None = Field(None, description="A Filestore share; default "
                                                                "none.")
    data_access_logs: bool = Field(
        False, description="Cloud Audit Logs of every read and write of Cloud Storage data "
                           "(DATA_READ, DATA_WRITE; CIS GCP 2.1). Billed per log entry, which at "
                           "training read rates adds up: on in prod.")

    @field_validator("location")
    @classmethod
    def _location(cls, v: str | None) -> str | None:
        if v is not None:
            regions.bucket_location(v)
        return v

    def bucket_location(self, region: str) -> str:
        return self.location or region

    @property
    def usage_logged(self) -> bool:
        """Whether any bucket writes usage logs, so the access-log bucket is needed."""
        return any(b.usage_logged for b in self.buckets.values())

    @field_validator("buckets")
    @classmethod
    def _purposes(cls, v: dict[str, BucketSpec]) -> dict[str, BucketSpec]:
        problems = []
        for purpose in v:
            try:
                naming.check_rfc1035(purpose, "bucket purpose")
            except AidcError as exc:
                problems += [p.under((purpose,)) for p in exc.problems]
            if purpose == ACCESS_LOGS_PURPOSE:
                problems.append(Problem((purpose,), (
                    f"the purpose {purpose!r} is reserved for the access-log bucket DataBuckets "
                    "creates itself; choose another purpose")))
        raise_problems(problems)
        return v
