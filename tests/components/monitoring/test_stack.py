"""MonitoringStack under the mock runtime: the child contract, each alert policy's recorded
inputs, routing by severity, dashboards, the Kubernetes objects through the schema validator,
and channel tokens that never appear in a plan or a report."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components.monitoring.alerts import MonitoredResources
from components.monitoring.stack import MonitoringStack
from infra.gcp.kubeconfig import gke_kubeconfig
from infra.engine.plan import SECRET_PLACEHOLDER, Plan
from infra.check.results import CheckResult
from infra.engine.runner import run_program
from infra.errors import AidcError
from components.monitoring import k8s as k8s_manifests
from infra.config.monitoring import KUBE_PROMETHEUS_STACK_VERSION, MonitoringConfig
from components.monitoring.dashboard_schema import DASHBOARD_SCHEMA
from infra.report import FORMATS, render
from infra.report.plan_text import render_plan

PROJECT = "acme-ai-dev"
CONFIG = {"gcp:project": PROJECT, "gcp:region": "us-central1"}
COMPONENT = "aidc:monitoring:MonitoringStack"
POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
DASHBOARD = "gcp:monitoring/dashboard:Dashboard"
LOG_METRIC = "gcp:logging/metric:Metric"
PD_TOKEN = "pd-service-key-Zq81-DO-NOT-LEAK"
SLACK_TOKEN = "xoxb-slack-token-Kd72-DO-NOT-LEAK"
HOOK_TOKEN = "webhook-token-Mm03-DO-NOT-LEAK"
TOKENS = (PD_TOKEN, SLACK_TOKEN, HOOK_TOKEN)
KEY_ID = f"projects/{PROJECT}/locations/us-central1/keyRings/aidc-dev/cryptoKeys/storage"

CHANNELS = {
    "ops": {"type": "email", "address": "ml-platform@acme.example"},
    "pager": {"type": "pagerduty", "service_key": PD_TOKEN},
    "chat": {"type": "slack", "channel_name": "#ml-alerts", "auth_token": SLACK_TOKEN},
    "hook": {"type": "webhook", "url": "https://hooks.acme.example/gcp", "token": HOOK_TOKEN},
}
ROUTES = {"critical": ["pager", "hook"], "warning": ["ops", "chat"]}


def _spec(**overrides: Any) -> MonitoringConfig:
    return MonitoringConfig.model_validate({"channels": CHANNELS, "routes": ROUTES, **overrides})


WATCHED: dict[str, Any] = dict(
    cluster="aidc-dev-ai", gpu_pools=("l4",), tpu_pools=("v5e",),
    filestore_instance="aidc-dev-shared", kms_keys={"storage": KEY_ID}, nat_name="aidc-dev-nat")


def _run(spec: MonitoringConfig, *, provider: bool = True, **wiring: Any) -> Plan:
    """Plan a MonitoringStack watching WATCHED (keys of WATCHED in `wiring` replace them; the
    rest are the component's keyword arguments)."""
    watched = MonitoredResources(**{**WATCHED, **{k: v for k, v in wiring.items() if k in WATCHED}})
    options: dict[str, Any] = dict(
        project=PROJECT, name_prefix="aidc-dev",
        labels={"environment": "dev", "team": "ml-platform"})
    options.update({k: v for k, v in wiring.items() if k not in WATCHED})

    def program() -> None:
        k8s_provider = (k8s.Provider("gke-k8s", kubeconfig=gke_kubeconfig(
            "aidc-dev-ai", "192.0.2.10", "Q0E=")) if provider else None)
        MonitoringStack("monitoring", spec, watched, k8s_provider=k8s_provider, **options)

    return run_program(program, project="aidc", stack="dev", config=CONFIG)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return _run(_spec(), gke_managed_dcgm=False)


def _policies(plan: Plan) -> dict[str, dict]:
    return {r.name.removeprefix("monitoring-alert-"): r.inputs for r in plan.of_type(POLICY)}


def _channel_names(plan: Plan, keys: list[str]) -> list[str]:
    return [f"projects/{PROJECT}/notificationChannels/monitoring-channel-{k}" for k in keys]


# -- the child contract -----------------------------------------------------------------------


def test_children_types_names_and_parentage(plan: Plan) -> None:
    """Every child is parented to the component and named monitoring-<role>[-<key>]."""
    (component,) = plan.of_type(COMPONENT)
    children = sorted((r.type, r.name) for r in plan.resources if r.parent == component.urn)
    assert children == sorted([
        *[(CHANNEL, f"monitoring-channel-{k}") for k in CHANNELS],
        *[(POLICY, f"monitoring-alert-{k}") for k in (
            "gpu-idle-l4", "gpu-memory-full", "gpu-xid-errors", "accelerator-nodes-not-ready",
            "tpu-duty-cycle-low-v5e", "autoscaler-scale-up-failed", "dws-capacity-not-found",
            "spot-preemption-surge", "filestore-capacity", "nat-port-exhaustion",
            "kms-key-disabled")],
        (LOG_METRIC, "monitoring-logmetric-spot-preemption-surge"),
        *[(DASHBOARD, f"monitoring-dashboard-{d}") for d in ("gpu", "tpu", "storage", "network")],
        ("kubernetes:core/v1:Namespace", "monitoring-namespace"),
        ("kubernetes:apps/v1:DaemonSet", "monitoring-dcgm-exporter"),
        ("kubernetes:monitoring.googleapis.com/v1:PodMonitoring", "monitoring-dcgm-podmonitoring"),
    ])
    assert all(r.component == component.urn for r in plan.resources
               if r.parent == component.urn)


def test_kubernetes_children_use_the_given_provider(plan: Plan) -> None:
    (provider,) = plan.of_type("pulumi:providers:kubernetes")
    k8s_children = [r for r in plan.resources if r.type.startswith("kubernetes:")]
    assert k8s_children and all(r.provider == provider.urn for r in k8s_children)
    gcp_children = [r for r in plan.resources if r.type.startswith("gcp:")]
    assert all(r.provider != provider.urn for r in gcp_children)


def test_provider_kubeconfig_uses_the_auth_plugin_without_credentials(plan: Plan) -> None:
    (provider,) = plan.of_type("pulumi:providers:kubernetes")
    kubeconfig = json.loads(provider.inputs["kubeconfig"])
    user = kubeconfig["users"][0]["user"]
    assert user["exec"]["command"] == "gke-gcloud-auth-plugin"
    assert not {"token", "client-key-data", "password"} & set(user)
    assert kubeconfig["clusters"][0]["cluster"]["server"] == "https://192.0.2.10"


# -- each alert policy ------------------------------------------------------------------------


def test_every_policy_has_runbook_severity_routing_and_auto_close(plan: Plan) -> None:
    for key, inputs in _policies(plan).items():
        doc = inputs["documentation"]
        assert doc["mimeType"] == "text/markdown"
        assert "## First steps" in doc["content"] and "## Escalation" in doc["content"], key
        assert doc["subject"]
        assert inputs["severity"] in ("CRITICAL", "WARNING")
        assert inputs["combiner"] == "OR" and inputs["enabled"] is True
        assert inputs["alertStrategy"]["autoClose"] == "1800s"
        assert inputs["userLabels"]["severity"] == inputs["severity"].lower()
        assert inputs["userLabels"]["environment"] == "dev"
        assert inputs["displayName"].startswith("[aidc-dev] ")
        expected = ROUTES["critical"] if inputs["severity"] == "CRITICAL" else ROUTES["warning"]
        assert inputs["notificationChannels"] == _channel_names(plan, expected), key


def test_gpu_idle_policy_condition_and_threshold() -> None:
    spec = _spec(thresholds={"gpu_idle_utilization_percent": 7.5, "gpu_idle_minutes": 45})
    policy = _policies(_run(spec, provider=False))["gpu-idle-l4"]
    (cond,) = policy["conditions"]
    promql = cond["conditionPrometheusQueryLanguage"]
    assert promql["query"] == (
        'avg(avg_over_time(DCGM_FI_DEV_GPU_UTIL{cluster="aidc-dev-ai", '
        'Hostname=~"gke-.+-l4-[0-9a-f]{8}-[0-9a-z]{4}"}[5m])) < 7.5')
    assert promql["duration"] == "2700s" and promql["evaluationInterval"] == "60s"
    assert policy["severity"] == "WARNING"


def test_gpu_memory_xid_node_and_tpu_policies(plan: Plan) -> None:
    policies = _policies(plan)
    mem = policies["gpu-memory-full"]["conditions"][0]["conditionPrometheusQueryLanguage"]
    assert "DCGM_FI_DEV_FB_USED" in mem["query"] and mem["query"].endswith("> 95")
    assert mem["duration"] == "900s"
    xid = policies["gpu-xid-errors"]
    assert xid["severity"] == "CRITICAL"
    assert "DCGM_FI_DEV_XID_ERRORS" in xid["conditions"][0]["conditionPrometheusQueryLanguage"]["query"]
    nodes = policies["accelerator-nodes-not-ready"]["conditions"][0][
        "conditionPrometheusQueryLanguage"]
    assert "kubernetes_io:node_status_condition" in nodes["query"]
    assert "(?:l4|v5e)" in nodes["query"] and nodes["duration"] == "600s"
    tpu = policies["tpu-duty-cycle-low-v5e"]["conditions"][0]["conditionPrometheusQueryLanguage"]
    assert "kubernetes_io:node_accelerator_duty_cycle" in tpu["query"]
    assert tpu["query"].endswith("< 10") and tpu["duration"] == "3600s"


def test_log_based_policies_match_logs_and_rate_limit(plan: Plan) -> None:
    policies = _policies(plan)
    for key in ("autoscaler-scale-up-failed", "dws-capacity-not-found", "kms-key-disabled"):
        (cond,) = policies[key]["conditions"]
        assert "conditionMatchedLog" in cond
        assert policies[key]["alertStrategy"]["notificationRateLimit"] == {"period": "300s"}
    kms = policies["kms-key-disabled"]["conditions"][0]["conditionMatchedLog"]
    assert f'protoPayload.resourceName:"{KEY_ID}/cryptoKeyVersions/"' in kms["filter"]
    assert "DestroyCryptoKeyVersion" in kms["filter"]
    assert kms["labelExtractors"]["principal"] == \
        "EXTRACT(protoPayload.authenticationInfo.principalEmail)"
    scale = policies["autoscaler-scale-up-failed"]["conditions"][0]["conditionMatchedLog"]
    assert 'resource.labels.cluster_name="aidc-dev-ai"' in scale["filter"]
    for key in ("gpu-idle-l4", "filestore-capacity", "nat-port-exhaustion"):
        assert "notificationRateLimit" not in policies[key]["alertStrategy"]


def test_threshold_policies_record_filter_comparison_and_aggregation() -> None:
    spec = _spec(thresholds={"filestore_used_percent": 80, "preemption_surge_count": 3,
                             "preemption_window_minutes": 30})
    plan = _run(spec, provider=False)
    policies = _policies(plan)
    fs = policies["filestore-capacity"]["conditions"][0]["conditionThreshold"]
    assert 'resource.labels.instance_name="aidc-dev-shared"' in fs["filter"]
    assert (fs["comparison"], fs["thresholdValue"], fs["duration"]) == ("COMPARISON_GT", 80, "600s")
    assert fs["aggregations"] == [{"alignmentPeriod": "300s", "perSeriesAligner": "ALIGN_MEAN",
                                   "crossSeriesReducer": "REDUCE_MAX",
                                   "groupByFields": ["resource.label.instance_name"]}]
    nat = [c["conditionThreshold"] for c in policies["nat-port-exhaustion"]["conditions"]]
    assert 'metric.labels.reason="OUT_OF_RESOURCES"' in nat[0]["filter"]
    assert 'resource.labels.gateway_name="aidc-dev-nat"' in nat[1]["filter"]
    spot = policies["spot-preemption-surge"]["conditions"][0]["conditionThreshold"]
    assert spot["filter"].startswith(
        'metric.type="logging.googleapis.com/user/aidc-dev-spot-preemptions"')
    assert (spot["thresholdValue"], spot["aggregations"][0]["alignmentPeriod"]) == (3, "1800s")


def test_preemption_policy_waits_for_its_log_metric() -> None:
    plan = _run(_spec(), provider=False)
    (metric,) = plan.of_type(LOG_METRIC)
    assert metric.inputs["name"] == "aidc-dev-spot-preemptions"
    assert metric.inputs["metricDescriptor"] == {
        "metricKind": "DELTA", "valueType": "INT64", "unit": "1",
        "displayName": "GKE node VMs preempted by Compute Engine (Spot/preemptible)."}
    policy = next(r for r in plan.of_type(POLICY) if r.name.endswith("spot-preemption-surge"))
    assert metric.urn in policy.dependencies


def test_wiring_limits_the_alerts() -> None:
    """Without a cluster, pools, Filestore, NAT or keys there is nothing to alert on."""
    plan = _run(_spec(), provider=False, cluster=None, gpu_pools=(), tpu_pools=(),
                filestore_instance=None, kms_keys={}, nat_name=None)
    assert plan.of_type(POLICY) == [] and plan.of_type(LOG_METRIC) == []
    assert len(plan.of_type(CHANNEL)) == 4


def test_rejects_outputs_as_names() -> None:
    """What is watched is named by plain strings, so each alert is built once: an Output (the
    cluster's name attribute, say) is refused, naming the field it was given for."""
    def program() -> None:
        watched = MonitoredResources(cluster=pulumi.Output.from_input("from-output"),
                                     gpu_pools=("l4",))
        MonitoringStack("monitoring", _spec(), watched, project=PROJECT)
    with pytest.raises(AidcError, match="cluster: Output given; monitored resources are named "
                                        "by plain strings"):
        run_program(program, project="aidc", stack="dev", config=CONFIG)


def test_each_alert_is_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The alert definitions are built once per component, not once to check and once more
    for the resolved names."""
    from components.monitoring import stack as stack_mod

    calls: list[object] = []
    real = stack_mod.build_alerts
    monkeypatch.setattr(stack_mod, "build_alerts", lambda *a: calls.append(a) or real(*a))
    _run(_spec(), provider=False)
    assert len(calls) == 1


# -- channels and secrets ---------------------------------------------------------------------


def test_channels_carry_tokens_only_as_secrets(plan: Plan) -> None:
    channels = {r.name.removeprefix("monitoring-channel-"): r.inputs
                for r in plan.of_type(CHANNEL)}
    assert channels["ops"]["type"] == "email"
    assert channels["ops"]["labels"] == {"email_address": "ml-platform@acme.example"}
    assert channels["pager"]["type"] == "pagerduty"
    assert channels["pager"]["sensitiveLabels"] == {"serviceKey": SECRET_PLACEHOLDER}
    assert "labels" not in channels["pager"]
    assert channels["chat"]["labels"] == {"channel_name": "#ml-alerts"}
    assert channels["chat"]["sensitiveLabels"] == {"authToken": SECRET_PLACEHOLDER}
    assert channels["hook"]["type"] == "webhook_tokenauth"
    assert channels["hook"]["labels"] == {"url": SECRET_PLACEHOLDER}


def test_tokens_never_appear_in_the_plan_json_or_any_report(plan: Plan) -> None:
    """Serialise the plan and render every report format: no token, in any form."""
    result = CheckResult(plan=plan, pack_name="aidc", policies=[], violations=[])
    outputs = [plan.to_json(), json.dumps(plan.as_dict()), render_plan(plan)]
    outputs += [render(result, fmt) for fmt in FORMATS]
    for text in outputs:
        for token in TOKENS:
            assert token not in text
            assert json.dumps(token)[1:-1] not in text
    assert SECRET_PLACEHOLDER in plan.to_json()


def test_stack_file_secrets_stay_placeholders() -> None:
    """Offline, a `secure:` value arrives as the placeholder and stays secret in the plan."""
    spec = MonitoringConfig.model_validate({"channels": {"pager": {
        "type": "pagerduty", "service_key": SECRET_PLACEHOLDER}}})
    plan = _run(spec, provider=False)
    (channel,) = plan.of_type(CHANNEL)
    assert channel.inputs["sensitiveLabels"] == {"serviceKey": SECRET_PLACEHOLDER}


# -- dashboards -------------------------------------------------------------------------------


def test_dashboards_are_valid_json_for_the_schema(plan: Plan) -> None:
    import jsonschema
    boards = {r.name: json.loads(r.inputs["dashboardJson"]) for r in plan.of_type(DASHBOARD)}
    assert set(boards) == {f"monitoring-dashboard-{d}" for d in ("gpu", "tpu", "storage", "network")}
    for body in boards.values():
        jsonschema.validate(body, DASHBOARD_SCHEMA)
    assert "aidc-dev-shared" in json.dumps(boards["monitoring-dashboard-storage"])
    assert 'cluster=\\"aidc-dev-ai\\"' in json.dumps(boards["monitoring-dashboard-gpu"])


def test_only_requested_dashboards_are_created() -> None:
    plan = _run(_spec(dashboards=["tpu"]), provider=False)
    assert [r.name for r in plan.of_type(DASHBOARD)] == ["monitoring-dashboard-tpu"]


# -- Kubernetes -------------------------------------------------------------------------------


def _k8s_objects(plan: Plan) -> list[dict]:
    return [r.inputs for r in plan.resources if r.type.startswith("kubernetes:")
            and r.type != "kubernetes:helm.sh/v3:Release"]


def test_every_recorded_kubernetes_object_validates(plan: Plan) -> None:
    """What the provider would receive (recorded inputs) passes the schema validator."""
    objs = _k8s_objects(plan)
    assert {o["kind"] for o in objs} == {"Namespace", "DaemonSet", "PodMonitoring"}
    k8s_manifests.validate_objects(objs, "1.33")


def test_managed_dcgm_means_no_exporter() -> None:
    """Managed mode on a cluster with GKE's managed DCGM: only the namespace."""
    plan = _run(_spec(), gke_managed_dcgm=True)
    assert [r.type for r in plan.resources if r.type.startswith("kubernetes:")] == [
        "kubernetes:core/v1:Namespace"]


def test_self_managed_mode_installs_pinned_prometheus_and_rules() -> None:
    spec = _spec(mode="self-managed", kube_prometheus_stack={
        "values": {"grafana": {"enabled": False}}})
    plan = _run(spec, gke_managed_dcgm=False)
    (release,) = plan.of_type("kubernetes:helm.sh/v3:Release")
    assert release.inputs["chart"] == "kube-prometheus-stack"
    assert release.inputs["version"] == KUBE_PROMETHEUS_STACK_VERSION
    assert release.inputs["repositoryOpts"] == {
        "repo": "https://prometheus-community.github.io/helm-charts"}
    assert release.inputs["values"]["grafana"] == {"enabled": False}
    assert release.inputs["values"]["prometheus"]["prometheusSpec"][
        "ruleSelectorNilUsesHelmValues"] is False
    (rule,) = plan.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    assert release.urn in rule.dependencies
    alerts = {r["labels"]["aidc_alert"] for r in rule.inputs["spec"]["groups"][0]["rules"]}
    assert alerts == {"gpu-idle-l4", "gpu-memory-full", "gpu-xid-errors"}
    policies = _policies(plan)
    assert not alerts & set(policies)          # DCGM alerts are evaluated in-cluster only
    assert "accelerator-nodes-not-ready" in policies and "kms-key-disabled" in policies
    assert "monitoring-dashboard-gpu" not in {r.name for r in plan.of_type(DASHBOARD)}
    k8s_manifests.validate_objects(_k8s_objects(plan), "1.33")


def test_rejects_self_managed_without_provider_or_with_managed_dcgm() -> None:
    """Bad combinations fail before anything is registered."""
    spec = _spec(mode="self-managed")
    with pytest.raises(AidcError, match="needs\\s+a Kubernetes provider"):
        _run(spec, provider=False, gke_managed_dcgm=False)
    with pytest.raises(AidcError, match="two DCGM"):
        _run(spec, gke_managed_dcgm=True)


def test_rejects_gpu_pools_without_any_dcgm_source() -> None:
    """No managed DCGM and no provider to deploy the exporter: GPU alerts would never see data."""
    with pytest.raises(AidcError, match="would have no data"):
        _run(_spec(), provider=False, gke_managed_dcgm=False)


def test_rejects_pool_names_that_cannot_be_node_pools() -> None:
    with pytest.raises(AidcError, match="node pool name"):
        _run(_spec(), provider=False, gpu_pools=['l4"} or vector(1) #'])


def test_rejects_objects_invalid_for_the_cluster_version() -> None:
    with pytest.raises(AidcError, match="not one kubernetes-validate knows"):
        _run(_spec(), gke_managed_dcgm=False, kubernetes_version="0.1")


def test_component_registers_its_outputs(plan: Plan) -> None:
    (component,) = plan.of_type(COMPONENT)
    assert component.custom is False


def test_attributes_expose_children() -> None:
    seen: dict[str, Any] = {}

    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        stack = MonitoringStack("monitoring", _spec(),
                                MonitoredResources(cluster="c", gpu_pools=("l4",)),
                                project=PROJECT, k8s_provider=provider, gke_managed_dcgm=False)
        seen.update(channels=sorted(stack.channels), alerts=sorted(stack.alert_policies),
                    dashboards=sorted(stack.dashboards), k8s=sorted(stack.k8s_objects),
                    exporter=stack.exporter_deployed, release=stack.prometheus_stack,
                    names=isinstance(stack.channel_names, Mapping))
    run_program(program, project="aidc", stack="dev", config=CONFIG)
    assert seen["channels"] == sorted(CHANNELS)
    assert "gpu-idle-l4" in seen["alerts"]
    assert seen["dashboards"] == ["gpu", "network", "storage", "tpu"]
    assert seen["k8s"] == ["dcgm-exporter", "dcgm-podmonitoring", "namespace"]
    assert seen["exporter"] is True and seen["release"] is None and seen["names"]


def test_gcp_children_wait_for_the_apis_they_need() -> None:
    """`depends_on` (API enablement) reaches every Google Cloud child, not only the component."""
    import pulumi_gcp as gcp

    def program() -> None:
        api = gcp.projects.Service("apis-monitoring", service="monitoring.googleapis.com",
                                   project=PROJECT)
        MonitoringStack("monitoring", _spec(), MonitoredResources(cluster="c", gpu_pools=("l4",)),
                        project=PROJECT, depends_on=[api])
    plan = run_program(program, project="aidc", stack="dev", config=CONFIG)
    (api,) = plan.of_type("gcp:projects/service:Service")
    children = [r for r in plan.resources
                if r.type.startswith("gcp:") and r.type != "gcp:projects/service:Service"]
    assert children and all(api.urn in r.dependencies for r in children)
