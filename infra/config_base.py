"""The base every config model shares: immutable, and unknown keys are errors."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from infra import labels as label_rules

Labels = dict[str, str]


class Spec(BaseModel):
    """Base of every config model and component spec: frozen, extra keys forbidden."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def check_label_map(value: Labels) -> Labels:
    return label_rules.check_labels(value)
