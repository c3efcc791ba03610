"""DatasetTransfer under Pulumi mocks, and the TransferConfig it is built from.

The program is wired the way the composition wires it: KmsKeys and DataBuckets first, then the
transfer with the sink bucket's name and a `grant_key` that calls `KmsKeys.grant` on the storage
key. The Plan's camelCase inputs are what the GCP provider would receive.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pydantic import ValidationError

from components.kms import KmsKeys, KmsSpec
from components.services import ProjectServices
from components.storage import BucketsSpec, DataBuckets
from components.transfer import DatasetTransfer
from infra.config.load import clear_text_secrets, read_stack_file
from infra.config.storage import BucketSpec, StorageConfig
from infra.engine.mocks import project_number
from infra.config.base import Spec
from infra.engine.plan import SECRET_PLACEHOLDER, Plan
from infra.errors import Problem
from infra.config.transfers import (
    LEGACY_BUCKET_WRITER,
    OBJECT_VIEWER,
    TransferConfig,
    check_keys,
    check_sinks,
    sink_roles,
    topic_name,
)
from tests.helpers import PROJECT, REGION, Captured, by_name, contract, inputs, of_type, plan_of

JOB = "gcp:storage/transferJob:TransferJob"
BUCKET_IAM = "gcp:storage/bucketIAMMember:BucketIAMMember"
KEY_IAM = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
TOPIC = "gcp:pubsub/topic:Topic"
TOPIC_IAM = "gcp:pubsub/topicIAMMember:TopicIAMMember"
ENCRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"

NAME = "transfer-imagenet"
SINK = f"{PROJECT}-test-datasets"
ROLE_ARN = "arn:aws:iam::123456789012:role/gcp-sts-reader"
# AWS's own documentation example keys: realistic shape, never valid.
ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
STS_MEMBER = (f"serviceAccount:project-{project_number(PROJECT)}"
              "@storage-transfer-service.iam.gserviceaccount.com")


def spec(**overrides: Any) -> TransferConfig:
    fields: dict[str, Any] = {
        "source": "s3://acme-datasets/imagenet/",
        "sink_bucket": "datasets",
        "include_prefixes": ["imagenet/train/", "imagenet/val/"],
        "exclude_prefixes": ["imagenet/train/_tmp"],
        "role_arn": ROLE_ARN,
        "start_date": date(2026, 3, 2),
    }
    fields.update(overrides)
    return TransferConfig(**{k: v for k, v in fields.items() if v is not None})


def static_keys(**overrides: Any) -> TransferConfig:
    return spec(role_arn=None, aws_access_key_id=ACCESS_KEY_ID,
                aws_secret_access_key=SECRET_ACCESS_KEY, **overrides)


def transfer_program(transfer: TransferConfig, *, with_key_grant: bool = True,
                     captured: Captured | None = None, services: bool = False):
    """KmsKeys + DataBuckets + DatasetTransfer, wired as infra/platform.py wires them."""
    def program() -> None:
        kms = KmsKeys("kms", KmsSpec(key_ring="aidc-test", location=REGION), project=PROJECT)
        data = DataBuckets(
            "data",
            BucketsSpec(config=StorageConfig(buckets={"datasets": BucketSpec()}), region=REGION,
                        bucket_names={"datasets": SINK}),
            project=PROJECT, kms_key_id=kms.key_ids["storage"], key_grants=kms.grants["storage"])
        apis = (ProjectServices("apis", project=PROJECT,
                                extra=["storagetransfer.googleapis.com", "pubsub.googleapis.com"])
                if services else None)
        job = DatasetTransfer(
            NAME, transfer, project=PROJECT, sink_bucket=data.buckets["datasets"].name,
            grant_key=(lambda n, m: kms.grant(n, "storage", m)) if with_key_grant else None,
            topic_name=topic_name("aidc-test", "imagenet"),
            depends_on=(apis.enabled("storagetransfer.googleapis.com", "pubsub.googleapis.com")
                        if apis else ()))
        if captured is not None:
            captured.keep("subject_id", job.agent_subject_id)
            captured.keep("agent_email", job.agent_email)
            captured.keep("job_name", job.job_name)
    return program


@pytest.fixture(scope="module")
def role_plan() -> Plan:
    return plan_of(transfer_program(spec()))


@pytest.fixture(scope="module")
def keys_plan() -> Plan:
    return plan_of(transfer_program(static_keys(notify=True)))


def job_inputs(plan: Plan) -> dict[str, Any]:
    return inputs(plan, f"{NAME}-job")


# ---------------------------------------------------------------------------------------------
# children


def test_children_contract(role_plan: Plan, keys_plan: Plan) -> None:
    """The component's children (type, logical name, parent) are pinned; notify adds the topic."""
    base = {
        (BUCKET_IAM, f"{NAME}-sink-writer", NAME),
        (BUCKET_IAM, f"{NAME}-sink-reader", NAME),
        (JOB, f"{NAME}-job", NAME),
    }
    assert contract(role_plan, NAME) == base
    assert contract(keys_plan, NAME) == base | {(TOPIC, f"{NAME}-topic", NAME),
                                                (TOPIC_IAM, f"{NAME}-topic-publisher", NAME)}
    # The KMS grant belongs to KmsKeys (created through grant_key), not to the transfer.
    assert by_name(role_plan, f"{NAME}-key").parent == by_name(role_plan, "kms").urn
    assert by_name(role_plan, NAME).type == "aidc:transfer:DatasetTransfer"


