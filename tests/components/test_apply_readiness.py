"""Issue 11: what a first real `pulumi up` of the shipped stacks needs, one test per finding,
each of which failed on the stacks as they were (the apply-order checks that keep the class of
mistake out of any program are tested in tests/check/test_apply_order.py).

The plans are the shipped stacks through the CLI's path (config validated, stacks/ run under
the mocks), so the components are wired exactly as `pulumi up` wires them.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from infra.catalog.apply_facts import apis_of, read_input, type_api
from infra.config.load import config_from_flat
from infra.engine.plan import Plan, PlanResource
from infra.errors import AidcError
from infra.platform import Platform
from infra.report.capacity import capacity_report
from tests.helpers import STACKS, STACKS_DIR, by_name, of_type, plan_of, plan_stack_file, stack_config

SERVICE = "gcp:projects/service:Service"
NODE_POOL = "gcp:container/nodePool:NodePool"


@pytest.fixture(scope="module")
def plans() -> dict[str, Plan]:
    return {env: plan_stack_file(STACKS_DIR / f"Pulumi.{env}.yaml", env) for env in STACKS}


def waits_for(plan: Plan, resource: PlanResource) -> set[str]:
    """Every URN `resource` waits for: dependencies and parents, transitively."""
    index, seen, todo = plan.by_urn(), set(), [resource.urn]
    while todo:
        node = index.get(todo.pop())
        if node is None:
            continue
        for edge in [*node.dependencies, *([node.parent] if node.parent else [])]:
            if edge not in seen:
                seen.add(edge)
                todo.append(edge)
    return seen


def services(plan: Plan) -> dict[str, str]:
    return {r.inputs["service"]: r.urn for r in of_type(plan, SERVICE)}


# 1 -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("env", STACKS)
def test_workload_identity_binding_waits_for_the_cluster(plans: dict[str, Plan], env: str) -> None:
    """The pool `PROJECT.svc.id.goog` exists only once the cluster does: every team's grant to
    its Workload Identity principal waits for it."""
    plan = plans[env]
    grants = [r for r in plan.resources if r.type == "gcp:storage/bucketIAMMember:BucketIAMMember"
              and r.inputs["member"].startswith("principal://")]
    assert grants, "every shipped stack declares a team with bucket access"
    for grant in grants:
        assert ".svc.id.goog/subject/ns/" in grant.inputs["member"]
        assert by_name(plan, "gke-cluster").urn in grant.dependencies, grant.name


# 2 -----------------------------------------------------------------------------------------

def test_prod_models_bucket_keeps_retention_and_drops_versioning(plans: dict[str, Plan]) -> None:
    """Cloud Storage refuses versioning next to a retention policy: prod's models bucket keeps
    its 90 days of retention and is not versioned (checkpoints, without retention, still is)."""
    models = by_name(plans["prod"], "data-models").inputs
    assert models["retentionPolicy"] == {"retentionPeriod": str(90 * 86400)}
    assert models["versioning"] == {"enabled": False}
    assert by_name(plans["prod"], "data-checkpoints").inputs["versioning"] == {"enabled": True}


def test_rejects_versioning_with_a_retention_policy() -> None:
    """A config error naming the bucket and both fields, and what to choose (exit 2 in the CLI)."""
    flat = {**stack_config("dev"), "aidc:storage": {"buckets": {
        "models": {"versioning": True, "retention_days": 90}}}}
    with pytest.raises(AidcError) as info:
        config_from_flat(flat, source="dev")
    text = str(info.value)
    assert "aidc:storage.buckets.models.versioning: true with retention_days: 90" in text
    assert "Keep retention_days" in text and "or versioning (remove retention_days)" in text


# 3 -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("env", STACKS)
def test_kms_grants_wait_for_their_service_agents(plans: dict[str, Plan], env: str) -> None:
    """On a fresh project Filestore's and GKE's agents exist only once generated (a
    ServiceIdentity, which waits for its API), Compute Engine's once its API is enabled, Cloud
    Storage's once its API's lookup runs: each key grant waits for exactly that."""
    plan = plans[env]
    identity = {r.inputs["service"]: r.urn
                for r in of_type(plan, "gcp:projects/serviceIdentity:ServiceIdentity")}
    apis = services(plan)
    expected = {"filestore": identity["file.googleapis.com"],
                "gke": identity["container.googleapis.com"],
                "disks": apis["compute.googleapis.com"],
                "storage": apis["storage.googleapis.com"]}
    for purpose, ready in expected.items():
        grant = by_name(plan, f"kms-{purpose}-agent")
        assert ready in grant.dependencies, purpose
    for service, urn in identity.items():
        assert apis[service] in plan.by_urn()[urn].dependencies


# 4, 5 --------------------------------------------------------------------------------------

def test_prod_enables_binary_authorization_and_the_cluster_waits_for_it(plans: dict[str, Plan]) -> None:
    plan = plans["prod"]
    api = services(plan)["binaryauthorization.googleapis.com"]
    assert api in by_name(plan, "gke-cluster").dependencies


@pytest.mark.parametrize("env", STACKS)
def test_apis_are_exactly_those_the_resources_call(plans: dict[str, Plan], env: str) -> None:
    """No API list by hand: the APIs enabled are the ones the stack's resources (their types and
    settings) and lookups call, and every resource waits for each of its APIs."""
    plan = plans[env]
    enabled = services(plan)
    called = {api for r in plan.custom_resources()
              for api in apis_of(r.type, r.inputs, read_input)}
    lookups = {"cloudresourcemanager.googleapis.com", "storage.googleapis.com"}
    assert set(enabled) == called | lookups | set(stack_config(env).get("aidc:apis", []))
    for r in plan.custom_resources():
        for api in apis_of(r.type, r.inputs, read_input):
            assert enabled[api] in waits_for(plan, r), (r.name, api)


@pytest.mark.parametrize("env", STACKS)
def test_every_compute_resource_waits_for_the_compute_api(plans: dict[str, Plan], env: str) -> None:
    """Every Compute Engine resource, the GPUDirect NIC networks, subnets and firewalls
    included, waits for compute.googleapis.com."""
    plan = plans[env]
    compute = services(plan)["compute.googleapis.com"]
    resources = [r for r in plan.custom_resources() if type_api(r.type) == "compute.googleapis.com"]
    assert len(resources) > 5
    for r in resources:
        assert compute in waits_for(plan, r), r.name


# 6 -----------------------------------------------------------------------------------------

def test_prod_tcpxo_pool_has_its_cluster_objects(plans: dict[str, Plan]) -> None:
    """The A3 Mega pool's eight NIC networks each get a GKENetworkParamSet (NetDevice) naming
    its VPC and subnet and a Device Network naming the set; the TCPXO installer and the NRI
    device injector run on its accelerator, through the cluster's provider."""
    plan = plans["prod"]
    pool = by_name(plan, "gpu-h100-mega-pool").inputs
    attached = pool["networkConfig"]["additionalNodeNetworkConfigs"]
    params = {r.inputs["metadata"]["name"]: r.inputs["spec"]
              for r in of_type(plan, "kubernetes:networking.gke.io/v1:GKENetworkParamSet")}
    networks = {r.inputs["metadata"]["name"]: r.inputs["spec"]
                for r in of_type(plan, "kubernetes:networking.gke.io/v1:Network")}
    assert len(params) == len(networks) == len(attached) == 8
    for i, net in enumerate(attached):
        name = f"h100-mega-gpu{i}"
        assert params[name] == {"vpc": net["network"], "vpcSubnet": net["subnetwork"],
                                "deviceMode": "NetDevice"}
        assert networks[name]["type"] == "Device"
        assert networks[name]["parametersRef"]["name"] == name
    daemons = {r.name: r for r in of_type(plan, "kubernetes:apps/v1:DaemonSet")}
    assert set(daemons) == {"gpudirect-nccl-tcpxo-installer", "gpudirect-device-injector"}
    provider = by_name(plan, "gke-k8s").urn
    for d in daemons.values():
        assert d.provider and d.provider.startswith(provider)
        spec = d.inputs["spec"]["template"]["spec"]
        terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert terms["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == [
            "nvidia-h100-mega-80gb"]


