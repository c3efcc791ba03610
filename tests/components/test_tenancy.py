"""Tenancy built alone under the mocks, and in the shipped stacks: its children, the Kueue
objects written from the allocation and the pools' scheduling contracts, each team's namespace,
identity, bucket access, RBAC and isolation, the ordering edges, and validation before anything
is registered. The stacks' ClusterQueues carry exactly the quotas `aidc tenants` prints."""

from __future__ import annotations

import json
from typing import Any

import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pytest

from components.tenancy.component import BUCKET_ROLES, Tenancy, WebhookFirewallSpec
from components.tenancy.objects import (
    COHORT,
    DWS_CHECK,
    DWS_CLASS,
    DWS_CONFIG,
    FlavorSpec,
    TenancySpec,
    tenancy_objects,
)
from infra.catalog.crds.releases import JOBSET, KUEUE
from infra.config.compute import GpuPoolConfig, TpuPoolConfig
from infra.config.tenants import PoolCapacity, TenantConfig
from infra.engine.mocks import project_number
from infra.engine.plan import Plan
from infra.errors import AidcError
from policies.protocol import (
    POOL_ANNOTATION,
    POOL_CAPACITY_ANNOTATION,
    POOL_RESOURCE_ANNOTATION,
    TENANT_GROUP_ANNOTATION,
    TENANT_LABEL,
)
from tests.helpers import (
    NODE_SA,
    PROJECT,
    by_name,
    contract,
    inputs,
    plan_of,
    plan_stack_file,
    run_aidc,
)

KUEUE_T = f"kubernetes:{KUEUE.api_version}:"
NAMESPACE = "kubernetes:core/v1:Namespace"
KSA = "kubernetes:core/v1:ServiceAccount"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile"
BUCKET_IAM = "gcp:storage/bucketIAMMember:BucketIAMMember"
FIREWALL = "gcp:compute/firewall:Firewall"
H100, V5P, L4Q = "gpu_pools.h100", "tpu_pools.v5p", "gpu_pools.l4-queued"
GPU = GpuPoolConfig(machine_type="a3-highgpu-8g", gpudirect=False, autoscaling={"max_nodes": 16})
QUEUED = GpuPoolConfig(machine_type="g2-standard-8", capacity="queued",
                       autoscaling={"max_nodes": 4})
TPU = TpuPoolConfig(generation="v5p", topology="4x4x4")


def flavor(name: str, pool: GpuPoolConfig | TpuPoolConfig, capacity: PoolCapacity,
           labels: dict[str, str]) -> FlavorSpec:
    return FlavorSpec(name=name, node_labels=labels, tolerations=pool.tolerations,
                      capacity=capacity, queued=pool.capacity == "queued")


FLAVORS = {
    H100: flavor("gpu-h100", GPU, PoolCapacity("nvidia.com/gpu", 8, 128, "node"),
                 {"cloud.google.com/gke-accelerator": "nvidia-h100-80gb",
                  "cloud.google.com/gke-nodepool": "h100"}),
    V5P: flavor("tpu-v5p", TPU, PoolCapacity("google.com/tpu", 64, 64, "slice"),
                {"cloud.google.com/gke-tpu-accelerator": "tpu-v5p-slice",
                 "cloud.google.com/gke-tpu-topology": "4x4x4"}),
}
TEAMS = {
    "nlp": TenantConfig(group="nlp-eng@acme.example", weight=2,
                        guaranteed={H100: 64, V5P: 64}, max={H100: 128},
                        buckets={"datasets": "read", "checkpoints": "write"}),
    "vision": TenantConfig(group="vision@acme.example", namespace="cv",
                           buckets={"datasets": "read"}),
}
BUCKETS = {"datasets": "acme-datasets", "checkpoints": "acme-checkpoints"}
SPEC = TenancySpec(tenants=TEAMS, flavors=FLAVORS,
                   bucket_classifications={"datasets": "restricted",
                                           "checkpoints": "confidential"})
FIREWALL_SPEC = WebhookFirewallSpec(name="aidc-test-allow-webhooks",
                                    control_plane_cidr="172.16.0.0/28")


