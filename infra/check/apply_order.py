"""Apply-order and precondition checks: what makes a first `pulumi up` fail although the plan
is well shaped, checked on the plan's graph and inputs (any program's, not only aidc's).

"Waits for" means reachable through the plan's `dependencies` and `parent` edges: the engine
creates a resource after everything in its dependencies, and the SDK registers a child only once
its parent is registered, which a component is only after its own `depends_on`. So a component's
`depends_on` holds for its children too.

The facts each check relies on (the API of each type, the service agents, the pool of Workload
Identity, the settings the APIs refuse together, what GPUDirect needs in the cluster) live in
`infra.catalog.apply_facts` and `infra.catalog.gpudirect`, each with its source.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from infra.catalog.apply_facts import (
    FABRIC_SERVICE_AGENTS,
    REFUSALS,
    SERVICE_USAGE_URL,
    WORKLOAD_IDENTITY_URL,
    apis_of,
    read_input,
    service_agent,
    workload_identity_pool,
)
from infra.check.plan_checks import Finding, PlanCheck, plan_only
from infra.engine.plan import Plan, PlanResource
from infra.engine.references import REFERENCE_TYPE

SERVICE = "gcp:projects/service:Service"
SERVICE_IDENTITY = "gcp:projects/serviceIdentity:ServiceIdentity"
CLUSTER = "gcp:container/cluster:Cluster"


class Waits:
    """For every resource, the resources of interest it waits for (transitively, through
    dependencies and parents). Only the interesting ones are kept, so the work is linear in
    the plan's size times their number."""

    def __init__(self, plan: Plan, interesting: Iterable[str]) -> None:
        self._by_urn = plan.by_urn()
        self._interesting = frozenset(interesting)
        self._memo: dict[str, frozenset[str]] = {}

    def _edges(self, urn: str) -> list[str]:
        resource = self._by_urn.get(urn)
        if resource is None:
            return []
        return [*resource.dependencies, *([resource.parent] if resource.parent else [])]

    def of(self, urn: str) -> frozenset[str]:
        """The interesting resources `urn` waits for. Iterative, since plans nest deep; a cycle
        (which the engine would refuse anyway) contributes nothing."""
        if urn in self._memo:
            return self._memo[urn]
        visiting = {urn}
        stack = [(urn, iter(self._edges(urn)))]
        while stack:
            node, edges = stack[-1]
            edge = next(edges, None)
            if edge is None:
                stack.pop()
                visiting.discard(node)
                found: set[str] = set()
                for dep in self._edges(node):
                    if dep in self._interesting:
                        found.add(dep)
                    found |= self._memo.get(dep, frozenset())
                self._memo[node] = frozenset(found)
            elif edge not in self._memo and edge not in visiting:
                visiting.add(edge)
                stack.append((edge, iter(self._edges(edge))))
        return self._memo[urn]


def _project(resource: PlanResource) -> str | None:
    project = resource.inputs.get("project")
    return str(project) if isinstance(project, str) and project else None


class ManagedApis:
    """The APIs a plan enables, by project (None: the provider's default project)."""

    def __init__(self, plan: Plan) -> None:
        self.by_project: dict[str | None, dict[str, str]] = {}
        for r in plan.resources:
            if r.type == SERVICE and isinstance(r.inputs.get("service"), str):
                self.by_project.setdefault(_project(r), {})[r.inputs["service"]] = r.urn

    def __bool__(self) -> bool:
        return bool(self.by_project)

    def of(self, resource: PlanResource) -> dict[str, str] | None:
        """The APIs enabled for the resource's project; None when this plan manages none of
        them there (then they are managed elsewhere and nothing here can be checked)."""
        project = _project(resource)
        if project in self.by_project:
            return self.by_project[project]
        if project is None and len(self.by_project) == 1:
            return next(iter(self.by_project.values()))
        return None


def _name(plan_index: Mapping[str, PlanResource], urn: str) -> str:
    found = plan_index.get(urn)
    return found.name if found else urn


# --- 1: every resource waits for its API ------------------------------------------------------