# ---------------------------------------------------------------------------------------------
# the job


def test_job_reads_s3_through_the_role_and_writes_the_sink(role_plan: Plan) -> None:
    """Role ARN federation, the source folder as the S3 path, the sink bucket by name."""
    ts = job_inputs(role_plan)["transferSpec"]
    assert ts["awsS3DataSource"] == {"bucketName": "acme-datasets", "path": "imagenet/",
                                     "roleArn": ROLE_ARN}
    assert ts["gcsDataSink"] == {"bucketName": SINK}


def test_job_prefixes_are_relative_to_the_source_folder(role_plan: Plan) -> None:
    """Config prefixes are whole keys; STS evaluates them relative to the source folder."""
    conditions = job_inputs(role_plan)["transferSpec"]["objectConditions"]
    assert conditions == {"includePrefixes": ["train/", "val/"], "excludePrefixes": ["train/_tmp"]}


def test_job_never_deletes_and_overwrites_only_when_different(role_plan: Plan) -> None:
    """Safe defaults: no deletion at the source, none in the sink, overwrite when different."""
    options = job_inputs(role_plan)["transferSpec"]["transferOptions"]
    assert options["deleteObjectsFromSourceAfterTransfer"] is False
    assert options["deleteObjectsUniqueInSink"] is False
    assert options["overwriteWhen"] == "DIFFERENT"


def test_job_logs_and_is_enabled(role_plan: Plan) -> None:
    job = job_inputs(role_plan)
    assert job["loggingConfig"] == {"logActions": ["COPY", "DELETE", "FIND"],
                                    "logActionStates": ["SUCCEEDED", "FAILED"]}
    assert job["status"] == "ENABLED"
    assert job["project"] == PROJECT
    assert job["description"] == f"aidc {NAME}: s3://acme-datasets/imagenet/ -> gs://{SINK}/"
    assert "notificationConfig" not in job


def test_one_off_job_starts_and_ends_on_the_start_date(role_plan: Plan) -> None:
    """'once' is STS's one-run schedule: scheduleEndDate == scheduleStartDate, no interval."""
    schedule = job_inputs(role_plan)["schedule"]
    day = {"year": 2026, "month": 3, "day": 2}
    assert schedule == {"scheduleStartDate": day, "scheduleEndDate": day}


@pytest.mark.parametrize(("every", "interval"), [("daily", "86400s"), ("weekly", "604800s")])
def test_recurring_job_repeats(every: str, interval: str) -> None:
    plan = plan_of(transfer_program(spec(schedule=every, end_date=date(2026, 12, 31))))
    schedule = job_inputs(plan)["schedule"]
    assert schedule["repeatInterval"] == interval
    assert schedule["scheduleStartDate"] == {"year": 2026, "month": 3, "day": 2}
    assert schedule["scheduleEndDate"] == {"year": 2026, "month": 12, "day": 31}


