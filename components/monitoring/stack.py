"""MonitoringStack: notification channels, alert policies, dashboards and in-cluster metrics.

Everything that decides *what* is monitored lives in pure functions beside this module
(alerts, dashboards, manifests, their validators); this component maps them onto resources:

- `gcp.monitoring.NotificationChannel` per configured channel. Tokens go only through
  `sensitive_labels` (PagerDuty service key, Slack token) or, for token webhooks whose token is
  part of the URL, through a secret URL; always wrapped in `pulumi.Output.secret`, so the engine
  stores them encrypted and the offline planner shows "[secret]".
- `gcp.monitoring.AlertPolicy` per alert, with markdown documentation, severity, the channels
  routed to that severity, auto-close and (log-based) a notification rate limit;
  `gcp.logging.Metric` where an alert counts log entries.
- `gcp.monitoring.Dashboard` per requested dashboard (`dashboard_json`, validated).
- With a `k8s_provider`: the monitoring namespace and, when GKE's managed DCGM is not collecting
  GPU metrics (`gke_managed_dcgm=False`) or in self-managed mode, aidc's dcgm-exporter DaemonSet
  with its PodMonitoring (Managed Prometheus) or PodMonitor; in self-managed mode a pinned
  kube-prometheus-stack Helm release and the DCGM alerts as a PrometheusRule. In managed mode with
  `gke_managed_dcgm=True` (the default) no exporter is deployed: GKE runs DCGM itself when the
  cluster's `monitoringConfig` enables the DCGM component (default for clusters created at
  1.32.1-gke.1357000 or later), https://cloud.google.com/kubernetes-engine/docs/how-to/dcgm-metrics.

What is watched is named by plain strings (`MonitoredResources`), so each alert, dashboard and
manifest is built once (`monitoring_definitions`) and validated (PromQL syntax, dashboard
schema, Kubernetes schema of `kubernetes_version`, the mode/DCGM combination) before the
component registers anything: bad input creates nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import promql_parser
import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from components.monitoring import k8s as manifests_mod
from components.monitoring.alerts import (
    AlertContext,
    AlertDef,
    LogMatchCondition,
    MonitoredResources,
    PromQLCondition,
    ThresholdCondition,
    all_promql,
    build_alerts,
    cloud_monitoring_alerts,
    prometheus_rule_alerts,
)
from components.monitoring.dashboards import Dashboard, build_dashboards
from components.monitoring.k8s import DEFAULT_KUBERNETES_VERSION
from infra.config.monitoring import (
    KUBE_PROMETHEUS_STACK_CHART,
    EmailChannel,
    MonitoringConfig,
    PagerDutyChannel,
    SlackChannel,
    WebhookChannel,
)
from infra.errors import AidcError

PROMETHEUS_RELEASE_NAME = "kube-prometheus"


@dataclass(frozen=True)
class MonitoringDefinitions:
    """What a MonitoringStack registers, as checked data: the alerts Cloud Monitoring evaluates,
    the dashboards, and the Kubernetes objects by role (none without a cluster provider)."""

    alerts: list[AlertDef]
    dashboards: list[Dashboard]
    manifests: dict[str, dict[str, Any]]


def monitoring_definitions(spec: MonitoringConfig, ctx: AlertContext, *, in_cluster: bool,
                           gke_managed_dcgm: bool, kubernetes_version: str,
                           labels: Mapping[str, str]) -> MonitoringDefinitions:
    """Every alert, dashboard and manifest, built once and validated (PromQL syntax, dashboard
    schema, Kubernetes schema of `kubernetes_version`, the mode/DCGM combination); raises before
    the component registers anything."""
    alerts = build_alerts(spec, ctx)
    for query in all_promql(alerts):
        try:
            promql_parser.parse(query)
        except ValueError as exc:
            raise AidcError(f"monitoring: PromQL {query!r} does not parse: {exc}") from None
    if spec.mode == "self-managed" and not in_cluster:
        raise AidcError("monitoring.mode self-managed runs Prometheus in the cluster and needs "
                        "a Kubernetes provider (k8s_provider) for it; pass one or use managed")
    if ctx.gpu_pools and ctx.cluster is not None and not gke_managed_dcgm and not in_cluster:
        raise AidcError("monitoring: the cluster does not run GKE's managed DCGM "
                        "(gke_managed_dcgm=False) and no k8s_provider was given to deploy the "
                        "DCGM exporter, so the GPU alerts and dashboard would have no data; "
                        "pass k8s_provider or enable DCGM in the cluster's monitoring")
    dashboards = build_dashboards(spec.resolved_dashboards, ctx, labels)
    objects: dict[str, dict[str, Any]] = {}
    if in_cluster:
        objects = manifests_mod.manifests(spec, gke_managed_dcgm=gke_managed_dcgm,
                                          rule_alerts=prometheus_rule_alerts(alerts, spec.mode))
        manifests_mod.validate_objects(objects.values(), kubernetes_version)
    return MonitoringDefinitions(cloud_monitoring_alerts(alerts, spec.mode), dashboards, objects)


def condition(key: str, cond: Any) -> gcp.monitoring.AlertPolicyConditionArgs:
    """One AlertDef condition as the alert policy's condition block."""
    if isinstance(cond, PromQLCondition):
        return gcp.monitoring.AlertPolicyConditionArgs(
            display_name=cond.display_name,
            condition_prometheus_query_language=(
                gcp.monitoring.AlertPolicyConditionConditionPrometheusQueryLanguageArgs(
                    query=cond.query,
                    duration=f"{cond.duration_s}s",
                    evaluation_interval=f"{cond.evaluation_interval_s}s",
                )))
    if isinstance(cond, ThresholdCondition):
        return gcp.monitoring.AlertPolicyConditionArgs(
            display_name=cond.display_name,
            condition_threshold=gcp.monitoring.AlertPolicyConditionConditionThresholdArgs(
                filter=cond.filter,
                comparison=cond.comparison,
                threshold_value=cond.threshold,
                duration=f"{cond.duration_s}s",
                aggregations=[gcp.monitoring.AlertPolicyConditionConditionThresholdAggregationArgs(
                    alignment_period=f"{cond.alignment_period_s}s",
                    per_series_aligner=cond.per_series_aligner,
                    cross_series_reducer=cond.cross_series_reducer,
                    group_by_fields=list(cond.group_by_fields),
                )],
                trigger=gcp.monitoring.AlertPolicyConditionConditionThresholdTriggerArgs(count=1),
            ))
    if isinstance(cond, LogMatchCondition):
        return gcp.monitoring.AlertPolicyConditionArgs(
            display_name=cond.display_name,
            condition_matched_log=gcp.monitoring.AlertPolicyConditionConditionMatchedLogArgs(
                filter=cond.filter,
                label_extractors=dict(cond.label_extractors) or None,
            ))
    raise AidcError(f"alert {key}: unknown condition type {type(cond).__name__}")


