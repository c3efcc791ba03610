"""In-cluster objects: what each mode deploys, the exporter's placement and hardening, and every
object through the Kubernetes schema (built-ins) or the CRD schema (PodMonitoring, PodMonitor,
PrometheusRule); broken objects are rejected."""

from __future__ import annotations

import copy

import pytest
from kubernetes_validate import utils as kv_utils

from infra.errors import AidcError
from components.monitoring import k8s
from components.monitoring.alerts import AlertContext, build_alerts, prometheus_rule_alerts
from infra.config.monitoring import MonitoringConfig

VERSIONS = [v for v in kv_utils.all_versions() if tuple(map(int, v.split(".")[:2])) >= (1, 28)]


def _objects(mode: str = "managed", gke_managed_dcgm: bool = False) -> dict[str, dict]:
    cfg = MonitoringConfig(mode=mode)
    ctx = AlertContext(project="p", mode=mode, cluster="c", gpu_pools=("l4", "h100"))
    rules = prometheus_rule_alerts(build_alerts(cfg, ctx), mode)
    return k8s.manifests(cfg, gke_managed_dcgm=gke_managed_dcgm, rule_alerts=rules)


def test_default_kubernetes_version_is_one_kubernetes_validate_ships() -> None:
    assert k8s.DEFAULT_KUBERNETES_VERSION in {".".join(v.split(".")[:2]) for v in VERSIONS}


@pytest.mark.parametrize("mode,managed_dcgm,roles", [
    ("managed", True, ["namespace"]),
    ("managed", False, ["namespace", "dcgm-exporter", "dcgm-podmonitoring"]),
    ("self-managed", False, ["namespace", "dcgm-exporter", "dcgm-podmonitor", "prometheus-rules"]),
])
def test_each_mode_deploys_what_it_needs(mode: str, managed_dcgm: bool, roles: list[str]) -> None:
    """GKE's managed DCGM means no exporter; otherwise the exporter and its scrape config."""
    assert list(_objects(mode, managed_dcgm)) == roles


def test_rejects_self_managed_next_to_gke_managed_dcgm() -> None:
    with pytest.raises(AidcError, match="two DCGM\\s+clients"):
        _objects("self-managed", gke_managed_dcgm=True)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("mode", ["managed", "self-managed"])
def test_every_object_validates_for_every_supported_minor_version(mode: str, version: str) -> None:
    k8s.validate_objects(_objects(mode).values(), version)


def test_exporter_runs_only_on_gpu_nodes_and_tolerates_their_taint() -> None:
    ds = _objects()["dcgm-exporter"]
    pod = ds["spec"]["template"]["spec"]
    (term,) = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"]
    assert term["matchExpressions"] == [{"key": "cloud.google.com/gke-accelerator",
                                         "operator": "Exists"}]
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in \
        pod["tolerations"]


