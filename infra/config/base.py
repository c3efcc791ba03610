"""What every config model shares: immutable, unknown keys are errors, labels GCP accepts, and
the one set of data classifications (the policy pack's, so both sides read the same names)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict

from infra.errors import Problem, raise_problems
from infra.gcp.labels import check_labels
from policies.protocol import CLASSIFICATIONS


def _distinct(values: list[str]) -> list[str]:
    """Each item once: a zone or API listed twice is a typo GCP would refuse or silently fold."""
    raise_problems([Problem((i,), f"{v!r} is listed twice (first as [{values.index(v)}])")
                    for i, v in enumerate(values) if values.index(v) != i])
    return values


Labels = Annotated[dict[str, str], AfterValidator(check_labels)]
Distinct = Annotated[list[str], AfterValidator(_distinct)]
Classification = Literal[CLASSIFICATIONS]  # type: ignore[valid-type]


class Spec(BaseModel):
    """Base of every config model and component spec: frozen, extra keys forbidden."""

    model_config = ConfigDict(frozen=True, extra="forbid")
