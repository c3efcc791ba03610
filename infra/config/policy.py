"""The policy pack's settings in a stack file (`aidc:policy`), and the pack config they become.

A stack says how strict the pack is (`enforcement`, per-policy `overrides`), tunes thresholds and
allow lists, and waives single findings with a reason. `to_pack_config()` turns that into exactly
the JSON that `pulumi preview --policy-pack policies/ --policy-pack-config FILE` and the Configure
RPC take, so the offline check and the real CLI reach the same verdict from the same settings.

The thresholds and allow lists are not written here. Each is a config property the pack declares
once, beside the policies that read it, with its type, default, bounds and description
(`policies.metadata.all_config_properties()`); `PolicySettings` has one field per property, its
name the property's in snake_case (`kmsMaxRotationDays` -> `kms_max_rotation_days`). So a new
threshold is one edit, in the pack. What is written here is what only a stack says: the
enforcement levels, the waivers, and checks JSON schema cannot state (CIDR syntax).

Policy names are checked against the pack's roster (`policies.metadata`): a typo is an error.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from policies.metadata import POLICIES, POLICY_NAMES, all_config_properties
from policies.protocol import ENFORCEMENTS

PackEnforcement = Literal["default", "advisory", "mandatory"]
PolicyEnforcement = Literal[ENFORCEMENTS]  # type: ignore[valid-type]

_JSON_TYPES: dict[str, type] = {"string": str, "boolean": bool, "integer": int, "number": float}
_BOUNDS = {"minimum": "ge", "maximum": "le", "exclusiveMinimum": "gt", "exclusiveMaximum": "lt",
           "minLength": "min_length", "maxLength": "max_length"}


def field_name(prop: str) -> str:
    """The settings field of a pack config property (`kmsMaxRotationDays` ->
    `kms_max_rotation_days`)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", prop).lower()


def _annotation(schema: Mapping[str, Any], prop: str) -> Any:
    """The Python type of a JSON schema: type, enum and bounds (array items too)."""
    if "enum" in schema:
        base: Any = Literal[tuple(schema["enum"])]
    elif schema.get("type") == "array":
        base = list[_annotation(schema.get("items", {}), prop)]  # type: ignore[misc]
    elif schema.get("type") in _JSON_TYPES:
        base = _JSON_TYPES[schema["type"]]
    else:
        raise TypeError(f"pack config property {prop}: no setting type for schema {dict(schema)}")
    bounds = {arg: schema[key] for key, arg in _BOUNDS.items() if key in schema}
    return Annotated[base, Field(**bounds)] if bounds else base


