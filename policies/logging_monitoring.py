"""Logging and monitoring: evidence is recorded, and alerts reach a human who knows what to do.

Resource rules are `rule(args, config) -> Iterator[message]`; the stack rule yields
`(message, urn)`.
Each policy's `PolicyMeta` record stands above its rule; `RULES` lists both, in roster order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._util import NO_VM_SUBNET_PURPOSES, as_list, at_least, classification, get, is_false, is_true
from .protocol import (
    ALERT_POLICY,
    AUDIT_CONFIG,
    BUCKET,
    CLUSTER,
    FIREWALL,
    NOTIFICATION_CHANNEL,
    SUBNETWORK,
    TRANSFER_JOB,
)
from .record import UNLABELLED, Cis, PolicyMeta, Rule, boolean_property, classification_property



_STORAGE_AUDIT_SERVICES = ("storage.googleapis.com", "allServices")
_DATA_ACCESS = ("DATA_READ", "DATA_WRITE")


REQUIRE_CHANNELS = {"requireNotificationChannels": boolean_property(
    False, "Alert policies need notification channels and the stack at least one channel (set "
    "in prod).")}


L1 = PolicyMeta(
    id="L1", name="gke-logging-monitoring", concern="logging_monitoring", severity="medium",
    description="GKE sends system and workload logs and system metrics to Cloud "
                "Operations.",
    resource_types=(CLUSTER,),
    remediation="Leave logging_service/monitoring_service at their defaults; when "
                "logging_config/monitoring_config list components, include SYSTEM_COMPONENTS "
                "(and WORKLOADS for logs).",
    url="https://cloud.google.com/kubernetes-engine/docs/concepts/observability",
    defaults={"loggingService": "logging.googleapis.com/kubernetes",
              "monitoringService": "monitoring.googleapis.com/kubernetes",
              "loggingConfig.enableComponents": ["SYSTEM_COMPONENTS", "WORKLOADS"]},
    cis=(Cis("GKE", "1.4", "5.7.1"),),
    checkov=("CKV_GCP_1", "CKV_GCP_8"),
)


def gke_logging_monitoring(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """L1: without system and workload logs there is no incident timeline (CIS GKE 5.7.1)."""
    props = args.props
    if get(props, "loggingService") == "none":
        yield "loggingService is 'none'"
    if get(props, "monitoringService") == "none":
        yield "monitoringService is 'none'"
    log_components = get(props, "loggingConfig", "enableComponents")
    if log_components is not None:
        missing = [c for c in ("SYSTEM_COMPONENTS", "WORKLOADS")
                   if c not in as_list(log_components)]
        if missing:
            yield f"loggingConfig.enableComponents omits {', '.join(missing)}"
    monitoring = get(props, "monitoringConfig", "enableComponents")
    if monitoring is not None and "SYSTEM_COMPONENTS" not in as_list(monitoring):
        yield "monitoringConfig.enableComponents omits SYSTEM_COMPONENTS"


L2 = PolicyMeta(
    id="L2", name="subnet-flow-logs", concern="logging_monitoring", severity="low",
    description="Subnets record VPC flow logs.",
    resource_types=(SUBNETWORK,),
    remediation="Add log_config (aggregation_interval, flow_sampling, metadata) to the "
                "subnetwork.",
    url="https://cloud.google.com/vpc/docs/using-flow-logs",
    defaults={"logConfig": None, "purpose": "PRIVATE"},
    cis=(Cis("GCP", "2.0", "3.8"),),
    checkov=("CKV_GCP_26",),
    policy_library=("gcp_network_enable_flow_logs_v1",),
)


def subnet_flow_logs(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """L2: flow logs are the only record of who talked to the data plane (CIS 3.8)."""
    purpose = get(args.props, "purpose", default=L2.default("purpose"))
    if purpose in NO_VM_SUBNET_PURPOSES:
        args.not_applicable(f"{purpose} subnets carry no VM traffic to log")
    if get(args.props, "logConfig") is None:
        yield "logConfig is not set: VPC flow logs are off"


L3 = PolicyMeta(
    id="L3", name="firewall-logging", concern="logging_monitoring", severity="low",
    description="Firewall rules that allow traffic log the connections they admit.",
    resource_types=(FIREWALL,),
    remediation="Add log_config {metadata: \"INCLUDE_ALL_METADATA\"} to the allow rule.",
    url="https://cloud.google.com/firewall/docs/firewall-rules-logging",
    defaults={"logConfig": None},
    policy_library=("gcp_network_enable_firewall_logs_v1",),
)


def firewall_logging(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """L3: without firewall rule logs there is no record of which rule let a connection in."""
    if not as_list(get(args.props, "allows")):
        args.not_applicable("a deny rule: nothing it admits to account for")
        return
    if get(args.props, "logConfig", "metadata") is None:
        yield "logConfig.metadata is not set: connections this allow rule admits are not logged"


L7 = PolicyMeta(
    id="L7", name="gke-intranode-visibility", concern="logging_monitoring", severity="low",
    description="Same-node pod traffic goes through the VPC, so flow logs and firewall rules "
                "see it (advisory: it adds a hop and flow-log volume).",
    resource_types=(CLUSTER,),
    remediation="Set enable_intranode_visibility=True (aidc: cluster.intranode_visibility).",
    url="https://cloud.google.com/kubernetes-engine/docs/how-to/intranode-visibility",
    defaults={"enableIntranodeVisibility": "False (Standard); True (Autopilot)"},
    cis=(Cis("GKE", "1.4", "5.6.1"),),
    checkov=("CKV_GCP_61",),
)


def gke_intranode_visibility(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """L7: pods on one node talk past the VPC, so flow logs and firewall rules miss that
    traffic unless intranode visibility is on (CIS GKE 5.6.1). Autopilot has it on."""
    if is_true(get(args.props, "enableAutopilot")):
        return
    if not is_true(get(args.props, "enableIntranodeVisibility")):
        yield "enableIntranodeVisibility is not true: same-node pod traffic is not in flow logs"


L4 = PolicyMeta(
    id="L4", name="bucket-access-logging", concern="logging_monitoring", severity="low",
    description="Buckets holding confidential data or above write usage logs elsewhere.",
    resource_types=(BUCKET,),
    remediation="Set logging.log_bucket to a separate log bucket.",
    url="https://cloud.google.com/storage/docs/access-logs",
    defaults={"logging.logBucket": None},
    checkov=("CKV_GCP_62", "CKV_GCP_63"),
    policy_library=("gcp_storage_logging_v1",),
    config={**UNLABELLED, "accessLoggingMinClassification": classification_property(
        "confidential", "Lowest classification whose buckets must write usage logs.")},
)


def bucket_access_logging(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """L4: usage logs say who read sensitive objects when audit logs are not enough."""
    level = classification(args.props, config)
    threshold = str(config["accessLoggingMinClassification"])
    if not at_least(level, threshold):
        args.not_applicable(f"classification {level} is below {threshold}")
    target = get(args.props, "logging", "logBucket")
    if not target:
        yield f"{level} bucket writes no usage logs (logging.logBucket is not set)"
    elif target in (get(args.props, "name"), args.name):
        yield "the bucket logs into itself"


L5 = PolicyMeta(
    id="L5", name="data-access-audit-logs", concern="logging_monitoring", severity="medium",
    stack=True,
    description="A stack holding confidential data or above turns on data access audit logs "
                "for Cloud Storage (DATA_READ and DATA_WRITE, no exempted members).",
    resource_types=(BUCKET, AUDIT_CONFIG),
    remediation="Add a gcp.projects.IAMAuditConfig for storage.googleapis.com (or "
                "allServices) logging DATA_READ and DATA_WRITE without exempted members "
                "(aidc: storage.data_access_logs).",
    url="https://cloud.google.com/logging/docs/audit/configure-data-access",
    defaults={"auditLogConfigs": "none: Cloud Storage writes no data access logs"},
    cis=(Cis("GCP", "2.0", "2.1"),),
    checkov=("CKV2_GCP_5",),
    config={**UNLABELLED, "dataAccessLogsMinClassification": classification_property(
        "confidential", "Lowest classification whose buckets need Cloud Storage data access "
        "audit logs.")},
)


def data_access_audit_logs(args: Any, config: Mapping[str, Any]) -> Iterator[tuple[str, str | None]]:
    """L5 (stack): only data access audit logs say who read which training object (CIS GCP
    2.1); Cloud Storage writes none unless an audit config asks for DATA_READ and DATA_WRITE."""
    threshold = str(config["dataAccessLogsMinClassification"])
    holders = [r for r in args.resources if r.resource_type == BUCKET
               and at_least(classification(r.props, config), threshold)]
    if not holders:
        args.not_applicable(f"no bucket holds {threshold} data or above")
        return
    covered = False
    for r in args.resources:
        service = get(r.props, "service")
        if r.resource_type != AUDIT_CONFIG or service not in _STORAGE_AUDIT_SERVICES:
            continue
        logged = {str(get(c, "logType")): c for c in as_list(get(r.props, "auditLogConfigs"))}
        missing = [t for t in _DATA_ACCESS if t not in logged]
        exempted = sorted({str(m) for t in _DATA_ACCESS if t in logged
                           for m in as_list(get(logged[t], "exemptedMembers"))})
        if missing:
            yield f"the {service} audit config does not log {', '.join(missing)}", r.urn
        elif exempted:
            yield f"the {service} audit config exempts {', '.join(exempted)}", r.urn
        else:
            covered = True
    if not covered:
        yield (f"{len(holders)} bucket(s) hold {threshold} data or above, but no audit config "
               "logs DATA_READ and DATA_WRITE for storage.googleapis.com (or allServices)"), None


L6 = PolicyMeta(
    id="L6", name="alerts-have-channels", concern="logging_monitoring", severity="medium",
    description="Alert policies are enabled and notify at least one channel (when required, "
                "i.e. in prod).",
    resource_types=(ALERT_POLICY,),
    remediation="Set notification_channels (and enabled=True) on the alert policy.",
    url="https://cloud.google.com/monitoring/alerts",
    defaults={"enabled": True, "notificationChannels": []},
    cis=(Cis("GCP", "2.0", "2.4"),),
    config={**REQUIRE_CHANNELS},
)


def alerts_have_channels(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """L6: an alert that notifies no one is a dashboard nobody watches."""
    if not config["requireNotificationChannels"]:
        args.not_applicable("requireNotificationChannels is off (set it in prod)")
    if is_false(get(args.props, "enabled", default=L6.default("enabled"))):
        yield "the alert policy is disabled"
    if not as_list(get(args.props, "notificationChannels")):
        yield "the alert policy has no notificationChannels"


L8 = PolicyMeta(
    id="L8", name="transfer-job-logging", concern="logging_monitoring", severity="low",
    description="Storage transfer jobs log copies (and deletions when they delete).",
    resource_types=(TRANSFER_JOB,),
    remediation="Set logging_config.log_actions ['COPY', 'DELETE'] and log_action_states "
                "['SUCCEEDED', 'FAILED'].",
    url="https://cloud.google.com/storage-transfer/docs/cloud-logging",
    defaults={"loggingConfig.logActions": []},
)


def transfer_job_logging(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """L8: a transfer job moves training data in bulk; its copies and deletions are evidence."""
    actions = {str(a) for a in as_list(get(args.props, "loggingConfig", "logActions"))}
    options = get(args.props, "transferSpec", "transferOptions", default={})
    deletes = any(is_true(get(options, k)) for k in ("deleteObjectsUniqueInSink",
                                                    "deleteObjectsFromSourceAfterTransfer"))
    wanted = ["COPY", "DELETE"] if deletes else ["COPY"]
    missing = [a for a in wanted if a not in actions]
    if missing:
        yield f"loggingConfig.logActions does not log {', '.join(missing)}"


L9 = PolicyMeta(
    id="L9", name="alert-policy-documented", concern="logging_monitoring", severity="low",
    description="Alert policies carry documentation telling the on-call what to do.",
    resource_types=(ALERT_POLICY,),
    remediation="Set documentation.content (markdown: what fired, impact, runbook link).",
    url="https://cloud.google.com/monitoring/alerts/doc-variables",
    defaults={"documentation.content": None},
)


def alert_policy_documented(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """L9: the page at 3 a.m. must say what fired, why it matters and where the runbook is."""
    content = get(args.props, "documentation", "content")
    if not isinstance(content, str) or not content.strip():
        yield "documentation.content is empty: the alert tells the on-call nothing"


L10 = PolicyMeta(
    id="L10", name="notification-channel-present", concern="logging_monitoring",
    severity="medium", stack=True,
    description="The stack declares at least one enabled notification channel (when "
                "required, i.e. in prod).",
    resource_types=(NOTIFICATION_CHANNEL,),
    remediation="Add a gcp.monitoring.NotificationChannel (e-mail, PagerDuty, Pub/Sub) and "
                "reference it from the alert policies.",
    url="https://cloud.google.com/monitoring/support/notification-options",
    defaults={"enabled": True},
    cis=(Cis("GCP", "2.0", "2.4"),),
    config={**REQUIRE_CHANNELS},
)


def notification_channel_present(args: Any, config: Mapping[str, Any]) -> Iterator[tuple[str, None]]:
    """L10 (stack): alerts need somewhere to go; prod declares at least one enabled channel."""
    if not config["requireNotificationChannels"]:
        args.not_applicable("requireNotificationChannels is off (set it in prod)")
    for resource in args.resources:
        if resource.resource_type == NOTIFICATION_CHANNEL and not is_false(
                get(resource.props, "enabled", default=True)):
            return
    yield "the stack declares no enabled monitoring notification channel", None


RULES: tuple[tuple[PolicyMeta, Rule], ...] = (
    (L1, gke_logging_monitoring),
    (L2, subnet_flow_logs),
    (L3, firewall_logging),
    (L4, bucket_access_logging),
    (L5, data_access_audit_logs),
    (L6, alerts_have_channels),
    (L7, gke_intranode_visibility),
    (L8, transfer_job_logging),
    (L9, alert_policy_documented),
    (L10, notification_channel_present),
)
