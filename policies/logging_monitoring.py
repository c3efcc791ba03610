"""Logging and monitoring: evidence is recorded, and alerts reach a human who knows what to do.

Resource rules are `rule(args, config) -> Iterator[message]`; the stack rule yields
`(message, urn)`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._util import NO_VM_SUBNET_PURPOSES, as_list, at_least, classification, get, is_false, is_true
from .metadata import meta
from .protocol import AUDIT_CONFIG, BUCKET, NOTIFICATION_CHANNEL



_STORAGE_AUDIT_SERVICES = ("storage.googleapis.com", "allServices")
_DATA_ACCESS = ("DATA_READ", "DATA_WRITE")


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


def subnet_flow_logs(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """L2: flow logs are the only record of who talked to the data plane (CIS 3.8)."""
    purpose = get(args.props, "purpose", default=meta("L2").default("purpose"))
    if purpose in NO_VM_SUBNET_PURPOSES:
        args.not_applicable(f"{purpose} subnets carry no VM traffic to log")
    if get(args.props, "logConfig") is None:
        yield "logConfig is not set: VPC flow logs are off"


def firewall_logging(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """L3: without firewall rule logs there is no record of which rule let a connection in."""
    if not as_list(get(args.props, "allows")):
        args.not_applicable("a deny rule: nothing it admits to account for")
        return
    if get(args.props, "logConfig", "metadata") is None:
        yield "logConfig.metadata is not set: connections this allow rule admits are not logged"


def gke_intranode_visibility(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """L7: pods on one node talk past the VPC, so flow logs and firewall rules miss that
    traffic unless intranode visibility is on (CIS GKE 5.6.1). Autopilot has it on."""
    if is_true(get(args.props, "enableAutopilot")):
        return
    if not is_true(get(args.props, "enableIntranodeVisibility")):
        yield "enableIntranodeVisibility is not true: same-node pod traffic is not in flow logs"


def bucket_access_logging(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """L4: usage logs say who read sensitive objects when audit logs are not enough."""
    level = classification(args.props, config)
    threshold = str(config.get("accessLoggingMinClassification", "confidential"))
    if not at_least(level, threshold):
        args.not_applicable(f"classification {level} is below {threshold}")
    target = get(args.props, "logging", "logBucket")
    if not target:
        yield f"{level} bucket writes no usage logs (logging.logBucket is not set)"
    elif target in (get(args.props, "name"), args.name):
        yield "the bucket logs into itself"


def data_access_audit_logs(args: Any, config: Mapping[str, Any]) -> Iterator[tuple[str, str | None]]:
    """L5 (stack): only data access audit logs say who read which training object (CIS GCP
    2.1); Cloud Storage writes none unless an audit config asks for DATA_READ and DATA_WRITE."""
    threshold = str(config.get("dataAccessLogsMinClassification", "confidential"))
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


def alerts_have_channels(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """L6: an alert that notifies no one is a dashboard nobody watches."""
    if not config.get("requireNotificationChannels"):
        args.not_applicable("requireNotificationChannels is off (set it in prod)")
    if is_false(get(args.props, "enabled", default=meta("L6").default("enabled"))):
        yield "the alert policy is disabled"
    if not as_list(get(args.props, "notificationChannels")):
        yield "the alert policy has no notificationChannels"


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


def alert_policy_documented(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """L9: the page at 3 a.m. must say what fired, why it matters and where the runbook is."""
    content = get(args.props, "documentation", "content")
    if not isinstance(content, str) or not content.strip():
        yield "documentation.content is empty: the alert tells the on-call nothing"


def notification_channel_present(args: Any, config: Mapping[str, Any]) -> Iterator[tuple[str, None]]:
    """L10 (stack): alerts need somewhere to go; prod declares at least one enabled channel."""
    if not config.get("requireNotificationChannels"):
        args.not_applicable("requireNotificationChannels is off (set it in prod)")
    for resource in args.resources:
        if resource.resource_type == NOTIFICATION_CHANNEL and not is_false(
                get(resource.props, "enabled", default=True)):
            return
    yield "the stack declares no enabled monitoring notification channel", None


RULES = {
    "L1": gke_logging_monitoring,
    "L2": subnet_flow_logs,
    "L3": firewall_logging,
    "L4": bucket_access_logging,
    "L5": data_access_audit_logs,
    "L6": alerts_have_channels,
    "L7": gke_intranode_visibility,
    "L8": transfer_job_logging,
    "L9": alert_policy_documented,
    "L10": notification_channel_present,
}
