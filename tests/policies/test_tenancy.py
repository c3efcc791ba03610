"""Tenancy policies (T1-T4, all stack policies), judged through the analyzer protocol by the real
pack: one golden team (namespace, LocalQueue, ClusterQueue, the pool's ResourceFlavor, its
group's RoleBinding) changed one field per case."""

from __future__ import annotations

import pytest

from tests.policy_fixtures import (
    BUCKET_IAM_MEMBER,
    CLUSTER_QUEUE,
    CLUSTER_ROLE_BINDING,
    DELETE,
    LOCAL_QUEUE,
    NAMESPACE,
    PROJECT_IAM_BINDING,
    PROJECT_IAM_MEMBER,
    RESOURCE_FLAVOR,
    ROLE_BINDING,
    SA_IAM_MEMBER,
    Case,
    analyzer,  # noqa: F401 (module fixture)
    assert_case,
    case_id,
    plan_of,
    resource,
)

_NS = resource(NAMESPACE, "team-nlp")
_OTHER_NS = resource(NAMESPACE, "team-ops", {("metadata", "labels"): {}, ("metadata", "name"): "ops"})
_LQ = resource(LOCAL_QUEUE, "nlp-local-queue")
_CQ = resource(CLUSTER_QUEUE, "nlp-queue")
_RF = resource(RESOURCE_FLAVOR, "gpu-h100")
_GPU = ("spec", "resourceGroups", 0, "flavors", 0, "resources", 2)
_VISION = resource(CLUSTER_QUEUE, "vision-queue", {("metadata", "name"): "vision",
                                                   (*_GPU, "nominalQuota"): 64,
                                                   (*_GPU, "borrowingLimit"): 0})
_POOL = ("principal://iam.googleapis.com/projects/123456789012/locations/global/"
         "workloadIdentityPools/aidc-dev.svc.id.goog")
_KSA = f"{_POOL}/subject/ns/nlp/sa/workload"
_TEAM_GSA = "team-nlp@aidc-dev.iam.gserviceaccount.com"
_LINKED = resource(SA_IAM_MEMBER, "nlp-wi", {
    "serviceAccountId": f"projects/aidc-dev/serviceAccounts/{_TEAM_GSA}",
    "member": "serviceAccount:aidc-dev.svc.id.goog[nlp/workload]"})
_ADMIN = {("roleRef", "name"): "cluster-admin"}

