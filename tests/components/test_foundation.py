"""The foundation components under Pulumi mocks: each one's children and the inputs that matter.

Every component is built the way infra/platform.py wires it, through the offline engine
(`run_program`), and the Plan's camelCase inputs are what the GCP provider would receive.
"""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pytest

from components.filestore import FilestoreShare, FilestoreSpec
from components.kms import KmsKeys, KmsSpec
from components.network import VpcFabric, VpcSpec
from components.services import ProjectServices
from components.storage import BucketsSpec, DataBuckets
from infra.config.encryption import EncryptionConfig
from infra.config.network import NetworkConfig
from infra.config.storage import BucketSpec, FilestoreConfig, StorageConfig
from infra.engine.plan import Plan
from infra.errors import AidcError
from infra.gcp.netplan import NetworkPlan, plan_network
from tests.helpers import (
    PROJECT,
    REGION,
    STACKS,
    STACKS_DIR,
    Captured,
    agent,
    by_name,
    contract,
    inputs,
    of_type,
    plan_of,
    plan_stack_file,
)

BUCKET = "gcp:storage/bucket:Bucket"
BUCKET_IAM = "gcp:storage/bucketIAMMember:BucketIAMMember"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
KEY_IAM = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
KEY_RING = "gcp:kms/keyRing:KeyRing"
SERVICE = "gcp:projects/service:Service"
FIREWALL = "gcp:compute/firewall:Firewall"
NETWORK = "gcp:compute/network:Network"
SUBNET = "gcp:compute/subnetwork:Subnetwork"
FILESTORE = "gcp:filestore/instance:Instance"
ENCRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
DAY = 86400

NET_PLAN = plan_network(base=IPv4Network("10.16.0.0/16"), max_nodes=64, max_pods_per_node=64)


# ---------------------------------------------------------------------------------------------
# programs


def kms_spec(purposes: tuple[str, ...] | None = None, labels: dict[str, str] | None = None,
             **encryption: Any) -> KmsSpec:
    """The test key ring; keyword arguments are the `aidc:encryption` section's."""
    return KmsSpec(key_ring="aidc-test", location=REGION, config=EncryptionConfig(**encryption),
                   **({"purposes": purposes} if purposes else {}), labels=labels or {})


def vpc_spec(**network: Any) -> VpcSpec:
    """The test fabric; keyword arguments are the `aidc:network` section's."""
    return VpcSpec(network_name="aidc-test", region=REGION, config=NetworkConfig(**network))


def buckets_spec(buckets: dict[str, BucketSpec], *, access_logs: bool = False,
                 protect: bool = False) -> BucketsSpec:
    return BucketsSpec(
        config=StorageConfig(buckets=buckets), region=REGION,
        bucket_names={p: f"{PROJECT}-test-{p}" for p in buckets},
        access_log_bucket=f"{PROJECT}-test-access-logs" if access_logs else None,
        protect=protect, labels={"managed-by": "aidc", "environment": "test"})


def filestore_spec(**filestore: Any) -> FilestoreSpec:
    """The test share; keyword arguments are the `aidc:storage.filestore` section's."""
    section = {"tier": "ZONAL", "capacity_gib": 1024, "share_name": "data",
               "classification": "confidential", "labels": {"team": "ml"}, **filestore}
    return FilestoreSpec(config=FilestoreConfig(**section), instance_name="aidc-test-shared",
                         location=f"{REGION}-a",
                         export_ranges=(str(NET_PLAN.subnet), str(NET_PLAN.pods)))


def storage_program(buckets: dict[str, BucketSpec], captured: Captured, *,
                    access_logs: bool = False, protect: bool = False):
    def program() -> None:
        kms = KmsKeys("kms", kms_spec(), project=PROJECT)
        captured.keep("storage_key", kms.keys["storage"].id)
        DataBuckets("data", buckets_spec(buckets, access_logs=access_logs, protect=protect),
                    project=PROJECT, kms_key_id=kms.key_ids["storage"],
                    key_grants=kms.grants["storage"])
    return program


def filestore_program(spec: FilestoreSpec, captured: Captured, plan: NetworkPlan = NET_PLAN):
    """KMS + fabric + share, wired as infra/platform.py wires them."""
    def program() -> None:
        kms = KmsKeys("kms", kms_spec(), project=PROJECT)
        net = VpcFabric("net", vpc_spec(), plan, project=PROJECT)
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


