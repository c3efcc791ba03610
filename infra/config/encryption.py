"""`aidc:encryption`: the Cloud KMS key ring and its keys."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from infra.config.base import Spec
from infra.gcp import naming

KeyPurpose = Literal["storage", "filestore", "gke", "disks"]
KEY_PURPOSES: tuple[KeyPurpose, ...] = ("storage", "filestore", "gke", "disks")


class EncryptionConfig(Spec):
    """Cloud KMS: one key ring, one key per purpose, so a key's blast radius is one service."""

    key_ring: str = Field("aidc", description="Key ring id prefix; the ring is '<key_ring>-<env>'.")
    protection_level: Literal["SOFTWARE", "HSM"] = Field(
        "SOFTWARE", description="HSM keeps key material in Cloud HSM (FIPS 140-2 L3).")
    rotation_days: int = Field(
        90, ge=1, le=365 * 100,
        description="Automatic rotation period; CIS GCP 1.10 asks for 90 days or less.")
    destroy_scheduled_days: int = Field(
        30, ge=1, le=120,
        description="Days a destroyed key version stays recoverable (provider default 30).")

    @field_validator("key_ring")
    @classmethod
    def _ring(cls, v: str) -> str:
        return naming.check_kms_id(v)
