"""The in-cluster monitoring objects as plain Kubernetes manifests, and their validator.

What is deployed depends on the mode and on whether GKE's managed DCGM collects GPU metrics:

| mode          | GKE managed DCGM | objects                                                           |
|---------------|------------------|-------------------------------------------------------------------|
| managed       | on (default)     | Namespace only: GKE runs DCGM and its own ClusterPodMonitoring    |
| managed       | off              | Namespace, dcgm-exporter DaemonSet, PodMonitoring (GMP)           |
| self-managed  | must be off      | Namespace, kube-prometheus-stack release, dcgm-exporter DaemonSet,|
|               |                  | PodMonitor and PrometheusRule (Prometheus Operator CRDs)          |

GKE's managed DCGM is enabled by the cluster's `monitoringConfig` (component DCGM, default on
for clusters created at 1.32.1-gke.1357000 or later):
https://cloud.google.com/kubernetes-engine/docs/how-to/dcgm-metrics. Two DCGM clients on one GPU
fight over the profiling counters, so self-managed mode refuses to run next to it.

The manifests are the single source of truth: the component passes them unchanged to the typed
pulumi_kubernetes resources, and `validate_objects` checks them first, built-in kinds against
the Kubernetes OpenAPI schema of the cluster's minor version (`kubernetes-validate`, strict: an
unknown field is an error) and CRD kinds against `CRD_SCHEMAS` below.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import jsonschema
import kubernetes_validate
from kubernetes_validate import utils as kv_utils

from infra.catalog.crds import validate as pinned_crds
from infra.errors import AidcError
from components.monitoring.alerts import AlertDef
from infra.config.monitoring import Mode, MonitoringConfig

# The Kubernetes minor version objects are validated against when the caller does not say; GKE's
# REGULAR channel default at the time of writing, and the newest the mocks report.
DEFAULT_KUBERNETES_VERSION = "1.33"
DCGM_APP = "dcgm-exporter"
DCGM_PORT = 9400
GKE_ACCELERATOR_LABEL = "cloud.google.com/gke-accelerator"
GPU_TAINT = "nvidia.com/gpu"
# GKE installs the NVIDIA driver on the host here; containers see it under /usr/local/nvidia.
# https://cloud.google.com/kubernetes-engine/docs/how-to/gpus#installing_drivers
GKE_NVIDIA_HOST_DIR = "/home/kubernetes/bin/nvidia"
POD_RESOURCES_DIR = "/var/lib/kubelet/pod-resources"
MANAGED_BY = {"app.kubernetes.io/managed-by": "aidc", "app.kubernetes.io/part-of": "aidc-monitoring"}


def exporter_needed(mode: Mode, gke_managed_dcgm: bool) -> bool:
    """Whether aidc deploys its own dcgm-exporter; raises when the combination cannot work."""
    if mode == "self-managed" and gke_managed_dcgm:
        raise AidcError(
            "monitoring.mode self-managed deploys its own DCGM exporter for the in-cluster "
            "Prometheus, but the cluster runs GKE's managed DCGM (gke_managed_dcgm=True); two DCGM "
            "clients on one GPU contend for the profiling counters. Disable DCGM in the cluster's "
            "monitoring components, or use mode: managed")
    return not gke_managed_dcgm


# ---------------------------------------------------------------------------------------------
# manifests


def namespace(cfg: MonitoringConfig) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": cfg.namespace, "labels": {
            **MANAGED_BY,
            # The exporter must run privileged (below); Pod Security Admission must allow it
            # in this namespace and only here.
            "pod-security.kubernetes.io/enforce": "privileged",
            "pod-security.kubernetes.io/warn": "privileged",
        }},
    }


def _labels() -> dict[str, str]:
    return {"app.kubernetes.io/name": DCGM_APP, **MANAGED_BY}


def dcgm_exporter_daemonset(cfg: MonitoringConfig) -> dict[str, Any]:
    """NVIDIA dcgm-exporter on every GPU node and nowhere else.

    Security context, as tight as DCGM allows on GKE: the container must be privileged to open
    /dev/nvidia* without claiming a GPU through the device plugin (which would take the GPU away
    from workloads) and to read profiling counters. Everything else is closed: read-only root
    file system, no service-account token, no host network or PID namespace, host paths mounted
    read-only, resources bounded.
    """
    selector = {"app.kubernetes.io/name": DCGM_APP}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": DCGM_APP, "namespace": cfg.namespace, "labels": _labels()},
        "spec": {
            "selector": {"matchLabels": selector},
            "updateStrategy": {"type": "RollingUpdate",
                               "rollingUpdate": {"maxUnavailable": "10%"}},
            "template": {
                "metadata": {"labels": _labels()},
                "spec": {
                    "automountServiceAccountToken": False,
                    "hostNetwork": False,
                    "hostPID": False,
                    "priorityClassName": "system-node-critical",
                    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [{"matchExpressions": [
                            {"key": GKE_ACCELERATOR_LABEL, "operator": "Exists"}]}]}}},
                    "tolerations": [
                        {"key": GPU_TAINT, "operator": "Exists", "effect": "NoSchedule"}],
                    "containers": [{
                        "name": DCGM_APP,
                        "image": cfg.dcgm_exporter_image,
                        "imagePullPolicy": "IfNotPresent",
                        "ports": [{"name": "metrics", "containerPort": DCGM_PORT,
                                   "protocol": "TCP"}],
                        "env": [
                            {"name": "DCGM_EXPORTER_LISTEN", "value": f":{DCGM_PORT}"},
                            {"name": "DCGM_EXPORTER_KUBERNETES", "value": "true"},
                            # GKE's device plugin names GPUs nvidia0..N, not by UUID.
                            {"name": "DCGM_EXPORTER_KUBERNETES_GPU_ID_TYPE",
                             "value": "device-name"},
                            # Hostname label = node name, which the alert queries select on.
                            {"name": "NODE_NAME",
                             "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                            {"name": "LD_LIBRARY_PATH", "value": "/usr/local/nvidia/lib64"},
                        ],
                        "resources": {
                            "requests": {"cpu": "100m", "memory": "128Mi"},
                            "limits": {"cpu": "500m", "memory": "512Mi"},
                        },
                        "securityContext": {
                            "privileged": True,
                            "runAsUser": 0,
                            "readOnlyRootFilesystem": True,
                        },
                        "readinessProbe": {"httpGet": {"path": "/health", "port": DCGM_PORT},
                                           "initialDelaySeconds": 15, "periodSeconds": 30},
                        "livenessProbe": {"httpGet": {"path": "/health", "port": DCGM_PORT},
                                          "initialDelaySeconds": 45, "periodSeconds": 30},
                        "volumeMounts": [
                            {"name": "nvidia-install-dir-host", "mountPath": "/usr/local/nvidia",
                             "readOnly": True},
                            {"name": "pod-resources", "mountPath": POD_RESOURCES_DIR,
                             "readOnly": True},
                            {"name": "tmp", "mountPath": "/tmp"},
                        ],
                    }],
                    "volumes": [
                        {"name": "nvidia-install-dir-host",
                         "hostPath": {"path": GKE_NVIDIA_HOST_DIR, "type": "Directory"}},
                        {"name": "pod-resources",
                         "hostPath": {"path": POD_RESOURCES_DIR, "type": "Directory"}},
                        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
                    ],
                },
            },
        },
    }


def pod_monitoring(cfg: MonitoringConfig) -> dict[str, Any]:
    """Managed Service for Prometheus scrape config for the exporter (monitoring.googleapis.com/v1).
    https://cloud.google.com/stackdriver/docs/managed-prometheus/setup-managed#gmp-pod-monitoring
    """
    return {
        "apiVersion": "monitoring.googleapis.com/v1",
        "kind": "PodMonitoring",
        "metadata": {"name": DCGM_APP, "namespace": cfg.namespace, "labels": _labels()},
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": DCGM_APP}},
            "endpoints": [{"port": "metrics", "interval": "30s"}],
            "targetLabels": {"metadata": ["pod", "container", "node"]},
        },
    }


def pod_monitor(cfg: MonitoringConfig) -> dict[str, Any]:
    """The same scrape for the in-cluster Prometheus (Prometheus Operator, monitoring.coreos.com/v1)."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {"name": DCGM_APP, "namespace": cfg.namespace, "labels": _labels()},
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": DCGM_APP}},
            "podMetricsEndpoints": [{"port": "metrics", "interval": "30s"}],
        },
    }


