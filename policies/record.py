"""What a policy's metadata record is, and the config-schema fragments several policies share.

One `PolicyMeta` per policy, written beside its rule in the concern module: its id and name, what
it checks, its severity and the enforcement it gets when no stack says otherwise, how to fix a
violation, the provider default it assumes for an absent property, and the references it
implements (CIS items with the benchmark version, Checkov ids, Google policy-library templates,
Pulumi compliance policies), so that a security reviewer can trace each rule to its source.
Config properties are JSON schema with their defaults: the engine fills the defaults in, the
pack's wrapper does too, and aidc's stack settings (`infra.config.policy`) are generated from them.

Pure data, no pulumi-policy import; `policies.metadata` assembles the roster.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .protocol import (
    CIS_PREFIX,
    CLASSIFICATIONS,
    EXEMPTION_TAG,
    POLICY_LIBRARY_PREFIX,
    PULUMI_PREFIX,
    SEVERITIES,
)

# A rule: (pulumi-policy's validation args, the policy's config) -> messages (resource policies)
# or (message, urn) pairs (stack policies). Each concern module lists (record, rule) in RULES.
Rule = Callable[[Any, Mapping[str, Any]], Iterable[Any]]

_CIS_BENCHMARKS = {
    "GCP": "CIS Google Cloud Platform Foundation Benchmark",
    "GKE": "CIS Google Kubernetes Engine (GKE) Benchmark",
}


@dataclass(frozen=True)
class Cis:
    """One CIS benchmark item, with the benchmark version it was taken from."""

    benchmark: str  # "GCP" (Foundations) or "GKE"
    version: str  # "2.0", "1.4", "1.5"
    item: str  # "5.2"

    @property
    def tag(self) -> str:
        return f"{CIS_PREFIX}{self.benchmark}-{self.version}:{self.item}"

    @property
    def framework_name(self) -> str:
        return _CIS_BENCHMARKS[self.benchmark]


@dataclass(frozen=True)
class Exemption:
    """A setting a generic hardening rule forbids, accepted on one kind of resource because
    Google requires it there; `url` is the requirement's source."""

    id: str
    description: str
    url: str


@dataclass(frozen=True)
class Exempt:
    """What a rule yields instead of a message when `exemption` covers the finding."""

    exemption: Exemption
    message: str


@dataclass(frozen=True)
class PolicyMeta:
    """A policy's metadata record; the rule function lives in the module named by `concern`."""

    id: str
    name: str
    concern: str
    description: str
    severity: str
    resource_types: tuple[str, ...]
    remediation: str
    url: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    cis: tuple[Cis, ...] = ()
    checkov: tuple[str, ...] = ()
    policy_library: tuple[str, ...] = ()
    pulumi: tuple[str, ...] = ()
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    stack: bool = False
    enforcement: str = ""  # "" = the built-in default for the severity
    # Where the rule is deliberately stricter or narrower than the checks it references.
    divergence: str = ""
    # Named, reviewable exemptions: settings a Google requirement imposes on a kind of pool or
    # VM, which the rule accepts there (and only there), reported as exempt, never as a pass.
    exemptions: tuple[Exemption, ...] = ()

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.id}: severity {self.severity!r} not in {SEVERITIES}")
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))

    @property
    def default_enforcement(self) -> str:
        """Mandatory for critical and high severity, advisory for the rest, unless pinned."""
        if self.enforcement:
            return self.enforcement
        return "mandatory" if self.severity in ("critical", "high") else "advisory"

    @property
    def references(self) -> tuple[str, ...]:
        return (
            tuple(c.tag for c in self.cis)
            + self.checkov
            + tuple(POLICY_LIBRARY_PREFIX + t for t in self.policy_library)
            + tuple(PULUMI_PREFIX + p for p in self.pulumi)
        )

    @property
    def tags(self) -> list[str]:
        """pulumi-policy tags: id, concern, severity, then every reference (see REFERENCE_PREFIXES)."""
        return [f"id:{self.id}", f"concern:{self.concern}", *self.references,
                *(f"{EXEMPTION_TAG}{e.id}" for e in self.exemptions)]

    def config_defaults(self) -> dict[str, Any]:
        return {k: v["default"] for k, v in self.config.items() if "default" in v}

    def default(self, path: str) -> Any:
        """The provider default this policy assumes when `path` is absent."""
        return self.defaults[path]


# --- shared config property schemas -------------------------------------------------------

def classification_property(default: str, description: str) -> dict[str, Any]:
    """A config property naming a data classification."""
    return {"type": "string", "enum": list(CLASSIFICATIONS), "default": default,
            "description": description}


def strings_property(description: str, default: list[str] | None = None) -> dict[str, Any]:
    """A config property holding a list of strings (an allow list, mostly)."""
    return {"type": "array", "items": {"type": "string"}, "default": list(default or []),
            "description": description}


def boolean_property(default: bool, description: str) -> dict[str, Any]:
    """A config property that turns a requirement on or off."""
    return {"type": "boolean", "default": default, "description": description}


def integer_property(default: int, description: str, *, minimum: int | None = None,
                     maximum: int | None = None) -> dict[str, Any]:
    """A whole-number config property (a count of days, mostly), with its bounds."""
    bounds = {k: v for k, v in (("minimum", minimum), ("maximum", maximum)) if v is not None}
    return {"type": "integer", **bounds, "default": default, "description": description}


UNLABELLED = {"unlabelledClassification": classification_property(
    "confidential", "Classification assumed for a data holder without a data-classification "
    "label (unknown data is treated as sensitive).")}
MAX_ROTATION = {"kmsMaxRotationDays": integer_property(
    90, "Longest allowed KMS key rotation period, in days (CIS GCP 1.10: 90).",
    minimum=1, maximum=36500)}
WAIVERS_SCHEMA = {"waivers": {
    "type": "array",
    "default": [],
    "description": "Per-resource waivers: the resource's name or URN, and a mandatory reason.",
    "items": {
        "type": "object",
        "properties": {"resource": {"type": "string", "minLength": 1},
                       "reason": {"type": "string", "minLength": 1},
                       "expires": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$",
                                   "description": "Last day (UTC) the waiver applies."}},
        "required": ["resource", "reason"],
    },
}}