def tenancy_plan(spec: TenancySpec = SPEC, buckets: dict[str, str] | None = None) -> Plan:
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="offline")
        pool = gcp.serviceaccount.Account("pool-stand-in", account_id="stand-in")
        system = gcp.serviceaccount.Account("system-stand-in", account_id="system")
        Tenancy("tenancy", spec, FIREWALL_SPEC, project=PROJECT, k8s_provider=provider,
                network="projects/p/global/networks/n", node_service_account=NODE_SA,
                buckets=BUCKETS if buckets is None else buckets, workload_pool=[pool],
                depends_on=[system])
    return plan_of(program)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return tenancy_plan()


def obj(plan: Plan, name: str) -> dict[str, Any]:
    return inputs(plan, f"tenancy-{name}")


def test_tenancy_children(plan: Plan) -> None:
    """Tenancy owns the webhook firewall, the two release ConfigFiles, Kueue's cluster-wide
    objects, and per team its queue, namespace, service account, local queue, two role
    bindings, network policy and one bucket grant per declared bucket."""
    assert by_name(plan, "tenancy").type == "aidc:tenancy:Tenancy"
    kueue = {(f"{KUEUE_T}ResourceFlavor", "tenancy-flavor-gpu-h100"),
             (f"{KUEUE_T}ResourceFlavor", "tenancy-flavor-tpu-v5p"),
             (f"{KUEUE_T}Cohort", "tenancy-cohort"),
             *((f"{KUEUE_T}WorkloadPriorityClass", f"tenancy-priority-{c}")
               for c in ("high", "normal", "low"))}
    per_team = {(t, f"tenancy-{team}-{role}") for team in ("nlp", "vision") for t, role in (
        (f"{KUEUE_T}ClusterQueue", "queue"), (NAMESPACE, "namespace"), (KSA, "ksa"),
        (f"{KUEUE_T}LocalQueue", "local-queue"), (ROLE_BINDING, "edit"),
        (ROLE_BINDING, "batch-user"), (NETWORK_POLICY, "isolation"))}
    grants = {(BUCKET_IAM, "tenancy-nlp-checkpoints"), (BUCKET_IAM, "tenancy-nlp-datasets"),
              (BUCKET_IAM, "tenancy-vision-datasets")}
    expected = {(FIREWALL, "tenancy-webhooks"), (CONFIG_FILE, "tenancy-kueue"),
                (CONFIG_FILE, "tenancy-jobset"), *kueue, *per_team, *grants}
    assert contract(plan, "tenancy") == {(t, n, "tenancy") for t, n in expected}


def test_installs_pinned_releases_in_order(plan: Plan) -> None:
    """Kueue and JobSet from their release manifests at the pinned versions, JobSet first, both
    after the webhook firewall and the system pool; every queue object after Kueue."""
    kueue, jobset = by_name(plan, "tenancy-kueue"), by_name(plan, "tenancy-jobset")
    assert kueue.inputs == {"file": f"{KUEUE.repository}/releases/download/v0.19.2/manifests.yaml"}
    assert jobset.inputs == {"file": f"{JOBSET.repository}/releases/download/v0.12.0/manifests.yaml"}
    assert {"tenancy-webhooks", "system-stand-in"} <= {d.rsplit("::", 1)[-1]
                                                       for d in jobset.dependencies}
    assert jobset.urn in kueue.dependencies
    for r in plan.resources:
        if r.type.startswith(KUEUE_T):
            assert kueue.urn in r.dependencies, r.name


def test_webhook_firewall(plan: Plan) -> None:
    """The control plane's /28 reaches the nodes (by their service account) on tcp:9443 only,
    logged."""
    fw = obj(plan, "webhooks")
    assert fw["sourceRanges"] == ["172.16.0.0/28"] and fw["direction"] == "INGRESS"
    assert fw["allows"] == [{"protocol": "tcp", "ports": ["9443"]}]
    assert fw["targetServiceAccounts"] == [NODE_SA]
    assert fw["logConfig"] == {"metadata": "INCLUDE_ALL_METADATA"}