def _duration(seconds: int) -> str:
    return f"{seconds // 60}m" if seconds and seconds % 60 == 0 else f"{seconds}s"


def prometheus_rule(cfg: MonitoringConfig, alerts: Sequence[AlertDef]) -> dict[str, Any]:
    """The DCGM alerts as Prometheus alerting rules (self-managed mode), one rule a condition."""
    rules = []
    for alert in alerts:
        for i, cond in enumerate(alert.conditions):
            query = getattr(cond, "query", None)
            if query is None:
                continue
            name = "".join(part.capitalize() for part in alert.key.split("-"))
            rules.append({
                "alert": name if len(alert.conditions) == 1 else f"{name}{i}",
                "expr": query,
                "for": _duration(cond.duration_s),
                "labels": {"severity": alert.severity, "aidc_alert": alert.key},
                "annotations": {"summary": alert.summary, "description": alert.documentation},
            })
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "aidc-accelerators", "namespace": cfg.namespace,
                     "labels": dict(MANAGED_BY)},
        "spec": {"groups": [{"name": "aidc-gpu", "rules": rules}]},
    }


# kube-prometheus-stack defaults aidc needs: pick up PodMonitors and PrometheusRules from every
# namespace, not only those labelled with the release name. User values are merged over these.
PROMETHEUS_STACK_DEFAULTS: dict[str, Any] = {
    "prometheus": {"prometheusSpec": {
        "podMonitorSelectorNilUsesHelmValues": False,
        "ruleSelectorNilUsesHelmValues": False,
        "serviceMonitorSelectorNilUsesHelmValues": False,
    }},
}


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def prometheus_stack_values(cfg: MonitoringConfig) -> dict[str, Any]:
    stack = cfg.prometheus_stack
    return deep_merge(PROMETHEUS_STACK_DEFAULTS, stack.values if stack else {})


