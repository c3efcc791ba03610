"""Encryption policies (D2, E2-E7), judged through the analyzer protocol by the real pack."""

from __future__ import annotations

import json

import pytest

from tests.policy_fixtures import (
    BUCKET,
    CLUSTER,
    CRYPTO_KEY,
    CRYPTO_KEY_IAM_MEMBER,
    DELETE,
    DISK,
    FILESTORE,
    GOLDEN,
    INSTANCE,
    INSTANCE_TEMPLATE,
    KEY_RING_IAM_BINDING,
    NODE_POOL,
    Case,
    analyzer,  # noqa: F401 (module fixture)
    assert_case,
    case_id,
    mutate,
)

LABEL = ("labels", "data-classification")
_NODE_KEY = ("nodeConfig", "bootDiskKmsKey")
_INTERNAL_DISK = mutate(GOLDEN[DISK], {LABEL: "internal", "diskEncryptionKey": DELETE})

CASES = [
    # D2 cmek-required-by-classification
    Case("cmek-required-by-classification", BUCKET, {"encryption": DELETE},
         expect="restricted bucket"),
    Case("cmek-required-by-classification", FILESTORE, {"kmsKeyName": DELETE}),
    Case("cmek-required-by-classification", CLUSTER,
         {("databaseEncryption", "state"): "DECRYPTED"}),
    Case("cmek-required-by-classification", CLUSTER, {"databaseEncryption": DELETE},
         expect="'DECRYPTED'", why="omitted: the provider default DECRYPTED"),
    Case("cmek-required-by-classification", BUCKET,
         inputs=mutate(GOLDEN[BUCKET], {LABEL: DELETE, "encryption": DELETE}),
         expect="(unlabelled)", why="unlabelled data counts as confidential"),
    Case("cmek-required-by-classification", BUCKET, fails=False),
    Case("cmek-required-by-classification", FILESTORE, fails=False),
    Case("cmek-required-by-classification", CLUSTER, fails=False),
    Case("cmek-required-by-classification", BUCKET,
         inputs=mutate(GOLDEN[BUCKET], {LABEL: "internal", "encryption": DELETE}),
         fails=False, not_applicable=True, why="internal data may use Google-managed keys"),
    Case("cmek-required-by-classification", FILESTORE, {"kmsKeyName": DELETE}, fails=False,
         not_applicable=True,
         config={"cmek-required-by-classification": {"cmekMinClassification": "restricted"}},
         why="threshold raised to restricted"),
    # E2 kms-rotation-max
    Case("kms-rotation-max", CRYPTO_KEY, {"rotationPeriod": "15552000s"}, expect="180 days"),
    Case("kms-rotation-max", CRYPTO_KEY, {"rotationPeriod": DELETE}, expect="never rotates"),
    Case("kms-rotation-max", CRYPTO_KEY, {"rotationPeriod": "ninety days"}),
    Case("kms-rotation-max", CRYPTO_KEY, fails=False),
    Case("kms-rotation-max", CRYPTO_KEY, {"rotationPeriod": "15552000s"}, fails=False,
         config={"kms-rotation-max": {"kmsMaxRotationDays": 180}}),
    Case("kms-rotation-max", CRYPTO_KEY,
         {"purpose": "ASYMMETRIC_SIGN", "rotationPeriod": DELETE}, fails=False,
         not_applicable=True, why="asymmetric keys cannot auto-rotate"),
    # E3 kms-not-public
    Case("kms-not-public", CRYPTO_KEY_IAM_MEMBER, {"member": "allUsers"}),
    Case("kms-not-public", KEY_RING_IAM_BINDING, {"members": ["allAuthenticatedUsers"]}),
    Case("kms-not-public", "gcp:kms/cryptoKeyIAMPolicy:CryptoKeyIAMPolicy",
         inputs={"cryptoKeyId": "k", "policyData": json.dumps({"bindings": [
             {"role": "roles/cloudkms.cryptoKeyDecrypter", "members": ["allUsers"]}]})}),
    Case("kms-not-public", CRYPTO_KEY_IAM_MEMBER, fails=False),
    Case("kms-not-public", KEY_RING_IAM_BINDING, fails=False),
    # E4 gke-node-boot-disk-cmek
    Case("gke-node-boot-disk-cmek", NODE_POOL, {_NODE_KEY: DELETE}),
    Case("gke-node-boot-disk-cmek", CLUSTER, {"removeDefaultNodePool": False},
         why="the kept default pool's boot disks"),
    Case("gke-node-boot-disk-cmek", NODE_POOL,
         {_NODE_KEY: DELETE, ("nodeConfig", "resourceLabels"): DELETE},
         why="unlabelled node pool counts as confidential"),
    Case("gke-node-boot-disk-cmek", NODE_POOL, fails=False),
    Case("gke-node-boot-disk-cmek", CLUSTER, fails=False),
    Case("gke-node-boot-disk-cmek", NODE_POOL,
         {_NODE_KEY: DELETE, ("nodeConfig", "resourceLabels", "data-classification"): "internal"},
         fails=False, not_applicable=True, why="internal pool"),
    # E5 kms-key-protected
    Case("kms-key-protected", CRYPTO_KEY, {"destroyScheduledDuration": "86400s"},
         expect="1 days"),
    Case("kms-key-protected", CRYPTO_KEY, {"destroyScheduledDuration": "soon"}),
    Case("kms-key-protected", CRYPTO_KEY, config={"kms-key-protected": {"kmsRequireProtect": True}},
         expect="not protected", why="prod requires protect"),
    Case("kms-key-protected", CRYPTO_KEY, fails=False),
    Case("kms-key-protected", CRYPTO_KEY, {"destroyScheduledDuration": DELETE}, fails=False,
         why="omitted: the provider's 30 days"),
    Case("kms-key-protected", CRYPTO_KEY, fails=False, protect=True,
         config={"kms-key-protected": {"kmsRequireProtect": True}}),
    # E6 kms-hsm-for-restricted
    Case("kms-hsm-for-restricted", CRYPTO_KEY,
         {("versionTemplate", "protectionLevel"): "SOFTWARE"}),
    Case("kms-hsm-for-restricted", CRYPTO_KEY, {("versionTemplate", "protectionLevel"): DELETE},
         expect="'SOFTWARE'", why="omitted: the provider default SOFTWARE"),
    Case("kms-hsm-for-restricted", CRYPTO_KEY, fails=False),
    Case("kms-hsm-for-restricted", CRYPTO_KEY,
         {("versionTemplate", "protectionLevel"): "SOFTWARE", LABEL: "confidential"},
         fails=False, not_applicable=True, why="confidential key"),
    Case("kms-hsm-for-restricted", CRYPTO_KEY, {("versionTemplate", "protectionLevel"): "SOFTWARE"},
         fails=False, not_applicable=True,
         config={"kms-hsm-for-restricted": {"kmsRequireHsmForRestricted": False}}),
    # E7 disk-cmek
    Case("disk-cmek", DISK, {"diskEncryptionKey": DELETE}),
    Case("disk-cmek", INSTANCE, {("bootDisk", "kmsKeySelfLink"): DELETE}),
    Case("disk-cmek", INSTANCE_TEMPLATE, {("disks", 0, "diskEncryptionKey"): DELETE}),
    Case("disk-cmek", DISK, {"diskEncryptionKey": DELETE, "labels": DELETE},
         why="unlabelled disk counts as confidential"),
    Case("disk-cmek", DISK, fails=False),
    Case("disk-cmek", INSTANCE, fails=False),
    Case("disk-cmek", INSTANCE_TEMPLATE, fails=False),
    Case("disk-cmek", DISK, {"diskEncryptionKey": {"rawKey": "[secret]"}}, fails=False,
         why="a customer-supplied key"),
    Case("disk-cmek", DISK, inputs=_INTERNAL_DISK, fails=False, not_applicable=True,
         why="internal disk"),
    # A duration that does not parse fails, saying so: not a number, NaN, negative, another unit.
    *(Case("kms-rotation-max", CRYPTO_KEY, {"rotationPeriod": raw}, expect="is not a duration",
           why=f"rotationPeriod {raw}") for raw in ("NaNs", "nan", "-86400s", "90d", "inf")),
    Case("kms-key-protected", CRYPTO_KEY, {"destroyScheduledDuration": "NaNs"},
         expect="is not a duration"),
]


@pytest.mark.parametrize("case", [c for c in CASES if c.fails], ids=case_id)
def test_flags_violation(analyzer, case: Case) -> None:  # noqa: F811
    """Each departure from the golden resource is a violation of the policy it breaks."""
    assert_case(analyzer, case)


@pytest.mark.parametrize("case", [c for c in CASES if not c.fails], ids=case_id)
def test_passes_compliant(analyzer, case: Case) -> None:  # noqa: F811
    """Golden resources, safe provider defaults and classifications below the bar pass."""
    assert_case(analyzer, case)


def test_flags_csek_key_without_echoing_it(analyzer) -> None:  # noqa: F811
    """Raw disk keys are only tested for presence: the value never reaches a report."""
    secret = "c2VjcmV0LWtleS1tYXRlcmlhbC0xMjM0NTY3ODkwMTI="
    result = assert_case(analyzer, Case(
        "disk-cmek", INSTANCE, {("bootDisk", "kmsKeySelfLink"): DELETE,
                                ("bootDisk", "diskEncryptionKeyRaw"): secret}, fails=False))
    assert secret not in json.dumps(result.as_dict())
