"""Kubernetes policies (K1-K11, D6, I8, I9), judged through the analyzer protocol by the real
pack.

The pod spec sits at a different path in each workload kind; one case per kind pins the walker.
"""

from __future__ import annotations

import pytest

from tests.policy_fixtures import (
    CLUSTER_ROLE,
    CLUSTER_ROLE_BINDING,
    CRON_JOB,
    DEPLOYMENT,
    DELETE,
    GOLDEN,
    K8S_SERVICE,
    ROLE,
    POD_PATH,
    WORKLOADS,
    Case,
    analyzer,  # noqa: F401 (module fixture)
    assert_case,
    case_id,
    mutate,
)

POD = POD_PATH[DEPLOYMENT]
C0 = (*POD, "containers", 0)
SC = (*C0, "securityContext")
LIMITS = (*C0, "resources", "limits")
GPU = "nvidia.com/gpu"
_SYSTEM = {"k8s-no-privileged-host-access": {"hostAccessNamespaces": ["gpu-operator"]}}
_NO_GPU = mutate(GOLDEN[DEPLOYMENT], {(*POD, "nodeSelector"): DELETE,
                                      (*POD, "tolerations"): DELETE, (*LIMITS, GPU): DELETE})


def _in_namespace(ns: str, changes: dict) -> dict:
    return mutate(GOLDEN[DEPLOYMENT], {("metadata", "namespace"): ns, **changes})


