"""Kubernetes workload hardening on the GPU/TPU clusters.

Workloads are Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob and Pod; the pod spec
is found by `_util.pod_spec`. Each rule is `rule(args, config) -> Iterator[message]`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._util import as_list, containers, get, is_false, is_true, matches_any, namespace, pod_spec

ACCELERATORS = ("nvidia.com/gpu", "google.com/tpu")
ACCELERATOR_NODE_LABELS = ("cloud.google.com/gke-accelerator",
                           "cloud.google.com/gke-tpu-accelerator",
                           "cloud.google.com/gke-tpu-topology")
_HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")


def _spec(args: Any) -> Any:
    spec = pod_spec(args.resource_type, args.props)
    if spec is None:
        args.not_applicable("no pod spec")
    return spec


def _exempt_namespace(args: Any, config: Mapping[str, Any]) -> None:
    ns = namespace(args.props)
    if ns in as_list(config.get("hostAccessNamespaces")):
        args.not_applicable(f"namespace {ns!r} is listed in hostAccessNamespaces")


def k8s_no_privileged_host_access(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """K1: privileged or host-namespace pods escape to the GPU node and everything on it."""
    spec = _spec(args)
    _exempt_namespace(args, config)
    for label, container in containers(spec):
        if is_true(get(container, "securityContext", "privileged")):
            yield f"{label} is privileged"
    for field in _HOST_NAMESPACES:
        if is_true(get(spec, field)):
            yield f"{field} is true"
    allowed = [str(p) for p in as_list(config.get("allowedHostPaths"))]
    for volume in as_list(get(spec, "volumes")):
        path = get(volume, "hostPath", "path")
        if path is not None and not matches_any(str(path), allowed):
            yield (f"volume {get(volume, 'name', default='?')!r} mounts hostPath {path!r}, "
                   "not in allowedHostPaths")


def _targets_accelerators(spec: Any) -> bool:
    for _, container in containers(spec, init=False):
        for section in ("limits", "requests"):
            if any(get(container, "resources", section, a) is not None for a in ACCELERATORS):
                return True
    selector = get(spec, "nodeSelector", default={})
    if any(label in selector for label in ACCELERATOR_NODE_LABELS):
        return True
    if any(get(t, "key") in ACCELERATORS for t in as_list(get(spec, "tolerations"))):
        return True
    terms = get(spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution",
                "nodeSelectorTerms")
    return any(get(expr, "key") in ACCELERATOR_NODE_LABELS
               for term in as_list(terms) for expr in as_list(get(term, "matchExpressions")))


def k8s_gpu_limits(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """K2: accelerator pods without limits starve or oversubscribe scarce GPU/TPU nodes."""
    spec = _spec(args)
    if not _targets_accelerators(spec):
        args.not_applicable("the pod does not target GPU/TPU nodes")
    has_accelerator_limit = False
    for label, container in containers(spec, init=False):
        limits = get(container, "resources", "limits", default={})
        missing = [r for r in ("cpu", "memory") if get(limits, r) is None]
        for accelerator in ACCELERATORS:
            if get(limits, accelerator) is not None:
                has_accelerator_limit = True
            elif get(container, "resources", "requests", accelerator) is not None:
                missing.append(accelerator)
        if missing:
            yield f"{label} sets no limit for {', '.join(missing)}"
    if not has_accelerator_limit:
        yield "no container sets an accelerator limit (nvidia.com/gpu or google.com/tpu)"


def k8s_no_default_sa(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """K3: the namespace's default SA is shared by everything that forgot to set one."""
    spec = _spec(args)
    account = get(spec, "serviceAccountName", default=get(spec, "serviceAccount",
                                                          default="default"))
    if account == "default":
        token = ("" if is_false(get(spec, "automountServiceAccountToken"))
                 else " and its token is mounted")
        yield f"runs as the namespace's 'default' service account{token}"


def k8s_no_privilege_escalation(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """K4: root and setuid escalation turn a container bug into a node compromise."""
    spec = _spec(args)
    _exempt_namespace(args, config)
    pod_non_root = is_true(get(spec, "securityContext", "runAsNonRoot"))
    for label, container in containers(spec):
        context = get(container, "securityContext", default={})
        if not is_false(get(context, "allowPrivilegeEscalation")):
            yield f"{label} does not set allowPrivilegeEscalation=false"
        non_root = get(context, "runAsNonRoot")
        if not (is_true(non_root) or (pod_non_root and not is_false(non_root))):
            yield f"{label} may run as root (runAsNonRoot is not true)"


def k8s_capabilities(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """K5: SYS_ADMIN/NET_ADMIN are near-root; NET_RAW enables spoofing inside the cluster."""
    spec = _spec(args)
    _exempt_namespace(args, config)
    forbidden = {str(c).upper() for c in as_list(config.get("forbiddenCapabilities"))}
    for label, container in containers(spec):
        caps = get(container, "securityContext", "capabilities", default={})
        added = sorted({str(c).upper() for c in as_list(get(caps, "add"))} & forbidden)
        if added:
            yield f"{label} adds {', '.join(added)}"
        dropped = {str(c).upper() for c in as_list(get(caps, "drop"))}
        if not dropped & {"ALL", "NET_RAW"}:
            yield f"{label} does not drop NET_RAW (or ALL)"


RULES = {
    "K1": k8s_no_privileged_host_access,
    "K2": k8s_gpu_limits,
    "K3": k8s_no_default_sa,
    "K4": k8s_no_privilege_escalation,
    "K5": k8s_capabilities,
}