# ---------------------------------------------------------------------------------------------
# ProjectServices


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


# ---------------------------------------------------------------------------------------------
# KmsKeys


def test_kms_keys_and_ring_are_protected() -> None:
    """Stateful first: the key ring and every key are protected (destroying a key makes all data
    it encrypted unreadable); the IAM grants are not stateful and are not protected."""
    plan = plan_of(lambda: KmsKeys("kms", kms_spec(), project=PROJECT))
    assert by_name(plan, "kms-ring").protect is True
    keys = of_type(plan, CRYPTO_KEY)
    assert len(keys) == 4
    assert all(k.protect for k in keys)
    assert not any(g.protect for g in of_type(plan, KEY_IAM))


def test_kms_children() -> None:
    """KmsKeys: one ring, one key and one service-agent grant per purpose, all direct children."""
    plan = plan_of(lambda: KmsKeys("kms", kms_spec(), project=PROJECT))
    purposes = ("storage", "filestore", "gke", "disks")
    assert contract(plan, "kms") == (
        {(KEY_RING, "kms-ring", "kms")}
        | {(CRYPTO_KEY, f"kms-{p}", "kms") for p in purposes}
        | {(KEY_IAM, f"kms-{p}-agent", "kms") for p in purposes})
    assert by_name(plan, "kms").type == "aidc:kms:KmsKeys"


def test_kms_key_settings() -> None:
    """Keys rotate every 90 days ('7776000s'), keep destroyed versions 30 days, are symmetric
    ENCRYPT_DECRYPT, software-protected by default, live in the ring and carry their purpose."""
    captured = Captured()

    def program() -> None:
        kms = KmsKeys("kms", kms_spec(labels={"team": "ml"}), project=PROJECT)
        captured.keep("ring", kms.key_ring.id)

    plan = plan_of(program)
    ring = inputs(plan, "kms-ring")
    assert (ring["name"], ring["location"], ring["project"]) == ("aidc-test", REGION, PROJECT)
    for purpose in ("storage", "filestore", "gke", "disks"):
        key = inputs(plan, f"kms-{purpose}")
        assert key["name"] == purpose
        assert key["rotationPeriod"] == "7776000s"
        assert key["destroyScheduledDuration"] == f"{30 * DAY}s"
        assert key["purpose"] == "ENCRYPT_DECRYPT"
        assert key["versionTemplate"] == {"algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION",
                                          "protectionLevel": "SOFTWARE"}
        assert key["keyRing"] == captured["ring"]
        assert key["labels"] == {"team": "ml", "purpose": purpose}


@pytest.mark.parametrize(("days", "seconds"), [(1, "86400s"), (30, "2592000s"), (365, "31536000s")])
def test_kms_rotation_period_follows_days(days: int, seconds: str) -> None:
    """rotationPeriod is the configured days in seconds, as the KMS API spells a duration."""
    plan = plan_of(lambda: KmsKeys("kms", kms_spec(rotation_days=days, purposes=("storage",)),
                                   project=PROJECT))
    assert inputs(plan, "kms-storage")["rotationPeriod"] == seconds


def test_kms_hsm_protection_level() -> None:
    """protection_level HSM reaches every key's version template."""
    plan = plan_of(lambda: KmsKeys("kms", kms_spec(protection_level="HSM"), project=PROJECT))
    levels = {k.inputs["versionTemplate"]["protectionLevel"] for k in of_type(plan, CRYPTO_KEY)}
    assert levels == {"HSM"}


def test_kms_service_agent_grants() -> None:
    """Each purpose's own Google service agent (derived from the project number) gets
    encrypter/decrypter on that purpose's key, and nothing else: GCS, Filestore, GKE, Compute."""
    captured = Captured()

    def program() -> None:
        kms = KmsKeys("kms", kms_spec(), project=PROJECT)
        for purpose, key in kms.keys.items():
            captured.keep(purpose, key.id)

    plan = plan_of(program)
    expected = {
        "storage": agent("gs-project-accounts.iam.gserviceaccount.com"),
        "filestore": agent("cloud-filer.iam.gserviceaccount.com"),
        "gke": agent("container-engine-robot.iam.gserviceaccount.com"),
        "disks": agent("compute-system.iam.gserviceaccount.com"),
    }
    for purpose, member in expected.items():
        grant = by_name(plan, f"kms-{purpose}-agent")
        assert grant.inputs == {"cryptoKeyId": captured[purpose], "role": ENCRYPTER,
                                "member": member}
        assert by_name(plan, f"kms-{purpose}").urn in grant.dependencies


