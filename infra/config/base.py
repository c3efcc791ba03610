"""What every config model shares: immutable, unknown keys are errors, labels GCP accepts, and
the one set of data classifications (the policy pack's, so both sides read the same names)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict

from infra.gcp.labels import check_labels
from policies.protocol import CLASSIFICATIONS

Labels = Annotated[dict[str, str], AfterValidator(check_labels)]
Classification = Literal[CLASSIFICATIONS]  # type: ignore[valid-type]


class Spec(BaseModel):
    """Base of every config model and component spec: frozen, extra keys forbidden."""

    model_config = ConfigDict(frozen=True, extra="forbid")
