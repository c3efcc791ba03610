"""The apply-order and precondition checks (infra.check.apply_order) on small programs planned
under the mocks: each fires on the mistake it exists for, names the resource and what it must
wait for or choose, and stays quiet once the program is fixed; how their findings honour the
stack's settings (infra.check.plan_checks); and the shipped stacks pass every one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pytest

from components.gpudirect import GpuDirectNetworking, GpuDirectPool, GpuDirectSpec
from infra.check.apply_order import (
    agent_grants_after_identity,
    apis_enabled_first,
    gpudirect_in_cluster,
    refused_settings,
    workload_identity_after_cluster,
)
from infra.check.plan_checks import Finding, PlanCheck, registered, run_plan_checks
from infra.config.compute import NicSubnet
from infra.config.policy import PolicySettings
from infra.engine.plan import Plan
from tests.helpers import PROJECT, STACKS, STACKS_DIR, agent, plan_of, plan_stack_file

REGION = "us-central1"
WI_MEMBER = f"serviceAccount:{PROJECT}.svc.id.goog[training/trainer]"


def findings(check: Callable[[Plan], Any], program: Callable[[], None]) -> dict[str, str]:
    """The check's findings on the program's plan, by resource name (one per resource here)."""
    plan = plan_of(program)
    out = {}
    for f in check(plan):
        out[plan.by_urn()[f.urn].name if f.urn else "stack"] = f.message
    return out


def api(name: str, service: str) -> gcp.projects.Service:
    return gcp.projects.Service(name, project=PROJECT, service=service, disable_on_destroy=False)


class Holder(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("test:x:Holder", name, None, opts)


# --- 1: APIs --------------------------------------------------------------------------------


def test_api_check_names_a_resource_that_does_not_wait_for_its_api() -> None:
    """A network next to the Compute Engine API's Service, not waiting for it: the finding
    names the API and the Service to wait for."""
    def program() -> None:
        api("compute-api", "compute.googleapis.com")
        gcp.compute.Network("vpc", project=PROJECT, auto_create_subnetworks=False)
    found = findings(apis_enabled_first, program)
    assert set(found) == {"vpc"}
    assert "does not wait for the enablement of compute.googleapis.com (compute-api)" in found["vpc"]


def test_api_check_accepts_waiting_directly_transitively_or_through_the_parent() -> None:
    """Waiting counts through dependencies (direct or through another resource) and through
    a component's depends_on, which its children inherit."""
    def program() -> None:
        compute = api("compute-api", "compute.googleapis.com")
        vpc = gcp.compute.Network("vpc", project=PROJECT, auto_create_subnetworks=False,
                                  opts=pulumi.ResourceOptions(depends_on=[compute]))
        gcp.compute.Subnetwork("subnet", project=PROJECT, region=REGION, network=vpc.id,
                               ip_cidr_range="10.0.0.0/24")
        holder = Holder("holder", opts=pulumi.ResourceOptions(depends_on=[compute]))
        gcp.compute.Network("child", project=PROJECT, auto_create_subnetworks=False,
                            opts=pulumi.ResourceOptions(parent=holder))
    assert findings(apis_enabled_first, program) == {}


def test_api_check_names_an_api_a_setting_calls_that_is_never_enabled() -> None:
    """Binary Authorization enforcement calls its own API: a program that enables GKE's but not
    that one gets a finding on the cluster (prod before issue 11)."""
    def program() -> None:
        container = api("container-api", "container.googleapis.com")
        gcp.container.Cluster(
            "cluster", project=PROJECT, location=REGION, initial_node_count=1,
            binary_authorization=gcp.container.ClusterBinaryAuthorizationArgs(
                evaluation_mode="PROJECT_SINGLETON_POLICY_ENFORCE"),
            opts=pulumi.ResourceOptions(depends_on=[container]))
    found = findings(apis_enabled_first, program)
    assert set(found) == {"cluster"}
    assert found["cluster"].startswith("calls binaryauthorization.googleapis.com, which this "
                                       "program never enables")


def test_api_check_is_silent_when_the_program_manages_no_api() -> None:
    """Without any Service the APIs are enabled elsewhere (a bootstrap layer): nothing to check."""
    assert findings(apis_enabled_first, lambda: gcp.compute.Network(
        "vpc", project=PROJECT, auto_create_subnetworks=False)) == {}


# --- 2: service agents ----------------------------------------------------------------------

FILER = agent("cloud-filer.iam.gserviceaccount.com")
KEY = f"projects/{PROJECT}/locations/{REGION}/keyRings/r/cryptoKeys/filestore"


