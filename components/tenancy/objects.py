"""Tenancy's Kubernetes objects as plain manifests, built from the allocation and validated.

Cluster-wide (Kueue, `releases.KUEUE.api_version`):

- a `ResourceFlavor` per accelerator pool, whose `nodeLabels` and `tolerations` are the pool's
  scheduling contract (`GpuNodePool` / `TpuNodePool`: `node_selector`, `tolerations`); Kueue
  injects them into the pods it admits on that flavour. Annotations carry the pool's key, its
  accelerator resource and its capacity at maximum size, so the plan (and the policy pack) can
  check the quotas against it;
- one `Cohort` that every team's ClusterQueue joins, so idle quota is lent and borrowed;
- a `ClusterQueue` per team: per flavour the allocated `nominalQuota`, `borrowingLimit` and
  `lendingLimit` of the pool's accelerator (`infra.tenants.allocation` states the rule), usable
  only from the team's namespace, with its preemption policy;
- `WorkloadPriorityClass`es `high`, `normal`, `low`;
- with Dynamic Workload Scheduler queued pools, the `ProvisioningRequest` admission check Kueue
  documents: an `AdmissionCheck` (controller `kueue.x-k8s.io/provisioning-request`) naming a
  `ProvisioningRequestConfig` of class `queued-provisioning.gke.io`, required on those
  flavours only.

Per team: its namespace (labelled with the team and its data classification, Pod Security
`baseline` enforced), the `default` LocalQueue in it (Kueue puts Jobs and JobSets that name no
queue there), the `workload` service account its pods run as (the Workload Identity principal
its bucket grants name), RoleBindings of its Google group to `edit` and to Kueue's
`kueue-batch-user-role` (JobSets are not in `edit`) in that namespace only, and a NetworkPolicy
admitting traffic from its own namespace and from platform namespaces, never from another
team's.

Every manifest is validated before the component registers anything: core kinds against the
Kubernetes OpenAPI schema of the cluster's minor version (kubernetes-validate, strict), Kueue
kinds against the pinned CRDs and Kueue's webhook rules (`infra.catalog.crds`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from components.monitoring.k8s import DEFAULT_KUBERNETES_VERSION, validate_objects
from infra.catalog.crds.releases import KUEUE
from infra.config.base import Classification, Spec
from infra.config.tenants import PoolCapacity, TenantConfig
from infra.tenants.allocation import Allocation, Quota, allocate
from policies.protocol import (
    CLASSIFICATION_LABEL,
    CLASSIFICATIONS,
    POOL_ANNOTATION,
    POOL_CAPACITY_ANNOTATION,
    POOL_RESOURCE_ANNOTATION,
    TENANT_GROUP_ANNOTATION,
    TENANT_LABEL,
)

KUEUE_GROUP = KUEUE.api_version.split("/")[0]
COHORT = "tenants"
LOCAL_QUEUE = "default"
"""Every team's LocalQueue is `default`: with Kueue's LocalQueue defaulting (GA since v0.17),
Jobs and JobSets created without a `kueue.x-k8s.io/queue-name` label are queued there too."""
TENANT_KSA = "workload"
"""The Kubernetes service account a team's pods run as; its bucket grants name it."""
PRIORITY_CLASSES: dict[str, tuple[int, str]] = {
    "high": (1000, "Deadline work: preempts the team's own lower-priority workloads."),
    "normal": (100, "Ordinary training and evaluation."),
    "low": (10, "Opportunistic work: the first the team's own queue preempts."),
}
DWS_CHECK = "dws-provisioning"
DWS_CONFIG = "dws-queued"
# https://cloud.google.com/kubernetes-engine/docs/how-to/provisioningrequest (Kueue section)
DWS_CONTROLLER = "kueue.x-k8s.io/provisioning-request"
DWS_CLASS = "queued-provisioning.gke.io"
# Kueue admits a workload only if its ClusterQueue covers every resource its pods request
# ("resource cpu unavailable in ClusterQueue" otherwise). aidc divides accelerators, not CPU or
# memory: each flavour covers them with a quota no pool reaches, as GKE's Kueue + DWS guide does.
UNDIVIDED = {"cpu": "100k", "memory": "1000Ti"}
MANAGED = {"app.kubernetes.io/managed-by": "aidc", "app.kubernetes.io/part-of": "aidc-tenancy"}
# https://kubernetes.io/docs/concepts/security/pod-security-admission/ : baseline forbids
# privileged pods, host namespaces and host paths; restricted is reported, not enforced, since
# many training images still run as root.
POD_SECURITY = {"pod-security.kubernetes.io/enforce": "baseline",
                "pod-security.kubernetes.io/warn": "restricted",
                "pod-security.kubernetes.io/audit": "restricted"}
