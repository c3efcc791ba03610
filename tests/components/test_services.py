"""ProjectServices built alone under the mocks: APIs enabled on first need (one Service each,
never disabled on destroy), the `ordering` transformation that makes every resource of a
component wait for the APIs its type and settings call, and the service agents grants wait for."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp
import pytest

from components.services import ProjectServices
from infra.errors import AidcError
from tests.helpers import PROJECT, agent, by_name, contract, inputs, of_type, plan_of

SERVICE = "gcp:projects/service:Service"
SERVICE_IDENTITY = "gcp:projects/serviceIdentity:ServiceIdentity"


class Holder(pulumi.ComponentResource):
    """A component standing for any aidc component put under `ordering`."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aidc:test:Holder", name, None, opts)


def test_project_services_enable_only_what_is_asked() -> None:
    """`extra` APIs are enabled up front, one Service each named `<name>-<api short name>` and
    parented to the component; nothing else is enabled until something needs it."""
    plan = plan_of(lambda: ProjectServices(
        "apis", project=PROJECT, extra=["container.googleapis.com", "container.googleapis.com"]))
    assert contract(plan, "apis") == {(SERVICE, "apis-container", "apis")}
    assert by_name(plan, "apis").type == "aidc:services:ProjectServices"
    assert inputs(plan, "apis-container")["service"] == "container.googleapis.com"


def test_project_services_never_disable_on_destroy() -> None:
    """Destroying a stack must not disable an API other workloads in the project use."""
    plan = plan_of(lambda: ProjectServices("apis", project=PROJECT).enabled(
        "compute.googleapis.com", "storage.googleapis.com"))
    services = of_type(plan, SERVICE)
    assert len(services) == 2
    for svc in services:
        assert svc.inputs["disableOnDestroy"] is False, svc.name
        assert svc.inputs["disableDependentServices"] is False, svc.name
        assert svc.inputs["project"] == PROJECT


def test_project_services_enabled_orders_dependents() -> None:
    """`enabled(...)` returns exactly the Service resources asked for, so a resource given them
    as depends_on waits for those APIs and no others."""
    def program() -> None:
        apis = ProjectServices("apis", project=PROJECT)
        gcp.compute.Network("after", auto_create_subnetworks=False, opts=pulumi.ResourceOptions(
            depends_on=apis.enabled("compute.googleapis.com")))
    plan = plan_of(program)
    assert by_name(plan, "after").dependencies == [by_name(plan, "apis-compute").urn]


def test_rejects_enabled_for_what_is_not_an_api() -> None:
    """A name that is not a service name fails with what one looks like."""
    with pytest.raises(AidcError, match=r"'compute' is not a Google service name"):
        plan_of(lambda: ProjectServices("apis", project=PROJECT).enabled("compute"))


def test_ordering_makes_every_child_wait_for_its_api() -> None:
    """Under `ordering`, each child of a component waits for the API of its type (enabled on
    first need, once); a setting that calls another API adds it (Binary Authorization on a
    cluster); a resource of another project, a component and a Kubernetes object pass
    unchanged."""
    def program() -> None:
        apis = ProjectServices("apis", project=PROJECT)
        holder = Holder("holder", opts=apis.transformations)
        child = pulumi.ResourceOptions(parent=holder)
        gcp.compute.Network("vpc-a", project=PROJECT, auto_create_subnetworks=False, opts=child)
        gcp.compute.Network("vpc-b", auto_create_subnetworks=False, opts=child)
        gcp.container.Cluster(
            "cluster", project=PROJECT, location="us-central1", initial_node_count=1,
            binary_authorization=gcp.container.ClusterBinaryAuthorizationArgs(
                evaluation_mode="PROJECT_SINGLETON_POLICY_ENFORCE"), opts=child)
        gcp.compute.Network("elsewhere", project="other-project", auto_create_subnetworks=False,
                            opts=child)
    plan = plan_of(program)
    urn = {s.inputs["service"]: s.urn for s in of_type(plan, SERVICE)}
    assert set(urn) == {"compute.googleapis.com", "container.googleapis.com",
                        "binaryauthorization.googleapis.com"}
    assert by_name(plan, "vpc-a").dependencies == [urn["compute.googleapis.com"]]
    assert by_name(plan, "vpc-b").dependencies == [urn["compute.googleapis.com"]]
    assert set(by_name(plan, "cluster").dependencies) == {
        urn["container.googleapis.com"], urn["binaryauthorization.googleapis.com"]}
    assert by_name(plan, "elsewhere").dependencies == []
    assert by_name(plan, "holder").dependencies == []


def test_agents_wait_for_their_identity_or_their_api() -> None:
    """Filestore's and GKE's agents exist only once generated: each is a ServiceIdentity that
    waits for its API, and a grant waits for it. Compute Engine's exists once its API is
    enabled, Cloud Storage's once its lookup ran: a grant waits for the API."""
    refs = {}

    def program() -> None:
        apis = ProjectServices("apis", project=PROJECT)
        for api in ("file.googleapis.com", "container.googleapis.com", "compute.googleapis.com",
                    "storage.googleapis.com"):
            refs[api] = apis.agent(api)
            refs[api].member.apply(lambda m, a=api: refs.__setitem__(f"{a}:member", m))
    plan = plan_of(program)
    identities = {r.inputs["service"]: r for r in of_type(plan, SERVICE_IDENTITY)}
    assert set(identities) == {"file.googleapis.com", "container.googleapis.com"}
    apis = {s.inputs["service"]: s.urn for s in of_type(plan, SERVICE)}
    assert set(apis) == {"file.googleapis.com", "container.googleapis.com",
                         "compute.googleapis.com", "storage.googleapis.com",
                         "cloudresourcemanager.googleapis.com"}  # the project number lookup's
    for api, identity in identities.items():
        assert identity.dependencies == [apis[api]]
        assert [r._name for r in refs[api].ready] == [identity.name]
    assert refs["file.googleapis.com:member"] == agent("cloud-filer.iam.gserviceaccount.com")
    assert refs["compute.googleapis.com:member"] == agent("compute-system.iam.gserviceaccount.com")
    assert refs["storage.googleapis.com:member"] == agent(
        "gs-project-accounts.iam.gserviceaccount.com")
    assert [r._name for r in refs["compute.googleapis.com"].ready] == ["apis-compute"]
    assert [r._name for r in refs["storage.googleapis.com"].ready] == ["apis-storage"]
