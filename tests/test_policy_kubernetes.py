"""Kubernetes workload policies (K1-K5), judged through the analyzer protocol by the real pack.

The pod spec sits at a different path in each workload kind; one case per kind pins the walker.
"""

from __future__ import annotations

import pytest

from tests.policy_fixtures import (
    CRON_JOB,
    DEPLOYMENT,
    DELETE,
    GOLDEN,
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
]


@pytest.mark.parametrize("case", [c for c in CASES if c.fails], ids=case_id)
def test_flags_violation(analyzer, case: Case) -> None:  # noqa: F811
    """Each departure from the golden workload is a violation of the policy it breaks."""
    assert_case(analyzer, case)


@pytest.mark.parametrize("case", [c for c in CASES if not c.fails], ids=case_id)
def test_passes_compliant(analyzer, case: Case) -> None:  # noqa: F811
    """Golden workloads of every kind, allow-listed namespaces and paths, CPU pods pass."""
    assert_case(analyzer, case)