def grant(name: str, member: Any, after: list[pulumi.Resource] | None = None) -> None:
    gcp.kms.CryptoKeyIAMMember(name, crypto_key_id=KEY, member=member,
                               role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
                               opts=pulumi.ResourceOptions(depends_on=after or []))


def test_agent_check_names_a_grant_that_races_its_agent() -> None:
    """A grant to Filestore's agent that waits for neither its ServiceIdentity nor its API
    (the KMS grants before issue 11): the finding asks for the identity."""
    def program() -> None:
        api("file-api", "file.googleapis.com")
        grant("filer-key", FILER)
    found = findings(agent_grants_after_identity, program)
    assert set(found) == {"filer-key"}
    assert "cloud-filer service agent without waiting for its identity" in found["filer-key"]
    assert "this program has file-api" in found["filer-key"]


def test_agent_check_accepts_the_identity_or_the_api() -> None:
    def program() -> None:
        file_api = api("file-api", "file.googleapis.com")
        identity = gcp.projects.ServiceIdentity("filer", project=PROJECT,
                                                service="file.googleapis.com",
                                                opts=pulumi.ResourceOptions(depends_on=[file_api]))
        grant("via-identity", identity.member)
        grant("via-api", FILER, [file_api])
    assert findings(agent_grants_after_identity, program) == {}


def test_agent_check_names_an_agent_whose_api_the_program_never_enables() -> None:
    def program() -> None:
        api("compute-api", "compute.googleapis.com")
        grant("filer-key", FILER)
    assert "this program creates neither" in findings(agent_grants_after_identity, program)["filer-key"]


# --- 3: Workload Identity -------------------------------------------------------------------


def wi_binding(name: str, member: str, after: list[pulumi.Resource] | None = None) -> None:
    gcp.serviceaccount.IAMMember(
        name, service_account_id=f"projects/{PROJECT}/serviceAccounts/w@{PROJECT}.iam.gserviceaccount.com",
        role="roles/iam.workloadIdentityUser", member=member,
        opts=pulumi.ResourceOptions(depends_on=after or []))


def cluster(name: str = "cluster") -> gcp.container.Cluster:
    return gcp.container.Cluster(
        name, project=PROJECT, location=REGION, initial_node_count=1,
        workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(
            workload_pool=f"{PROJECT}.svc.id.goog"))


def test_workload_identity_check_names_a_binding_before_its_cluster() -> None:
    """The `training/trainer` binding as it was: next to the cluster, not after it."""
    def program() -> None:
        cluster()
        wi_binding("wi", WI_MEMBER)
    found = findings(workload_identity_after_cluster, program)
    assert set(found) == {"wi"}
    assert "does not wait for cluster, the cluster that creates the Workload Identity pool " \
           f"{PROJECT}.svc.id.goog" in found["wi"]
    assert "Identity Pool does not exist" in found["wi"]


@pytest.mark.parametrize("member", [
    WI_MEMBER,
    f"principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/"
    f"{PROJECT}.svc.id.goog/subject/ns/training/sa/trainer",
    f"principalSet://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/"
    f"{PROJECT}.svc.id.goog/namespace/training",
])
def test_workload_identity_check_reads_every_member_form(member: str) -> None:
    """The legacy `serviceAccount:...svc.id.goog[ns/ksa]` and the principal:// and
    principalSet:// forms all name the pool; after the cluster, all pass."""
    def before() -> None:
        cluster()
        wi_binding("wi", member)

    def after() -> None:
        wi_binding("wi", member, [cluster()])
    assert set(findings(workload_identity_after_cluster, before)) == {"wi"}
    assert findings(workload_identity_after_cluster, after) == {}


def test_workload_identity_check_names_a_pool_no_cluster_creates() -> None:
    found = findings(workload_identity_after_cluster, lambda: wi_binding("wi", WI_MEMBER))
    assert "which no cluster in this program creates" in found["wi"]


# --- 4: refused settings --------------------------------------------------------------------

NODE_POOL = dict(project=PROJECT, location=REGION, cluster="c", node_count=0)


def pool(name: str, machine: str, **fields: Any) -> None:
    node = fields.pop("node", {})
    gcp.container.NodePool(name, **NODE_POOL, **fields, node_config=gcp.container.NodePoolNodeConfigArgs(
        machine_type=machine, **node))


