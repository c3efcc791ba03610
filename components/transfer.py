"""DatasetTransfer: a Storage Transfer Service job from Amazon S3 into an aidc data bucket."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date

import pulumi
import pulumi_gcp as gcp

from infra.config.transfers import PUBSUB_PUBLISHER, TransferConfig

# The job's logging: every copy, deletion and listing, succeeded or failed (L8 in the pack).
# https://cloud.google.com/storage-transfer/docs/cloud-logging
LOG_ACTIONS = ["COPY", "DELETE", "FIND"]
LOG_ACTION_STATES = ["SUCCEEDED", "FAILED"]
# What a notification reports: the end of each run, whatever the outcome.
# https://cloud.google.com/storage-transfer/docs/pub-sub-transfer
NOTIFY_EVENTS = ["TRANSFER_OPERATION_SUCCESS", "TRANSFER_OPERATION_FAILED",
                 "TRANSFER_OPERATION_ABORTED"]

# Child name suffix per sink role; a new role gets a new child, the existing ones keep theirs.
SINK_ROLE_NAMES = {"roles/storage.legacyBucketWriter": "writer",
                   "roles/storage.objectViewer": "reader"}

KeyGrant = Callable[[str, pulumi.Input[str]], pulumi.Resource]
# The lookup that returns (and on first call creates) the project's Storage Transfer agent.
TRANSFER_AGENT_LOOKUP = ("gcp:storage/getTransferProjectServiceAccount:"
                         "getTransferProjectServiceAccount")


def _date(day: date) -> dict[str, int]:
    return {"year": day.year, "month": day.month, "day": day.day}


class DatasetTransfer(pulumi.ComponentResource):
    """One transfer job and exactly the access its service agent needs, created before the job.

    - The Storage Transfer service agent of `project` (`project-<number>@storage-transfer-service
      .iam.gserviceaccount.com`) gets `spec.sink_roles()` on the sink bucket, and, through
      `grant_key`, `roles/cloudkms.cryptoKeyEncrypterDecrypter` on the bucket's key (the
      composition passes `lambda n, m: kms.grant(n, "storage", m)`; None when the bucket has no
      CMEK). With `spec.notify`, a Pub/Sub topic and the agent's publisher grant on it.
    - The job `depends_on` every one of those grants, so its first run never races IAM.
    - The job never deletes at the source nor objects only in the sink; it overwrites per
      `spec.overwrite_when` (DIFFERENT by default) and logs COPY, DELETE and FIND.
    - Static AWS keys, when the spec carries them, are wrapped as Pulumi secrets: state and
      plans hold them encrypted / as "[secret]", never in clear.

    `depends_on` are resources every child waits for (the storagetransfer and pubsub APIs);
    the agent lookup waits for them too, since it fails while the API is disabled.
    """

    job: gcp.storage.TransferJob
    topic: gcp.pubsub.Topic | None
    grants: list[pulumi.Resource]
    agent_email: pulumi.Output[str]
    agent_member: pulumi.Output[str]
    agent_subject_id: pulumi.Output[str]
    job_name: pulumi.Output[str]

    def __init__(self, name: str, spec: TransferConfig, *, project: str,
                 sink_bucket: pulumi.Input[str],
                 grant_key: KeyGrant | None,
                 topic_name: str | None = None,
                 labels: Mapping[str, str] | None = None,
                 depends_on: Sequence[pulumi.Resource] = (),
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aidc:transfer:DatasetTransfer", name, None, opts)
        after = list(depends_on)
        child = pulumi.ResourceOptions(parent=self, depends_on=after)

        agent = gcp.storage.get_transfer_project_service_account_output(
            project=project, opts=pulumi.InvokeOutputOptions(parent=self, depends_on=after))
        self.agent_email = agent.email
        self.agent_member = agent.email.apply(lambda e: f"serviceAccount:{e}")
        # The subject id the AWS role's trust policy must name (accounts.google.com:sub).
        # https://cloud.google.com/storage-transfer/docs/source-amazon-s3#federated_identity
        self.agent_subject_id = agent.subject_id

        # https://cloud.google.com/storage-transfer/docs/sink-cloud-storage#required-permissions
        self.grants = [
            gcp.storage.BucketIAMMember(
                f"{name}-sink-{SINK_ROLE_NAMES[role]}",
                bucket=sink_bucket, role=role, member=self.agent_member, opts=child)
            for role in spec.sink_roles()
        ]
        if grant_key is not None:
            self.grants.append(grant_key(f"{name}-key", self.agent_member))

        self.topic = None
        notification = None
        if spec.notify:
            self.topic = gcp.pubsub.Topic(
                f"{name}-topic", name=topic_name or f"{name}-notifications", project=project,
                labels=dict(labels or {}), opts=child)
            self.grants.append(gcp.pubsub.TopicIAMMember(
                f"{name}-topic-publisher", topic=self.topic.id, project=project,
                role=PUBSUB_PUBLISHER, member=self.agent_member, opts=child))
            notification = gcp.storage.TransferJobNotificationConfigArgs(
                pubsub_topic=self.topic.id, event_types=NOTIFY_EVENTS, payload_format="JSON")

        include, exclude = spec.sts_prefixes()
        conditions = (gcp.storage.TransferJobTransferSpecObjectConditionsArgs(
            include_prefixes=include or None, exclude_prefixes=exclude or None)
            if include or exclude else None)
        self.job = gcp.storage.TransferJob(
            f"{name}-job",
            project=project,
            description=pulumi.Output.from_input(sink_bucket).apply(
                lambda bucket: spec.job_description(name, bucket)),
            status="ENABLED",
            transfer_spec=gcp.storage.TransferJobTransferSpecArgs(
                aws_s3_data_source=self._source(spec),
                gcs_data_sink=gcp.storage.TransferJobTransferSpecGcsDataSinkArgs(
                    bucket_name=sink_bucket, path=spec.sink_prefix or None),
                object_conditions=conditions,
                transfer_options=gcp.storage.TransferJobTransferSpecTransferOptionsArgs(
                    delete_objects_from_source_after_transfer=False,
                    delete_objects_unique_in_sink=False,
                    overwrite_when=spec.overwrite_when,
                ),
            ),
            schedule=self._schedule(spec),
            logging_config=gcp.storage.TransferJobLoggingConfigArgs(
                log_actions=LOG_ACTIONS, log_action_states=LOG_ACTION_STATES),
            notification_config=notification,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*after, *self.grants]),
        )
        self.job_name = self.job.name
        self.register_outputs({
            "job": self.job, "job_name": self.job_name, "topic": self.topic,
            "grants": self.grants, "agent_email": self.agent_email,
            "agent_member": self.agent_member, "agent_subject_id": self.agent_subject_id,
        })

    @staticmethod
    def _schedule(spec: TransferConfig) -> gcp.storage.TransferJobScheduleArgs:
        """From the start date, once (ending that day) or repeating until the end date."""
        last_day = spec.last_day()
        return gcp.storage.TransferJobScheduleArgs(
            schedule_start_date=gcp.storage.TransferJobScheduleScheduleStartDateArgs(
                **_date(spec.start_date)),
            schedule_end_date=(gcp.storage.TransferJobScheduleScheduleEndDateArgs(
                **_date(last_day)) if last_day is not None else None),
            repeat_interval=spec.repeat_interval(),
        )

    @staticmethod
    def _source(spec: TransferConfig) -> gcp.storage.TransferJobTransferSpecAwsS3DataSourceArgs:
        url = spec.url
        access_key = None
        if spec.uses_static_keys:
            assert spec.aws_access_key_id is not None and spec.aws_secret_access_key is not None
            access_key = gcp.storage.TransferJobTransferSpecAwsS3DataSourceAwsAccessKeyArgs(
                access_key_id=pulumi.Output.secret(spec.aws_access_key_id.get_secret_value()),
                secret_access_key=pulumi.Output.secret(
                    spec.aws_secret_access_key.get_secret_value()),
            )
        return gcp.storage.TransferJobTransferSpecAwsS3DataSourceArgs(
            bucket_name=url.bucket,
            path=url.prefix or None,
            role_arn=spec.role_arn,
            aws_access_key=access_key,
        )
