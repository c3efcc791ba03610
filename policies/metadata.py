"""The pack's roster: every policy's metadata record, assembled from the concern modules.

Each concern module (public_access, classification, ...) holds its rules, each beside its
`PolicyMeta` record (policies/record.py), and lists them in `RULES`. This module puts them
together: `POLICIES` (by id, in roster order), `BY_NAME`, `POLICY_NAMES`, `CONCERNS`, `RULES`.

Pure data and pure functions, no pulumi-policy import: `infra.config.policy` reads the roster to
validate policy names and to generate the stack's settings, and the pack (`policies/pack.py`)
turns each record and its rule into a pulumi-policy policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from . import (
    classification,
    compute,
    encryption,
    gke,
    iam,
    kubernetes,
    logging_monitoring,
    network,
    public_access,
    tenancy,
)
from .record import PolicyMeta, Rule

_MODULES = (public_access, classification, encryption, iam, network, gke, compute, kubernetes,
            logging_monitoring, tenancy)
CONCERNS: tuple[str, ...] = tuple(m.__name__.rsplit(".", 1)[-1] for m in _MODULES)
# The roster goes concern by concern, each module's policies in its own order, except D2: an
# encryption rule listed with the data-classification policies, after D1, where reports and
# `aidc policy list` have always shown it.
_LISTED_AFTER = {"D2": "D1"}


def _roster() -> tuple[tuple[PolicyMeta, Rule], ...]:
    listed: list[tuple[PolicyMeta, Rule]] = []
    placed: list[tuple[PolicyMeta, Rule]] = []
    for module, concern in zip(_MODULES, CONCERNS):
        for record, rule in module.RULES:
            if record.concern != concern:
                raise ValueError(f"policy {record.id} is listed outside its concern module")
            (placed if record.id in _LISTED_AFTER else listed).append((record, rule))
    for record, rule in placed:
        after = next(i for i, (r, _) in enumerate(listed) if r.id == _LISTED_AFTER[record.id])
        listed.insert(after + 1, (record, rule))
    return tuple(listed)


_ROSTER = _roster()
POLICIES: Mapping[str, PolicyMeta] = MappingProxyType({m.id: m for m, _ in _ROSTER})
BY_NAME: Mapping[str, PolicyMeta] = MappingProxyType({m.name: m for m, _ in _ROSTER})
POLICY_NAMES: tuple[str, ...] = tuple(m.name for m, _ in _ROSTER)
RULES: Mapping[str, Rule] = MappingProxyType({m.id: rule for m, rule in _ROSTER})

if len(POLICIES) != len(_ROSTER) or len(BY_NAME) != len(_ROSTER):
    raise ValueError("policy ids and names must be unique")


def meta(policy_id: str) -> PolicyMeta:
    """The record of one policy, by id ("P1")."""
    return POLICIES[policy_id]


def all_config_properties() -> dict[str, dict[str, Any]]:
    """Every config property any policy declares (same name = same meaning, same default)."""
    out: dict[str, dict[str, Any]] = {}
    for record in POLICIES.values():
        for key, schema in record.config.items():
            if key in out and out[key].get("default") != schema.get("default"):
                raise ValueError(f"config property {key} has two defaults")
            out[key] = dict(schema)
    return out