@pytest.mark.parametrize(("program", "needle"), [
    (lambda: gcp.storage.Bucket(
        "models", location="US", versioning=gcp.storage.BucketVersioningArgs(enabled=True),
        retention_policy=gcp.storage.BucketRetentionPolicyArgs(retention_period="7776000")),
     "Cloud Storage refuses Object Versioning on a bucket with a retention policy"),
    (lambda: gcp.filestore.Instance(
        "share", location="us-central1-a", tier="BASIC_HDD", kms_key_name=KEY,
        file_shares=gcp.filestore.InstanceFileSharesArgs(name="data", capacity_gb=1024),
        networks=[gcp.filestore.InstanceNetworkArgs(network="default", modes=["MODE_IPV4"])]),
     "kmsKeyName is set on tier BASIC_HDD, which takes no customer-managed key"),
    (lambda: pool("ultra", "a3-ultragpu-8g", node={"disk_type": "pd-balanced"}),
     "a3-ultragpu-8g boots only from hyperdisk-balanced"),
    (lambda: pool("trillium", "ct6e-standard-4t", node={"disk_type": "pd-ssd"}),
     "ct6e-standard-4t boots only from hyperdisk-balanced"),
    (lambda: pool("queued", "a3-megagpu-8g",
                  queued_provisioning=gcp.container.NodePoolQueuedProvisioningArgs(enabled=True),
                  placement_policy=gcp.container.NodePoolPlacementPolicyArgs(type="COMPACT"),
                  node={"reservation_affinity": gcp.container.NodePoolNodeConfigReservationAffinityArgs(
                      consume_reservation_type="NO_RESERVATION")}),
     "queuedProvisioning.enabled with a COMPACT placementPolicy on a GPU node pool"),
    (lambda: pool("queued", "a3-megagpu-8g",
                  queued_provisioning=gcp.container.NodePoolQueuedProvisioningArgs(enabled=True)),
     "reservation affinity unset (GKE: ANY_RESERVATION)"),
    (lambda: pool("flex", "a3-megagpu-8g", node={"flex_start": True},
                  placement_policy=gcp.container.NodePoolPlacementPolicyArgs(type="COMPACT")),
     "nodeConfig.flexStart with a COMPACT placementPolicy on a3-megagpu-8g"),
    (lambda: gcp.container.Cluster(
        "cluster", location=REGION, initial_node_count=1,
        security_posture_config=gcp.container.ClusterSecurityPostureConfigArgs(
            mode="BASIC", vulnerability_mode="VULNERABILITY_BASIC")),
     "vulnerabilityMode VULNERABILITY_BASIC: GKE no longer supports workload vulnerability"),
])
def test_refused_settings_each_fire(program: Callable[[], None], needle: str) -> None:
    """Each combination the APIs refuse is named, with what to choose and its source."""
    (message,) = findings(refused_settings, program).values()
    assert needle in message
    assert "(https://" in message


@pytest.mark.parametrize("program", [
    lambda: gcp.storage.Bucket("models", location="US",
                               retention_policy=gcp.storage.BucketRetentionPolicyArgs(
                                   retention_period="7776000")),
    lambda: pool("ultra", "a3-ultragpu-8g", node={"disk_type": "hyperdisk-balanced"}),
    lambda: pool("ultra-default", "a3-ultragpu-8g"),  # absent: GKE's choice, not judged
    lambda: pool("flex", "a4-highgpu-8g", node={"flex_start": True},
                 placement_policy=gcp.container.NodePoolPlacementPolicyArgs(type="COMPACT")),
    lambda: pool("tpu", "ct5p-hightpu-4t",
                 queued_provisioning=gcp.container.NodePoolQueuedProvisioningArgs(enabled=True),
                 placement_policy=gcp.container.NodePoolPlacementPolicyArgs(type="COMPACT"),
                 node={"reservation_affinity": gcp.container.NodePoolNodeConfigReservationAffinityArgs(
                     consume_reservation_type="NO_RESERVATION")}),
])
def test_refused_settings_pass_what_the_apis_take(program: Callable[[], None]) -> None:
    assert findings(refused_settings, program) == {}


# --- 5: GPUDirect ---------------------------------------------------------------------------

MEGA_NICS = tuple(NicSubnet("mega", "gpu", i, 28) for i in range(8))


def mega_pool(multi_networking: bool = True) -> None:
    c = gcp.container.Cluster("cluster", project=PROJECT, location=REGION, initial_node_count=1,
                              enable_multi_networking=multi_networking)
    gcp.container.NodePool(
        "mega", project=PROJECT, location=REGION, cluster=c.id, node_count=0,
        node_config=gcp.container.NodePoolNodeConfigArgs(machine_type="a3-megagpu-8g"),
        network_config=gcp.container.NodePoolNetworkConfigArgs(
            additional_node_network_configs=[
                gcp.container.NodePoolNetworkConfigAdditionalNodeNetworkConfigArgs(
                    network=f"net-{nic.vpc}", subnetwork=f"net-{nic.name}")
                for nic in MEGA_NICS]))


