"""Kubernetes hardening on the GPU/TPU clusters: workloads, their labels, and RBAC.

Workloads are Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob and Pod; the pod spec
is found by `_util.pod_spec`. Each rule is `rule(args, config) -> Iterator[message]`.
Each policy's `PolicyMeta` record stands above its rule; `RULES` lists both, in roster order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._util import as_list, containers, get, is_false, is_true, matches_any, namespace, pod_spec
from .protocol import (
    K8S_CLUSTER_ROLE,
    K8S_CLUSTER_ROLE_BINDING,
    K8S_CONFIG_MAP,
    K8S_ROLE,
    K8S_SECRET,
    K8S_SERVICE,
    WORKLOAD_TYPES,
)
from .record import Cis, PolicyMeta, Rule, boolean_property, strings_property

ACCELERATORS = ("nvidia.com/gpu", "google.com/tpu")
ACCELERATOR_NODE_LABELS = ("cloud.google.com/gke-accelerator",
                           "cloud.google.com/gke-tpu-accelerator",
                           "cloud.google.com/gke-tpu-topology")
_HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")
_CONFINING_SECCOMP = ("RuntimeDefault", "Localhost")
_RECOMMENDED_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/part-of",
                       "app.kubernetes.io/managed-by")


def _spec(args: Any) -> Any:
    spec = pod_spec(args.resource_type, args.props)
    if spec is None:
        args.not_applicable("no pod spec")
    return spec


def _exempt_namespace(args: Any, config: Mapping[str, Any]) -> None:
    ns = namespace(args.props)
    if ns in as_list(config["hostAccessNamespaces"]):
        args.not_applicable(f"namespace {ns!r} is listed in hostAccessNamespaces")


HOST_NAMESPACES = {"hostAccessNamespaces": strings_property(
    "Kubernetes namespaces whose workloads may run privileged or use host namespaces and paths "
    "(GPU device plugin, DCGM exporter, node agents).")}
_K8S_PSS = "https://kubernetes.io/docs/concepts/security/pod-security-standards/"


K1 = PolicyMeta(
    id="K1", name="k8s-no-privileged-host-access", concern="kubernetes", severity="high",
    description="Workloads are not privileged and use no host namespaces or host paths "
                "outside the allow lists.",
    resource_types=WORKLOAD_TYPES,
    remediation="Drop privileged / hostNetwork / hostPID / hostIPC and hostPath volumes; "
                "node agents that need them go in a namespace listed in "
                "hostAccessNamespaces, host paths in allowedHostPaths.",
    url=_K8S_PSS,
    defaults={"securityContext.privileged": False, "hostNetwork": False, "hostPID": False,
              "hostIPC": False, "metadata.namespace": "default"},
    cis=(Cis("GKE", "1.5", "4.2.1"),),
    checkov=("CKV_K8S_16", "CKV_K8S_17", "CKV_K8S_18", "CKV_K8S_19", "CKV_K8S_27"),
    config={**HOST_NAMESPACES, "allowedHostPaths": strings_property(
        "hostPath patterns (fnmatch) any workload may mount, e.g. /dev/nvidia*.")},
)


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
    allowed = [str(p) for p in as_list(config["allowedHostPaths"])]
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


K2 = PolicyMeta(
    id="K2", name="k8s-gpu-limits", concern="kubernetes", severity="medium",
    description="Pods that target GPU/TPU nodes set accelerator, CPU and memory limits.",
    resource_types=WORKLOAD_TYPES,
    remediation="Set resources.limits (nvidia.com/gpu or google.com/tpu, cpu, memory) on "
                "every container of an accelerator pod.",
    url="https://cloud.google.com/kubernetes-engine/docs/how-to/gpus",
    defaults={"resources.limits": {}},
    checkov=("CKV_K8S_11", "CKV_K8S_13"),
)


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


K3 = PolicyMeta(
    id="K3", name="k8s-no-default-sa", concern="kubernetes", severity="medium",
    description="Workloads run as a dedicated Kubernetes service account, not 'default'.",
    resource_types=WORKLOAD_TYPES,
    remediation="Create a ServiceAccount per workload and set serviceAccountName; set "
                "automountServiceAccountToken=false where the API is not used.",
    url="https://kubernetes.io/docs/tasks/configure-pod-container/"
        "configure-service-account/",
    defaults={"serviceAccountName": "default", "automountServiceAccountToken": True},
    cis=(Cis("GKE", "1.5", "4.1.5"), Cis("GKE", "1.5", "4.1.6")),
    checkov=("CKV_K8S_38", "CKV_K8S_41"),
)


def k8s_no_default_sa(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """K3: the namespace's default SA is shared by everything that forgot to set one."""
    spec = _spec(args)
    account = get(spec, "serviceAccountName", default=get(spec, "serviceAccount",
                                                          default="default"))
    if account == "default":
        token = ("" if is_false(get(spec, "automountServiceAccountToken"))
                 else " and its token is mounted")
        yield f"runs as the namespace's 'default' service account{token}"