def test_flavors_carry_the_pools_contract_and_capacity(plan: Plan) -> None:
    """A ResourceFlavor per pool: node labels and tolerations from the pool's scheduling
    contract, and annotations naming the pool, its resource and its capacity."""
    gpu = obj(plan, "flavor-gpu-h100")
    assert gpu["spec"] == {"nodeLabels": FLAVORS[H100].node_labels,
                           "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists",
                                            "effect": "NoSchedule"}]}
    assert gpu["metadata"]["annotations"] == {POOL_ANNOTATION: H100,
                                              POOL_RESOURCE_ANNOTATION: "nvidia.com/gpu",
                                              POOL_CAPACITY_ANNOTATION: "128"}
    tpu = obj(plan, "flavor-tpu-v5p")
    assert tpu["spec"]["tolerations"] == [{"key": "google.com/tpu", "operator": "Exists",
                                           "effect": "NoSchedule"}]
    assert tpu["metadata"]["annotations"][POOL_CAPACITY_ANNOTATION] == "64"


def accelerator_quotas(queue: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """flavour -> the accelerator row of that flavour (the one with a non-zero or limited quota)."""
    out = {}
    for group in queue["spec"]["resourceGroups"]:
        for fl in group["flavors"]:
            rows = [r for r in fl["resources"] if r["name"] not in ("cpu", "memory")
                    and (r["nominalQuota"] or "borrowingLimit" in r)]
            assert len(rows) == 1, fl
            out[fl["name"]] = rows[0]
    return out


def test_cluster_queues_hold_the_allocation(plan: Plan) -> None:
    """Each team's ClusterQueue joins the cohort, serves only its namespace, covers cpu, memory
    and both accelerators in every flavour, and states the allocated nominal quota, borrowing
    and lending limits; it preempts borrowers to reclaim its quota."""
    allocation = SPEC.allocation()
    for team, namespace in (("nlp", "nlp"), ("vision", "cv")):
        queue = obj(plan, f"{team}-queue")
        spec = queue["spec"]
        assert queue["metadata"]["name"] == team and spec["cohortName"] == COHORT
        assert spec["namespaceSelector"] == {
            "matchLabels": {"kubernetes.io/metadata.name": namespace}}
        assert spec["preemption"]["reclaimWithinCohort"] == "Any"
        assert spec["resourceGroups"][0]["coveredResources"] == [
            "cpu", "memory", "google.com/tpu", "nvidia.com/gpu"]
        rows = accelerator_quotas(queue)
        for flavor_name, pool in (("gpu-h100", H100), ("tpu-v5p", V5P)):
            q = allocation.quota(team, pool)
            assert rows[flavor_name] == {"name": q.resource, "nominalQuota": q.nominal,
                                         "borrowingLimit": q.borrowing_limit,
                                         "lendingLimit": q.lending_limit}
    assert accelerator_quotas(obj(plan, "nlp-queue"))["gpu-h100"]["nominalQuota"] == 104


def test_team_namespace_identity_rbac_and_isolation(plan: Plan) -> None:
    """The namespace is labelled with its team and the classification of the data it may read;
    the service account mounts no token; the group gets edit and Kueue's batch user role in
    that namespace only; the network policy admits only its own namespace and non-team ones."""
    ns = obj(plan, "vision-namespace")["metadata"]
    assert ns["name"] == "cv"
    assert ns["labels"][TENANT_LABEL] == "vision"
    assert ns["labels"]["data-classification"] == "restricted"
    assert ns["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert ns["annotations"] == {TENANT_GROUP_ANNOTATION: "vision@acme.example"}
    ksa = obj(plan, "vision-ksa")
    assert ksa["metadata"]["name"] == "workload" and ksa["metadata"]["namespace"] == "cv"
    assert ksa["automountServiceAccountToken"] is False
    local = obj(plan, "vision-local-queue")
    assert (local["metadata"]["name"], local["metadata"]["namespace"]) == ("default", "cv")
    assert local["spec"] == {"clusterQueue": "vision"}
    for role, cluster_role in (("edit", "edit"), ("batch-user", "kueue-batch-user-role")):
        rb = obj(plan, f"vision-{role}")
        assert rb["metadata"]["namespace"] == "cv"
        assert rb["subjects"] == [{"kind": "Group", "name": "vision@acme.example",
                                   "apiGroup": "rbac.authorization.k8s.io"}]
        assert rb["roleRef"]["name"] == cluster_role and rb["roleRef"]["kind"] == "ClusterRole"
    isolation = obj(plan, "vision-isolation")["spec"]
    assert isolation["podSelector"] == {} and isolation["policyTypes"] == ["Ingress"]
    assert isolation["ingress"] == [{"from": [
        {"podSelector": {}},
        {"namespaceSelector": {"matchExpressions": [{"key": TENANT_LABEL,
                                                     "operator": "DoesNotExist"}]}}]}]
    assert obj(plan, "nlp-namespace")["metadata"]["labels"]["data-classification"] == "restricted"


def test_bucket_grants_name_the_workload_principal(plan: Plan) -> None:
    """Exactly the declared buckets, at the declared access, to the team's Kubernetes service
    account as a Workload Identity principal; each grant waits for the workload pool."""
    number = project_number(PROJECT)
    pool = f"principal://iam.googleapis.com/projects/{number}/locations/global/" \
           f"workloadIdentityPools/{PROJECT}.svc.id.goog/subject"
    grants = {r.name: r for r in plan.resources if r.type == BUCKET_IAM}
    assert {n: (g.inputs["bucket"], g.inputs["role"], g.inputs["member"])
            for n, g in grants.items()} == {
        "tenancy-nlp-datasets": ("acme-datasets", BUCKET_ROLES["read"], f"{pool}/ns/nlp/sa/workload"),
        "tenancy-nlp-checkpoints": ("acme-checkpoints", BUCKET_ROLES["write"],
                                    f"{pool}/ns/nlp/sa/workload"),
        "tenancy-vision-datasets": ("acme-datasets", BUCKET_ROLES["read"], f"{pool}/ns/cv/sa/workload"),
    }
    assert BUCKET_ROLES == {"read": "roles/storage.objectViewer", "write": "roles/storage.objectUser"}
    stand_in = by_name(plan, "pool-stand-in").urn
    assert all(stand_in in g.dependencies for g in grants.values())
    assert not [r for r in plan.resources if r.type.startswith("gcp:projects/")]


def test_queued_pool_gets_the_provisioning_request_check() -> None:
    """A DWS queued pool: an AdmissionCheck of Kueue's provisioning-request controller naming a
    ProvisioningRequestConfig of class queued-provisioning.gke.io, required by every team's
    queue on that flavour only."""
    flavors = {**FLAVORS, L4Q: flavor("gpu-l4-queued", QUEUED,
                                      PoolCapacity("nvidia.com/gpu", 1, 4, "node"),
                                      {"cloud.google.com/gke-queued": "true"})}
    _, cluster, _ = tenancy_objects(SPEC.model_copy(update={"flavors": flavors}))
    assert cluster["dws-check"]["spec"] == {
        "controllerName": "kueue.x-k8s.io/provisioning-request",
        "parameters": {"apiGroup": "kueue.x-k8s.io", "kind": "ProvisioningRequestConfig",
                       "name": DWS_CONFIG}}
    assert cluster["dws-config"]["spec"] == {"provisioningClassName": DWS_CLASS,
                                             "managedResources": ["nvidia.com/gpu"]}
    for team in TEAMS:
        assert cluster[f"{team}-queue"]["spec"]["admissionChecksStrategy"] == {
            "admissionChecks": [{"name": DWS_CHECK, "onFlavors": ["gpu-l4-queued"]}]}
    assert "dws-check" not in tenancy_objects(SPEC)[1]
    assert QUEUED.tolerations[1]["key"] == "cloud.google.com/gke-queued"


def test_rejects_invalid_objects_before_registering_anything() -> None:
    """An object the API server would refuse (here a flavour with 9 node labels, more than the
    CRD's 8) is an error naming it, and the component registers nothing."""
    labels = {f"example.com/l{i}": "x" for i in range(9)}
    bad = SPEC.model_copy(update={"flavors": {
        **FLAVORS, H100: FLAVORS[H100].model_copy(update={"node_labels": labels})}})
    with pytest.raises(AidcError, match="ResourceFlavor/gpu-h100: spec.nodeLabels"):
        tenancy_plan(bad)
    registered: list[str] = []
    with pytest.raises(AidcError):
        run_program_recording(bad, registered)
    assert not [t for t in registered if t.startswith(("aidc:", "kubernetes:", "gcp:"))]


def run_program_recording(spec: TenancySpec, registered: list[str]) -> None:
    from infra.engine.runner import run_program

    def program() -> None:
        Tenancy("tenancy", spec, FIREWALL_SPEC, project=PROJECT,
                k8s_provider=k8s.Provider("k8s", kubeconfig="offline"), network="n",
                node_service_account=NODE_SA, buckets=BUCKETS)
    run_program(program, project="aidc", stack="test", config={"gcp:project": PROJECT},
                on_resource=lambda r: registered.append(r.type))


def test_rejects_unwired_bucket() -> None:
    with pytest.raises(AidcError, match="no bucket wired for checkpoints"):
        tenancy_plan(buckets={"datasets": "acme-datasets"})


# ---------------------------------------------------------------------------------------------
# in the shipped stacks


@pytest.fixture(scope="module", params=["staging", "prod"])
def stack(request: pytest.FixtureRequest) -> tuple[str, Plan]:
    from tests.helpers import STACKS_DIR

    return request.param, plan_stack_file(STACKS_DIR / f"Pulumi.{request.param}.yaml")


def test_plan_carries_the_quotas_aidc_tenants_prints(stack: tuple[str, Plan]) -> None:
    """For every team and pool, the ClusterQueue in the plan (its flavour found by the pool
    annotation of the ResourceFlavor) states the nominal quota and the borrowing and lending
    limits that `aidc tenants --json` prints."""
    env, plan = stack
    printed = json.loads(run_aidc("tenants", env, "--json", "-").stdout)
    flavors = {r.inputs["metadata"]["name"]: r.inputs["metadata"]["annotations"][POOL_ANNOTATION]
               for r in plan.resources if r.type == f"{KUEUE_T}ResourceFlavor"}
    planned = {}
    for r in plan.resources:
        if r.type == f"{KUEUE_T}ClusterQueue":
            for flavor_name, row in accelerator_quotas(r.inputs).items():
                planned[(r.inputs["metadata"]["name"], flavors[flavor_name])] = (
                    row["name"], row["nominalQuota"], row.get("borrowingLimit"),
                    row.get("lendingLimit"))
    expected = {(t["name"], q["pool"]): (q["resource"], q["nominal"], q["borrowing_limit"],
                                         q["lending_limit"])
                for t in printed["tenants"] for q in t["quotas"]}
    assert planned == expected and len(expected) >= 4


def test_stack_flavors_come_from_the_pool_components(stack: tuple[str, Plan]) -> None:
    """Each pool's flavour has the node labels and tolerations its node pool component exports
    as its scheduling contract (accelerator and node-pool labels, the accelerator taint)."""
    from infra.config.load import load_stack_file
    from tests.helpers import STACKS_DIR

    env, plan = stack
    cfg = load_stack_file(STACKS_DIR / f"Pulumi.{env}.yaml")
    flavors = {r.inputs["metadata"]["annotations"][POOL_ANNOTATION]: r.inputs["spec"]
               for r in plan.resources if r.type == f"{KUEUE_T}ResourceFlavor"}
    assert set(flavors) == {f"gpu_pools.{n}" for n in cfg.gpu_pools} | {
        f"tpu_pools.{n}" for n in cfg.tpu_pools}
    for name, pool in cfg.gpu_pools.items():
        assert flavors[f"gpu_pools.{name}"] == {
            "nodeLabels": {"cloud.google.com/gke-accelerator": pool.resolved().accelerator_type,
                           "cloud.google.com/gke-nodepool": name, **pool.selector_labels},
            "tolerations": pool.tolerations}
    for name, tpu in cfg.tpu_pools.items():
        assert flavors[f"tpu_pools.{name}"] == {
            "nodeLabels": {"cloud.google.com/gke-tpu-accelerator": tpu.slice().accelerator_label,
                           "cloud.google.com/gke-tpu-topology": tpu.topology},
            "tolerations": tpu.tolerations}


def test_stack_grants_no_project_roles_to_tenants(stack: tuple[str, Plan]) -> None:
    """Teams' identities appear only in bucket-level grants, and only after the cluster."""
    _, plan = stack
    cluster = by_name(plan, "gke-cluster").urn
    for r in plan.resources:
        member = str(r.inputs.get("member", ""))
        if "/subject/ns/" in member:
            assert r.type == BUCKET_IAM, r.name
            assert cluster in r.dependencies, r.name