def test_gpudirect_check_names_what_a_tcpxo_pool_lacks() -> None:
    """A TCPXO pool with its eight NICs and nothing in the cluster (prod before issue 11): each
    network lacks its parameter set and Network, the installer and the injector are missing."""
    messages = [f.message for f in gpudirect_in_cluster(plan_of(mega_pool))]
    assert len(messages) == 10
    assert sum("has no GKENetworkParamSet (deviceMode NetDevice)" in m for m in messages) == 8
    assert any("no DaemonSet runs nccl-tcpxo-installer" in m for m in messages)
    assert any("NRI device injector" in m for m in messages)


def test_gpudirect_check_passes_with_the_component_and_names_a_cluster_without_multinetworking() -> None:
    def program(multi: bool) -> Callable[[], None]:
        def run() -> None:
            mega_pool(multi)
            provider = pulumi.ProviderResource("kubernetes", "k8s")
            GpuDirectNetworking(
                "gpudirect", GpuDirectSpec(pools={"mega": GpuDirectPool(
                    profile="tcpxo", accelerator_type="nvidia-h100-mega-80gb", nics=MEGA_NICS)}),
                networks={n.name: (f"net-{n.vpc}", f"net-{n.name}") for n in MEGA_NICS},
                k8s_provider=provider)  # type: ignore[arg-type]
        return run
    assert [f.message for f in gpudirect_in_cluster(plan_of(program(True)))] == []
    (message,) = [f.message for f in gpudirect_in_cluster(plan_of(program(False)))]
    assert "does not set enableMultiNetworking" in message


# --- settings, and the shipped stacks -------------------------------------------------------

ALWAYS = PlanCheck(name="apply-api-enabled-first", description="d", severity="high",
                   remediation="r",
                   run=lambda plan, settings: [Finding(plan.resources[-1].urn, "m"),
                                               Finding("", "on the stack")])


def test_plan_checks_run_mandatory_by_default_and_honour_the_stack_settings() -> None:
    """Built in: mandatory. A stack's `enforcement` sets every check, an override one check,
    and a waiver (by logical name, or `stack`) marks a finding waived with its reason."""
    plan = plan_of(lambda: gcp.compute.Network("vpc", auto_create_subnetworks=False))
    default = run_plan_checks(plan, None, [ALWAYS])
    assert [v.enforcement for v in default.violations] == ["mandatory", "mandatory"]
    assert all(v.blocking for v in default.violations)
    assert default.policies[0].enforcement == "mandatory"
    advisory = run_plan_checks(plan, PolicySettings(enforcement="advisory"), [ALWAYS])
    assert {v.enforcement for v in advisory.violations} == {"advisory"}
    override = PolicySettings(enforcement="advisory",
                              overrides={"apply-api-enabled-first": "mandatory"})
    assert {v.enforcement for v in run_plan_checks(plan, override, [ALWAYS]).violations} == \
        {"mandatory"}
    waived = run_plan_checks(plan, PolicySettings(waivers=[
        {"policy": "apply-api-enabled-first", "resource": "vpc", "reason": "enabled by org"},
        {"policy": "apply-api-enabled-first", "resource": "stack", "reason": "known"}]), [ALWAYS])
    assert [v.waiver for v in waived.violations] == ["enabled by org", "known"]
    assert not any(v.blocking for v in waived.violations)
    disabled = run_plan_checks(plan, PolicySettings(overrides={
        "apply-api-enabled-first": "disabled"}), [ALWAYS])
    assert disabled.violations == [] and disabled.policies[0].enforcement == "disabled"


def test_rejects_settings_naming_an_unknown_check() -> None:
    with pytest.raises(ValueError, match=r"unknown policy 'apply-api-enabled-frist' \(did you "
                                         r"mean 'apply-api-enabled-first'\?\)"):
        PolicySettings(overrides={"apply-api-enabled-frist": "advisory"})


def test_roster_of_plan_checks() -> None:
    """The checks aidc runs on every plan, each with its metadata."""
    assert [c.name for c in registered()] == [
        "apply-api-enabled-first", "apply-agent-grant-after-identity",
        "apply-workload-identity-after-cluster", "apply-refused-settings",
        "apply-gpudirect-in-cluster", "budget-monthly-max"]
    for check in registered():
        assert check.severity == "high" and check.enforcement == "mandatory"
        assert check.description and check.remediation and check.url.startswith("https://")


@pytest.mark.parametrize("env", STACKS)
def test_shipped_stacks_pass_every_apply_order_check(env: str) -> None:
    plan = plan_stack_file(STACKS_DIR / f"Pulumi.{env}.yaml", env)
    assert [(v.policy, v.resource_name, v.message)
            for v in run_plan_checks(plan).violations] == []
