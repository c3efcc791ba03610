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

All validation (PromQL syntax, dashboard schema, Kubernetes schema of `kubernetes_version`, the
mode/DCGM combination) runs before the component registers anything: bad input creates nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import promql_parser
import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from infra.errors import AidcError
from components.monitoring import k8s as manifests_mod
from components.monitoring.alerts import (
    AlertContext,
    AlertDef,
    LogMatchCondition,
    PromQLCondition,
    ThresholdCondition,
    all_promql,
    build_alerts,
    cloud_monitoring_alerts,
    prometheus_rule_alerts,
)
from infra.config.monitoring import (
    KUBE_PROMETHEUS_STACK_CHART,
    EmailChannel,
    MonitoringConfig,
    PagerDutyChannel,
    SlackChannel,
    WebhookChannel,
)
from components.monitoring.dashboards import build_dashboards
from components.monitoring.k8s import DEFAULT_KUBERNETES_VERSION

PROMETHEUS_RELEASE_NAME = "kube-prometheus"
_PLACEHOLDER = "aidc-unresolved"


def _instance_name(value: str) -> str:
    """A Filestore instance's name from its name or its id (projects/.../instances/NAME)."""
    return value.rstrip("/").rsplit("/", 1)[-1]


class MonitoringStack(pulumi.ComponentResource):
    """Alerts, dashboards and in-cluster metrics for a stack's GPU and TPU fleets.

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

    def __init__(self, name: str, spec: MonitoringConfig, *, project: str,
                 cluster_name: pulumi.Input[str] | None,
                 gpu_pools: Sequence[str] = (),
                 tpu_pools: Sequence[str] = (),
                 filestore_instance: pulumi.Input[str] | None = None,
                 kms_key_ids: Mapping[str, pulumi.Input[str]] | None = None,
                 nat_name: pulumi.Input[str] | None = None,
                 k8s_provider: k8s.Provider | None = None,
                 gke_managed_dcgm: bool = True,
                 kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
                 name_prefix: str = "aidc",
                 labels: Mapping[str, str] | None = None,
                 depends_on: Sequence[pulumi.Resource] = (),
                 opts: pulumi.ResourceOptions | None = None) -> None:
        kms_key_ids = dict(kms_key_ids or {})
        labels = dict(labels or {})
        gpu_pools, tpu_pools = tuple(gpu_pools), tuple(tpu_pools)

        # -- everything that can be wrong is checked before anything is registered ------------
        shape = AlertContext(
            project=project, name_prefix=name_prefix, mode=spec.mode,
            cluster=_PLACEHOLDER if cluster_name is not None else None,
            gpu_pools=gpu_pools, tpu_pools=tpu_pools,
            filestore_instance=_PLACEHOLDER if filestore_instance is not None else None,
            nat_name=_PLACEHOLDER if nat_name is not None else None,
            kms_keys={p: f"{_PLACEHOLDER}-{p}" for p in kms_key_ids})
        alerts = build_alerts(spec, shape)
        for query in all_promql(alerts):
            try:
                promql_parser.parse(query)
            except ValueError as exc:
                raise AidcError(f"monitoring: PromQL {query!r} does not parse: {exc}") from None
        if spec.mode == "self-managed" and k8s_provider is None:
            raise AidcError("monitoring.mode self-managed runs Prometheus in the cluster and needs "
                            "a Kubernetes provider (k8s_provider) for it; pass one or use managed")
        if gpu_pools and cluster_name is not None and not gke_managed_dcgm and k8s_provider is None:
            raise AidcError("monitoring: the cluster does not run GKE's managed DCGM "
                            "(gke_managed_dcgm=False) and no k8s_provider was given to deploy the "
                            "DCGM exporter, so the GPU alerts and dashboard would have no data; "
                            "pass k8s_provider or enable DCGM in the cluster's monitoring")
        build_dashboards(spec.resolved_dashboards, shape, labels)  # validates each
        objects: dict[str, dict[str, Any]] = {}
        if k8s_provider is not None:
            rule_alerts = prometheus_rule_alerts(alerts, spec.mode)
            objects = manifests_mod.manifests(spec, gke_managed_dcgm=gke_managed_dcgm,
                                              rule_alerts=rule_alerts)
            manifests_mod.validate_objects(objects.values(), kubernetes_version)
            if _PLACEHOLDER in repr(objects):
                raise AidcError("monitoring: a Kubernetes manifest depends on an unresolved value")

        super().__init__("aidc:monitoring:MonitoringStack", name, None, opts)
        self._after = list(depends_on)  # e.g. the monitoring and logging API enablement

        # -- resolved context: the same definitions with the wiring's real values -------------
        def context(values: list[Any]) -> AlertContext:
            cluster, filestore, nat, keys = values
            return AlertContext(
                project=project, name_prefix=name_prefix, mode=spec.mode,
                cluster=cluster if cluster_name is not None else None,
                gpu_pools=gpu_pools, tpu_pools=tpu_pools,
                filestore_instance=_instance_name(filestore) if filestore_instance is not None
                else None,
                nat_name=nat if nat_name is not None else None,
                kms_keys=dict(keys or {}))

        ctx = pulumi.Output.all(
            cluster_name if cluster_name is not None else "",
            filestore_instance if filestore_instance is not None else "",
            nat_name if nat_name is not None else "",
            pulumi.Output.all(**kms_key_ids) if kms_key_ids else {},
        ).apply(context)
        resolved = ctx.apply(lambda c: {a.key: a for a in build_alerts(spec, c)})

        self.channels = self._channels(name, spec, project, name_prefix, labels)
        self.channel_names = {k: c.name for k, c in self.channels.items()}
        self.log_metrics = {}
        self.alert_policies = {}
        for alert in cloud_monitoring_alerts(alerts, spec.mode):
            self._alert(name, spec, project, alert, resolved, labels)
        self.dashboards = {
            board: gcp.monitoring.Dashboard(
                f"{name}-dashboard-{board}",
                project=project,
                dashboard_json=ctx.apply(
                    lambda c, b=board: build_dashboards([b], c, labels)[0].to_json_text()),
                opts=pulumi.ResourceOptions(parent=self, depends_on=self._after))
            for board in spec.resolved_dashboards
        }

        self.k8s_objects = {}
        self.prometheus_stack = None
        self.exporter_deployed = "dcgm-exporter" in objects
        if k8s_provider is not None:
            self._kubernetes(name, spec, objects, k8s_provider)

        self.register_outputs({
            "channels": self.channel_names,
            "alert_policies": {k: p.name for k, p in self.alert_policies.items()},
            "dashboards": {k: d.id for k, d in self.dashboards.items()},
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
               resolved: pulumi.Output[dict[str, AlertDef]], labels: dict[str, str]) -> None:
        depends: list[pulumi.Resource] = list(self._after)
        if alert.log_metric is not None:
            lm = alert.log_metric
            metric = gcp.logging.Metric(
                f"{name}-logmetric-{alert.key}", name=lm.name, project=project,
                description=lm.description,
                filter=resolved.apply(lambda d, k=alert.key: d[k].log_metric.filter),
                metric_descriptor=gcp.logging.MetricMetricDescriptorArgs(
                    metric_kind="DELTA", value_type="INT64", unit="1",
                    display_name=lm.description),
                opts=pulumi.ResourceOptions(parent=self, depends_on=self._after))
            self.log_metrics[alert.key] = metric
            depends.append(metric)

        def field(getter):  # a string of the resolved definition of this alert
            return resolved.apply(lambda d, k=alert.key: getter(d[k]))

        conditions = [self._condition(alert.key, i, cond, field)
                      for i, cond in enumerate(alert.conditions)]
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
                content=field(lambda a: a.documentation),
                mime_type="text/markdown",
                subject=field(lambda a: a.summary[:255]),
            ),
            conditions=conditions,
            notification_channels=[self.channels[k].name for k in spec.channels_for(alert.severity)],
            alert_strategy=strategy,
            user_labels={**labels, "severity": alert.severity, "aidc-alert": alert.key[:63]},
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
        )

    @staticmethod
    def _condition(key: str, index: int, cond: Any, field) -> gcp.monitoring.AlertPolicyConditionArgs:
        if isinstance(cond, PromQLCondition):
            return gcp.monitoring.AlertPolicyConditionArgs(
                display_name=cond.display_name,
                condition_prometheus_query_language=(
                    gcp.monitoring.AlertPolicyConditionConditionPrometheusQueryLanguageArgs(
                        query=field(lambda a: a.conditions[index].query),
                        duration=f"{cond.duration_s}s",
                        evaluation_interval=f"{cond.evaluation_interval_s}s",
                    )))
        if isinstance(cond, ThresholdCondition):
            return gcp.monitoring.AlertPolicyConditionArgs(
                display_name=cond.display_name,
                condition_threshold=gcp.monitoring.AlertPolicyConditionConditionThresholdArgs(
                    filter=field(lambda a: a.conditions[index].filter),
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
                    filter=field(lambda a: a.conditions[index].filter),
                    label_extractors=dict(cond.label_extractors) or None,
                ))
        raise AidcError(f"alert {key}: unknown condition type {type(cond).__name__}")

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
