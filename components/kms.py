"""KmsKeys: a key ring, one key per purpose, and the service-agent grants that CMEK needs."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp
from pydantic import Field, field_validator

from infra.config.base import Classification, Spec
from infra.config.encryption import KEY_PURPOSES, EncryptionConfig, KeyPurpose
from policies.protocol import CLASSIFICATION_LABEL

ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
SECONDS_PER_DAY = 86400

# The Google-managed service agent that encrypts with each purpose's key.
# https://cloud.google.com/storage/docs/encryption/customer-managed-keys#service-agent-access
# https://cloud.google.com/filestore/docs/cmek#grant_permissions
# https://cloud.google.com/kubernetes-engine/docs/how-to/encrypting-secrets#grant_permission
# https://cloud.google.com/compute/docs/disks/customer-managed-encryption#before_you_begin
AGENT_DOMAINS = {
    "filestore": "cloud-filer.iam.gserviceaccount.com",
    "gke": "container-engine-robot.iam.gserviceaccount.com",
    "disks": "compute-system.iam.gserviceaccount.com",
}


class KmsSpec(Spec):
    """`key_ring` is the ring's id (`infra.gcp.naming.key_ring_id`); `config` the stack's
    `aidc:encryption` section (protection level, rotation, destroy delay)."""

    key_ring: str
    location: str
    config: EncryptionConfig = Field(default_factory=EncryptionConfig)
    purposes: tuple[KeyPurpose, ...] = KEY_PURPOSES
    classification: Classification = Field("confidential", description=(
        "The most sensitive data the keys protect, written as each key's data-classification "
        "label (the policy pack keys HSM and rotation rules off it). Omitted: confidential, "
        "as the pack assumes for unlabelled data."))
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("labels")
    @classmethod
    def _classification_has_one_owner(cls, value: dict[str, str]) -> dict[str, str]:
        if CLASSIFICATION_LABEL in value:
            raise ValueError(f"labels[{CLASSIFICATION_LABEL!r}]: set `classification` instead; "
                             "it writes that label")
        return value


def agent_email(purpose: str, project_number: str) -> str:
    return f"service-{project_number}@{AGENT_DOMAINS[purpose]}"


class KmsKeys(pulumi.ComponentResource):
    """Keys are protected: destroying one makes every byte it encrypted unreadable.

    `grants[purpose]` are the IAM members that let the purpose's service agent use its key;
    anything encrypted with a key must `depends_on` them, or its creation races the grant.
    """

    key_ring: gcp.kms.KeyRing
    keys: dict[str, gcp.kms.CryptoKey]
    key_ids: dict[str, pulumi.Output[str]]
    grants: dict[str, list[gcp.kms.CryptoKeyIAMMember]]

    def __init__(self, name: str, spec: KmsSpec, *, project: str,
                 depends_on: Sequence[pulumi.Resource] = (),
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aidc:kms:KmsKeys", name, None, opts)
        cfg = spec.config
        self.key_ring = gcp.kms.KeyRing(
            f"{name}-ring", name=spec.key_ring, location=spec.location, project=project,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on), protect=True))
        self.keys = {
            purpose: gcp.kms.CryptoKey(
                f"{name}-{purpose}",
                name=purpose,
                key_ring=self.key_ring.id,
                purpose="ENCRYPT_DECRYPT",
                rotation_period=f"{cfg.rotation_days * SECONDS_PER_DAY}s",
                destroy_scheduled_duration=f"{cfg.destroy_scheduled_days * SECONDS_PER_DAY}s",
                version_template=gcp.kms.CryptoKeyVersionTemplateArgs(
                    algorithm="GOOGLE_SYMMETRIC_ENCRYPTION",
                    protection_level=cfg.protection_level,
                ),
                labels={**spec.labels, CLASSIFICATION_LABEL: spec.classification,
                        "purpose": purpose},
                opts=pulumi.ResourceOptions(parent=self, protect=True),
            )
            for purpose in spec.purposes
        }
        self.key_ids = {p: k.id for p, k in self.keys.items()}
        agents = self._agents(project)
        self.grants = {purpose: [gcp.kms.CryptoKeyIAMMember(
            f"{name}-{purpose}-agent",
            crypto_key_id=self.keys[purpose].id,
            role=ENCRYPTER_DECRYPTER,
            member=pulumi.Output.concat("serviceAccount:", agents[purpose]),
            opts=pulumi.ResourceOptions(parent=self),
        )] for purpose in spec.purposes}
        self.register_outputs({"key_ring": self.key_ring, "keys": self.keys,
                               "key_ids": self.key_ids, "grants": self.grants})

    def _agents(self, project: str) -> dict[str, pulumi.Input[str]]:
        """Each purpose's service agent e-mail: GCS's from its lookup, the others from the
        project number."""
        number = gcp.organizations.get_project_output(project_id=project).number
        agents: dict[str, pulumi.Input[str]] = {
            "storage": gcp.storage.get_project_service_account_output(project=project).email_address}
        for purpose in AGENT_DOMAINS:
            agents[purpose] = number.apply(lambda n, p=purpose: agent_email(p, n))
        return agents

    def grant(self, name: str, purpose: str, member: pulumi.Input[str]) -> gcp.kms.CryptoKeyIAMMember:
        """Let one more identity use a purpose's key (e.g. a transfer agent); returns the grant."""
        member_grant = gcp.kms.CryptoKeyIAMMember(
            name, crypto_key_id=self.keys[purpose].id, role=ENCRYPTER_DECRYPTER, member=member,
            opts=pulumi.ResourceOptions(parent=self))
        self.grants[purpose].append(member_grant)
        return member_grant