CASES = [
    # T1 tenant-namespace-has-localqueue
    Case("tenant-namespace-has-localqueue", NAMESPACE, extra=[_LQ, _CQ], fails=False),
    Case("tenant-namespace-has-localqueue", NAMESPACE, expect="'nlp' has no Kueue LocalQueue"),
    Case("tenant-namespace-has-localqueue", NAMESPACE,
         extra=[resource(LOCAL_QUEUE, "lq", {("metadata", "namespace"): "ops"}), _CQ],
         why="the only LocalQueue is in another namespace"),
    Case("tenant-namespace-has-localqueue", NAMESPACE, extra=[_LQ],
         expect="ClusterQueue 'nlp', which is not in this stack"),
    Case("tenant-namespace-has-localqueue", NAMESPACE,
         {("metadata", "labels", "aidc.dev/tenant"): DELETE}, fails=False,
         why="a namespace without the team label is not a team's"),
    # T2 queue-quota-within-pool-capacity
    Case("queue-quota-within-pool-capacity", CLUSTER_QUEUE, extra=[_RF], fails=False,
         why="96 nominal + 32 borrowing of a 128-GPU pool"),
    Case("queue-quota-within-pool-capacity", CLUSTER_QUEUE,
         {(*_GPU, "nominalQuota"): 160, (*_GPU, "borrowingLimit"): DELETE,
          (*_GPU, "lendingLimit"): DELETE}, extra=[_RF],
         expect="add up to 160, more than pool gpu_pools.h100 holds at its maximum size (128)"),
    Case("queue-quota-within-pool-capacity", CLUSTER_QUEUE, extra=[_RF, _VISION],
         expect="(nlp 96, vision 64) add up to 160", why="two teams' quotas together"),
    Case("queue-quota-within-pool-capacity", CLUSTER_QUEUE, {(*_GPU, "borrowingLimit"): 64},
         extra=[_RF], expect="reaches 160"),
    Case("queue-quota-within-pool-capacity", CLUSTER_QUEUE, {(*_GPU, "borrowingLimit"): DELETE},
         extra=[_RF], fails=False, why="no borrowing limit: bounded by what the cohort lends"),
    Case("queue-quota-within-pool-capacity", CLUSTER_QUEUE, expect="not in this stack",
         why="the flavour is missing"),
    Case("queue-quota-within-pool-capacity", CLUSTER_QUEUE,
         extra=[resource(RESOURCE_FLAVOR, "gpu-h100", {("metadata", "annotations"): DELETE})],
         expect="declares no pool capacity"),
    Case("queue-quota-within-pool-capacity", CLUSTER_QUEUE,
         {(*_GPU, "name"): "google.com/tpu"}, extra=[_RF], expect="offers nvidia.com/gpu"),
    Case("queue-quota-within-pool-capacity", CLUSTER_QUEUE, {(*_GPU, "nominalQuota"): "1.5"},
         extra=[_RF], expect="whole accelerators"),
    Case("queue-quota-within-pool-capacity", CLUSTER_QUEUE, {("spec", "resourceGroups"): DELETE},
         fails=False, why="a queue with no quotas"),
    # T3 tenant-no-project-roles
    Case("tenant-no-project-roles", PROJECT_IAM_MEMBER, {"member": _KSA}, extra=[_NS],
         expect="identity of team namespace 'nlp'"),
    Case("tenant-no-project-roles", PROJECT_IAM_MEMBER,
         {"member": "serviceAccount:aidc-dev.svc.id.goog[nlp/workload]"}, extra=[_NS],
         why="the KSA spelled as Workload Identity's member"),
    Case("tenant-no-project-roles", PROJECT_IAM_BINDING,
         {"members": [f"principalSet:{_POOL[len('principal:'):]}/namespace/nlp"]}, extra=[_NS],
         why="every service account of the namespace"),
    Case("tenant-no-project-roles", PROJECT_IAM_MEMBER,
         {"member": f"principalSet:{_POOL[len('principal:'):]}/*"}, extra=[_NS],
         expect="the teams' included", why="the whole pool"),
    Case("tenant-no-project-roles", PROJECT_IAM_MEMBER, {"member": f"serviceAccount:{_TEAM_GSA}"},
         extra=[_NS, _LINKED], expect="which team namespace 'nlp' acts as",
         why="a Google service account the team's KSA may act as"),
    Case("tenant-no-project-roles", PROJECT_IAM_MEMBER, extra=[_NS, _LINKED], fails=False,
         why="the node service account"),
    Case("tenant-no-project-roles", PROJECT_IAM_MEMBER,
         {"member": f"{_POOL}/subject/ns/monitoring/sa/collector"}, extra=[_NS], fails=False,
         why="a platform namespace's workload"),
    Case("tenant-no-project-roles", BUCKET_IAM_MEMBER, {"member": _KSA}, extra=[_NS],
         fails=False, why="bucket-level access"),
    Case("tenant-no-project-roles", PROJECT_IAM_MEMBER, {"member": _KSA}, fails=False,
         why="no team namespace in the stack"),
    # T4 tenant-no-cluster-admin
    Case("tenant-no-cluster-admin", ROLE_BINDING, extra=[_NS], fails=False),
    Case("tenant-no-cluster-admin", ROLE_BINDING, _ADMIN, extra=[_NS],
         expect="binds cluster-admin in team namespace 'nlp'"),
    Case("tenant-no-cluster-admin", CLUSTER_ROLE_BINDING,
         {**_ADMIN, "subjects": [{"kind": "Group", "name": "nlp-eng@acme.example",
                                  "apiGroup": "rbac.authorization.k8s.io"}]}, extra=[_NS],
         expect="group nlp-eng@acme.example"),
    Case("tenant-no-cluster-admin", CLUSTER_ROLE_BINDING,
         {**_ADMIN, "subjects": [{"kind": "ServiceAccount", "name": "workload",
                                  "namespace": "nlp"}]}, extra=[_NS],
         expect="service account nlp/workload"),
    Case("tenant-no-cluster-admin", CLUSTER_ROLE_BINDING,
         {**_ADMIN, "subjects": [{"kind": "Group", "name": "platform@acme.example",
                                  "apiGroup": "rbac.authorization.k8s.io"}]},
         extra=[_NS, _OTHER_NS], fails=False, why="not a team's subject"),
    Case("tenant-no-cluster-admin", ROLE_BINDING, {("roleRef", "name"): "admin"}, extra=[_NS],
         config={"tenant-no-cluster-admin": {"tenantForbiddenRoles": ["cluster-admin", "admin"]}},
         expect="binds admin", why="admin forbidden by config"),
    Case("tenant-no-cluster-admin", ROLE_BINDING, {("roleRef", "name"): "admin"}, extra=[_NS],
         fails=False, why="admin is allowed by default"),
]


@pytest.mark.parametrize("case", [c for c in CASES if c.fails], ids=case_id)
def test_flags_violation(analyzer, case: Case) -> None:  # noqa: F811
    """Each departure from the golden team is a violation of the policy it breaks."""
    assert_case(analyzer, case)


@pytest.mark.parametrize("case", [c for c in CASES if not c.fails], ids=case_id)
def test_passes_compliant(analyzer, case: Case) -> None:  # noqa: F811
    """The golden team, provider defaults that are safe, and subjects that are not a team's
    pass."""
    assert_case(analyzer, case)


def test_flags_each_team_namespace_without_a_queue(analyzer) -> None:  # noqa: F811
    """T1 names every team namespace that lacks a queue, by its URN, and not the others."""
    bare = [resource(NAMESPACE, f"team-{n}", {("metadata", "name"): n,
                                               ("metadata", "labels", "aidc.dev/tenant"): n})
            for n in ("cv", "speech")]
    result = analyzer.check(plan_of(_NS, _LQ, _CQ, *bare))
    urns = {v.urn for v in result.violations if v.policy == "tenant-namespace-has-localqueue"}
    assert urns == {r.urn for r in bare}