def test_exporter_is_pinned_and_as_tight_as_dcgm_allows() -> None:
    pod = _objects()["dcgm-exporter"]["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    assert c["image"] == MonitoringConfig().dcgm_exporter_image
    assert not c["image"].endswith(":latest")
    assert pod["automountServiceAccountToken"] is False
    assert pod["hostNetwork"] is False and pod["hostPID"] is False
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert set(c["resources"]["limits"]) == {"cpu", "memory"}
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    assert mounts["nvidia-install-dir-host"]["readOnly"] is True
    assert mounts["pod-resources"]["readOnly"] is True
    hostpaths = {v["hostPath"]["path"] for v in pod["volumes"] if "hostPath" in v}
    assert hostpaths == {"/home/kubernetes/bin/nvidia", "/var/lib/kubelet/pod-resources"}
    env = {e["name"]: e for e in c["env"]}
    assert env["NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"


def test_namespace_allows_the_privileged_exporter_explicitly() -> None:
    ns = _objects()["namespace"]
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


def test_pod_monitoring_scrapes_the_exporter_port() -> None:
    objs = _objects()
    pm = objs["dcgm-podmonitoring"]
    assert pm["apiVersion"] == "monitoring.googleapis.com/v1"
    assert pm["spec"]["selector"]["matchLabels"] == \
        objs["dcgm-exporter"]["spec"]["selector"]["matchLabels"]
    port = objs["dcgm-exporter"]["spec"]["template"]["spec"]["containers"][0]["ports"][0]
    assert pm["spec"]["endpoints"][0]["port"] == port["name"]


def test_prometheus_rule_carries_the_dcgm_alerts_with_severity() -> None:
    rule = _objects("self-managed")["prometheus-rules"]
    rules = rule["spec"]["groups"][0]["rules"]
    assert {r["labels"]["aidc_alert"] for r in rules} == {
        "gpu-idle-h100", "gpu-idle-l4", "gpu-memory-full", "gpu-xid-errors"}
    idle = next(r for r in rules if r["labels"]["aidc_alert"] == "gpu-idle-l4")
    assert idle["alert"] == "GpuIdleL4" and idle["for"] == "60m"
    assert idle["labels"]["severity"] == "warning"
    assert "## First steps" in idle["annotations"]["description"]
    xid = next(r for r in rules if r["labels"]["aidc_alert"] == "gpu-xid-errors")
    assert xid["for"] == "0s"


def test_prometheus_stack_values_merge_user_values_over_defaults() -> None:
    cfg = MonitoringConfig.model_validate({"mode": "self-managed", "kube_prometheus_stack": {
        "values": {"grafana": {"enabled": False},
                   "prometheus": {"prometheusSpec": {"retention": "15d"}}}}})
    values = k8s.prometheus_stack_values(cfg)
    spec = values["prometheus"]["prometheusSpec"]
    assert spec["retention"] == "15d"
    assert spec["podMonitorSelectorNilUsesHelmValues"] is False
    assert values["grafana"] == {"enabled": False}
    assert k8s.PROMETHEUS_STACK_DEFAULTS["prometheus"]["prometheusSpec"].get("retention") is None


# -- rejection --------------------------------------------------------------------------------


def _broken(role: str, mutate) -> dict:
    obj = copy.deepcopy(_objects("self-managed")[role])
    mutate(obj)
    return obj


@pytest.mark.parametrize("role,mutate,needle", [
    ("dcgm-exporter", lambda o: o["spec"]["template"]["spec"]["containers"][0].update(
        imagePullPolcy="Always"), "imagePullPolcy"),
    ("dcgm-exporter", lambda o: o["spec"]["template"]["spec"]["tolerations"][0].update(
        effect=3), "effect"),
    ("dcgm-exporter", lambda o: o["spec"].pop("selector"), "selector"),
    ("namespace", lambda o: o["metadata"].update(labels="x"), "labels"),
    ("dcgm-podmonitor", lambda o: o["spec"].update(podMetricEndpoints=[]), "podMetricEndpoints"),
    ("prometheus-rules", lambda o: o["spec"]["groups"][0]["rules"][0].update(for_="5m"), "for_"),
    ("prometheus-rules", lambda o: o["spec"]["groups"][0]["rules"][0].update(expr="avg("),
     "does not parse"),
    ("prometheus-rules", lambda o: o["spec"]["groups"][0]["rules"][0].update(**{"for": "5 min"}),
     "5 min"),
])
def test_rejects_broken_object(role: str, mutate, needle: str) -> None:
    with pytest.raises(AidcError) as exc:
        k8s.validate_objects([_broken(role, mutate)])
    assert needle in str(exc.value)


def test_rejects_broken_pod_monitoring() -> None:
    pm = copy.deepcopy(_objects()["dcgm-podmonitoring"])
    pm["spec"]["endpoints"][0]["intervl"] = "30s"
    with pytest.raises(AidcError, match="intervl"):
        k8s.validate_object(pm)
    pm = copy.deepcopy(_objects()["dcgm-podmonitoring"])
    pm["spec"]["targetLabels"]["metadata"] = ["nodepool"]
    with pytest.raises(AidcError, match="nodepool"):
        k8s.validate_object(pm)


def test_rejects_unknown_kind_and_unsupported_version() -> None:
    with pytest.raises(AidcError, match="aidc validates only built-in kinds"):
        k8s.validate_object({"apiVersion": "example.com/v1", "kind": "Widget",
                             "metadata": {"name": "w"}})
    with pytest.raises(AidcError, match="not one kubernetes-validate knows"):
        k8s.validate_object(_objects()["namespace"], "9.99")


@pytest.mark.parametrize("given,minor", [("1.33", "1.33"), ("v1.33.2", "1.33"),
                                         ("1.33.5-gke.1080000", "1.33"), ("1.28", "1.28")])
def test_cluster_versions_map_to_their_minor(given: str, minor: str) -> None:
    assert k8s.kubernetes_minor(given) == minor


@pytest.mark.parametrize("bad", ["1.9", "1.99", "latest", "", "2"])
def test_rejects_versions_without_a_shipped_schema(bad: str) -> None:
    with pytest.raises(AidcError, match="not one kubernetes-validate knows"):
        k8s.validate_objects(_objects().values(), bad)


def test_validate_objects_reports_every_problem_at_once() -> None:
    a = _broken("namespace", lambda o: o["metadata"].update(labels="x"))
    b = _broken("dcgm-podmonitor", lambda o: o["spec"].update(extra=1))
    with pytest.raises(AidcError) as exc:
        k8s.validate_objects([a, b])
    assert "Namespace/" in str(exc.value) and "PodMonitor/" in str(exc.value)