def test_recurring_job_without_end_date_runs_on() -> None:
    schedule = job_inputs(plan_of(transfer_program(spec(schedule="daily"))))["schedule"]
    assert "scheduleEndDate" not in schedule
    assert schedule["repeatInterval"] == "86400s"


def test_whole_bucket_source_and_sink_folder() -> None:
    """No source folder and no filters: no path, no objectConditions; a sink folder is a path."""
    plan = plan_of(transfer_program(spec(source="s3://acme-datasets", include_prefixes=[],
                                         exclude_prefixes=[], sink_prefix="imagenet/",
                                         overwrite_when="NEVER", description="ImageNet copy")))
    job = job_inputs(plan)
    ts = job["transferSpec"]
    assert ts["awsS3DataSource"] == {"bucketName": "acme-datasets", "roleArn": ROLE_ARN}
    assert ts["gcsDataSink"] == {"bucketName": SINK, "path": "imagenet/"}
    assert "objectConditions" not in ts
    assert ts["transferOptions"]["overwriteWhen"] == "NEVER"
    assert job["description"] == "ImageNet copy"


def test_notify_creates_a_topic_the_agent_publishes_to(keys_plan: Plan) -> None:
    topic = inputs(keys_plan, f"{NAME}-topic")
    assert topic["name"] == "aidc-test-transfer-imagenet"
    publisher = inputs(keys_plan, f"{NAME}-topic-publisher")
    assert publisher["role"] == "roles/pubsub.publisher"
    assert publisher["member"] == STS_MEMBER
    topic_id = f"projects/{PROJECT}/topics/aidc-test-transfer-imagenet"
    assert publisher["topic"] == topic_id
    assert job_inputs(keys_plan)["notificationConfig"] == {
        "pubsubTopic": topic_id, "payloadFormat": "JSON",
        "eventTypes": ["TRANSFER_OPERATION_SUCCESS", "TRANSFER_OPERATION_FAILED",
                       "TRANSFER_OPERATION_ABORTED"]}


# ---------------------------------------------------------------------------------------------
# the agent's grants and their order


def test_agent_gets_sink_roles_and_the_storage_key(role_plan: Plan) -> None:
    """The STS agent (project-<number>@storage-transfer-service) on the sink bucket and key."""
    sink = {inputs(role_plan, n)["role"]: inputs(role_plan, n)
            for n in (f"{NAME}-sink-writer", f"{NAME}-sink-reader")}
    assert set(sink) == {LEGACY_BUCKET_WRITER, OBJECT_VIEWER}
    for grant in sink.values():
        assert grant["member"] == STS_MEMBER
        assert grant["bucket"] == SINK
    key = inputs(role_plan, f"{NAME}-key")
    assert key == {"cryptoKeyId": inputs(role_plan, "kms-storage-agent")["cryptoKeyId"],
                   "role": ENCRYPTER, "member": STS_MEMBER}
    assert key["cryptoKeyId"].endswith("/cryptoKeys/storage")
    # Nothing else is granted to the agent.
    agent_grants = [r for r in role_plan.resources if r.inputs.get("member") == STS_MEMBER]
    assert len(agent_grants) == 3


def test_overwrite_always_needs_no_object_read() -> None:
    """objects.get is for comparing before writing; ALWAYS does not compare."""
    plan = plan_of(transfer_program(spec(overwrite_when="ALWAYS")))
    roles = {r.inputs["role"] for r in of_type(plan, BUCKET_IAM) if r.inputs["member"] == STS_MEMBER}
    assert roles == {LEGACY_BUCKET_WRITER}
    assert sink_roles("ALWAYS") == (LEGACY_BUCKET_WRITER,)
    assert sink_roles("DIFFERENT") == sink_roles("NEVER") == (LEGACY_BUCKET_WRITER, OBJECT_VIEWER)


def test_job_is_ordered_after_every_grant(role_plan: Plan, keys_plan: Plan) -> None:
    """The job depends on each agent grant (bucket, key, topic), so it never races IAM."""
    for plan, names in ((role_plan, ("sink-writer", "sink-reader", "key")),
                        (keys_plan, ("sink-writer", "sink-reader", "key", "topic-publisher"))):
        deps = set(by_name(plan, f"{NAME}-job").dependencies)
        for suffix in names:
            assert by_name(plan, f"{NAME}-{suffix}").urn in deps, suffix