def apis_enabled_first(plan: Plan) -> Iterator[Finding]:
    managed = ManagedApis(plan)
    if not managed:
        return  # the program enables no API: they are enabled elsewhere (a bootstrap layer)
    services = {urn for apis in managed.by_project.values() for urn in apis.values()}
    waits = Waits(plan, services)
    index = plan.by_urn()
    for r in plan.custom_resources():
        apis = apis_of(r.type, r.inputs, read_input)
        enabled = managed.of(r) if apis else None
        if enabled is None:
            continue
        for api in apis:
            service = enabled.get(api)
            if service is None:
                yield Finding(r.urn, (
                    f"calls {api}, which this program never enables though it enables "
                    f"{len(enabled)} other API(s) of the project; on a fresh project the call "
                    f"fails with '{api} has not been used in project ... or it is disabled'. "
                    "Enable it here (a gcp.projects.Service) and make this resource wait for it"))
            elif service not in waits.of(r.urn):
                yield Finding(r.urn, (
                    f"does not wait for the enablement of {api} ({_name(index, service)}); on a "
                    "fresh project its creation races the API's. Add that Service to its "
                    "depends_on (or to its component's)"))


# --- 2: grants to service agents wait for the agent ------------------------------------------

def _members(resource: PlanResource) -> list[str]:
    member = resource.inputs.get("member")
    members = resource.inputs.get("members")
    out = [member] if isinstance(member, str) else []
    if isinstance(members, list):
        out += [m for m in members if isinstance(m, str)]
    return out


def _is_iam_grant(resource: PlanResource) -> bool:
    kind = resource.type.rsplit(":", 1)[-1].lower()
    return resource.custom and (kind.endswith("iammember") or kind.endswith("iambinding"))


def agent_grants_after_identity(plan: Plan) -> Iterator[Finding]:
    managed = ManagedApis(plan)
    identities: dict[str, list[str]] = {}
    for r in plan.resources:
        if r.type == SERVICE_IDENTITY and isinstance(r.inputs.get("service"), str):
            identities.setdefault(r.inputs["service"], []).append(r.urn)
    services = {urn for apis in managed.by_project.values() for urn in apis.values()}
    waits = Waits(plan, services | {u for urns in identities.values() for u in urns})
    index = plan.by_urn()
    for r in plan.resources:
        if not _is_iam_grant(r):
            continue
        for member in _members(r):
            found = service_agent(member)
            if found is None:
                continue
            agent, _ = found
            enabled = managed.of(r) or {}
            ready = [*identities.get(agent.api, ()), *([enabled[agent.api]]
                                                      if agent.api in enabled else [])]
            if not ready and not managed:
                continue  # neither the agent nor any API is managed here
            upstream = waits.of(r.urn)
            if any(u in upstream for u in ready):
                continue
            if agent.origin == "service_identity":
                want = (f"its identity (a gcp.projects.ServiceIdentity for {agent.api}, which "
                        "creates the agent on a fresh project)")
            else:
                want = f"the enablement of {agent.api}, which creates the agent"
            where = (f"; this program has {', '.join(_name(index, u) for u in ready)}" if ready
                     else "; this program creates neither")
            yield Finding(r.urn, (
                f"grants {r.inputs.get('role', 'a role')} to the {agent.domain.split('.')[0]} "
                f"service agent without waiting for {want}{where}. On a fresh project the grant "
                "fails because the agent does not exist yet; add it to depends_on"))


# --- 3: Workload Identity members wait for their cluster -------------------------------------

def workload_identity_after_cluster(plan: Plan) -> Iterator[Finding]:
    clusters: dict[str, list[str]] = {}
    for r in plan.resources:
        if r.type == CLUSTER:
            pool = read_input(r.inputs, ("workloadIdentityConfig", "workloadPool"))
            if isinstance(pool, str) and pool:
                clusters.setdefault(pool, []).append(r.urn)
    # A pool read from another stack (a member built from a StackReference's output) exists
    # once that stack is up: stacks that reference others are applied after them.
    references = {r.urn for r in plan.resources if r.type == REFERENCE_TYPE}
    waits = Waits(plan, {u for urns in clusters.values() for u in urns} | references)
    index = plan.by_urn()
    for r in plan.resources:
        if not _is_iam_grant(r):
            continue
        for member in _members(r):
            pool = workload_identity_pool(member)
            if pool is None:
                continue
            owners = clusters.get(pool, [])
            if not owners and references & waits.of(r.urn):
                continue
            if not owners:
                yield Finding(r.urn, (
                    f"names the Workload Identity pool {pool}, which no cluster in this program "
                    "creates: the pool exists only once a cluster with workloadIdentityConfig "
                    f"{{workloadPool: {pool}}} does, and the grant fails before ('Identity Pool "
                    "does not exist'). Create the grant in the program that creates the cluster, "
                    "after it, or waive this with the reason the pool already exists"))
            elif not set(owners) & waits.of(r.urn):
                yield Finding(r.urn, (
                    f"does not wait for {', '.join(_name(index, u) for u in owners)}, the cluster "
                    f"that creates the Workload Identity pool {pool}; on a fresh project the "
                    "grant fails with 'Identity Pool does not exist'. Add the cluster to its "
                    "depends_on"))


