"""KmsKeys: a key ring, one key per purpose, and the service-agent grants that CMEK needs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_gcp as gcp
from pydantic import Field, field_validator

from components.services import ServiceAgentRef, agent_ref
from infra.config.base import Classification, Spec
from infra.config.encryption import KEY_PURPOSES, EncryptionConfig, KeyPurpose
from infra.gcp import naming
from infra.gcp.labels import PURPOSE_LABEL
from policies.protocol import CLASSIFICATION_LABEL

ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
SECONDS_PER_DAY = 86400

# The Google service whose agent encrypts with each purpose's key; the agents themselves (their
# e-mail and how each comes to exist) are in infra.catalog.apply_facts.SERVICE_AGENTS.
# https://cloud.google.com/storage/docs/encryption/customer-managed-keys#service-agent-access
# https://cloud.google.com/filestore/docs/cmek#grant_permissions
# https://cloud.google.com/kubernetes-engine/docs/how-to/encrypting-secrets#grant_permission
# https://cloud.google.com/compute/docs/disks/customer-managed-encryption#before_you_begin
PURPOSE_APIS = {
    "storage": "storage.googleapis.com",
    "filestore": "file.googleapis.com",
    "gke": "container.googleapis.com",
    "disks": "compute.googleapis.com",
}


class KmsSpec(Spec):
    """`key_ring` is the ring's id (`infra.gcp.naming.key_ring_id`); `config` the stack's
    `aidc:encryption` section (protection level, rotation, destroy delay)."""

    key_ring: str = Field(description="The key ring's id.")
    location: str = Field(description="The ring's location: the region of what it encrypts.")
    config: EncryptionConfig = Field(default_factory=EncryptionConfig,
                                     description="The stack's `aidc:encryption` section.")
    purposes: tuple[KeyPurpose, ...] = Field(
        KEY_PURPOSES, description="One key per purpose, each granted to its service agent.")
    extra_keys: tuple[str, ...] = Field(
        (), description="Keys with the same settings that no service agent uses, granted to "
                        "nobody here (e.g. the bootstrap's keys for Pulumi's gcpkms:// secrets "
                        "provider, granted per deployer). Default none.")
    classification: Classification = Field("confidential", description=(
        "The most sensitive data the keys protect, written as each key's data-classification "
        "label (the policy pack keys HSM and rotation rules off it). Omitted: confidential, "
        "as the pack assumes for unlabelled data."))
    labels: dict[str, str] = Field(default_factory=dict, description="GCP labels on each key.")

    @field_validator("extra_keys")
    @classmethod
    def _extra_keys(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for key in value:
            naming.check_kms_id(key, "key id")
            if key in KEY_PURPOSES:
                raise ValueError(f"{key!r} is a purpose's key; list it in `purposes`")
        return value

    @field_validator("labels")
    @classmethod
    def _classification_has_one_owner(cls, value: dict[str, str]) -> dict[str, str]:
        if CLASSIFICATION_LABEL in value:
            raise ValueError(f"labels[{CLASSIFICATION_LABEL!r}]: set `classification` instead; "
                             "it writes that label")
        return value


class KmsKeys(pulumi.ComponentResource):
    """Keys are protected: destroying one makes every byte it encrypted unreadable.

    `grants[purpose]` are the IAM members that let the purpose's service agent use its key;
    anything encrypted with a key must `depends_on` them, or its creation races the grant.
    Each grant waits for its agent (`agents`, from `ProjectServices.agent`: the agent's
    ServiceIdentity or its API), which on a fresh project does not exist yet; without `agents`
    the members are derived from the project and nothing orders them.
    """

    key_ring: gcp.kms.KeyRing
    keys: dict[str, gcp.kms.CryptoKey]
    key_ids: dict[str, pulumi.Output[str]]
    grants: dict[str, list[gcp.kms.CryptoKeyIAMMember]]

    def __init__(self, name: str, spec: KmsSpec, *, project: str,
                 agents: Mapping[str, ServiceAgentRef] | None = None,
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
                        PURPOSE_LABEL: purpose},
                opts=pulumi.ResourceOptions(parent=self, protect=True),
            )
            for purpose in (*spec.purposes, *spec.extra_keys)
        }
        self.key_ids = {p: k.id for p, k in self.keys.items()}
        if agents is None:
            agents = {p: agent_ref(PURPOSE_APIS[p], project) for p in spec.purposes}
        self.grants = {purpose: [gcp.kms.CryptoKeyIAMMember(
            f"{name}-{purpose}-agent",
            crypto_key_id=self.keys[purpose].id,
            role=ENCRYPTER_DECRYPTER,
            member=agents[purpose].member,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(agents[purpose].ready)),
        )] for purpose in spec.purposes}
        self.register_outputs({"key_ring": self.key_ring, "keys": self.keys,
                               "key_ids": self.key_ids, "grants": self.grants})

    def grant(self, name: str, purpose: str, member: pulumi.Input[str]) -> gcp.kms.CryptoKeyIAMMember:
        """Let one more identity use a purpose's key (e.g. a transfer agent); returns the grant."""
        member_grant = gcp.kms.CryptoKeyIAMMember(
            name, crypto_key_id=self.keys[purpose].id, role=ENCRYPTER_DECRYPTER, member=member,
            opts=pulumi.ResourceOptions(parent=self))
        self.grants[purpose].append(member_grant)
        return member_grant