def test_kms_only_configured_purposes() -> None:
    """A spec with fewer purposes creates only those keys and grants."""
    plan = plan_of(lambda: KmsKeys("kms", kms_spec(purposes=("storage",)), project=PROJECT))
    assert contract(plan, "kms") == {(KEY_RING, "kms-ring", "kms"),
                                     (CRYPTO_KEY, "kms-storage", "kms"),
                                     (KEY_IAM, "kms-storage-agent", "kms")}


def test_kms_ring_waits_for_depends_on() -> None:
    """The ring depends on what it is given (the Cloud KMS API), and the keys on the ring."""
    def program() -> None:
        apis = ProjectServices("apis", project=PROJECT)
        KmsKeys("kms", kms_spec(), project=PROJECT,
                depends_on=apis.enabled("cloudkms.googleapis.com"))

    plan = plan_of(program)
    assert by_name(plan, "apis-cloudkms").urn in by_name(plan, "kms-ring").dependencies
    for key in of_type(plan, CRYPTO_KEY):
        assert by_name(plan, "kms-ring").urn in key.dependencies


def test_kms_grant_adds_member() -> None:
    """`grant(...)` lets one more identity use a key, as a child of the component, and records
    it among the purpose's grants."""
    counts = {}

    def program() -> None:
        kms = KmsKeys("kms", kms_spec(purposes=("storage",)), project=PROJECT)
        kms.grant("kms-storage-transfer", "storage", "serviceAccount:x@y.iam.gserviceaccount.com")
        counts["storage"] = len(kms.grants["storage"])

    plan = plan_of(program)
    extra = by_name(plan, "kms-storage-transfer")
    assert extra.parent == by_name(plan, "kms").urn
    assert extra.inputs["member"] == "serviceAccount:x@y.iam.gserviceaccount.com"
    assert extra.inputs["role"] == ENCRYPTER
    assert counts["storage"] == 2


# ---------------------------------------------------------------------------------------------
# VpcFabric


def fabric_plan(**spec: Any) -> Plan:
    return plan_of(lambda: VpcFabric("net", vpc_spec(**spec), NET_PLAN, project=PROJECT))


def test_vpc_fabric_children() -> None:
    """VpcFabric's children, pinned: network, subnet, router, NAT, three baseline firewalls, the
    PSA range and its connection; no IAP rule unless asked."""
    plan = fabric_plan()
    assert contract(plan, "net") == {
        (NETWORK, "net-vpc", "net"),
        (SUBNET, "net-subnet", "net"),
        ("gcp:compute/router:Router", "net-router", "net"),
        ("gcp:compute/routerNat:RouterNat", "net-nat", "net"),
        (FIREWALL, "net-deny-ingress", "net"),
        (FIREWALL, "net-allow-internal", "net"),
        (FIREWALL, "net-allow-health-checks", "net"),
        ("gcp:compute/globalAddress:GlobalAddress", "net-psa-range", "net"),
        ("gcp:servicenetworking/connection:Connection", "net-psa", "net"),
    }
    assert by_name(plan, "net").type == "aidc:network:VpcFabric"


def test_vpc_fabric_iap_ssh_rule_only_when_asked() -> None:
    """iap_ssh adds one rule: SSH (tcp/22) from Google's IAP range only, logged."""
    plan = fabric_plan(iap_ssh=True)
    assert (FIREWALL, "net-allow-iap-ssh", "net") in contract(plan, "net")
    rule = inputs(plan, "net-allow-iap-ssh")
    assert rule["sourceRanges"] == ["35.235.240.0/20"]
    assert rule["allows"] == [{"protocol": "tcp", "ports": ["22"]}]
    assert rule["direction"] == "INGRESS"
    assert rule["logConfig"] == {"metadata": "INCLUDE_ALL_METADATA"}
    assert not any(r.name == "net-allow-iap-ssh" for r in fabric_plan(iap_ssh=False).resources)


