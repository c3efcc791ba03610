"""KmsKeys built alone under the mocks: the protected ring and keys, each key's settings from the
`aidc:encryption` section, and the service-agent grants CMEK needs."""

from __future__ import annotations

from typing import Any

import pytest

from components.kms import KmsKeys, KmsSpec
from components.services import ProjectServices
from infra.config.encryption import EncryptionConfig
from tests.helpers import (
    PROJECT,
    REGION,
    Captured,
    agent,
    by_name,
    contract,
    inputs,
    of_type,
    plan_of,
)

CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
KEY_IAM = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
KEY_RING = "gcp:kms/keyRing:KeyRing"
ENCRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
DAY = 86400


def kms_spec(purposes: tuple[str, ...] | None = None, labels: dict[str, str] | None = None,
             **encryption: Any) -> KmsSpec:
    """The test key ring; keyword arguments are the `aidc:encryption` section's."""
    return KmsSpec(key_ring="aidc-test", location=REGION, config=EncryptionConfig(**encryption),
                   **({"purposes": purposes} if purposes else {}), labels=labels or {})


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
        assert key["labels"] == {"team": "ml", "purpose": purpose,
                                 "data-classification": "confidential"}


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


def test_key_classification_is_the_specs_and_has_one_owner() -> None:
    """Every key carries `classification` as its data-classification label (confidential when
    omitted, as the pack assumes for unlabelled data); the label cannot also be set by hand."""
    plan = plan_of(lambda: KmsKeys("kms", KmsSpec(key_ring="aidc-test", location=REGION,
                                                  classification="restricted"), project=PROJECT))
    keys = [r for r in plan.resources if r.type == "gcp:kms/cryptoKey:CryptoKey"]
    assert keys and {k.inputs["labels"]["data-classification"] for k in keys} == {"restricted"}
    with pytest.raises(ValueError, match="set `classification` instead"):
        KmsSpec(key_ring="r", location=REGION, labels={"data-classification": "public"})