def manifests(cfg: MonitoringConfig, *, gke_managed_dcgm: bool,
              rule_alerts: Sequence[AlertDef] = ()) -> dict[str, dict[str, Any]]:
    """The objects to apply, by role (the role names the Pulumi child)."""
    out = {"namespace": namespace(cfg)}
    if exporter_needed(cfg.mode, gke_managed_dcgm):
        out["dcgm-exporter"] = dcgm_exporter_daemonset(cfg)
        if cfg.mode == "managed":
            out["dcgm-podmonitoring"] = pod_monitoring(cfg)
        else:
            out["dcgm-podmonitor"] = pod_monitor(cfg)
    if cfg.mode == "self-managed" and rule_alerts:
        out["prometheus-rules"] = prometheus_rule(cfg, rule_alerts)
    return out


# ---------------------------------------------------------------------------------------------
# validation

_LABELS = {"type": "object", "additionalProperties": {"type": "string"}}
_METADATA = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"},
                   "namespace": {"type": "string"}, "labels": _LABELS,
                   "annotations": _LABELS},
    "additionalProperties": False,
}
_SELECTOR = {
    "type": "object",
    "properties": {"matchLabels": _LABELS, "matchExpressions": {"type": "array"}},
    "additionalProperties": False,
}
_PROM_DURATION = {"type": "string", "pattern": r"^(([0-9]+)(ms|s|m|h|d|w|y))+$"}


def _crd(api_version: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {"apiVersion": {"const": api_version}, "kind": {"const": kind},
                       "metadata": _METADATA, "spec": spec},
        "additionalProperties": False,
    }


# The documented fields of the CRDs aidc writes (closed: a misspelt field fails).
# PodMonitoring: https://github.com/GoogleCloudPlatform/prometheus-engine/blob/main/doc/api.md
# PodMonitor, PrometheusRule: https://prometheus-operator.dev/docs/api-reference/api/
CRD_SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ("monitoring.googleapis.com/v1", "PodMonitoring"): _crd(
        "monitoring.googleapis.com/v1", "PodMonitoring", {
            "type": "object",
            "required": ["selector", "endpoints"],
            "additionalProperties": False,
            "properties": {
                "selector": _SELECTOR,
                "endpoints": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["port"], "additionalProperties": False,
                    "properties": {"port": {"type": ["string", "integer"]},
                                   "scheme": {"enum": ["http", "https"]},
                                   "path": {"type": "string"}, "interval": _PROM_DURATION,
                                   "timeout": _PROM_DURATION,
                                   "metricRelabeling": {"type": "array"},
                                   "params": {"type": "object"}}}},
                "targetLabels": {
                    "type": "object", "additionalProperties": False,
                    "properties": {
                        "metadata": {"type": "array", "items": {"enum": [
                            "pod", "container", "node", "top_level_controller_name",
                            "top_level_controller_type"]}},
                        "fromPod": {"type": "array", "items": {
                            "type": "object", "required": ["from"], "additionalProperties": False,
                            "properties": {"from": {"type": "string"}, "to": {"type": "string"}}}},
                    }},
                "limits": {"type": "object"},
            },
        }),
    ("monitoring.coreos.com/v1", "PodMonitor"): _crd(
        "monitoring.coreos.com/v1", "PodMonitor", {
            "type": "object",
            "required": ["selector", "podMetricsEndpoints"],
            "additionalProperties": False,
            "properties": {
                "selector": _SELECTOR,
                "namespaceSelector": {"type": "object"},
                "podMetricsEndpoints": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "additionalProperties": False,
                    "properties": {"port": {"type": "string"}, "path": {"type": "string"},
                                   "interval": _PROM_DURATION, "scrapeTimeout": _PROM_DURATION,
                                   "scheme": {"enum": ["http", "https"]},
                                   "relabelings": {"type": "array"},
                                   "metricRelabelings": {"type": "array"}}}},
                "jobLabel": {"type": "string"},
            },
        }),
    ("monitoring.coreos.com/v1", "PrometheusRule"): _crd(
        "monitoring.coreos.com/v1", "PrometheusRule", {
            "type": "object",
            "required": ["groups"],
            "additionalProperties": False,
            "properties": {"groups": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["name", "rules"], "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "interval": _PROM_DURATION,
                    "rules": {"type": "array", "items": {
                        "type": "object", "required": ["expr"], "additionalProperties": False,
                        "oneOf": [{"required": ["alert"]}, {"required": ["record"]}],
                        "properties": {
                            "alert": {"type": "string", "pattern": r"^[a-zA-Z_][a-zA-Z0-9_]*$"},
                            "record": {"type": "string"},
                            "expr": {"type": "string", "minLength": 1},
                            "for": _PROM_DURATION,
                            "keep_firing_for": _PROM_DURATION,
                            "labels": _LABELS,
                            "annotations": _LABELS}}}}}}},
        }),
}