def test_vpc_network_is_custom_mode() -> None:
    """The VPC is custom mode (no auto subnets in every region), regional routing."""
    network = inputs(fabric_plan(), "net-vpc")
    assert network["autoCreateSubnetworks"] is False
    assert network["routingMode"] == "REGIONAL"
    assert network["name"] == "aidc-test"
    assert network["project"] == PROJECT


def test_vpc_subnet_ranges_and_logging() -> None:
    """The subnet carries the planned primary range, GKE's secondary ranges named pods and
    services with the planned CIDRs, Private Google Access and flow logs."""
    captured = Captured()

    def program() -> None:
        net = VpcFabric("net", vpc_spec(flow_logs_sampling=0.25), NET_PLAN, project=PROJECT)
        captured.keep("network", net.network_id)

    plan = plan_of(program)
    subnet = inputs(plan, "net-subnet")
    assert subnet["ipCidrRange"] == str(NET_PLAN.subnet)
    assert subnet["secondaryIpRanges"] == [
        {"rangeName": "pods", "ipCidrRange": str(NET_PLAN.pods)},
        {"rangeName": "services", "ipCidrRange": str(NET_PLAN.services)},
    ]
    assert subnet["privateIpGoogleAccess"] is True
    assert subnet["logConfig"] == {"aggregationInterval": "INTERVAL_5_SEC", "flowSampling": 0.25,
                                   "metadata": "INCLUDE_ALL_METADATA"}
    assert subnet["region"] == REGION
    assert subnet["network"] == captured["network"]


def test_vpc_nat_logs_and_covers_subnet() -> None:
    """Cloud NAT (the nodes' only way out) serves the subnet, allocates ports dynamically and
    logs with the configured filter."""
    captured = Captured()

    def program() -> None:
        net = VpcFabric("net", vpc_spec(nat_log_filter="ALL"), NET_PLAN, project=PROJECT)
        captured.keep("subnet", net.subnet.id)

    plan = plan_of(program)
    nat = inputs(plan, "net-nat")
    assert nat["logConfig"] == {"enable": True, "filter": "ALL"}
    assert nat["router"] == inputs(plan, "net-router")["name"]
    assert nat["sourceSubnetworkIpRangesToNat"] == "LIST_OF_SUBNETWORKS"
    assert nat["subnetworks"] == [{"name": captured["subnet"],
                                   "sourceIpRangesToNats": ["ALL_IP_RANGES"]}]
    assert nat["natIpAllocateOption"] == "AUTO_ONLY"
    assert nat["enableDynamicPortAllocation"] is True


def test_vpc_deny_all_ingress_baseline() -> None:
    """A logged deny-all ingress rule at priority 65534 sits under every allow rule."""
    rule = inputs(fabric_plan(), "net-deny-ingress")
    assert rule["priority"] == 65534
    assert rule["direction"] == "INGRESS"
    assert rule["denies"] == [{"protocol": "all"}]
    assert rule["sourceRanges"] == ["0.0.0.0/0"]
    assert rule["logConfig"] == {"metadata": "INCLUDE_ALL_METADATA"}
    assert "allows" not in rule


def test_vpc_allow_rules_are_narrow() -> None:
    """No allow rule admits the internet: internal traffic from the subnet and pods ranges only,
    health checks from Google's checker ranges only, and every rule is logged."""
    plan = fabric_plan(iap_ssh=True)
    internal = inputs(plan, "net-allow-internal")
    assert internal["sourceRanges"] == [str(NET_PLAN.subnet), str(NET_PLAN.pods)]
    checks = inputs(plan, "net-allow-health-checks")
    assert checks["sourceRanges"] == ["35.191.0.0/16", "130.211.0.0/22"]
    for rule in of_type(plan, FIREWALL):
        if "allows" in rule.inputs:
            assert "0.0.0.0/0" not in rule.inputs["sourceRanges"], rule.name
            assert rule.inputs["priority"] < 65534, rule.name
        assert rule.inputs["logConfig"] == {"metadata": "INCLUDE_ALL_METADATA"}, rule.name