# --- 4: settings the APIs refuse together ----------------------------------------------------

def refused_settings(plan: Plan) -> Iterator[Finding]:
    by_type: dict[str, list[Any]] = {}
    for refusal in REFUSALS:
        by_type.setdefault(refusal.type_token, []).append(refusal)
    for r in plan.custom_resources():
        for refusal in by_type.get(r.type, ()):
            message = refusal.test(r.inputs)
            if message:
                yield Finding(r.urn, f"{message} ({refusal.source.url})")


# --- 5: GPUDirect pools have their in-cluster objects ----------------------------------------

NODE_POOL = "gcp:container/nodePool:NodePool"
PARAM_SET = "kubernetes:networking.gke.io/v1:GKENetworkParamSet"
NETWORK = "kubernetes:networking.gke.io/v1:Network"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"


def _images_and_accelerators(daemon_set: PlanResource) -> tuple[set[str], set[str] | None]:
    """The images a DaemonSet runs and the accelerators its node affinity admits (None: any)."""
    spec = read_input(daemon_set.inputs, ("spec", "template", "spec")) or {}
    images = {str(c.get("image", "")) for key in ("containers", "initContainers")
              for c in spec.get(key) or [] if isinstance(c, Mapping)}
    terms = read_input(spec, ("affinity", "nodeAffinity",
                              "requiredDuringSchedulingIgnoredDuringExecution",
                              "nodeSelectorTerms")) or []
    accelerators: set[str] = set()
    for term in terms:
        for expr in (term or {}).get("matchExpressions") or []:
            if expr.get("key") == "cloud.google.com/gke-accelerator":
                accelerators |= set(expr.get("values") or [])
    return images, accelerators or None


def _repository(image: str) -> str:
    return image.split("@", 1)[0].rsplit(":", 1)[0] if "/" in image else image


def gpudirect_in_cluster(plan: Plan) -> Iterator[Finding]:
    from infra.catalog.gpu import GPU_MACHINES
    from infra.catalog.gpudirect import DEVICE_MODES, NRI_DEVICE_INJECTOR_IMAGE, gpudirect_software

    params = [r for r in plan.resources if r.type == PARAM_SET]
    devices = {str(read_input(n.inputs, ("spec", "parametersRef", "name")))
               for n in plan.resources if n.type == NETWORK
               and read_input(n.inputs, ("spec", "type")) == "Device"}
    agents = [_images_and_accelerators(d) for d in plan.resources if d.type == DAEMON_SET]
    index = plan.by_urn()

    def runs(repository: str, accelerator: str) -> bool:
        return any(repository in {_repository(i) for i in images}
                   and (admitted is None or accelerator in admitted) for images, admitted in agents)

    for pool in plan.resources:
        if pool.type != NODE_POOL:
            continue
        extra = read_input(pool.inputs, ("networkConfig", "additionalNodeNetworkConfigs")) or []
        machine = GPU_MACHINES.get(str(read_input(pool.inputs, ("nodeConfig", "machineType"))))
        if not extra or machine is None or machine.profile is None:
            continue
        profile = machine.profile
        software = gpudirect_software(profile.name)
        for cluster_urn in pool.property_dependencies.get("cluster", []):
            cluster = index.get(cluster_urn)
            if cluster is not None and cluster.inputs.get("enableMultiNetworking") is not True:
                yield Finding(pool.urn, (
                    f"attaches {len(extra)} extra node networks for {profile.title}, but cluster "
                    f"{cluster.name} does not set enableMultiNetworking: pods cannot be given "
                    "them; enable multi-networking on the cluster"))
        for position, network in enumerate(extra):
            vpc, subnet = network.get("network"), network.get("subnetwork")
            kind = ("gvnic" if position < profile.extra_gvnic_vpcs
                    else "rdma" if profile.roce else "gpu")
            mode = DEVICE_MODES[kind]
            found = [p for p in params if read_input(p.inputs, ("spec", "vpc")) == vpc
                     and read_input(p.inputs, ("spec", "vpcSubnet")) == subnet]
            if not found:
                yield Finding(pool.urn, (
                    f"extra node network {position + 1} ({vpc}/{subnet}) has no "
                    f"GKENetworkParamSet (deviceMode {mode}) and Device Network in this program: "
                    "no pod can attach to it. Create both through the cluster's Kubernetes "
                    "provider (components.gpudirect does)"))
                continue
            if not any(read_input(p.inputs, ("spec", "deviceMode")) == mode for p in found):
                yield Finding(pool.urn, (
                    f"the GKENetworkParamSet of {vpc}/{subnet} is not deviceMode {mode}, which "
                    f"{profile.title} NICs of this kind need"))
            names = {str(read_input(p.inputs, ("metadata", "name"))) for p in found}
            if not names & devices:
                yield Finding(pool.urn, (
                    f"no Network of type Device references the GKENetworkParamSet of "
                    f"{vpc}/{subnet} ({', '.join(sorted(names))}): pods name Networks, not "
                    "parameter sets; add one"))
        accelerator = machine.accelerator_type
        if not runs(_repository(software.installer_image), accelerator):
            yield Finding(pool.urn, (
                f"no DaemonSet runs {software.installer} ({_repository(software.installer_image)}) "
                f"on {accelerator} nodes: without the NCCL plugin, NCCL falls back to the "
                f"primary NIC. Deploy it ({software.installer_source.url})"))
        if software.nri_injector and not runs(_repository(NRI_DEVICE_INJECTOR_IMAGE), accelerator):
            yield Finding(pool.urn, (
                f"no DaemonSet runs Google's NRI device injector on {accelerator} nodes: the "
                f"{software.sidecar} sidecar gets no GPU devices. Deploy it"))


