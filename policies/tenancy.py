"""Tenancy: teams on a shared accelerator fleet queue through Kueue within the pools' capacity,
and their identities stay inside their namespaces.

A team's namespace is a `kubernetes:core/v1:Namespace` labelled `aidc.dev/tenant` (its group in
the `aidc.dev/group` annotation); a pool's capacity is read from its Kueue ResourceFlavor's
`aidc.dev/pool`, `aidc.dev/resource` and `aidc.dev/capacity` annotations (aidc's tenancy
component writes them; `protocol` names them). Every rule here is a stack rule, yielding
`(message, urn)`. Each policy's `PolicyMeta` record stands above its rule; `RULES` lists both,
in roster order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from fractions import Fraction
from typing import Any

from ._util import as_list, get, gke_workload_identity, iam_grants, member_parts, service_account_project
from .protocol import (
    HIGH_LEVEL_IAM,
    K8S_CLUSTER_ROLE_BINDING,
    K8S_NAMESPACE,
    K8S_ROLE_BINDING,
    KUEUE_TYPE_PREFIX,
    POOL_ANNOTATION,
    POOL_CAPACITY_ANNOTATION,
    POOL_RESOURCE_ANNOTATION,
    SA_IAM,
    TENANT_GROUP_ANNOTATION,
    TENANT_LABEL,
)
from .record import Cis, PolicyMeta, Rule, strings_property

# Accelerator resources whose quotas must fit a pool (cpu and memory are not divided).
ACCELERATORS = ("nvidia.com/gpu", "google.com/tpu")
_KUEUE_VERSION = "v1beta2"
LOCAL_QUEUE = f"{KUEUE_TYPE_PREFIX}{_KUEUE_VERSION}:LocalQueue"
CLUSTER_QUEUE = f"{KUEUE_TYPE_PREFIX}{_KUEUE_VERSION}:ClusterQueue"
RESOURCE_FLAVOR = f"{KUEUE_TYPE_PREFIX}{_KUEUE_VERSION}:ResourceFlavor"
_SA_ACCOUNT = "gcp:serviceaccount/account:Account"
_IMPERSONATION = ("roles/iam.workloadIdentityUser", "roles/iam.serviceAccountTokenCreator")


def is_kueue(resource: Any, kind: str) -> bool:
    """A Kueue object of `kind`, at any API version (v1beta1 is still served)."""
    token = resource.resource_type
    return token.startswith(KUEUE_TYPE_PREFIX) and token.endswith(f":{kind}")


def _name(resource: Any) -> str | None:
    name = get(resource.props, "metadata", "name")
    return str(name) if name is not None else None


class _Tenants:
    """The stack's team namespaces (by name) and the groups they are annotated with."""

    def __init__(self, resources: Sequence[Any]) -> None:
        self.namespaces: dict[str, Any] = {}
        self.groups: dict[str, str] = {}
        for r in resources:
            if r.resource_type != K8S_NAMESPACE:
                continue
            team = get(r.props, "metadata", "labels", TENANT_LABEL)
            name = _name(r)
            if team is None or name is None:
                continue
            self.namespaces[name] = r
            group = get(r.props, "metadata", "annotations", TENANT_GROUP_ANNOTATION)
            if group:
                self.groups[str(group)] = name

    def of_member(self, member: str) -> str | None:
        """The team namespace a Workload Identity member belongs to ("*" for a pool-wide set,
        which includes every team), or None."""
        workload = gke_workload_identity(member)
        if workload is None:
            return None
        namespace = workload[1]
        if namespace is None:
            return "*" if self.namespaces else None
        return namespace if namespace in self.namespaces else None


# --- T1 -----------------------------------------------------------------------------------------