def test_vpc_private_services_access() -> None:
    """The PSA range is an internal VPC_PEERING GlobalAddress at the planned address and prefix,
    and the servicenetworking connection reserves it on this network."""
    captured = Captured()

    def program() -> None:
        net = VpcFabric("net", vpc_spec(), NET_PLAN, project=PROJECT)
        captured.keep("network", net.network_id)

    plan = plan_of(program)
    psa = inputs(plan, "net-psa-range")
    assert psa["purpose"] == "VPC_PEERING"
    assert psa["addressType"] == "INTERNAL"
    assert psa["address"] == str(NET_PLAN.psa.network_address)
    assert psa["prefixLength"] == NET_PLAN.psa.prefixlen
    assert psa["network"] == captured["network"]
    connection = by_name(plan, "net-psa")
    assert connection.inputs["service"] == "servicenetworking.googleapis.com"
    assert connection.inputs["reservedPeeringRanges"] == [psa["name"]]
    assert connection.inputs["network"] == captured["network"]
    assert by_name(plan, "net-psa-range").urn in connection.dependencies


def test_vpc_network_waits_for_apis() -> None:
    """The network depends on the APIs it is given (compute, servicenetworking)."""
    def program() -> None:
        apis = ProjectServices("apis", project=PROJECT)
        VpcFabric("net", vpc_spec(), NET_PLAN, project=PROJECT,
                  depends_on=apis.enabled("compute.googleapis.com"))

    plan = plan_of(program)
    assert by_name(plan, "apis-compute").urn in by_name(plan, "net-vpc").dependencies


# ---------------------------------------------------------------------------------------------
# DataBuckets


BUCKETS = {
    "datasets": BucketSpec(classification="restricted", retention_days=30),
    "checkpoints": BucketSpec(classification="confidential", soft_delete_days=30),
    "models": BucketSpec(classification="internal"),
    "scratch": BucketSpec(classification="public", soft_delete_days=0, storage_class="NEARLINE"),
}


@pytest.mark.parametrize("protect", [True, False])
def test_buckets_protection_follows_spec(protect: bool) -> None:
    """Stateful first: every bucket (the access-log bucket included) is protected exactly when
    the spec says so (stacks set it for production)."""
    plan = plan_of(storage_program(BUCKETS, Captured(), access_logs=True, protect=protect))
    buckets = of_type(plan, BUCKET)
    assert len(buckets) == len(BUCKETS) + 1
    assert {b.protect for b in buckets} == {protect}


def test_buckets_children() -> None:
    """One bucket per purpose named `<name>-<purpose>`, plus the access-log bucket and its
    writer grant when access logs are on; all children of the component."""
    plan = plan_of(storage_program(BUCKETS, Captured(), access_logs=True))
    assert contract(plan, "data") == (
        {(BUCKET, f"data-{p}", "data") for p in BUCKETS}
        | {(BUCKET, "data-access-logs", "data"),
           (BUCKET_IAM, "data-access-logs-writer", "data")})
    assert by_name(plan, "data").type == "aidc:storage:DataBuckets"
    without_logs = plan_of(storage_program(BUCKETS, Captured()))
    assert contract(without_logs, "data") == {(BUCKET, f"data-{p}", "data") for p in BUCKETS}


def test_buckets_encrypted_with_storage_key_after_grant() -> None:
    """Every bucket's default KMS key is the kms-storage CryptoKey's id, and every bucket
    depends on the GCS agent's grant on that key (else creation races the grant)."""
    captured = Captured()
    plan = plan_of(storage_program(BUCKETS, captured, access_logs=True))
    grant = by_name(plan, "kms-storage-agent")
    assert grant.inputs["member"] == agent("gs-project-accounts.iam.gserviceaccount.com")
    for bucket in of_type(plan, BUCKET):
        assert bucket.inputs["encryption"] == {"defaultKmsKeyName": captured["storage_key"]}, bucket.name
        assert grant.urn in bucket.dependencies, bucket.name