def test_without_key_grant_no_kms_grant_is_made() -> None:
    plan = plan_of(transfer_program(spec(), with_key_grant=False))
    assert not [r for r in of_type(plan, KEY_IAM) if r.inputs["member"] == STS_MEMBER]


def test_children_wait_for_the_apis() -> None:
    """`depends_on` (the storagetransfer and pubsub APIs) orders every child after them."""
    plan = plan_of(transfer_program(spec(notify=True), services=True))
    api = by_name(plan, "apis-storagetransfer").urn
    for suffix in ("sink-writer", "sink-reader", "topic", "topic-publisher", "job"):
        assert api in by_name(plan, f"{NAME}-{suffix}").dependencies, suffix


def test_outputs_for_the_aws_trust_policy() -> None:
    """The agent's subject id (for the AWS role's trust policy) and the job name are outputs."""
    captured = Captured()
    plan_of(transfer_program(spec(), captured=captured))
    assert captured["subject_id"] == project_number(PROJECT)
    assert captured["agent_email"] == STS_MEMBER.removeprefix("serviceAccount:")
    assert captured["job_name"].startswith("transferJobs/")


# ---------------------------------------------------------------------------------------------
# static keys: secret all the way


def test_static_keys_never_appear_in_clear(keys_plan: Plan) -> None:
    """The key strings are nowhere in the Plan JSON; the job carries secret placeholders."""
    text = keys_plan.to_json()
    assert ACCESS_KEY_ID not in text
    assert SECRET_ACCESS_KEY not in text
    assert "EXAMPLEKEY" not in json.dumps([r.inputs for r in keys_plan.resources])
    source = job_inputs(keys_plan)["transferSpec"]["awsS3DataSource"]
    assert source["awsAccessKey"] == {"accessKeyId": SECRET_PLACEHOLDER,
                                      "secretAccessKey": SECRET_PLACEHOLDER}
    assert "roleArn" not in source


def test_spec_does_not_show_keys() -> None:
    """repr/str of the spec (logs, error traces) mask the keys."""
    text = repr(static_keys()) + str(static_keys())
    assert ACCESS_KEY_ID not in text and SECRET_ACCESS_KEY not in text


# ---------------------------------------------------------------------------------------------
# config validation


def _problems(**overrides: Any) -> str:
    with pytest.raises(ValidationError) as info:
        spec(**overrides)
    return str(info.value)


def test_rejects_a_bad_s3_url() -> None:
    assert "expected an s3://BUCKET[/PREFIX] URL" in _problems(source="gs://acme-datasets/x/")
    assert "invalid S3 bucket name" in _problems(source="s3://Acme_Datasets/")


def test_rejects_a_source_folder_without_trailing_slash() -> None:
    assert "must end with '/'" in _problems(source="s3://acme-datasets/imagenet",
                                            include_prefixes=[], exclude_prefixes=[])


def test_rejects_role_and_keys_together() -> None:
    text = _problems(aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY)
    assert "not both" in text


def test_rejects_neither_role_nor_keys() -> None:
    assert "role_arn: required" in _problems(role_arn=None)


@pytest.mark.parametrize("given", ["aws_access_key_id", "aws_secret_access_key"])
def test_rejects_half_a_key_pair(given: str) -> None:
    value = ACCESS_KEY_ID if given == "aws_access_key_id" else SECRET_ACCESS_KEY
    text = _problems(role_arn=None, **{given: value})
    assert "come in pairs" in text
    assert value not in text


@pytest.mark.parametrize("arn", [
    "arn:aws:iam::12345678901:role/short-account",
    "arn:aws:iam::123456789012:user/not-a-role",
    "arn:aws:s3:::acme-datasets",
    "123456789012:role/x",
    "arn:aws:iam::123456789012:role/",
])
def test_rejects_a_bad_role_arn(arn: str) -> None:
    assert "is not an AWS IAM role ARN" in _problems(role_arn=arn)


def test_accepts_a_role_arn_with_a_path() -> None:
    assert spec(role_arn="arn:aws:iam::123456789012:role/service/gcp-sts").role_arn


