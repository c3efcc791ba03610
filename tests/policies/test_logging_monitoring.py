"""Logging and monitoring policies (L1, L2, L4, L6, L8-L10), judged through the analyzer protocol
by the real pack."""

from __future__ import annotations

import pytest

from tests.policy_fixtures import (
    ALERT_POLICY,
    AUDIT_CONFIG,
    BUCKET,
    CLUSTER,
    DELETE,
    FIREWALL,
    NOTIFICATION_CHANNEL,
    SUBNETWORK,
    TRANSFER_JOB,
    Case,
    analyzer,  # noqa: F401 (module fixture)
    assert_case,
    case_id,
    resource,
)

PROD = {"alerts-have-channels": {"requireNotificationChannels": True},
        "notification-channel-present": {"requireNotificationChannels": True}}
_CHANNEL = resource(NOTIFICATION_CHANNEL, "oncall")

_AUDIT = {"project": "aidc-dev", "service": "storage.googleapis.com", "auditLogConfigs": [
    {"logType": "ADMIN_READ"}, {"logType": "DATA_READ"}, {"logType": "DATA_WRITE"}]}

CASES = [
    # L5 data-access-audit-logs (stack)
    Case("data-access-audit-logs", BUCKET, expect="no audit config",
         why="a confidential bucket and no audit config"),
    Case("data-access-audit-logs", BUCKET,
         extra=[resource(AUDIT_CONFIG, "audit", inputs={**_AUDIT, "auditLogConfigs": [
             {"logType": "DATA_READ"}]})], expect="DATA_WRITE"),
    Case("data-access-audit-logs", BUCKET,
         extra=[resource(AUDIT_CONFIG, "audit", inputs={**_AUDIT, "auditLogConfigs": [
             {"logType": "DATA_READ", "exemptedMembers": ["user:ml-bot@acme.example"]},
             {"logType": "DATA_WRITE"}]})], expect="exempts user:ml-bot@acme.example"),
    Case("data-access-audit-logs", BUCKET, extra=[resource(AUDIT_CONFIG, "audit", inputs=_AUDIT)],
         fails=False),
    Case("data-access-audit-logs", BUCKET,
         extra=[resource(AUDIT_CONFIG, "audit", inputs={**_AUDIT, "service": "allServices"})],
         fails=False, why="allServices covers Cloud Storage"),
    Case("data-access-audit-logs", BUCKET, {("labels", "data-classification"): "internal"},
         fails=False, not_applicable=True, why="no confidential data in the stack"),
    # L7 gke-intranode-visibility
    Case("gke-intranode-visibility", CLUSTER, {"enableIntranodeVisibility": DELETE}),
    Case("gke-intranode-visibility", CLUSTER, {"enableIntranodeVisibility": False}),
    Case("gke-intranode-visibility", CLUSTER, fails=False),
    Case("gke-intranode-visibility", CLUSTER,
         {"enableIntranodeVisibility": DELETE, "enableAutopilot": True}, fails=False,
         why="Autopilot turns it on"),
    # L3 firewall-logging
    Case("firewall-logging", FIREWALL, {"logConfig": DELETE}, expect="logConfig.metadata"),
    Case("firewall-logging", FIREWALL, fails=False),
    Case("firewall-logging", FIREWALL, {"logConfig": DELETE, "allows": DELETE,
                                        "denies": [{"protocol": "all"}]},
         fails=False, not_applicable=True, why="a deny rule"),
    # L1 gke-logging-monitoring
    Case("gke-logging-monitoring", CLUSTER, {"loggingService": "none"}),
    Case("gke-logging-monitoring", CLUSTER, {"monitoringService": "none"}),
    Case("gke-logging-monitoring", CLUSTER,
         {("loggingConfig", "enableComponents"): ["SYSTEM_COMPONENTS"]}, expect="WORKLOADS"),
    Case("gke-logging-monitoring", CLUSTER, {("monitoringConfig", "enableComponents"): []}),
    Case("gke-logging-monitoring", CLUSTER, fails=False),
    Case("gke-logging-monitoring", CLUSTER, {"loggingConfig": DELETE, "monitoringConfig": DELETE},
         fails=False, why="omitted: system and workload logs by default"),
    # L2 subnet-flow-logs
    Case("subnet-flow-logs", SUBNETWORK, {"logConfig": DELETE}),
    Case("subnet-flow-logs", SUBNETWORK, fails=False),
    Case("subnet-flow-logs", SUBNETWORK, {"logConfig": DELETE, "purpose": "REGIONAL_MANAGED_PROXY"},
         fails=False, not_applicable=True),
    # L4 bucket-access-logging
    Case("bucket-access-logging", BUCKET, {"logging": DELETE}),
    Case("bucket-access-logging", BUCKET, {("logging", "logBucket"): "aidc-dev-training-data"},
         expect="into itself"),
    Case("bucket-access-logging", BUCKET, fails=False),
    Case("bucket-access-logging", BUCKET,
         {"logging": DELETE, ("labels", "data-classification"): "internal"}, fails=False,
         not_applicable=True),
    # L6 alerts-have-channels
    Case("alerts-have-channels", ALERT_POLICY, {"notificationChannels": DELETE}, config=PROD),
    Case("alerts-have-channels", ALERT_POLICY, {"enabled": False}, config=PROD),
    Case("alerts-have-channels", ALERT_POLICY, fails=False, config=PROD),
    Case("alerts-have-channels", ALERT_POLICY, {"notificationChannels": DELETE}, fails=False,
         not_applicable=True, why="channels are required only when configured (prod)"),
    # L8 transfer-job-logging
    Case("transfer-job-logging", TRANSFER_JOB, {"loggingConfig": DELETE}),
    Case("transfer-job-logging", TRANSFER_JOB,
         {("loggingConfig", "logActions"): ["COPY"],
          ("transferSpec", "transferOptions", "deleteObjectsUniqueInSink"): True},
         expect="DELETE", why="a deleting job must log deletions"),
    Case("transfer-job-logging", TRANSFER_JOB, fails=False),
    Case("transfer-job-logging", TRANSFER_JOB, {("loggingConfig", "logActions"): ["COPY"]},
         fails=False, why="a job that never deletes logs copies"),
    # L9 alert-policy-documented
    Case("alert-policy-documented", ALERT_POLICY, {"documentation": DELETE}),
    Case("alert-policy-documented", ALERT_POLICY, {("documentation", "content"): "   "}),
    Case("alert-policy-documented", ALERT_POLICY, fails=False),
    # L10 notification-channel-present (stack)
    Case("notification-channel-present", ALERT_POLICY, config=PROD,
         why="prod stack without a channel"),
    Case("notification-channel-present", ALERT_POLICY, config=PROD,
         extra=[resource(NOTIFICATION_CHANNEL, "oncall", {"enabled": False})],
         why="only a disabled channel"),
    Case("notification-channel-present", ALERT_POLICY, config=PROD, extra=[_CHANNEL],
         fails=False),
    Case("notification-channel-present", ALERT_POLICY, fails=False, not_applicable=True,
         why="not required outside prod"),
]


@pytest.mark.parametrize("case", [c for c in CASES if c.fails], ids=case_id)
def test_flags_violation(analyzer, case: Case) -> None:  # noqa: F811
    """Each departure from the golden resource is a violation of the policy it breaks."""
    assert_case(analyzer, case)


@pytest.mark.parametrize("case", [c for c in CASES if not c.fails], ids=case_id)
def test_passes_compliant(analyzer, case: Case) -> None:  # noqa: F811
    """Golden resources, safe defaults and requirements that are off outside prod pass."""
    assert_case(analyzer, case)