K4 = PolicyMeta(
    id="K4", name="k8s-no-privilege-escalation", concern="kubernetes", severity="medium",
    description="Containers run as non-root without privilege escalation.",
    resource_types=WORKLOAD_TYPES,
    remediation="Set securityContext.allowPrivilegeEscalation=false and runAsNonRoot=true "
                "(pod or container).",
    url=_K8S_PSS,
    defaults={"securityContext.allowPrivilegeEscalation": True,
              "securityContext.runAsNonRoot": False},
    cis=(Cis("GKE", "1.5", "4.2.1"),),
    checkov=("CKV_K8S_20", "CKV_K8S_23"),
    config={**HOST_NAMESPACES},
)


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


K5 = PolicyMeta(
    id="K5", name="k8s-capabilities", concern="kubernetes", severity="medium",
    description="Containers add no dangerous capabilities and drop NET_RAW.",
    resource_types=WORKLOAD_TYPES,
    remediation="Remove SYS_ADMIN/NET_ADMIN/ALL from capabilities.add; set "
                "capabilities.drop: [ALL] (or at least NET_RAW).",
    url=_K8S_PSS,
    defaults={"securityContext.capabilities.add": [],
              "securityContext.capabilities.drop": []},
    cis=(Cis("GKE", "1.5", "4.2.1"),),
    checkov=("CKV_K8S_25", "CKV_K8S_28", "CKV_K8S_39"),
    config={**HOST_NAMESPACES, "forbiddenCapabilities": strings_property(
        "Linux capabilities no container may add.", ["ALL", "NET_ADMIN", "SYS_ADMIN"])},
)