def test_rejects_a_malformed_access_key_id_without_echoing_it() -> None:
    text = _problems(role_arn=None, aws_access_key_id="ASIAIOSFODNN7EXAMPLE",
                     aws_secret_access_key=SECRET_ACCESS_KEY)
    assert "AKIA" in text and "ASIAIOSFODNN7EXAMPLE" not in text and SECRET_ACCESS_KEY not in text


def test_rejects_a_key_that_is_not_text_without_echoing_it() -> None:
    """Pydantic's own type error would quote the input; ours does not (the loader prints it)."""
    from infra.config.problems import problem_line, validation_problems

    class Holder(Spec):
        transfers: dict[str, TransferConfig]

    raw = {"source": "s3://acme-datasets/", "sink_bucket": "datasets", "start_date": "2026-03-02",
           "aws_access_key_id": 987654321987, "aws_secret_access_key": SECRET_ACCESS_KEY}
    with pytest.raises(ValidationError) as info:
        Holder.model_validate({"transfers": {"imagenet": raw}})
    lines = [problem_line(p) for p in validation_problems(info.value, Holder)]
    assert lines == ["aidc:transfers.imagenet.aws_access_key_id: must be a string, given as a "
                     "`secure:` config value"]


def test_accepts_secret_placeholders_offline() -> None:
    """Offline the loader leaves '[secret]' for secure values; that is a valid pair."""
    loaded = spec(role_arn=None, aws_access_key_id=SECRET_PLACEHOLDER,
                  aws_secret_access_key=SECRET_PLACEHOLDER)
    assert loaded.uses_static_keys


def test_rejects_prefixes_outside_the_source_folder() -> None:
    text = _problems(include_prefixes=["other/train/"], exclude_prefixes=[])
    assert "outside the source prefix" in text


def test_rejects_exclude_not_under_an_include() -> None:
    text = _problems(exclude_prefixes=["imagenet/test/"])
    assert "exclude_prefixes 'imagenet/test/' does not start with any include_prefixes" in text


def test_rejects_nested_include_prefixes() -> None:
    text = _problems(include_prefixes=["imagenet/train/", "imagenet/train/a/"],
                     exclude_prefixes=[])
    assert "include_prefixes: 'imagenet/train/' is a prefix of 'imagenet/train/a/'" in text


def test_rejects_the_source_folder_as_a_filter() -> None:
    assert "source folder itself" in _problems(include_prefixes=["imagenet/"], exclude_prefixes=[])
    assert "exclude everything" in _problems(include_prefixes=[], exclude_prefixes=["imagenet/"])


@pytest.mark.parametrize("prefix", ["imagenet", "/imagenet/"])
def test_rejects_a_bad_sink_prefix(prefix: str) -> None:
    assert "a sink folder ends with '/'" in _problems(sink_prefix=prefix)


def test_rejects_end_date_on_a_one_off_job() -> None:
    assert "one-off job runs on start_date only" in _problems(end_date=date(2026, 4, 1))


def test_rejects_end_date_before_start_date() -> None:
    assert "is before start_date" in _problems(schedule="weekly", end_date=date(2026, 3, 1))


def test_rejects_unknown_fields_and_bad_choices() -> None:
    assert "Extra inputs are not permitted" in _problems(delete_source=True)
    assert "'once', 'daily' or 'weekly'" in _problems(schedule="hourly")
    assert "'DIFFERENT', 'NEVER' or 'ALWAYS'" in _problems(overwrite_when="SOMETIMES")
    assert "start_date" in _problems(start_date="next tuesday")


def test_rejects_a_long_description() -> None:
    assert "1024 bytes" in _problems(description="é" * 600)


def test_rejects_a_bad_sink_bucket_key() -> None:
    assert "'Data_Sets' is not accepted by GCP" in _problems(sink_bucket="Data_Sets")


def test_spec_is_frozen_and_fully_described() -> None:
    with pytest.raises(ValidationError):
        spec().notify = True  # type: ignore[misc]
    undescribed = [n for n, f in TransferConfig.model_fields.items() if not f.description]
    assert undescribed == []


def test_reports_every_problem_at_once() -> None:
    text = _problems(role_arn=None, schedule="once", end_date=date(2026, 4, 1),
                     include_prefixes=["elsewhere/"], exclude_prefixes=[])
    assert "role_arn: required" in text
    assert "one-off job" in text
    assert "outside the source prefix" in text


