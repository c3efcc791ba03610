"""Compute Engine VM policies (C1-C5), judged through the analyzer protocol by the real pack."""

from __future__ import annotations

import pytest

from tests.policy_fixtures import (
    DELETE,
    INSTANCE,
    INSTANCE_FROM_MACHINE_IMAGE,
    INSTANCE_FROM_TEMPLATE,
    INSTANCE_TEMPLATE,
    REGION_INSTANCE_TEMPLATE,
    PROJECT_METADATA,
    PROJECT_METADATA_ITEM,
    Case,
    analyzer,  # noqa: F401 (module fixture)
    assert_case,
    case_id,
)

SHIELD = "shieldedInstanceConfig"
MD = "metadata"

CASES = [
    # C1 instance-shielded-vm
    Case("instance-shielded-vm", INSTANCE, {(SHIELD, "enableSecureBoot"): False}),
    Case("instance-shielded-vm", INSTANCE, {SHIELD: DELETE},
         why="omitted: Secure Boot is off by default"),
    Case("instance-shielded-vm", INSTANCE, {(SHIELD, "enableVtpm"): False}),
    Case("instance-shielded-vm", INSTANCE_TEMPLATE, {(SHIELD, "enableIntegrityMonitoring"): False}),
    Case("instance-shielded-vm", INSTANCE, fails=False),
    Case("instance-shielded-vm", INSTANCE_TEMPLATE, fails=False,
         why="vTPM and integrity monitoring omitted: on by default"),
    # C2 instance-os-login
    Case("instance-os-login", INSTANCE, {(MD, "enable-oslogin"): "FALSE"}),
    Case("instance-os-login", PROJECT_METADATA, {(MD, "enable-oslogin"): DELETE},
         why="authoritative project metadata without OS Login"),
    Case("instance-os-login", PROJECT_METADATA_ITEM, {"value": "FALSE"}),
    Case("instance-os-login", INSTANCE, fails=False),
    Case("instance-os-login", INSTANCE, {(MD, "enable-oslogin"): DELETE}, fails=False,
         why="omitted on a VM: the project setting applies"),
    Case("instance-os-login", PROJECT_METADATA, fails=False),
    Case("instance-os-login", PROJECT_METADATA_ITEM, fails=False),
    Case("instance-os-login", PROJECT_METADATA_ITEM, {"key": "startup-script", "value": "x"},
         fails=False, not_applicable=True),
    # C3 instance-block-project-ssh-keys
    Case("instance-block-project-ssh-keys", INSTANCE, {(MD, "block-project-ssh-keys"): DELETE},
         why="omitted: project keys are accepted"),
    Case("instance-block-project-ssh-keys", INSTANCE, {(MD, "block-project-ssh-keys"): "false"}),
    Case("instance-block-project-ssh-keys", INSTANCE_TEMPLATE, {MD: DELETE}),
    Case("instance-block-project-ssh-keys", INSTANCE, fails=False),
    Case("instance-block-project-ssh-keys", INSTANCE_TEMPLATE, fails=False),
    # C4 instance-no-serial-port
    Case("instance-no-serial-port", INSTANCE, {(MD, "serial-port-enable"): "TRUE"}),
    Case("instance-no-serial-port", INSTANCE_TEMPLATE, {(MD, "serial-port-enable"): "1"}),
    Case("instance-no-serial-port", PROJECT_METADATA, {(MD, "serial-port-enable"): "true"}),
    Case("instance-no-serial-port", PROJECT_METADATA_ITEM,
         {"key": "serial-port-enable", "value": "TRUE"}),
    Case("instance-no-serial-port", INSTANCE, fails=False, why="omitted: off by default"),
    Case("instance-no-serial-port", INSTANCE, {(MD, "serial-port-enable"): "FALSE"},
         fails=False),
    Case("instance-no-serial-port", PROJECT_METADATA, fails=False),
    # C5 instance-no-default-sa
    Case("instance-no-default-sa", INSTANCE, {("serviceAccount", "email"): DELETE},
         why="an SA block without email: the default compute SA"),
    Case("instance-no-default-sa", INSTANCE_TEMPLATE,
         {("serviceAccount", "email"): "123456789-compute@developer.gserviceaccount.com"}),
    Case("instance-no-default-sa", INSTANCE, fails=False),
    Case("instance-no-default-sa", INSTANCE, {"serviceAccount": DELETE}, fails=False,
         why="no service account attached"),
    # Every type that creates or templates a VM: instances from a template or machine image
    # (Checkov CKV_GCP_32's fixture: an instance from a template whose metadata sets
    # block-project-ssh-keys = false fails; one that leaves it to the template is not judged).
    Case("instance-block-project-ssh-keys", INSTANCE_FROM_TEMPLATE,
         {(MD, "block-project-ssh-keys"): "false"}),
    Case("instance-block-project-ssh-keys", INSTANCE_FROM_TEMPLATE, {MD: DELETE}, fails=False,
         not_applicable=True, why="inherited from the template, judged there"),
    Case("instance-shielded-vm", REGION_INSTANCE_TEMPLATE, {(SHIELD, "enableSecureBoot"): False}),
    Case("instance-shielded-vm", INSTANCE_FROM_TEMPLATE, {(SHIELD, "enableVtpm"): False}),
    Case("instance-shielded-vm", INSTANCE_FROM_MACHINE_IMAGE, fails=False, not_applicable=True,
         why="inherited from the machine image"),
    Case("instance-no-serial-port", INSTANCE_FROM_TEMPLATE, {(MD, "serial-port-enable"): "TRUE"}),
    Case("instance-os-login", INSTANCE_FROM_MACHINE_IMAGE, {(MD, "enable-oslogin"): "FALSE"}),
    Case("instance-no-default-sa", INSTANCE_FROM_TEMPLATE,
         {("serviceAccount", "email"): "123-compute@developer.gserviceaccount.com"}),
    Case("instance-no-external-ip", INSTANCE_FROM_TEMPLATE,
         {"networkInterfaces": [{"subnetwork": "aidc-dev-gpu", "accessConfigs": [{}]}]}),
    Case("instance-no-ip-forwarding", REGION_INSTANCE_TEMPLATE, {"canIpForward": True}),
    Case("instance-no-ip-forwarding", INSTANCE_FROM_MACHINE_IMAGE, {"canIpForward": True}),
    Case("disk-cmek", INSTANCE_FROM_TEMPLATE, {("bootDisk", "kmsKeySelfLink"): DELETE}),
    Case("disk-cmek", INSTANCE_FROM_TEMPLATE, {"bootDisk": DELETE}, fails=False,
         not_applicable=True, why="boot disk inherited from the template"),
]


@pytest.mark.parametrize("case", [c for c in CASES if c.fails], ids=case_id)
def test_flags_violation(analyzer, case: Case) -> None:  # noqa: F811
    """Each departure from the golden VM or project metadata is a violation of its policy."""
    assert_case(analyzer, case)


@pytest.mark.parametrize("case", [c for c in CASES if not c.fails], ids=case_id)
def test_passes_compliant(analyzer, case: Case) -> None:  # noqa: F811
    """Golden VMs, safe provider defaults and unrelated metadata items pass."""
    assert_case(analyzer, case)