def test_prod_exports_the_tcpxo_workload_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    """Next to the pool's scheduling contract: the pod annotations for eth1..eth8 on the
    pool's Networks, the sidecar's devices, the NCCL environment and the sidecar image."""
    exported = exports("prod", monkeypatch)
    contract = exported["gpu_pool_h100-mega"]["gpudirect"]
    interfaces = json.loads(contract["pod_annotations"]["networking.gke.io/interfaces"])
    assert interfaces[0] == {"interfaceName": "eth0", "network": "default"}
    assert interfaces[1:] == [{"interfaceName": f"eth{i + 1}", "network": f"h100-mega-gpu{i}"}
                              for i in range(8)]
    assert "- path: /dev/dmabuf_import_helper\n" in \
        contract["pod_annotations"]["devices.gke.io/container.tcpxo-daemon"]
    assert contract["nccl_env"]["NCCL_FASTRAK_IFNAME"] == ",".join(f"eth{i}" for i in range(1, 9))
    assert contract["sidecar"]["image"].endswith("/tcpgpudmarxd-dev:v1.0.21")


# 7 -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("env", STACKS)
def test_every_pool_states_its_pods_per_node_as_the_capacity_report_counts(
        plans: dict[str, Plan], env: str) -> None:
    """No pool falls back to GKE's 110 (a /24 per node): the cluster's default and every node
    pool state the limit, and the capacity report counts the same figure per pool."""
    plan = plans[env]
    cfg = config_from_flat(stack_config(env, offline=True), source=env)
    assert by_name(plan, "gke-cluster").inputs["defaultMaxPodsPerNode"] == \
        cfg.network.max_pods_per_node
    counted = {row["pool"]: row["max_pods_per_node"] for row in capacity_report(cfg)["pools"]}
    for pool in of_type(plan, NODE_POOL):
        key = ("system" if pool.name == "gke-system" else
               f"gpu_pools.{pool.name.removeprefix('gpu-').removesuffix('-pool')}"
               if pool.name.startswith("gpu-") else
               f"tpu_pools.{pool.name.removeprefix('tpu-').rsplit('-slice', 1)[0]}")
        assert pool.inputs["maxPodsPerNode"] == counted[key], pool.name


