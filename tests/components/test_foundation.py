"""The foundation layers (services, keys, network, buckets, Filestore) as infra/platform.py
composes them in the three shipped stacks. Each component on its own is tested in its module
(test_services.py, test_kms.py, test_network.py, test_storage.py, test_filestore.py)."""

from __future__ import annotations

import pytest

from infra.config.load import config_from_flat
from infra.engine.plan import Plan
from infra.platform import Platform
from tests.helpers import (
    STACKS,
    STACKS_DIR,
    by_name,
    of_type,
    plan_of,
    plan_stack_file,
    stack_config,
)

BUCKET = "gcp:storage/bucket:Bucket"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
KEY_RING = "gcp:kms/keyRing:KeyRing"
SERVICE = "gcp:projects/service:Service"
FILESTORE = "gcp:filestore/instance:Instance"


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


def test_transfer_without_notifications_waits_for_storage_transfer_only() -> None:
    """A transfer job that does not notify calls no Pub/Sub: the stack enables Storage Transfer
    but not Pub/Sub (APIs are enabled as resources call them), and the job waits for exactly
    the API it calls."""
    flat = {**stack_config("dev"), "aidc:transfers": {"imagenet": {
        "source": "s3://acme-datasets/imagenet/", "sink_bucket": "datasets",
        "role_arn": "arn:aws:iam::123456789012:role/gcp-sts-reader", "schedule": "once",
        "start_date": "2027-01-04"}}}
    cfg = config_from_flat(flat, source="dev")
    plan = plan_of(lambda: Platform(cfg), config=flat, project="aidc", stack="dev")
    apis = {r.inputs["service"]: r.urn for r in of_type(plan, SERVICE)}
    assert "pubsub.googleapis.com" not in apis
    job = by_name(plan, "transfer-imagenet-job")
    assert apis["storagetransfer.googleapis.com"] in job.dependencies
    assert not set(apis.values()) - {apis["storagetransfer.googleapis.com"]} & set(job.dependencies)


@pytest.mark.parametrize("env", STACKS)
def test_stack_monitoring_watches_the_resources_by_their_names(stack_plans: dict[str, Plan],
                                                               env: str) -> None:
    """The alerts name what the stack creates: the cluster, the Filestore instance, the NAT
    gateway and every KMS key exactly as those resources are named and identified in the plan
    (monitoring takes the names as plain strings, computed the same way)."""
    plan = stack_plans[env]
    filters = {r.name.removeprefix("monitoring-alert-"):
               "\n".join(body.get("filter", "") for c in r.inputs["conditions"]
                         for key, body in c.items() if key.startswith("condition"))
               for r in of_type(plan, "gcp:monitoring/alertPolicy:AlertPolicy")}
    name = {r: by_name(plan, r).inputs["name"] for r in ("gke-cluster", "share-instance", "net-nat")}
    assert f'cluster_name="{name["gke-cluster"]}"' in filters["autoscaler-scale-up-failed"]
    assert f'instance_name="{name["share-instance"]}"' in filters["filestore-capacity"]
    assert f'gateway_name="{name["net-nat"]}"' in filters["nat-port-exhaustion"]
    for purpose in ("storage", "filestore", "gke", "disks"):
        key_id = by_name(plan, f"kms-{purpose}-agent").inputs["cryptoKeyId"]
        assert f"{key_id}/cryptoKeyVersions/" in filters["kms-key-disabled"], purpose
