"""One Storage Transfer Service job from Amazon S3 into an aidc data bucket, as stack config.

A stack declares its jobs under `aidc:transfers`, keyed by a stable name (the key becomes the
Pulumi child names and the notification topic name):

    aidc:transfers:
      imagenet:
        source: s3://acme-datasets/imagenet/
        sink_bucket: datasets                 # a key of aidc:storage.buckets
        include_prefixes: [imagenet/train/, imagenet/val/]
        role_arn: arn:aws:iam::123456789012:role/gcp-sts-reader
        schedule: once
        start_date: 2026-03-02

Credentials. AWS access goes through a role ARN by default: Storage Transfer Service assumes the
role with `AssumeRoleWithWebIdentity` as its Google service agent, so no AWS secret exists anywhere
(the role's trust policy names the agent's subject id, which `DatasetTransfer.agent_subject_id`
exports). https://cloud.google.com/storage-transfer/docs/source-amazon-s3#federated_identity

Static keys (`aws_access_key_id` + `aws_secret_access_key`) are the exception: accepted only as
`secure:` config (`pulumi config set --secret --path 'aidc:transfers.<job>.aws_secret_access_key'`),
and the policy pack still flags them (I7 transfer-job-no-static-keys). Offline, the loader turns a
`secure:` value into the placeholder "[secret]" (nothing can decrypt it); under `pulumi up` it is the
decrypted value. Once loaded, clear and secure values look alike, so the loader checks the raw
YAML (`infra.config.load`, from `secret_fields`) before it removes the `secure:` wrappers.

Prefixes. `include_prefixes` / `exclude_prefixes` are whole object keys from the bucket root, the
form `aidc transfer plan --include/--exclude` takes, so a preflight and the job select the same
keys. STS evaluates them relative to the source folder when the source names one
(https://cloud.google.com/storage-transfer/docs/filtering-objects-from-transfers);
`TransferConfig.sts_prefixes()` does that conversion.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Any, Literal

from pydantic import ConfigDict, Field, SecretStr, field_validator, model_validator

from infra.config.base import Spec
from infra.engine.plan import SECRET_PLACEHOLDER
from infra.errors import AidcError, Loc, Problem, raise_problems
from infra.gcp import naming
from infra.transfer.inventory import make_selection
from infra.transfer.s3url import S3Url, parse_s3_url
STATIC_KEY_FIELDS = ("aws_access_key_id", "aws_secret_access_key")

# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns
# Role names: 1-64 of [A-Za-z0-9+=,.@_-], optionally under a path (role/path/to/name).
_ROLE_ARN = re.compile(r"^arn:aws:iam::\d{12}:role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}$", re.ASCII)
# Long-term IAM user keys start AKIA; ASIA keys are temporary and need a session token, which
# Storage Transfer's AwsAccessKey cannot carry.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids
_ACCESS_KEY_ID = re.compile(r"^AKIA[A-Z0-9]{16}$")
# https://cloud.google.com/pubsub/docs/create-topic#resource_names
_TOPIC = re.compile(r"^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$")
_MAX_KEY_BYTES = 1024

# Schedule.repeatInterval for the recurring choices (a Duration in seconds).
# https://cloud.google.com/storage-transfer/docs/reference/rest/v1/transferJobs#Schedule
REPEAT_INTERVALS = {"daily": "86400s", "weekly": "604800s"}

# Roles the Storage Transfer service agent needs on a Cloud Storage sink, from the permission table
# of https://cloud.google.com/storage-transfer/docs/sink-cloud-storage#required-permissions :
#   storage.buckets.get, storage.objects.create, storage.objects.list  always;
#   storage.objects.delete  when it may overwrite (overwriteWhen DIFFERENT or ALWAYS);
#   storage.objects.get     when it compares before writing (overwriteWhen DIFFERENT or NEVER).
# roles/storage.legacyBucketWriter = buckets.get + objects.list/create/delete;
# roles/storage.objectViewer adds objects.get (+ objects.list).
# https://cloud.google.com/storage/docs/access-control/iam-roles
LEGACY_BUCKET_WRITER = "roles/storage.legacyBucketWriter"
OBJECT_VIEWER = "roles/storage.objectViewer"
# The agent publishes job notifications to the topic.
# https://cloud.google.com/storage-transfer/docs/pub-sub-transfer
PUBSUB_PUBLISHER = "roles/pubsub.publisher"

Schedule = Literal["once", "daily", "weekly"]
OverwriteWhen = Literal["DIFFERENT", "NEVER", "ALWAYS"]


def _secret_value(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


class TransferConfig(Spec):
    """One Storage Transfer Service job: an S3 bucket (or a folder of it) into an aidc bucket.

    Safe by default: it never deletes at the source, never deletes objects that exist only in the
    sink, overwrites an object only when it differs, and logs copies, deletions and listings.
    """

    # Validation errors would otherwise repeat the whole input, static keys included.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    source: str = Field(
        description="The S3 source: s3://BUCKET or s3://BUCKET/FOLDER/ (a folder ends with '/'; "
                    "STS takes the path as a folder, not as a key prefix).")
    sink_bucket: str = Field(
        description="The aidc data bucket to write to, by its purpose key in "
                    "aidc:storage.buckets (e.g. 'datasets').")
    sink_prefix: str = Field(
        "", description="Folder in the sink bucket the objects land under: '' (the bucket root, "
                        "the default) or a path ending with '/', without a leading '/'.")
    include_prefixes: list[str] = Field(
        default_factory=list,
        description="Transfer only keys starting with one of these (whole keys from the bucket "
                    "root, inside the source folder; at most 1000). Default: every key in the "
                    "source.")
    exclude_prefixes: list[str] = Field(
        default_factory=list,
        description="Skip keys starting with one of these (whole keys from the bucket root; with "
                    "include_prefixes, each must start with one of them). Default: none.")
    schedule: Schedule = Field(
        "once",
        description="'once': run on start_date only. 'daily' / 'weekly': run from start_date every "
                    "24 h / 7 days (from about midnight UTC) until end_date, if set.")
    start_date: date = Field(
        description="First day (UTC) the job runs; for 'once' the only day. Pick the day of "
                    "`pulumi up` or later: STS starts a job whose start day has passed the next "
                    "day at the earliest. Fixed in config so that a plan never drifts by the "
                    "calendar.")
    end_date: date | None = Field(
        None, description="Last day (UTC) a recurring job runs; default: no end. Not with 'once'.")
    role_arn: str | None = Field(
        None,
        description="AWS IAM role STS assumes through federated identity "
                    "(arn:aws:iam::<12-digit account>:role/<name>). The default way to reach S3: "
                    "no AWS secret is stored. Exactly one of role_arn or the static keys.")
    aws_access_key_id: SecretStr | None = Field(
        None,
        description="Static AWS access key id (AKIA...), only as a `secure:` config value and "
                    "only with aws_secret_access_key; flagged by the policy pack (I7). Prefer "
                    "role_arn.")
    aws_secret_access_key: SecretStr | None = Field(
        None,
        description="Static AWS secret access key, only as a `secure:` config value and only "
                    "with aws_access_key_id; never written to plans or reports in clear.")
    overwrite_when: OverwriteWhen = Field(
        "DIFFERENT",
        description="When an object already in the sink is replaced: 'DIFFERENT' (the default: "
                    "when ETag/checksum differ), 'NEVER', or 'ALWAYS'.")
    notify: bool = Field(
        False,
        description="Publish job completion (success, failure, abort) as JSON to a Pub/Sub topic "
                    "created for this job, and let the STS agent publish to it. Default: off.")
    description: str | None = Field(
        None,
        description="The job's description in the console (1 to 1024 bytes). Default: "
                    "'aidc <job>: <source> -> <sink bucket>/<sink prefix>'.")

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        url = parse_s3_url(v)
        if url.prefix and not url.prefix.endswith("/"):
            raise AidcError(
                f"{v!r}: the source path {url.prefix!r} must end with '/' (Storage Transfer "
                f"treats it as a folder); write s3://{url.bucket}/{url.prefix}/ or select keys "
                f"with include_prefixes: [{url.prefix!r}]")
        return str(url)

    @field_validator("sink_bucket")
    @classmethod
    def _sink_bucket(cls, v: str) -> str:
        return naming.check_rfc1035(v)

    @field_validator("sink_prefix")
    @classmethod
    def _sink_prefix(cls, v: str) -> str:
        if not v:
            return v
        if v.startswith("/") or not v.endswith("/"):
            raise AidcError(f"{v!r}: a sink folder ends with '/' and does not start with '/' "
                            "(e.g. 'imagenet/'), or is '' for the bucket root")
        if "\r" in v or "\n" in v or len(v.encode("utf-8")) > _MAX_KEY_BYTES:
            raise AidcError(f"{v[:40]!r}: at most {_MAX_KEY_BYTES} bytes, no CR or LF")
        return v

    @field_validator("role_arn")
    @classmethod
    def _role_arn(cls, v: str | None) -> str | None:
        if v is not None and not _ROLE_ARN.match(v):
            raise AidcError(f"{v!r} is not an AWS IAM role ARN; expected "
                            "arn:aws:iam::<12-digit account id>:role/<role name>")
        return v

    @field_validator(*STATIC_KEY_FIELDS, mode="before")
    @classmethod
    def _key_is_text(cls, v: Any) -> Any:
        # A value error, unlike pydantic's type error, is reported without the input itself.
        if v is not None and not isinstance(v, (str, SecretStr)):
            raise AidcError("must be a string, given as a `secure:` config value")
        return v

    @model_validator(mode="after")
    def _cross_checks(self) -> TransferConfig:
        problems = self._credential_problems() + self._schedule_problems()
        try:
            self._selection()
        except AidcError as exc:
            problems += [Problem(("include_prefixes",), line.strip())
                         for line in str(exc).splitlines()[1:]]
        folder = self.url.prefix
        if folder and folder in self.include_prefixes:
            problems.append(Problem(("include_prefixes",), (
                f"{folder!r} is the source folder itself; omit it (the whole folder is "
                "transferred by default)")))
        if folder and folder in self.exclude_prefixes:
            problems.append(Problem(("exclude_prefixes",), (
                f"{folder!r} is the source folder itself: it would exclude everything the job "
                "reads")))
        if self.description is not None and not 0 < len(self.description.encode()) <= 1024:
            problems.append(Problem(("description",), "1 to 1024 bytes (STS's limit)"))
        raise_problems(problems)
        return self

    def _credential_problems(self) -> list[Problem]:
        key_id, secret = self.aws_access_key_id, self.aws_secret_access_key
        if (key_id is None) != (secret is None):
            given, missing = (("aws_access_key_id", "aws_secret_access_key") if secret is None
                              else ("aws_secret_access_key", "aws_access_key_id"))
            return [Problem((given,), f"static AWS keys come in pairs; add {missing} (as a "
                                      "secret) or, better, use role_arn")]
        static = key_id is not None
        if static and self.role_arn is not None:
            return [Problem(("role_arn",), "give role_arn or static AWS keys, not both; drop "
                    "aws_access_key_id/aws_secret_access_key (role_arn needs no secret)")]
        if not static and self.role_arn is None:
            return [Problem(("role_arn",), "required: STS reaches S3 through an AWS IAM role it "
                    "assumes with federated identity (arn:aws:iam::<account>:role/<name>); static "
                    "keys are the flagged alternative")]
        problems = []
        value = _secret_value(key_id)
        # Offline the value is the "[secret]" placeholder; the real key is checked under
        # `pulumi up`. Never echo a key in an error.
        if value not in (None, SECRET_PLACEHOLDER) and not _ACCESS_KEY_ID.match(value or ""):
            problems.append(Problem(("aws_access_key_id",), (
                "not a long-term AWS access key id (20 characters starting AKIA); temporary ASIA "
                "keys need a session token STS cannot take")))
        if _secret_value(secret) == "":
            problems.append(Problem(("aws_secret_access_key",), "empty"))
        return problems

    def _schedule_problems(self) -> list[Problem]:
        if self.end_date is None:
            return []
        if self.schedule == "once":
            return [Problem(("end_date",), "a one-off job runs on start_date only; drop "
                                           "end_date or choose schedule daily/weekly")]
        if self.end_date < self.start_date:
            return [Problem(("end_date",), f"{self.end_date} is before start_date {self.start_date}")]
        return []

    def _selection(self) -> Any:
        try:
            return make_selection(self.url.prefix, self.include_prefixes, self.exclude_prefixes)
        except AidcError as exc:
            text = str(exc).replace("--include", "include_prefixes")
            raise AidcError(text.replace("--exclude", "exclude_prefixes")) from None

    # -- derived, for the component ---------------------------------------------------------

    @property
    def url(self) -> S3Url:
        """The parsed source: S3 bucket and folder ('' for the bucket root)."""
        return parse_s3_url(self.source)

    @property
    def uses_static_keys(self) -> bool:
        return self.aws_access_key_id is not None

    def sts_prefixes(self) -> tuple[list[str], list[str]]:
        """(include, exclude) as STS evaluates them: relative to the source folder."""
        cut = len(self.url.prefix)
        return ([p[cut:] for p in self.include_prefixes],
                [p[cut:] for p in self.exclude_prefixes])

    def repeat_interval(self) -> str | None:
        """Schedule.repeatInterval, or None for a one-off job."""
        return REPEAT_INTERVALS.get(self.schedule)

    def last_day(self) -> date | None:
        """Schedule.scheduleEndDate: start_date for a one-off job (STS runs it once)."""
        return self.start_date if self.schedule == "once" else self.end_date

    def sink_roles(self) -> tuple[str, ...]:
        """The roles the STS agent needs on the sink bucket for this job's overwrite setting."""
        return sink_roles(self.overwrite_when)

    def job_description(self, job: str, sink_bucket_name: str) -> str:
        if self.description:
            return self.description
        text = f"aidc {job}: {self.source} -> gs://{sink_bucket_name}/{self.sink_prefix}"
        return text[:1024]