def test_buckets_closed_by_default() -> None:
    """Uniform bucket-level access, enforced public access prevention, never force-destroyed,
    in the given location and project, with the cloud name from the spec."""
    plan = plan_of(storage_program(BUCKETS, Captured(), access_logs=True))
    for bucket in of_type(plan, BUCKET):
        i = bucket.inputs
        assert i["uniformBucketLevelAccess"] is True, bucket.name
        assert i["publicAccessPrevention"] == "enforced", bucket.name
        assert i["forceDestroy"] is False, bucket.name
        assert i["location"] == REGION
        assert i["project"] == PROJECT
    for purpose in BUCKETS:
        assert inputs(plan, f"data-{purpose}")["name"] == f"{PROJECT}-test-{purpose}"


def test_buckets_versioning_defaults() -> None:
    """Versioning is on for checkpoints and models, off otherwise, unless the spec says."""
    buckets = {
        "checkpoints": BucketSpec(), "models": BucketSpec(), "datasets": BucketSpec(),
        "artifacts": BucketSpec(versioning=True), "weights": BucketSpec(),
    }
    plan = plan_of(storage_program(
        {**buckets, "models": BucketSpec(versioning=False)}, Captured()))
    got = {p: inputs(plan, f"data-{p}")["versioning"]["enabled"] for p in buckets}
    assert got == {"checkpoints": True, "models": False, "datasets": False, "artifacts": True,
                   "weights": False}


def test_buckets_soft_delete_and_retention() -> None:
    """Soft delete is the configured days in seconds (7 by default, 0 disables); a retention
    policy appears only when set, as a string of seconds."""
    plan = plan_of(storage_program(BUCKETS, Captured()))
    soft = {p: inputs(plan, f"data-{p}")["softDeletePolicy"]["retentionDurationSeconds"]
            for p in BUCKETS}
    assert soft == {"datasets": 7 * DAY, "checkpoints": 30 * DAY, "models": 7 * DAY, "scratch": 0}
    assert inputs(plan, "data-datasets")["retentionPolicy"] == {"retentionPeriod": str(30 * DAY)}
    for purpose in ("checkpoints", "models", "scratch"):
        assert "retentionPolicy" not in inputs(plan, f"data-{purpose}")


def test_buckets_labels_and_class() -> None:
    """Each bucket carries its data-classification and purpose labels over the stack's labels,
    its own labels, and its storage class."""
    buckets = {"datasets": BucketSpec(classification="restricted", labels={"owner": "data-eng"}),
               "scratch": BucketSpec(classification="public", storage_class="NEARLINE")}
    plan = plan_of(storage_program(buckets, Captured()))
    assert inputs(plan, "data-datasets")["labels"] == {
        "managed-by": "aidc", "environment": "test", "owner": "data-eng",
        "purpose": "datasets", "data-classification": "restricted"}
    assert inputs(plan, "data-scratch")["labels"]["data-classification"] == "public"
    assert inputs(plan, "data-scratch")["storageClass"] == "NEARLINE"
    assert inputs(plan, "data-datasets")["storageClass"] == "STANDARD"