# ---------------------------------------------------------------------------------------------
# platform-level checks and the loader


def test_check_sinks_names_each_missing_bucket() -> None:
    jobs = {"imagenet": spec(), "laion": spec(sink_bucket="raw")}
    assert check_sinks(jobs, ["datasets", "checkpoints"]) == [Problem(
        ("transfers", "laion", "sink_bucket"), "'raw' is not a bucket of this stack "
        "(aidc:storage.buckets: checkpoints, datasets); add it there or pick one of those")]
    assert check_sinks({"imagenet": spec()}, ["datasets"]) == []
    assert "none declared" in check_sinks({"imagenet": spec()}, [])[0].message


def test_check_keys_wants_rfc1035_names() -> None:
    assert check_keys({"imagenet": spec()}, "aidc-dev") == []
    assert check_keys({"ImageNet_1k": spec()}, "aidc-dev")[0].loc == ("transfers", "ImageNet_1k")


def test_check_keys_wants_a_topic_name_pubsub_accepts() -> None:
    """The job's notification topic is composed from the stack prefix; Pub/Sub's rules apply."""
    problems = check_keys({"imagenet": spec()}, "goog-dev")
    assert [p.loc for p in problems] == [("transfers", "imagenet")]
    assert "not accepted by Pub/Sub" in problems[0].message


def test_topic_name_follows_pubsub_rules() -> None:
    assert topic_name("aidc-staging", "imagenet") == "aidc-staging-transfer-imagenet"
    with pytest.raises(ValueError, match="not accepted by Pub/Sub"):
        topic_name("goog-aidc", "imagenet")


def test_static_keys_in_clear_text_are_reported() -> None:
    """The loader runs this on the raw YAML: a clear-text key is named, its value never shown."""
    raw = {
        "clear": {"source": "s3://a-bucket", "aws_access_key_id": ACCESS_KEY_ID,
                  "aws_secret_access_key": {"secure": "v1:abc"}},
        "secure": {"aws_access_key_id": {"secure": "v1:x"},
                   "aws_secret_access_key": {"secure": "v1:y"}},
        "role": {"role_arn": ROLE_ARN},
        "whole": {"secure": "v1:whole-job"},
    }
    problems = clear_text_secrets({"aidc:transfers": raw})
    assert [p.loc for p in problems] == [("transfers", "clear", "aws_access_key_id")]
    assert "a secret in clear text" in problems[0].message
    assert ACCESS_KEY_ID not in problems[0].message
    assert clear_text_secrets({"aidc:transfers": {"secure": "v1:all"}}) == []
    assert clear_text_secrets({}) == []


def test_secure_keys_from_a_stack_file_load_as_placeholders(tmp_path: Path) -> None:
    """Through the real loader: secure values become '[secret]', the spec validates, and the
    raw value passes the clear-text check."""
    stack = tmp_path / "Pulumi.test.yaml"
    stack.write_text(
        "config:\n"
        "  aidc:transfers:\n"
        "    imagenet:\n"
        "      source: s3://acme-datasets/imagenet/\n"
        "      sink_bucket: datasets\n"
        "      start_date: '2026-03-02'\n"
        "      aws_access_key_id:\n"
        "        secure: v1:AAAAbase64==\n"
        "      aws_secret_access_key:\n"
        "        secure: v1:BBBBbase64==\n")
    flat, secret_keys = read_stack_file(stack)
    assert "aidc:transfers" in secret_keys
    loaded = TransferConfig.model_validate(flat["aidc:transfers"]["imagenet"])
    assert loaded.aws_access_key_id is not None
    assert loaded.aws_access_key_id.get_secret_value() == SECRET_PLACEHOLDER
    import yaml

    raw = yaml.safe_load(stack.read_text())["config"]
    assert clear_text_secrets(raw) == []


def test_component_accepts_pulumi_inputs_for_the_bucket() -> None:
    """The sink bucket may be a plain name as well as an Output (a bucket created elsewhere)."""
    def program() -> None:
        DatasetTransfer("t", spec(), project=PROJECT, sink_bucket=pulumi.Output.from_input(SINK),
                        grant_key=None)
    plan = plan_of(program)
    assert inputs(plan, "t-job")["transferSpec"]["gcsDataSink"]["bucketName"] == SINK