def shipped_minors() -> list[str]:
    """The Kubernetes minor versions whose OpenAPI schemas kubernetes-validate ships."""
    return [".".join(v.split(".")[:2]) for v in kv_utils.all_versions()]


def kubernetes_minor(version: str) -> str:
    """'1.33', 'v1.33.2' or GKE's '1.33.5-gke.1080000' as '1.33', if its schema ships; otherwise an
    error listing the versions that do (a schema of another minor would validate the wrong API)."""
    match = re.match(r"^v?(\d+)\.(\d+)(\.\d+)?([-+].*)?$", version.strip())
    minor = f"{match.group(1)}.{match.group(2)}" if match else None
    if minor is None or minor not in shipped_minors():
        raise AidcError(f"Kubernetes version {version!r} is not one kubernetes-validate knows "
                        f"({', '.join(shipped_minors())})")
    return minor


def _where(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{obj.get('kind', '?')}/{meta.get('name', '?')}"


def validate_object(obj: Mapping[str, Any], k8s_version: str = DEFAULT_KUBERNETES_VERSION) -> None:
    """Raise AidcError unless `obj` is valid for Kubernetes `k8s_version` (or its CRD schema:
    the monitoring CRDs above, Kueue's and JobSet's at their pinned releases)."""
    key = (str(obj.get("apiVersion")), str(obj.get("kind")))
    if key in pinned_crds.SCHEMAS:
        pinned_crds.validate_crd_object(obj)
        return
    if key in CRD_SCHEMAS:
        errors = sorted(jsonschema.Draft202012Validator(CRD_SCHEMAS[key]).iter_errors(obj),
                        key=lambda e: list(e.absolute_path))
        if errors:
            raise AidcError(f"{_where(obj)}: " + "; ".join(
                f"{'.'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
                for e in errors))
        if key[1] == "PrometheusRule":
            import promql_parser
            for group in obj["spec"]["groups"]:
                for rule in group["rules"]:
                    try:
                        promql_parser.parse(rule["expr"])
                    except ValueError as exc:
                        raise AidcError(f"{_where(obj)}: rule {rule.get('alert')}: expr does not "
                                        f"parse: {exc}") from None
        return
    try:
        kubernetes_validate.validate(dict(obj), kubernetes_minor(k8s_version), strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path) or "(root)"
        raise AidcError(f"{_where(obj)}: not valid for Kubernetes {exc.version}: {path}: "
                        f"{exc.message}") from None
    except kubernetes_validate.SchemaNotFoundError as exc:
        raise AidcError(f"{_where(obj)}: {exc.message}; aidc validates only built-in kinds and "
                        f"the CRDs {sorted([*CRD_SCHEMAS, *pinned_crds.SCHEMAS])}") from None


def validate_objects(objs: Iterable[Mapping[str, Any]],
                     k8s_version: str = DEFAULT_KUBERNETES_VERSION) -> None:
    """Validate every object; one error listing all problems."""
    kubernetes_minor(k8s_version)
    problems = []
    for obj in objs:
        try:
            validate_object(obj, k8s_version)
        except AidcError as exc:
            problems.append(str(exc))
    if problems:
        raise AidcError("Kubernetes objects are not valid:\n  - " + "\n  - ".join(problems))