def sink_roles(overwrite_when: str) -> tuple[str, ...]:
    """Bucket roles for the STS agent on a sink: exactly what the permission table asks for.

    objects.get is needed only when STS compares before writing (DIFFERENT, NEVER); the jobs
    here never delete sink-only objects, and legacyBucketWriter carries the rest.
    """
    if overwrite_when == "ALWAYS":
        return (LEGACY_BUCKET_WRITER,)
    return (LEGACY_BUCKET_WRITER, OBJECT_VIEWER)


def topic_name(name_prefix: str, job: str) -> str:
    """The Pub/Sub topic a job notifies, e.g. 'aidc-staging-transfer-imagenet'."""
    name = f"{name_prefix}-transfer-{job}"
    if not _TOPIC.match(name) or name.lower().startswith("goog"):
        raise AidcError(f"topic name {name!r} is not accepted by Pub/Sub: 3-255 characters of "
                        "letters, digits and - _ . ~ + %, starting with a letter, not with 'goog'",
                        field=("transfers", job))
    return name


# -- checks the platform config runs ---------------------------------------------------------


def check_keys(transfers: Mapping[str, TransferConfig], name_prefix: str) -> list[Problem]:
    """Job keys become child and topic names: RFC 1035, like bucket purposes, and a topic name
    Pub/Sub accepts."""
    problems = []
    for job in transfers:
        try:
            naming.check_rfc1035(job, "transfers key")
            topic_name(name_prefix, job)
        except AidcError as exc:
            problems += [Problem(("transfers", job), p.message) for p in exc.problems]
    return problems


def check_sinks(transfers: Mapping[str, TransferConfig], bucket_purposes: Iterable[str]) -> list[Problem]:
    """Every job writes into a bucket the stack declares; one problem per job that does not."""
    purposes = sorted(bucket_purposes)
    problems = []
    for job, spec in transfers.items():
        if spec.sink_bucket not in purposes:
            declared = ", ".join(purposes) or "none declared"
            problems.append(Problem(("transfers", job, "sink_bucket"), (
                f"{spec.sink_bucket!r} is not a bucket of this stack (aidc:storage.buckets: "
                f"{declared}); add it there or pick one of those")))
    return problems


def secret_fields(raw_transfers: Any) -> Iterator[tuple[Loc, Any]]:
    """(location, raw value) of every field of a raw `aidc:transfers` value that must be a
    `secure:` value: the static AWS keys of each job."""
    if not isinstance(raw_transfers, Mapping):
        return
    for job, raw in raw_transfers.items():
        if isinstance(raw, Mapping):
            for key in STATIC_KEY_FIELDS:
                if raw.get(key) is not None:
                    yield ("transfers", str(job), key), raw[key]
