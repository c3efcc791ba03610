"""ProjectServices built alone under the mocks: one Service per API, never disabled on destroy,
and `enabled(...)` as the ordering edge dependents wait on (and nothing it does not manage)."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp
import pytest

from components.services import ProjectServices
from infra.errors import AidcError
from tests.helpers import PROJECT, by_name, contract, inputs, of_type, plan_of

SERVICE = "gcp:projects/service:Service"


def test_project_services_children() -> None:
    """ProjectServices enables the foundation APIs plus the extras, one Service each, named
    `<name>-<api short name>` and parented to the component; duplicates collapse."""
    plan = plan_of(lambda: ProjectServices(
        "apis", project=PROJECT, extra=["container.googleapis.com", "compute.googleapis.com"]))
    expected = {"cloudkms", "compute", "container", "file", "iam", "logging", "monitoring",
                "servicenetworking", "storage"}
    assert contract(plan, "apis") == {(SERVICE, f"apis-{api}", "apis") for api in expected}
    assert by_name(plan, "apis").type == "aidc:services:ProjectServices"
    for api in expected:
        assert inputs(plan, f"apis-{api}")["service"] == f"{api}.googleapis.com"


def test_project_services_never_disable_on_destroy() -> None:
    """Destroying a stack must not disable an API other workloads in the project use."""
    plan = plan_of(lambda: ProjectServices("apis", project=PROJECT))
    services = of_type(plan, SERVICE)
    assert services
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


def test_rejects_enabled_for_an_api_it_does_not_manage() -> None:
    """Asking for an API the component does not enable names the API and the managed ones,
    instead of silently dropping the ordering edge."""
    def program() -> None:
        ProjectServices("apis", project=PROJECT).enabled("compute.googleapis.com",
                                                         "nope.googleapis.com")
    with pytest.raises(AidcError, match=r"apis: nope.googleapis.com is not enabled .* manages "
                                        r"cloudkms.googleapis.com, compute.googleapis.com"):
        plan_of(program)