# 8 -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("env", STACKS)
def test_vulnerability_scanning_mode_is_one_gke_accepts(plans: dict[str, Plan], env: str) -> None:
    assert by_name(plans[env], "gke-cluster").inputs["securityPostureConfig"] == {
        "mode": "BASIC", "vulnerabilityMode": "VULNERABILITY_DISABLED"}


# 10 ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("env", STACKS)
def test_kubernetes_provider_reaches_the_dns_endpoint(plans: dict[str, Plan], env: str) -> None:
    """The in-cluster objects go through GKE's IAM-authorised DNS endpoint, so `pulumi up` need
    not run inside the VPC even where the IP endpoint is private (prod)."""
    plan = plans[env]
    assert by_name(plan, "gke-cluster").inputs["controlPlaneEndpointsConfig"] == {
        "dnsEndpointConfig": {"allowExternalTraffic": True}}
    kubeconfig = json.loads(by_name(plan, "gke-k8s").inputs["kubeconfig"])
    cluster = kubeconfig["clusters"][0]["cluster"]
    assert cluster["server"].startswith("https://gke-") and cluster["server"].endswith(".gke.goog")
    assert "certificate-authority-data" not in cluster


# 11 ----------------------------------------------------------------------------------------

def exports(env: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The stack outputs of a shipped stack, resolved."""
    flat = stack_config(env, offline=True)
    cfg = config_from_flat(flat, source=env)
    out: dict[str, Any] = {}
    monkeypatch.setattr(pulumi, "export", lambda name, value: pulumi.Output.from_input(
        value).apply(lambda v: out.__setitem__(name, v)))
    plan_of(lambda: Platform(cfg), config=flat, project="aidc", stack=env)
    return out


def test_staging_exports_the_transfer_agent_subject_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """The AWS role's trust policy names the Storage Transfer agent's subject id
    (accounts.google.com:sub): the stack exports it with the agent's e-mail."""
    transfer = exports("staging", monkeypatch)["transfer_imagenet"]
    assert transfer["agent_subject_id"].isdigit()
    assert transfer["agent_email"].endswith("@storage-transfer-service.iam.gserviceaccount.com")