T1 = PolicyMeta(
    id="T1", name="tenant-namespace-has-localqueue", concern="tenancy", severity="medium",
    stack=True,
    description="Every team namespace has a Kueue LocalQueue that feeds a ClusterQueue of the "
                "stack.",
    resource_types=(K8S_NAMESPACE, LOCAL_QUEUE, CLUSTER_QUEUE),
    remediation="Create a LocalQueue in the team's namespace pointing at the team's "
                "ClusterQueue (aidc's tenancy component creates `default`); without one the "
                "team's jobs bypass its quota or never start.",
    url="https://kueue.sigs.k8s.io/docs/concepts/local_queue/",
    defaults={"metadata.labels.aidc.dev/tenant": "absent: not a team namespace",
              "spec.clusterQueue": None},
)


def tenant_namespace_has_localqueue(args: Any, config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """T1 (stack): a team namespace without a queue has no quota, so its work is unmanaged."""
    tenants = _Tenants(args.resources)
    cluster_queues = {_name(r) for r in args.resources if is_kueue(r, "ClusterQueue")}
    queues: dict[str, list[str | None]] = {}
    for r in args.resources:
        if is_kueue(r, "LocalQueue"):
            namespace = get(r.props, "metadata", "namespace")
            target = get(r.props, "spec", "clusterQueue")
            queues.setdefault(str(namespace), []).append(str(target) if target else None)
    for name, ns in sorted(tenants.namespaces.items()):
        targets = queues.get(name, [])
        if not targets:
            yield f"team namespace {name!r} has no Kueue LocalQueue", ns.urn
        elif not any(t in cluster_queues for t in targets):
            yield (f"team namespace {name!r}'s LocalQueue feeds ClusterQueue "
                   f"{', '.join(repr(t) for t in targets)}, which is not in this stack"), ns.urn


# --- T2 -----------------------------------------------------------------------------------------

T2 = PolicyMeta(
    id="T2", name="queue-quota-within-pool-capacity", concern="tenancy", severity="high",
    stack=True,
    description="The ClusterQueues' accelerator quotas on each pool's flavour add up to no "
                "more than the pool holds at its maximum size, and no queue may reach past it "
                "by borrowing.",
    resource_types=(CLUSTER_QUEUE, RESOURCE_FLAVOR),
    remediation="Lower the nominal quotas or borrowing limits (aidc: the tenants' guarantees "
                "and caps), or raise the pool's maximum size; give every accelerator flavour "
                "its pool's capacity (aidc.dev/capacity) so it can be checked.",
    url="https://kueue.sigs.k8s.io/docs/concepts/cluster_queue/",
    defaults={"borrowingLimit": "absent: whatever the cohort lends",
              "metadata.annotations.aidc.dev/capacity": "absent: capacity unknown"},
)


def _amount(value: Any) -> Fraction | None:
    """An accelerator count as Kubernetes writes it (an integer, or a decimal string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return Fraction(value)
    try:
        return Fraction(str(value).strip())
    except (ValueError, ZeroDivisionError):
        return None


def _flavor_quotas(queue: Any) -> Iterator[tuple[str, str, Any]]:
    """(flavour, resource, quota row) of every accelerator quota of a ClusterQueue."""
    for group in as_list(get(queue.props, "spec", "resourceGroups")):
        for flavor in as_list(get(group, "flavors")):
            for row in as_list(get(flavor, "resources")):
                if get(row, "name") in ACCELERATORS:
                    yield str(get(flavor, "name")), str(get(row, "name")), row


def queue_quota_within_pool_capacity(args: Any, config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """T2 (stack): quotas are promises of real accelerators; promising more than a pool holds
    means admitted work that can never be scheduled, and guarantees that are not."""
    flavors = {_name(r): r for r in args.resources if is_kueue(r, "ResourceFlavor")}
    totals: dict[str, tuple[Fraction, list[str]]] = {}
    for queue in (r for r in args.resources if is_kueue(r, "ClusterQueue")):
        for flavor_name, resource, row in _flavor_quotas(queue):
            nominal = _amount(get(row, "nominalQuota", default=0))
            borrowing = get(row, "borrowingLimit")
            where = f"ClusterQueue {_name(queue)!r}, flavour {flavor_name!r}, {resource}"
            flavor = flavors.get(flavor_name)
            if nominal is None or nominal.denominator != 1 or (
                    borrowing is not None and _amount(borrowing) is None):
                yield f"{where}: quotas must be whole accelerators", queue.urn
                continue
            if flavor is None:
                if nominal or borrowing:
                    yield (f"{where}: the flavour is not in this stack, so the pool's capacity "
                           "is unknown"), queue.urn
                continue
            annotations = get(flavor.props, "metadata", "annotations", default={}) or {}
            capacity = _amount(get(annotations, POOL_CAPACITY_ANNOTATION))
            offered = get(annotations, POOL_RESOURCE_ANNOTATION)
            pool = get(annotations, POOL_ANNOTATION, default=flavor_name)
            if capacity is None:
                if nominal or borrowing:
                    yield (f"{where}: flavour declares no pool capacity "
                           f"({POOL_CAPACITY_ANNOTATION}), so the quota cannot be checked"), queue.urn
                continue
            if offered is not None and resource != offered:
                if nominal or borrowing:
                    yield (f"{where}: pool {pool} offers {offered}, not {resource}; its quota "
                           "must be 0"), queue.urn
                continue
            reach = nominal + (_amount(borrowing) or 0)
            if borrowing is not None and reach > capacity:
                yield (f"{where}: nominal {nominal} + borrowing limit {borrowing} reaches "
                       f"{reach}, more than pool {pool} holds ({capacity})"), queue.urn
            total, names = totals.get(flavor_name, (Fraction(0), []))
            totals[flavor_name] = (total + nominal, [*names, f"{_name(queue)} {nominal}"])
    for flavor_name, (total, names) in sorted(totals.items()):
        annotations = get(flavors[flavor_name].props, "metadata", "annotations")
        capacity = _amount(get(annotations, POOL_CAPACITY_ANNOTATION))
        if capacity is not None and total > capacity:
            yield (f"the nominal quotas on flavour {flavor_name!r} ({', '.join(names)}) add up "
                   f"to {total}, more than pool {get(annotations, POOL_ANNOTATION)} holds at its "
                   f"maximum size ({capacity})"), flavors[flavor_name].urn


# --- T3 -----------------------------------------------------------------------------------------

T3 = PolicyMeta(
    id="T3", name="tenant-no-project-roles", concern="tenancy", severity="high", stack=True,
    description="Team identities (their namespaces' Kubernetes service accounts, and any Google "
                "service account they can act as) hold no project, folder or organization "
                "roles.",
    resource_types=(*HIGH_LEVEL_IAM, *SA_IAM, K8S_NAMESPACE),
    remediation="Grant a team access on the resource it needs (aidc: aidc:tenants.<team>."
                "buckets, bucket-level IAM), never on the project: a project role reaches every "
                "team's data.",
    url="https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity",
    defaults={},
)


def _account_email(grant: Any, accounts: Mapping[str, str]) -> str | None:
    """The e-mail of the service account an SA IAM grant is on."""
    for dep in grant.property_dependencies.get("serviceAccountId") or []:
        if dep.urn in accounts:
            return accounts[dep.urn]
    ident = str(get(grant.props, "serviceAccountId", default="")).rsplit("/", 1)[-1]
    return ident if "@" in ident else None


def _impersonable(resources: Sequence[Any], tenants: _Tenants) -> dict[str, str]:
    """Google service accounts a team identity may act as: e-mail -> team namespace."""
    accounts = {}
    for r in resources:
        if r.resource_type == _SA_ACCOUNT:
            account_id = get(r.props, "accountId")
            project = get(r.props, "project") or (
                get(r.provider.props, "project") if getattr(r, "provider", None) else None)
            if account_id and project:
                accounts[r.urn] = f"{account_id}@{project}.iam.gserviceaccount.com"
    out = {}
    for grant in (r for r in resources if r.resource_type in SA_IAM):
        for role, member in iam_grants(grant.props):
            namespace = tenants.of_member(member)
            email = _account_email(grant, accounts)
            if role in _IMPERSONATION and namespace and email:
                out[email.lower()] = namespace
    return out


def tenant_no_project_roles(args: Any, config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """T3 (stack): a team's identity with a project role reaches every team's data."""
    tenants = _Tenants(args.resources)
    if not tenants.namespaces:
        return
    acting_as = _impersonable(args.resources, tenants)
    for grant in (r for r in args.resources if r.resource_type in HIGH_LEVEL_IAM):
        scope = grant.resource_type.split("/", 1)[0].removeprefix("gcp:")
        for role, member in iam_grants(grant.props):
            namespace = tenants.of_member(member)
            kind, value = member_parts(member)
            if namespace is None and kind == "serviceAccount" and service_account_project(value):
                namespace = acting_as.get(value.lower())
                if namespace is not None:
                    member = f"{member} (which team namespace {namespace!r} acts as)"
            if namespace == "*":
                yield (f"grants {role} at {scope} level to {member}, every workload of the pool, "
                       "the teams' included"), grant.urn
            elif namespace is not None:
                yield (f"grants {role} at {scope} level to {member}, an identity of team "
                       f"namespace {namespace!r}"), grant.urn


# --- T4 -----------------------------------------------------------------------------------------

T4 = PolicyMeta(
    id="T4", name="tenant-no-cluster-admin", concern="tenancy", severity="high", stack=True,
    description="No RoleBinding or ClusterRoleBinding gives a team (its group, its service "
                "accounts, or anyone in its namespace) cluster-admin or another forbidden "
                "role.",
    resource_types=(K8S_ROLE_BINDING, K8S_CLUSTER_ROLE_BINDING, K8S_NAMESPACE),
    remediation="Bind the team's group to `edit` in its own namespace (aidc's tenancy "
                "component does); platform roles go to platform groups.",
    url="https://kubernetes.io/docs/concepts/security/rbac-good-practices/",
    defaults={"roleRef.name": None},
    cis=(Cis("GKE", "1.5", "4.1.1"),),
    config={"tenantForbiddenRoles": strings_property(
        "ClusterRoles no team subject may be bound to.", ["cluster-admin"])},
)


def tenant_no_cluster_admin(args: Any, config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """T4 (stack): cluster-admin for a team is every other team's data and queues too
    (CIS GKE 1.5 4.1.1)."""
    tenants = _Tenants(args.resources)
    forbidden = {str(r) for r in as_list(config["tenantForbiddenRoles"])}
    for binding in args.resources:
        if binding.resource_type not in (K8S_ROLE_BINDING, K8S_CLUSTER_ROLE_BINDING):
            continue
        role = get(binding.props, "roleRef", "name")
        if role not in forbidden:
            continue
        namespace = get(binding.props, "metadata", "namespace")
        if binding.resource_type == K8S_ROLE_BINDING and namespace in tenants.namespaces:
            yield f"binds {role} in team namespace {namespace!r}", binding.urn
            continue
        for subject in as_list(get(binding.props, "subjects")):
            kind, name = get(subject, "kind"), str(get(subject, "name", default=""))
            if kind == "Group" and name in tenants.groups:
                yield (f"binds {role} to group {name}, team namespace "
                       f"{tenants.groups[name]!r}'s group"), binding.urn
            elif kind == "ServiceAccount" and get(subject, "namespace") in tenants.namespaces:
                yield (f"binds {role} to service account {get(subject, 'namespace')}/{name} of a "
                       "team namespace"), binding.urn


RULES: tuple[tuple[PolicyMeta, Rule], ...] = (
    (T1, tenant_namespace_has_localqueue),
    (T2, queue_quota_within_pool_capacity),
    (T3, tenant_no_project_roles),
    (T4, tenant_no_cluster_admin),
)