_REFUSED = sorted({f"{r.title} ({r.source.url})" for r in REFUSALS})

CHECKS: tuple[PlanCheck, ...] = (
    PlanCheck(
        name="apply-api-enabled-first", severity="high",
        description="Every resource waits for the enablement of the API it calls (its type's, "
                    "and its settings'), where the program manages APIs.",
        remediation="Enable every API the stack's resources call with gcp.projects.Service and "
                    "put the Service in each resource's (or its component's) depends_on; aidc's "
                    "composition derives both from infra.catalog.apply_facts.",
        references=("aidc: infra.catalog.apply_facts.TYPE_APIS, SETTING_APIS",),
        url=SERVICE_USAGE_URL, run=plan_only(apis_enabled_first)),
    PlanCheck(
        name="apply-agent-grant-after-identity", severity="high",
        description="Every IAM grant to a Google service agent waits for the agent's identity "
                    "(gcp.projects.ServiceIdentity) or its API's enablement.",
        remediation="Create the agent with gcp.projects.ServiceIdentity (or, for agents made by "
                    "their API, enable the API) and grant to its `member` output, or add it to "
                    "the grant's depends_on.",
        references=("aidc: infra.catalog.apply_facts.SERVICE_AGENTS",),
        url=FABRIC_SERVICE_AGENTS, run=plan_only(agent_grants_after_identity)),
    PlanCheck(
        name="apply-workload-identity-after-cluster", severity="high",
        description="Every IAM grant to a Workload Identity member waits for the cluster that "
                    "creates its pool.",
        remediation="Put the cluster in the grant's depends_on (GkeCluster.bind_workload_identity "
                    "and the tenancy component's bucket grants do).",
        references=("aidc: infra.catalog.apply_facts.workload_identity_pool",),
        url=WORKLOAD_IDENTITY_URL, run=plan_only(workload_identity_after_cluster)),
    PlanCheck(
        name="apply-refused-settings", severity="high",
        description="No resource combines settings its API refuses: " + "; ".join(_REFUSED) + ".",
        remediation="Change one of the two settings as the message says; aidc's config refuses "
                    "the same combinations before planning.",
        references=("aidc: infra.catalog.apply_facts.REFUSALS",),
        url="https://cloud.google.com/storage/docs/bucket-lock", run=plan_only(refused_settings)),
    PlanCheck(
        name="apply-gpudirect-in-cluster", severity="high",
        description="Every GPUDirect node pool (TCPX, TCPXO, RDMA) has, in the same program, a "
                    "GKENetworkParamSet and a Device Network per extra node network, its "
                    "profile's NCCL plugin installer and (TCPX, TCPXO) the NRI device injector on "
                    "its nodes, on a cluster with multi-networking.",
        remediation="Create them through the cluster's Kubernetes provider "
                    "(components.gpudirect.GpuDirectNetworking; versions pinned in "
                    "infra.catalog.gpudirect).",
        references=("aidc: infra.catalog.gpudirect",),
        url="https://cloud.google.com/kubernetes-engine/docs/how-to/gpu-bandwidth-gpudirect-tcpx",
        run=plan_only(gpudirect_in_cluster)),
)