KUEUE_BATCH_USER_ROLE = "kueue-batch-user-role"
"""Kueue's aggregated ClusterRole for batch users (create Jobs and JobSets, view LocalQueues
and Workloads): `config/components/rbac/batch_user_role.yaml`, prefixed `kueue-` by the
release's kustomization."""
_RBAC = "rbac.authorization.k8s.io"


class FlavorSpec(Spec):
    """One accelerator pool as a Kueue ResourceFlavor: its scheduling contract and capacity."""

    name: str = Field(description="The ResourceFlavor's name (a DNS subdomain).")
    node_labels: dict[str, str] = Field(description="The pool's node selector.")
    tolerations: list[dict[str, str]] = Field(description="Tolerations of the pool's taints.")
    capacity: PoolCapacity = Field(description="Resource, unit and capacity at maximum size.")
    queued: bool = Field(False, description="A Dynamic Workload Scheduler queued pool: admission "
                                            "waits for a ProvisioningRequest.")


class TenancySpec(Spec):
    """The teams, the pools they share (by pool key, `gpu_pools.<name>`), and what the cluster
    and the buckets need to be known by."""

    tenants: dict[str, TenantConfig] = Field(description="The stack's `aidc:tenants`.")
    flavors: dict[str, FlavorSpec] = Field(description="The shared pools by pool key.")
    bucket_classifications: dict[str, Classification] = Field(
        default_factory=dict, description="Classification of each bucket, by purpose.")
    kubernetes_version: str = Field(
        DEFAULT_KUBERNETES_VERSION,
        description="The Kubernetes minor the objects are validated against offline.")

    def allocation(self) -> Allocation:
        return allocate(self.tenants, {key: f.capacity for key, f in self.flavors.items()})

    def classification_of(self, team: str) -> str:
        """The most sensitive data the team's identity may touch (`internal` at least)."""
        found = [self.bucket_classifications.get(p, "internal")
                 for p in self.tenants[team].buckets]
        return max(["internal", *found], key=CLASSIFICATIONS.index)


def _meta(name: str, namespace: str | None = None, **extra: dict[str, str]) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = {**MANAGED, **extra.get("labels", {})}
    if extra.get("annotations"):
        meta["annotations"] = dict(extra["annotations"])
    return meta


def _kueue(kind: str, name: str, namespace: str | None = None, **fields: Any) -> dict[str, Any]:
    return {"apiVersion": KUEUE.api_version, "kind": kind, "metadata": _meta(name, namespace),
            **fields}


def resource_flavor(key: str, flavor: FlavorSpec) -> dict[str, Any]:
    cap = flavor.capacity
    obj = _kueue("ResourceFlavor", flavor.name,
                 spec={"nodeLabels": dict(flavor.node_labels),
                       "tolerations": [dict(t) for t in flavor.tolerations]})
    obj["metadata"]["annotations"] = {POOL_ANNOTATION: key, POOL_RESOURCE_ANNOTATION: cap.resource,
                                      POOL_CAPACITY_ANNOTATION: str(cap.capacity)}
    return obj


def _accelerator(resource: str, quota: Quota | None) -> dict[str, Any]:
    if quota is None or quota.resource != resource:
        return {"name": resource, "nominalQuota": 0}
    return {"name": resource, "nominalQuota": quota.nominal,
            "borrowingLimit": quota.borrowing_limit, "lendingLimit": quota.lending_limit}


def cluster_queue(spec: TenancySpec, team: str, quotas: Mapping[str, Quota]) -> dict[str, Any]:
    """The team's ClusterQueue: one resource group covering cpu, memory and every pool's
    accelerator, a flavour per pool in the order of `spec.flavors`."""
    accelerators = sorted({f.capacity.resource for f in spec.flavors.values()})
    flavors = [{"name": f.name, "resources": [
        *({"name": r, "nominalQuota": q} for r, q in UNDIVIDED.items()),
        *(_accelerator(r, quotas.get(key)) for r in accelerators)]}
        for key, f in spec.flavors.items()]
    queue: dict[str, Any] = {
        "cohortName": COHORT,
        "namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": spec.tenants[team].namespace_of(team)}},
        "queueingStrategy": "BestEffortFIFO",
        # Quota lent to others is taken back by preempting their borrowing workloads whatever
        # their priority; inside the team, higher priority preempts lower.
        "preemption": {"reclaimWithinCohort": "Any", "withinClusterQueue": "LowerPriority",
                       "borrowWithinCohort": {"policy": "Never"}},
        "resourceGroups": [{"coveredResources": [*UNDIVIDED, *accelerators],
                            "flavors": flavors}] if flavors else [],
    }
    queued = [f.name for f in spec.flavors.values() if f.queued]
    if queued:
        queue["admissionChecksStrategy"] = {"admissionChecks": [
            {"name": DWS_CHECK, "onFlavors": queued}]}
    return _kueue("ClusterQueue", team, spec=queue)


