"""FilestoreShare built alone (on a VpcFabric, with KmsKeys when CMEK is on) under the mocks:
the protected instance, its share and exports from the `aidc:storage.filestore` section, private
services access and the CMEK key ordered after its grant."""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Any

import pytest

from components.filestore import FilestoreShare, FilestoreSpec
from components.kms import KmsKeys, KmsSpec
from components.network import VpcFabric, VpcSpec
from infra.config.storage import FilestoreConfig
from infra.gcp.netplan import NetworkPlan, plan_network
from tests.helpers import PROJECT, REGION, Captured, agent, by_name, contract, inputs, plan_of

FILESTORE = "gcp:filestore/instance:Instance"

NET_PLAN = plan_network(base=IPv4Network("10.16.0.0/16"), max_nodes=64, max_pods_per_node=64)


def filestore_spec(**filestore: Any) -> FilestoreSpec:
    """The test share; keyword arguments are the `aidc:storage.filestore` section's."""
    section = {"tier": "ZONAL", "capacity_gib": 1024, "share_name": "data",
               "classification": "confidential", "labels": {"team": "ml"}, **filestore}
    return FilestoreSpec(config=FilestoreConfig(**section), instance_name="aidc-test-shared",
                         location=f"{REGION}-a",
                         export_ranges=(str(NET_PLAN.subnet), str(NET_PLAN.pods)))


def filestore_program(spec: FilestoreSpec, captured: Captured, plan: NetworkPlan = NET_PLAN):
    """KMS + fabric + share, wired as infra/platform.py wires them."""
    def program() -> None:
        kms = KmsKeys("kms", KmsSpec(key_ring="aidc-test", location=REGION), project=PROJECT)
        net = VpcFabric("net", VpcSpec(network_name="aidc-test", region=REGION), plan,
                        project=PROJECT)
        captured.keep("filestore_key", kms.keys["filestore"].id)
        captured.keep("network", net.network.name)
        captured.keep("psa_range", net.psa_range.name)
        # Same-project VPC: Filestore takes the network's name, as infra/platform.py passes it.
        FilestoreShare("share", spec, project=PROJECT, network=net.network.name,
                       reserved_ip_range=net.psa_range.name,
                       kms_key_id=kms.key_ids["filestore"] if spec.config.cmek else None,
                       depends_on=[net.psa_connection,
                                   *(kms.grants["filestore"] if spec.config.cmek else [])])
    return program


def test_filestore_is_protected() -> None:
    """Stateful first: the instance is protected in Pulumi and has Filestore's own deletion
    protection on, with a reason."""
    plan = plan_of(filestore_program(filestore_spec(), Captured()))
    instance = by_name(plan, "share-instance")
    assert instance.protect is True
    assert instance.inputs["deletionProtectionEnabled"] is True
    assert instance.inputs["deletionProtectionReason"]


def test_filestore_children() -> None:
    """FilestoreShare has one child: the instance, `<name>-instance`."""
    plan = plan_of(filestore_program(filestore_spec(), Captured()))
    assert contract(plan, "share") == {(FILESTORE, "share-instance", "share")}
    assert by_name(plan, "share").type == "aidc:filestore:FilestoreShare"


def test_filestore_share_settings() -> None:
    """Tier, capacity and share name as specified; the share exports read-write to the subnet
    and pods ranges only, with root squashed to nobody; it connects through private services
    access on the fabric's network and PSA range."""
    captured = Captured()
    plan = plan_of(filestore_program(filestore_spec(tier="ZONAL", capacity_gib=2560), captured))
    i = inputs(plan, "share-instance")
    assert i["tier"] == "ZONAL"
    assert i["name"] == "aidc-test-shared"
    assert i["location"] == f"{REGION}-a"
    assert i["fileShares"]["capacityGb"] == 2560
    assert i["fileShares"]["name"] == "data"
    assert i["fileShares"]["nfsExportOptions"] == [{
        "ipRanges": [str(NET_PLAN.subnet), str(NET_PLAN.pods)], "accessMode": "READ_WRITE",
        "squashMode": "ROOT_SQUASH", "anonUid": 65534, "anonGid": 65534}]
    assert i["networks"] == [{"network": captured["network"], "modes": ["MODE_IPV4"],
                              "connectMode": "PRIVATE_SERVICE_ACCESS",
                              "reservedIpRange": captured["psa_range"]}]
    assert i["labels"] == {"team": "ml", "data-classification": "confidential"}


def test_filestore_cmek_key_and_ordering() -> None:
    """With CMEK the instance uses the filestore key and waits for the Filestore agent's grant
    on it and for the PSA connection."""
    captured = Captured()
    plan = plan_of(filestore_program(filestore_spec(cmek=True), captured))
    instance = by_name(plan, "share-instance")
    assert instance.inputs["kmsKeyName"] == captured["filestore_key"]
    assert by_name(plan, "kms-filestore-agent").inputs["member"] == agent(
        "cloud-filer.iam.gserviceaccount.com")
    assert by_name(plan, "kms-filestore-agent").urn in instance.dependencies
    assert by_name(plan, "net-psa").urn in instance.dependencies


def test_filestore_without_cmek_has_no_key() -> None:
    """cmek false (e.g. a Basic tier) sends no kmsKeyName at all, and still waits for PSA."""
    plan = plan_of(filestore_program(
        filestore_spec(tier="BASIC_HDD", capacity_gib=1024, cmek=False), Captured()))
    instance = by_name(plan, "share-instance")
    assert "kmsKeyName" not in instance.inputs
    assert instance.inputs["tier"] == "BASIC_HDD"
    assert by_name(plan, "net-psa").urn in instance.dependencies


def test_rejects_filestore_cmek_on_basic_tier() -> None:
    """A spec cannot ask for CMEK on a tier that cannot take a key: its config section (the
    spec's one copy of tier and cmek) refuses it before any component exists."""
    with pytest.raises(ValueError, match="cannot take a customer-managed key"):
        filestore_spec(tier="BASIC_HDD", capacity_gib=1024, cmek=True)


def test_rejects_filestore_cmek_without_key() -> None:
    """CMEK on with no key wired is a wiring error, not a share without encryption."""
    with pytest.raises(ValueError, match="kms_key_id: cmek is on"):
        plan_of(lambda: FilestoreShare("share", filestore_spec(cmek=True), project=PROJECT,
                                       network="n", reserved_ip_range="r"))


@pytest.mark.parametrize("capacity", [1000, 1025, 200_000])
def test_rejects_filestore_spec_capacity_off_tier(capacity: int) -> None:
    """A FilestoreSpec refuses a capacity below, off the step of, or above its tier."""
    with pytest.raises(ValueError, match="capacity_gib"):
        filestore_spec(tier="ZONAL", capacity_gib=capacity)