CASES = [
    # K1 k8s-no-privileged-host-access: once per workload kind (pod-spec walker), then fields
    *(Case("k8s-no-privileged-host-access", kind,
           {(*POD_PATH[kind], "containers", 0, "securityContext", "privileged"): True},
           why=f"privileged {kind.rsplit(':', 1)[-1]}") for kind in WORKLOADS),
    *(Case("k8s-no-privileged-host-access", kind, fails=False) for kind in WORKLOADS),
    Case("k8s-no-privileged-host-access", DEPLOYMENT, {(*POD, "hostNetwork"): True}),
    Case("k8s-no-privileged-host-access", DEPLOYMENT, {(*POD, "hostPID"): True}),
    Case("k8s-no-privileged-host-access", DEPLOYMENT, {(*POD, "hostIPC"): True}),
    Case("k8s-no-privileged-host-access", DEPLOYMENT, {(*POD, "volumes"): [
        {"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}]},
         expect="/var/run/docker.sock"),
    Case("k8s-no-privileged-host-access", DEPLOYMENT, {(*POD, "initContainers"): [
        {"name": "setup", "image": "busybox:1.36", "securityContext": {"privileged": True}}]},
         expect="initContainer"),
    Case("k8s-no-privileged-host-access", DEPLOYMENT,
         {(*POD, "volumes"): [{"name": "nv", "hostPath": {"path": "/dev/nvidia0"}}]},
         fails=False, config={"k8s-no-privileged-host-access": {
             "allowedHostPaths": ["/dev/nvidia*"]}}, why="allow-listed host path"),
    Case("k8s-no-privileged-host-access", DEPLOYMENT,
         inputs=_in_namespace("gpu-operator", {(*SC, "privileged"): True,
                                               (*POD, "hostNetwork"): True}),
         fails=False, not_applicable=True, config=_SYSTEM, why="node agent namespace"),
    # K2 k8s-gpu-limits
    Case("k8s-gpu-limits", DEPLOYMENT, {(*LIMITS, "cpu"): DELETE}, expect="cpu"),
    Case("k8s-gpu-limits", DEPLOYMENT, {(*LIMITS, "memory"): DELETE}),
    Case("k8s-gpu-limits", DEPLOYMENT, {(*LIMITS, GPU): DELETE},
         expect="no container sets an accelerator limit"),
    Case("k8s-gpu-limits", DEPLOYMENT, {(*C0, "resources"): {"requests": {GPU: 8}}},
         expect=GPU, why="requests a GPU without any limit"),
    Case("k8s-gpu-limits", CRON_JOB,
         {(*POD_PATH[CRON_JOB], "containers", 0, "resources", "limits", "memory"): DELETE}),
    Case("k8s-gpu-limits", DEPLOYMENT, fails=False),
    Case("k8s-gpu-limits", DEPLOYMENT, inputs=mutate(_NO_GPU, {(*LIMITS, "cpu"): DELETE}),
         fails=False, not_applicable=True, why="a CPU-only pod"),
    # K3 k8s-no-default-sa
    Case("k8s-no-default-sa", DEPLOYMENT, {(*POD, "serviceAccountName"): DELETE},
         why="omitted: runs as 'default'"),
    Case("k8s-no-default-sa", DEPLOYMENT, {(*POD, "serviceAccountName"): "default"}),
    Case("k8s-no-default-sa", DEPLOYMENT, fails=False),
    # K4 k8s-no-privilege-escalation
    Case("k8s-no-privilege-escalation", DEPLOYMENT, {(*SC, "allowPrivilegeEscalation"): DELETE},
         why="omitted: escalation is allowed by default"),
    Case("k8s-no-privilege-escalation", DEPLOYMENT, {(*SC, "runAsNonRoot"): False},
         why="the container overrides the pod's runAsNonRoot"),
    Case("k8s-no-privilege-escalation", DEPLOYMENT,
         {(*SC, "runAsNonRoot"): DELETE, (*POD, "securityContext"): DELETE},
         why="runAsNonRoot nowhere: may run as root"),
    Case("k8s-no-privilege-escalation", DEPLOYMENT, fails=False),
    Case("k8s-no-privilege-escalation", DEPLOYMENT, {(*SC, "runAsNonRoot"): DELETE},
         fails=False, why="set at pod level"),
    # K5 k8s-capabilities
    Case("k8s-capabilities", DEPLOYMENT, {(*SC, "capabilities", "add"): ["SYS_ADMIN"]},
         expect="SYS_ADMIN"),
    Case("k8s-capabilities", DEPLOYMENT, {(*SC, "capabilities", "drop"): DELETE},
         expect="NET_RAW"),
    Case("k8s-capabilities", DEPLOYMENT, fails=False),
    Case("k8s-capabilities", DEPLOYMENT, {(*SC, "capabilities", "drop"): ["NET_RAW"]},
         fails=False),
    Case("k8s-capabilities", DEPLOYMENT,
         inputs=_in_namespace("gpu-operator", {(*SC, "capabilities"): {"add": ["SYS_ADMIN"]}}),
         fails=False, not_applicable=True,
         config={"k8s-capabilities": {"hostAccessNamespaces": ["gpu-operator"]}}),
    # K6 k8s-seccomp-runtime-default
    Case("k8s-seccomp-runtime-default", DEPLOYMENT, {(*POD, "securityContext", "seccompProfile"):
                                                     DELETE}, expect="no seccomp profile"),
    Case("k8s-seccomp-runtime-default", DEPLOYMENT,
         {(*SC, "seccompProfile"): {"type": "Unconfined"}}, expect="Unconfined"),
    Case("k8s-seccomp-runtime-default", DEPLOYMENT, fails=False, why="pod-level RuntimeDefault"),
    Case("k8s-seccomp-runtime-default", DEPLOYMENT,
         {(*POD, "securityContext", "seccompProfile"): DELETE,
          (*SC, "seccompProfile"): {"type": "Localhost", "localhostProfile": "trainer.json"}},
         fails=False, why="container-level Localhost profile"),
    # K7 k8s-no-default-namespace
    Case("k8s-no-default-namespace", DEPLOYMENT, {("metadata", "namespace"): "default"}),
    Case("k8s-no-default-namespace", K8S_SERVICE, {("metadata", "namespace"): DELETE},
         expect="not set"),
    Case("k8s-no-default-namespace", DEPLOYMENT, fails=False),
    Case("k8s-no-default-namespace", K8S_SERVICE, fails=False),
    # K8 k8s-image-pinned
    Case("k8s-image-pinned", DEPLOYMENT, {(*C0, "image"): "nvcr.io/nvidia/pytorch"},
         expect="no tag"),
    Case("k8s-image-pinned", DEPLOYMENT, {(*C0, "image"): "localhost:5000/trainer:latest"}),
    Case("k8s-image-pinned", DEPLOYMENT, {(*C0, "image"): "nvcr.io/nvidia/pytorch:24.05-py3"},
         config={"k8s-image-pinned": {"requireImageDigest": True}}, expect="digest",
         why="prod requires digests"),
    Case("k8s-image-pinned", DEPLOYMENT, fails=False, why="pinned by digest"),
    Case("k8s-image-pinned", DEPLOYMENT, {(*C0, "image"): "nvcr.io/nvidia/pytorch:24.05-py3"},
         fails=False, why="a version tag, digests not required"),
    Case("k8s-image-pinned", DEPLOYMENT, {(*C0, "image"): "localhost:5000/trainer"},
         expect="no tag", why="a registry port is not a tag"),
    # K9 k8s-read-only-root-fs
    Case("k8s-read-only-root-fs", DEPLOYMENT, {(*SC, "readOnlyRootFilesystem"): DELETE}),
    Case("k8s-read-only-root-fs", DEPLOYMENT, {(*SC, "readOnlyRootFilesystem"): False}),
    Case("k8s-read-only-root-fs", DEPLOYMENT, fails=False),
    # K10 k8s-secrets-not-in-env
    Case("k8s-secrets-not-in-env", DEPLOYMENT, {(*C0, "env"): [
        {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf", "key": "token"}}}]},
         expect="HF_TOKEN"),
    Case("k8s-secrets-not-in-env", DEPLOYMENT, {(*C0, "envFrom"): [{"secretRef": {"name": "wandb"}}]},
         expect="wandb"),
    Case("k8s-secrets-not-in-env", DEPLOYMENT, fails=False),
    Case("k8s-secrets-not-in-env", DEPLOYMENT, {(*C0, "env"): [
        {"name": "NCCL_DEBUG", "value": "WARN"},
        {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}]},
         fails=False, why="plain and downward-API variables"),
    # K11 k8s-no-host-port
    Case("k8s-no-host-port", DEPLOYMENT, {(*C0, "ports"): [{"containerPort": 9400,
                                                           "hostPort": 9400}]},
         expect="hostPort 9400"),
    Case("k8s-no-host-port", DEPLOYMENT, fails=False),
    Case("k8s-no-host-port", DEPLOYMENT, {(*C0, "ports"): [{"containerPort": 8080}]}, fails=False),
    Case("k8s-no-host-port", DEPLOYMENT, inputs=_in_namespace("gpu-operator", {
        (*C0, "ports"): [{"containerPort": 9400, "hostPort": 9400}]}),
         config={"k8s-no-host-port": {"hostAccessNamespaces": ["gpu-operator"]}}, fails=False,
         not_applicable=True, why="node agents in an allow-listed namespace"),
    # D6 k8s-recommended-labels
    Case("k8s-recommended-labels", DEPLOYMENT, {("metadata", "labels"): DELETE},
         expect="app.kubernetes.io/name"),
    Case("k8s-recommended-labels", K8S_SERVICE,
         {("metadata", "labels", "app.kubernetes.io/managed-by"): DELETE}, expect="managed-by"),
    Case("k8s-recommended-labels", DEPLOYMENT, fails=False),
    Case("k8s-recommended-labels", K8S_SERVICE, fails=False),
    # I8 k8s-no-cluster-admin-binding
    Case("k8s-no-cluster-admin-binding", CLUSTER_ROLE_BINDING,
         {("roleRef", "name"): "cluster-admin"}, expect="ServiceAccount/trainer"),
    Case("k8s-no-cluster-admin-binding", CLUSTER_ROLE_BINDING, fails=False),
    Case("k8s-no-cluster-admin-binding", CLUSTER_ROLE_BINDING,
         {("roleRef", "name"): "cluster-admin",
          "subjects": [{"kind": "Group", "name": "gke-platform-admins@acme.example"}]},
         config={"k8s-no-cluster-admin-binding": {
             "allowedClusterAdminSubjects": ["Group/gke-platform-admins@*"]}},
         fails=False, why="an allow-listed group"),
    # I9 k8s-no-wildcard-rbac
    Case("k8s-no-wildcard-rbac", ROLE, {("rules", 0, "verbs"): ["*"]}, expect="verbs"),
    Case("k8s-no-wildcard-rbac", CLUSTER_ROLE, {("rules", 0, "resources"): ["*"]},
         expect="resources"),
    Case("k8s-no-wildcard-rbac", CLUSTER_ROLE, {("rules", 0, "apiGroups"): ["*"]}),
    Case("k8s-no-wildcard-rbac", ROLE, fails=False),
    Case("k8s-no-wildcard-rbac", CLUSTER_ROLE, fails=False),
]


@pytest.mark.parametrize("case", [c for c in CASES if c.fails], ids=case_id)
def test_flags_violation(analyzer, case: Case) -> None:  # noqa: F811
    """Each departure from the golden workload is a violation of the policy it breaks."""
    assert_case(analyzer, case)


@pytest.mark.parametrize("case", [c for c in CASES if not c.fails], ids=case_id)
def test_passes_compliant(analyzer, case: Case) -> None:  # noqa: F811
    """Golden workloads of every kind, allow-listed namespaces and paths, CPU pods pass."""
    assert_case(analyzer, case)