def cluster_objects(spec: TenancySpec, allocation: Allocation) -> dict[str, dict[str, Any]]:
    """Kueue's cluster-scoped objects by role: flavours, the cohort, the priority classes, the
    DWS admission check, and a ClusterQueue per team."""
    out = {f"flavor-{f.name}": resource_flavor(key, f) for key, f in spec.flavors.items()}
    out["cohort"] = _kueue("Cohort", COHORT)
    for name, (value, description) in PRIORITY_CLASSES.items():
        out[f"priority-{name}"] = _kueue("WorkloadPriorityClass", name, value=value,
                                         description=description)
    queued = sorted({f.capacity.resource for f in spec.flavors.values() if f.queued})
    if queued:
        out["dws-config"] = _kueue("ProvisioningRequestConfig", DWS_CONFIG, spec={
            "provisioningClassName": DWS_CLASS, "managedResources": queued})
        out["dws-check"] = _kueue("AdmissionCheck", DWS_CHECK, spec={
            "controllerName": DWS_CONTROLLER,
            "parameters": {"apiGroup": KUEUE_GROUP, "kind": "ProvisioningRequestConfig",
                           "name": DWS_CONFIG}})
    for tenant in allocation.tenants:
        out[f"{tenant.name}-queue"] = cluster_queue(
            spec, tenant.name, {q.pool: q for q in tenant.quotas})
    return out


def team_objects(spec: TenancySpec, team: str) -> dict[str, dict[str, Any]]:
    """One team's namespaced objects by role (the namespace first)."""
    t = spec.tenants[team]
    ns = t.namespace_of(team)
    labels = {TENANT_LABEL: team}

    def binding(name: str, role: str) -> dict[str, Any]:
        return {"apiVersion": f"{_RBAC}/v1", "kind": "RoleBinding",
                "metadata": _meta(name, ns, labels=labels),
                "subjects": [{"kind": "Group", "name": t.group, "apiGroup": _RBAC}],
                "roleRef": {"apiGroup": _RBAC, "kind": "ClusterRole", "name": role}}

    return {
        "namespace": {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(
            ns, labels={**labels, CLASSIFICATION_LABEL: spec.classification_of(team),
                        **POD_SECURITY},
            annotations={TENANT_GROUP_ANNOTATION: t.group})},
        "ksa": {"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": _meta(TENANT_KSA, ns, labels=labels),
                # Workload Identity needs no mounted token; pods that call the API opt in.
                "automountServiceAccountToken": False},
        "local-queue": _kueue("LocalQueue", LOCAL_QUEUE, ns, spec={"clusterQueue": team}),
        "edit": binding("team-edit", "edit"),
        "batch-user": binding("team-batch-user", KUEUE_BATCH_USER_ROLE),
        "isolation": {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                      "metadata": _meta("tenant-isolation", ns, labels=labels),
                      "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{
                          "from": [{"podSelector": {}},
                                   {"namespaceSelector": {"matchExpressions": [
                                       {"key": TENANT_LABEL, "operator": "DoesNotExist"}]}}]}]}},
    }


def tenancy_objects(spec: TenancySpec) -> tuple[Allocation, dict[str, dict[str, Any]],
                                                dict[str, dict[str, dict[str, Any]]]]:
    """The allocation, the cluster-wide objects and each team's objects, all validated (raises
    AidcError naming every invalid object)."""
    allocation = spec.allocation()
    cluster = cluster_objects(spec, allocation)
    teams = {team: team_objects(spec, team) for team in sorted(spec.tenants)}
    validate_objects([*cluster.values(), *(o for objs in teams.values() for o in objs.values())],
                     spec.kubernetes_version)
    return allocation, cluster, teams


def workload_principal(project: str, project_number: str, namespace: str,
                       service_account: str = TENANT_KSA) -> str:
    """The IAM principal of a Kubernetes service account under Workload Identity Federation for
    GKE (granted roles directly, no Google service account in between).
    https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity#kubernetes-resources-iam-policies
    """
    return (f"principal://iam.googleapis.com/projects/{project_number}/locations/global/"
            f"workloadIdentityPools/{project}.svc.id.goog/subject/ns/{namespace}/sa/"
            f"{service_account}")