def test_buckets_lifecycle_rules() -> None:
    """Every bucket aborts stale multipart uploads after 7 days; versioned ones drop noncurrent
    versions after 30; the user's rules follow, in order, as written."""
    buckets = {
        "checkpoints": BucketSpec(lifecycle=[
            {"action": "SetStorageClass", "age_days": 30, "storage_class": "NEARLINE"},
            {"action": "Delete", "age_days": 90, "noncurrent_only": True}]),
        "datasets": BucketSpec(),
    }
    plan = plan_of(storage_program(buckets, Captured()))
    assert inputs(plan, "data-checkpoints")["lifecycleRules"] == [
        {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": 7}},
        {"action": {"type": "Delete"}, "condition": {"daysSinceNoncurrentTime": 30}},
        {"action": {"type": "SetStorageClass", "storageClass": "NEARLINE"},
         "condition": {"age": 30, "withState": "ANY"}},
        {"action": {"type": "Delete"}, "condition": {"age": 90, "withState": "ARCHIVED"}},
    ]
    assert inputs(plan, "data-datasets")["lifecycleRules"] == [
        {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": 7}}]


def test_buckets_access_logs_for_confidential_and_above() -> None:
    """Confidential and restricted buckets write usage logs to the access-log bucket; internal
    and public ones do not; Cloud Storage's analytics group may create objects there."""
    plan = plan_of(storage_program(BUCKETS, Captured(), access_logs=True))
    log_name = f"{PROJECT}-test-access-logs"
    assert inputs(plan, "data-access-logs")["name"] == log_name
    for purpose, spec in BUCKETS.items():
        logging = inputs(plan, f"data-{purpose}").get("logging")
        if spec.classification in ("confidential", "restricted"):
            assert logging == {"logBucket": log_name}, purpose
        else:
            assert logging is None, purpose
    writer = inputs(plan, "data-access-logs-writer")
    assert writer == {"bucket": log_name, "role": "roles/storage.objectCreator",
                      "member": "group:cloud-storage-analytics@google.com"}


# ---------------------------------------------------------------------------------------------
# FilestoreShare


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


# ---------------------------------------------------------------------------------------------
# the three stacks, as composed by infra/platform.py


@pytest.fixture(scope="module")
def stack_plans() -> dict[str, Plan]:
    return {env: plan_stack_file(STACKS_DIR / f"Pulumi.{env}.yaml", env) for env in STACKS}


@pytest.mark.parametrize("env", STACKS)
def test_stack_stateful_resources_protected(stack_plans: dict[str, Plan], env: str) -> None:
    """In every stack keys, rings and Filestore are protected; buckets are protected in prod
    and only there."""
    plan = stack_plans[env]
    assert all(r.protect for r in of_type(plan, CRYPTO_KEY) + of_type(plan, KEY_RING))
    assert all(r.protect for r in of_type(plan, FILESTORE))
    buckets = of_type(plan, BUCKET)
    assert buckets
    assert {b.protect for b in buckets} == {env == "prod"}


@pytest.mark.parametrize("env", STACKS)
def test_stack_buckets_use_storage_key(stack_plans: dict[str, Plan], env: str) -> None:
    """In every stack each bucket is encrypted with the stack's storage key and ordered after
    the GCS agent's grant on it; URNs are unique."""
    plan = stack_plans[env]
    key = by_name(plan, "kms-storage")
    grant = by_name(plan, "kms-storage-agent")
    key_id = grant.inputs["cryptoKeyId"]  # the storage key's id, as the engine resolved it
    assert key_id.endswith("/cryptoKeys/storage")
    for bucket in of_type(plan, BUCKET):
        assert bucket.inputs["encryption"]["defaultKmsKeyName"] == key_id, bucket.name
        assert grant.urn in bucket.dependencies, bucket.name
        assert key.urn in bucket.property_dependencies["encryption"], bucket.name
    urns = [r.urn for r in plan.resources]
    assert len(urns) == len(set(urns))


@pytest.mark.parametrize("env", STACKS)
def test_stack_data_access_audit_logs_only_where_configured(stack_plans: dict[str, Plan],
                                                           env: str) -> None:
    """storage.data_access_logs (prod) adds one project audit config for Cloud Storage that logs
    reads and writes of data, with nobody exempted; the other stacks pay for no such logs."""
    configs = of_type(stack_plans[env], "gcp:projects/iAMAuditConfig:IAMAuditConfig")
    if env != "prod":
        assert configs == []
        return
    (audit,) = configs
    assert audit.inputs["service"] == "storage.googleapis.com"
    assert audit.inputs["project"] == "acme-ai-prod"
    logged = {c["logType"]: c for c in audit.inputs["auditLogConfigs"]}
    assert {"DATA_READ", "DATA_WRITE"} <= set(logged)
    assert not any(c.get("exemptedMembers") for c in logged.values())


@pytest.mark.parametrize("env", STACKS)
def test_stack_enables_the_apis_its_sections_call(stack_plans: dict[str, Plan], env: str) -> None:
    """GKE with a cluster, Storage Transfer with transfers and Pub/Sub with notifications (only
    staging has a notifying transfer); every `enabled(...)` the composition asks for is managed,
    or the plan would not have been built."""
    apis = {r.inputs["service"] for r in of_type(stack_plans[env], SERVICE)}
    assert "container.googleapis.com" in apis
    transfers = env == "staging"
    assert ("storagetransfer.googleapis.com" in apis) is transfers
    assert ("pubsub.googleapis.com" in apis) is transfers