def k8s_capabilities(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """K5: SYS_ADMIN/NET_ADMIN are near-root; NET_RAW enables spoofing inside the cluster."""
    spec = _spec(args)
    _exempt_namespace(args, config)
    forbidden = {str(c).upper() for c in as_list(config["forbiddenCapabilities"])}
    for label, container in containers(spec):
        caps = get(container, "securityContext", "capabilities", default={})
        added = sorted({str(c).upper() for c in as_list(get(caps, "add"))} & forbidden)
        if added:
            yield f"{label} adds {', '.join(added)}"
        dropped = {str(c).upper() for c in as_list(get(caps, "drop"))}
        if not dropped & {"ALL", "NET_RAW"}:
            yield f"{label} does not drop NET_RAW (or ALL)"


K6 = PolicyMeta(
    id="K6", name="k8s-seccomp-runtime-default", concern="kubernetes", severity="medium",
    description="Containers run under the RuntimeDefault (or a Localhost) seccomp profile.",
    resource_types=WORKLOAD_TYPES,
    remediation="Set securityContext.seccompProfile.type: RuntimeDefault on the pod (or on "
                "every container).",
    url="https://kubernetes.io/docs/tutorials/security/seccomp/",
    defaults={"securityContext.seccompProfile.type": "Unconfined (GKE Standard)"},
    cis=(Cis("GKE", "1.5", "4.6.2"),),
    checkov=("CKV_K8S_31",),
)


def k8s_seccomp_runtime_default(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """K6: without a seccomp profile a container may make any syscall (Unconfined on GKE
    Standard; CIS GKE 1.5 4.6.2)."""
    spec = _spec(args)
    pod_profile = get(spec, "securityContext", "seccompProfile", "type")
    for label, container in containers(spec):
        profile = get(container, "securityContext", "seccompProfile", "type", default=pod_profile)
        if profile not in _CONFINING_SECCOMP:
            yield (f"{label} runs with seccomp profile {profile}" if profile else
                   f"{label} sets no seccomp profile (pod or container): Unconfined")


K7 = PolicyMeta(
    id="K7", name="k8s-no-default-namespace", concern="kubernetes", severity="low",
    description="Workloads, services, config maps and secrets live in a namespace of their "
                "own, not 'default'.",
    resource_types=(*WORKLOAD_TYPES, K8S_SERVICE, K8S_CONFIG_MAP, K8S_SECRET),
    remediation="Set metadata.namespace to the team's or workload's namespace.",
    url="https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/",
    defaults={"metadata.namespace": "the provider's default namespace ('default')"},
    cis=(Cis("GKE", "1.5", "4.6.4"),),
    checkov=("CKV_K8S_21",),
)


def k8s_no_default_namespace(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """K7: the default namespace mixes everything; policies and RBAC scope by namespace."""
    ns = get(args.props, "metadata", "namespace")
    if ns is None:
        yield "metadata.namespace is not set: the object lands in the provider's default namespace"
    elif ns == "default":
        yield "metadata.namespace is 'default'"


K8 = PolicyMeta(
    id="K8", name="k8s-image-pinned", concern="kubernetes", severity="medium",
    description="Container images are pinned: a tag other than 'latest', or a digest where "
                "required.",
    resource_types=WORKLOAD_TYPES,
    remediation="Reference images by @sha256: digest (or at least an immutable version tag).",
    url="https://cloud.google.com/kubernetes-engine/docs/concepts/about-container-images",
    defaults={"containers[].image tag": "latest"},
    checkov=("CKV_K8S_14", "CKV_K8S_43"),
    config={"requireImageDigest": boolean_property(
        False, "Kubernetes images must be pinned by @sha256: digest, not only by tag (set in "
        "prod).")},
)


def k8s_image_pinned(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """K8: an unpinned image can change under a running job; a digest cannot."""
    spec = _spec(args)
    digest_only = is_true(config["requireImageDigest"])
    for label, container in containers(spec):
        image = str(get(container, "image", default=""))
        if "@sha256:" in image:
            continue
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        if not tag or tag == "latest":
            yield f"{label} image {image!r} has no tag or uses 'latest'"
        elif digest_only:
            yield f"{label} image {image!r} is pinned by tag, not by @sha256: digest"


K9 = PolicyMeta(
    id="K9", name="k8s-read-only-root-fs", concern="kubernetes", severity="low",
    description="Containers mount their root filesystem read-only (scratch space as "
                "emptyDir volumes).",
    resource_types=WORKLOAD_TYPES,
    remediation="Set securityContext.readOnlyRootFilesystem=true and mount emptyDir volumes "
                "where the job writes.",
    url=_K8S_PSS,
    defaults={"securityContext.readOnlyRootFilesystem": False},
    checkov=("CKV_K8S_22",),
    pulumi=("kubernetes-apps-v1-deployment-enable-read-only-root-filesystem",),
)


def k8s_read_only_root_fs(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """K9: a writable root filesystem lets an intruder persist tools in the container."""
    spec = _spec(args)
    for label, container in containers(spec, init=False):
        if not is_true(get(container, "securityContext", "readOnlyRootFilesystem")):
            yield f"{label} does not set readOnlyRootFilesystem=true"


K10 = PolicyMeta(
    id="K10", name="k8s-secrets-not-in-env", concern="kubernetes", severity="medium",
    description="Secrets are mounted as files, not passed in environment variables.",
    resource_types=WORKLOAD_TYPES,
    remediation="Replace env[].valueFrom.secretKeyRef and envFrom[].secretRef with a secret "
                "volume (or the Secret Manager CSI driver).",
    url="https://kubernetes.io/docs/concepts/configuration/secret/",
    defaults={"env": [], "envFrom": []},
    cis=(Cis("GKE", "1.5", "4.4.1"),),
    checkov=("CKV_K8S_35",),
)


def k8s_secrets_not_in_env(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """K10: secrets in environment variables leak into logs, crash dumps and child processes
    (CIS GKE 1.5 4.4.1: mount them as files)."""
    spec = _spec(args)
    for label, container in containers(spec):
        for env in as_list(get(container, "env")):
            if get(env, "valueFrom", "secretKeyRef") is not None:
                yield f"{label} reads secret into env var {get(env, 'name', default='?')}"
        for source in as_list(get(container, "envFrom")):
            if get(source, "secretRef") is not None:
                name = get(source, "secretRef", "name", default="?")
                yield f"{label} loads secret {name!r} into its environment"


K11 = PolicyMeta(
    id="K11", name="k8s-no-host-port", concern="kubernetes", severity="medium",
    description="Containers bind no host ports outside the allow-listed namespaces.",
    resource_types=WORKLOAD_TYPES,
    remediation="Drop ports[].hostPort and expose the pod through a Service.",
    url=_K8S_PSS,
    defaults={"ports[].hostPort": None},
    cis=(Cis("GKE", "1.5", "4.2.1"),),
    checkov=("CKV_K8S_26",),
    config={**HOST_NAMESPACES},
)


def k8s_no_host_port(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """K11: a host port binds the node's interface and bypasses network policy."""
    spec = _spec(args)
    _exempt_namespace(args, config)
    for label, container in containers(spec):
        for port in as_list(get(container, "ports")):
            if get(port, "hostPort") not in (None, 0):
                yield f"{label} binds hostPort {get(port, 'hostPort')}"


D6 = PolicyMeta(
    id="D6", name="k8s-recommended-labels", concern="kubernetes", severity="low",
    description="Workloads and services carry the recommended app.kubernetes.io labels.",
    resource_types=(*WORKLOAD_TYPES, K8S_SERVICE),
    remediation="Label metadata with app.kubernetes.io/name, app.kubernetes.io/part-of and "
                "app.kubernetes.io/managed-by.",
    url="https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/",
    defaults={"metadata.labels": {}},
    pulumi=("configureRecommendedLabels",),
)


def k8s_recommended_labels(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """D6: the recommended labels say what an object is, what it belongs to and who manages
    it; dashboards, cost reports and cleanups select on them."""
    labels = get(args.props, "metadata", "labels", default={}) or {}
    missing = [key for key in _RECOMMENDED_LABELS if not get(labels, key)]
    if missing:
        yield f"metadata.labels lacks {', '.join(missing)}"


I8 = PolicyMeta(
    id="I8", name="k8s-no-cluster-admin-binding", concern="kubernetes", severity="high",
    description="cluster-admin is bound only to allow-listed subjects.",
    resource_types=(K8S_CLUSTER_ROLE_BINDING,),
    remediation="Bind a narrower ClusterRole, or list the subject in "
                "allowedClusterAdminSubjects with a reason.",
    url="https://cloud.google.com/kubernetes-engine/docs/best-practices/rbac",
    defaults={"subjects": []},
    cis=(Cis("GKE", "1.5", "4.1.1"),),
    config={"allowedClusterAdminSubjects": strings_property(
        "Subjects (Kind/name, fnmatch patterns) a ClusterRoleBinding may give cluster-admin.")},
)


def k8s_no_cluster_admin_binding(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """I8: cluster-admin is every permission on every object (CIS GKE 1.5 4.1.1)."""
    if get(args.props, "roleRef", "name") != "cluster-admin":
        return
    allowed = [str(a) for a in as_list(config["allowedClusterAdminSubjects"])]
    for subject in as_list(get(args.props, "subjects")):
        name = f"{get(subject, 'kind', default='?')}/{get(subject, 'name', default='?')}"
        if not matches_any(name, allowed):
            yield f"binds cluster-admin to {name}"


I9 = PolicyMeta(
    id="I9", name="k8s-no-wildcard-rbac", concern="kubernetes", severity="medium",
    description="Roles and ClusterRoles grant no '*' API groups, resources or verbs.",
    resource_types=(K8S_ROLE, K8S_CLUSTER_ROLE),
    remediation="List the API groups, resources and verbs the role needs.",
    url="https://kubernetes.io/docs/concepts/security/rbac-good-practices/",
    defaults={"rules": []},
    cis=(Cis("GKE", "1.5", "4.1.3"),),
    checkov=("CKV_K8S_49",),
)


def k8s_no_wildcard_rbac(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """I9: a '*' grants whatever the API adds later too (CIS GKE 1.5 4.1.3)."""
    for i, rule in enumerate(as_list(get(args.props, "rules"))):
        for field in ("apiGroups", "resources", "verbs"):
            if "*" in map(str, as_list(get(rule, field))):
                yield f"rules[{i}].{field} contains '*'"


RULES: tuple[tuple[PolicyMeta, Rule], ...] = (
    (K1, k8s_no_privileged_host_access),
    (K2, k8s_gpu_limits),
    (K3, k8s_no_default_sa),
    (K4, k8s_no_privilege_escalation),
    (K5, k8s_capabilities),
    (K6, k8s_seccomp_runtime_default),
    (K7, k8s_no_default_namespace),
    (K8, k8s_image_pinned),
    (K9, k8s_read_only_root_fs),
    (K10, k8s_secrets_not_in_env),
    (K11, k8s_no_host_port),
    (D6, k8s_recommended_labels),
    (I8, k8s_no_cluster_admin_binding),
    (I9, k8s_no_wildcard_rbac),
)