def threshold_fields(properties: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """`create_model` field definitions for the pack's config properties, by settings name."""
    fields: dict[str, Any] = {}
    for prop, schema in properties.items():
        name = field_name(prop)
        if name in fields:
            raise ValueError(f"pack config properties {prop} and another both map to {name}")
        default, description = schema["default"], schema.get("description")
        if isinstance(default, list):  # a fresh list for every instance
            info = Field(default_factory=lambda value=tuple(default): list(value),
                         description=description)
        else:
            info = Field(default, description=description)
        fields[name] = (_annotation(schema, prop), info)
    return fields


# Settings field → the pack config property it sets (on every policy that declares it).
PROPERTY_OF_FIELD: dict[str, str] = {field_name(p): p for p in all_config_properties()}


def _check_policy_name(name: str, where: str) -> str:
    """A pack policy's name or an aidc plan check's (`infra.check.plan_checks`): both take the
    stack's overrides and waivers."""
    from infra.check.plan_checks import plan_check_names

    if name in POLICY_NAMES or name in plan_check_names():
        return name
    known = [*POLICY_NAMES, *plan_check_names()]
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(f"{where}: unknown policy {name!r}{hint}; the pack's policies are: "
                     f"{', '.join(POLICY_NAMES)}; aidc's plan checks are: "
                     f"{', '.join(plan_check_names())}")


def _check_cidrs(values: list[str]) -> list[str]:
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError(f"{value!r} is not a CIDR range such as 10.20.0.0/16") from None
    return values


class Waiver(BaseModel):
    """One accepted finding: a policy on one resource, and why it is acceptable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    policy: str = Field(description="The policy's name, e.g. 'no-public-members', or an aidc plan "
                                    "check's, e.g. 'apply-api-enabled-first'.")
    resource: str = Field(min_length=1, description=(
        "The resource's Pulumi logical name or its URN; 'stack' for a finding on the whole "
        "stack."))
    reason: str = Field(min_length=1, description=(
        "Why the finding is accepted, with an owner or ticket; shown in every report."))
    expires: date | None = Field(None, description=(
        "Last day (UTC, YYYY-MM-DD) the waiver applies; after it the finding counts again and "
        "says that its waiver expired. Omitted: the waiver never expires."))

    @field_validator("policy")
    @classmethod
    def _known_policy(cls, value: str) -> str:
        return _check_policy_name(value, "waiver")

    @field_validator("reason")
    @classmethod
    def _real_reason(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a waiver needs a reason: say why the finding is acceptable")
        return value.strip()

    def pack_entry(self) -> dict[str, str]:
        """The waiver as the pack's `waivers` config property carries it."""
        entry = {"resource": self.resource, "reason": self.reason}
        if self.expires is not None:
            entry["expires"] = self.expires.isoformat()
        return entry


class Budget(BaseModel):
    """What the stack may cost a month at its pools' maximum size: the `budget-monthly-max` plan
    check (`infra.check.budget`) prices the plan and fails it above this figure."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    monthly_max_usd: float = Field(gt=0, allow_inf_nan=False, description=(
        "The most the stack may cost a month, in USD at list prices, with every node pool at its "
        "maximum size (`aidc cost` shows the figure and its lines). A plan above it violates "
        "`budget-monthly-max` at the stack's enforcement level."))

    @field_validator("monthly_max_usd", mode="before")
    @classmethod
    def _not_a_bool(cls, value: Any) -> Any:
        # A number, or its text as `pulumi config set --path` writes it; never `true`.
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a number of US dollars; write e.g. 250000")
        return value


_Thresholds = create_model(  # type: ignore[call-overload]
    "_Thresholds", __config__=ConfigDict(frozen=True, extra="forbid"),
    **threshold_fields(all_config_properties()))


class PolicySettings(_Thresholds):  # type: ignore[misc, valid-type]
    """How strict the policy pack is for one stack. Omitted fields keep the pack's defaults.
    The thresholds and allow lists are generated from the pack's config schemas (see above)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enforcement: PackEnforcement = Field("default", description=(
        "'default': the pack's built-in levels (mandatory for critical and high severity, "
        "advisory for the rest); 'advisory' or 'mandatory': every policy at that level "
        "(e.g. advisory in dev, mandatory in prod)."))
    overrides: dict[str, PolicyEnforcement] = Field(default_factory=dict, description=(
        "Per-policy level by policy (or plan check) name; wins over `enforcement`."))
    waivers: list[Waiver] = Field(default_factory=list, description=(
        "Accepted findings, each with a reason; shown in reports, never blocking."))
    budget: Budget | None = Field(None, description=(
        "This environment's monthly cost ceiling (each stack file sets its own), e.g. "
        "`{monthly_max_usd: 250000}`. Omitted: no budget is checked."))

    @field_validator("overrides")
    @classmethod
    def _known_overrides(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            _check_policy_name(name, "overrides")
        return value

    @field_validator("allowed_nfs_ranges", "allowed_load_balancer_ranges")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        return _check_cidrs(value)

    def property_values(self) -> dict[str, Any]:
        """Every pack config property with its value from these settings (JSON types)."""
        out: dict[str, Any] = {}
        for field, prop in PROPERTY_OF_FIELD.items():
            value = getattr(self, field)
            out[prop] = list(value) if isinstance(value, (list, tuple)) else value
        return out

    def to_pack_config(self) -> dict[str, Any]:
        """The pack config (`--policy-pack-config` JSON / Configure request) for these settings.

        `{"all": <level>}` when `enforcement` is not 'default', then one entry per policy:
        its `enforcementLevel` override if any, the values of every property it declares, and
        its waivers. The engine applies "all" first, then per-policy entries.
        """
        props = self.property_values()
        out: dict[str, Any] = {}
        if self.enforcement != "default":
            out["all"] = self.enforcement
        for meta in POLICIES.values():
            entry: dict[str, Any] = {}
            if meta.name in self.overrides:
                entry["enforcementLevel"] = self.overrides[meta.name]
            for prop in meta.config:
                entry[prop] = props[prop]
            waivers = [w.pack_entry() for w in self.waivers if w.policy == meta.name]
            if waivers:
                entry["waivers"] = waivers
            if entry:
                out[meta.name] = entry
        return out

    def to_pack_config_json(self) -> str:
        """`to_pack_config()` as the file `pulumi preview --policy-pack-config` reads."""
        return json.dumps(self.to_pack_config(), indent=2, sort_keys=True) + "\n"


def policy_settings_of(flat: Mapping[str, Any], source: str) -> PolicySettings:
    """The `aidc:policy` section of a flat stack config; the pack's defaults without one."""
    from infra.config.load import decode_config_value  # load -> platform -> this module

    return validate_policy_settings(decode_config_value(flat.get("aidc:policy", {})) or {},
                                    source)


def validate_policy_settings(raw: Any, source: str) -> PolicySettings:
    """`raw` as PolicySettings, or an AidcError naming `source` and each problem."""
    from pydantic import ValidationError

    from infra.config.problems import format_problems, validation_problems
    from infra.errors import AidcError

    try:
        return PolicySettings.model_validate(raw)
    except ValidationError as exc:
        problems = validation_problems(exc, PolicySettings, base=("policy",))
        raise AidcError(format_problems(source, problems)) from None