class MonitoringStack(pulumi.ComponentResource):
    """Alerts, dashboards and in-cluster metrics for a stack's GPU and TPU fleets.

    `watched` names what is monitored (plain strings, see `MonitoredResources`); `name_prefix`
    prefixes display names and the log-based metric's id.

    Attributes: `channels` and `channel_names` (by channel key), `log_metrics`, `alert_policies`
    (by alert key), `dashboards` (by dashboard name), `k8s_objects` (by role), `prometheus_stack`
    (the Helm release in self-managed mode, else None), `exporter_deployed`.
    """

    channels: dict[str, gcp.monitoring.NotificationChannel]
    channel_names: dict[str, pulumi.Output[str]]
    log_metrics: dict[str, gcp.logging.Metric]
    alert_policies: dict[str, gcp.monitoring.AlertPolicy]
    dashboards: dict[str, gcp.monitoring.Dashboard]
    k8s_objects: dict[str, pulumi.CustomResource]
    prometheus_stack: k8s.helm.v3.Release | None
    exporter_deployed: bool

    def __init__(self, name: str, spec: MonitoringConfig, watched: MonitoredResources, *,
                 project: str, name_prefix: str = "aidc",
                 k8s_provider: k8s.Provider | None = None,
                 gke_managed_dcgm: bool = True,
                 kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
                 labels: Mapping[str, str] | None = None,
                 depends_on: Sequence[pulumi.Resource] = (),
                 opts: pulumi.ResourceOptions | None = None) -> None:
        labels = dict(labels or {})
        ctx = AlertContext.of(watched, project=project, name_prefix=name_prefix, mode=spec.mode)
        defs = monitoring_definitions(spec, ctx, in_cluster=k8s_provider is not None,
                                      gke_managed_dcgm=gke_managed_dcgm,
                                      kubernetes_version=kubernetes_version, labels=labels)
        super().__init__("aidc:monitoring:MonitoringStack", name, None, opts)
        self._after = list(depends_on)  # e.g. the monitoring and logging API enablement

        self.channels = self._channels(name, spec, project, name_prefix, labels)
        self.channel_names = {k: c.name for k, c in self.channels.items()}
        self.log_metrics = {}
        self.alert_policies = {}
        for alert in defs.alerts:
            self._alert(name, spec, project, alert, labels)
        self.dashboards = {
            board.key: gcp.monitoring.Dashboard(
                f"{name}-dashboard-{board.key}", project=project,
                dashboard_json=board.to_json_text(),
                opts=pulumi.ResourceOptions(parent=self, depends_on=self._after))
            for board in defs.dashboards
        }
        self.k8s_objects = {}
        self.prometheus_stack = None
        self.exporter_deployed = "dcgm-exporter" in defs.manifests
        if k8s_provider is not None:
            self._kubernetes(name, spec, defs.manifests, k8s_provider)
        self.register_outputs({
            "channels": self.channels, "channel_names": self.channel_names,
            "log_metrics": self.log_metrics, "alert_policies": self.alert_policies,
            "dashboards": self.dashboards, "k8s_objects": self.k8s_objects,
            "prometheus_stack": self.prometheus_stack,
            "exporter_deployed": self.exporter_deployed,
        })

    # -- notification channels ----------------------------------------------------------------

    def _channels(self, name: str, spec: MonitoringConfig, project: str, prefix: str,
                  labels: dict[str, str]) -> dict[str, gcp.monitoring.NotificationChannel]:
        out = {}
        for key, ch in spec.channels.items():
            common: dict[str, Any] = dict(
                project=project, display_name=ch.display_name or f"[{prefix}] {key}",
                description=f"aidc monitoring channel '{key}' ({ch.type})",
                user_labels=labels, enabled=True,
                opts=pulumi.ResourceOptions(parent=self, depends_on=self._after))
            if isinstance(ch, EmailChannel):
                res = gcp.monitoring.NotificationChannel(
                    f"{name}-channel-{key}", type="email",
                    labels={"email_address": ch.address}, **common)
            elif isinstance(ch, PagerDutyChannel):
                res = gcp.monitoring.NotificationChannel(
                    f"{name}-channel-{key}", type="pagerduty",
                    sensitive_labels=gcp.monitoring.NotificationChannelSensitiveLabelsArgs(
                        service_key=pulumi.Output.secret(ch.service_key.get_secret_value())),
                    **common)
            elif isinstance(ch, SlackChannel):
                res = gcp.monitoring.NotificationChannel(
                    f"{name}-channel-{key}", type="slack",
                    labels={"channel_name": ch.channel_name},
                    sensitive_labels=gcp.monitoring.NotificationChannelSensitiveLabelsArgs(
                        auth_token=pulumi.Output.secret(ch.auth_token.get_secret_value())),
                    **common)
            elif isinstance(ch, WebhookChannel):
                # webhook_tokenauth: Cloud Monitoring sends the token as ?auth_token=, so the URL
                # carries it and is secret as a whole.
                # https://cloud.google.com/monitoring/support/notification-options#webhooks
                url = f"{ch.url}?auth_token={quote(ch.token.get_secret_value(), safe='')}"
                res = gcp.monitoring.NotificationChannel(
                    f"{name}-channel-{key}", type="webhook_tokenauth",
                    labels={"url": pulumi.Output.secret(url)}, **common)
            else:  # pragma: no cover - the config union is closed
                raise AidcError(f"channels.{key}: unsupported channel type {ch.type!r}")
            out[key] = res
        return out

    # -- alert policies -----------------------------------------------------------------------

    def _alert(self, name: str, spec: MonitoringConfig, project: str, alert: AlertDef,
               labels: dict[str, str]) -> None:
        depends: list[pulumi.Resource] = list(self._after)
        if alert.log_metric is not None:
            lm = alert.log_metric
            metric = gcp.logging.Metric(
                f"{name}-logmetric-{alert.key}", name=lm.name, project=project,
                description=lm.description,
                filter=lm.filter,
                metric_descriptor=gcp.logging.MetricMetricDescriptorArgs(
                    metric_kind="DELTA", value_type="INT64", unit="1",
                    display_name=lm.description),
                opts=pulumi.ResourceOptions(parent=self, depends_on=self._after))
            self.log_metrics[alert.key] = metric
            depends.append(metric)
        strategy = gcp.monitoring.AlertPolicyAlertStrategyArgs(
            auto_close=f"{spec.auto_close_minutes * 60}s",
            notification_rate_limit=(gcp.monitoring.AlertPolicyAlertStrategyNotificationRateLimitArgs(
                period=f"{spec.notification_rate_limit_minutes * 60}s")
                if alert.is_log_based else None),
        )
        self.alert_policies[alert.key] = gcp.monitoring.AlertPolicy(
            f"{name}-alert-{alert.key}",
            project=project,
            display_name=alert.display_name,
            combiner="OR",
            enabled=True,
            severity=alert.severity.upper(),
            documentation=gcp.monitoring.AlertPolicyDocumentationArgs(
                content=alert.documentation,
                mime_type="text/markdown",
                subject=alert.summary[:255],
            ),
            conditions=[condition(alert.key, cond) for cond in alert.conditions],
            notification_channels=[self.channels[k].name for k in spec.channels_for(alert.severity)],
            alert_strategy=strategy,
            user_labels={**labels, "severity": alert.severity, "aidc-alert": alert.key[:63]},
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
        )

    # -- Kubernetes ---------------------------------------------------------------------------

    def _kubernetes(self, name: str, spec: MonitoringConfig, objects: dict[str, dict[str, Any]],
                    provider: k8s.Provider) -> None:
        def opts(*after: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, provider=provider, depends_on=list(after))

        ns_obj = objects["namespace"]
        ns = k8s.core.v1.Namespace(f"{name}-namespace", metadata=ns_obj["metadata"], opts=opts())
        self.k8s_objects["namespace"] = ns
        crds_from: list[pulumi.Resource] = [ns]
        stack = spec.prometheus_stack
        if stack is not None:
            self.prometheus_stack = k8s.helm.v3.Release(
                f"{name}-prometheus-stack",
                name=PROMETHEUS_RELEASE_NAME,
                chart=KUBE_PROMETHEUS_STACK_CHART,
                version=stack.chart_version,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=stack.repository),
                namespace=spec.namespace,
                create_namespace=False,
                values=manifests_mod.prometheus_stack_values(spec),
                atomic=True,
                cleanup_on_fail=True,
                opts=opts(ns))
            self.k8s_objects["prometheus-stack"] = self.prometheus_stack
            crds_from.append(self.prometheus_stack)  # PodMonitor/PrometheusRule CRDs come with it
        for role, obj in objects.items():
            if role == "namespace":
                continue
            if obj["kind"] == "DaemonSet":
                res: pulumi.CustomResource = k8s.apps.v1.DaemonSet(
                    f"{name}-{role}", metadata=obj["metadata"], spec=obj["spec"], opts=opts(ns))
            else:
                res = k8s.apiextensions.CustomResource(
                    f"{name}-{role}", api_version=obj["apiVersion"], kind=obj["kind"],
                    metadata=obj["metadata"], spec=obj["spec"], opts=opts(*crds_from))
            self.k8s_objects[role] = res
