"""The analyzer protocol as the Pulumi engine speaks it, as pure functions (no processes, no I/O).

What the pack says about itself (GetAnalyzerInfo -> `PackInfo`), how the engine encodes a resource
for Analyze and AnalyzeStack (`Encoded`), how it reconciles a pack's config with the pack's
defaults before Configure (`reconcile_config`), and how its answers become violations and
diagnostics (`interpret`, `mark_waivers`). `infra.check.pack` runs the process these messages go
to; `infra.check.run` puts the two together.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import jsonschema
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2

from infra.check.results import Diagnostic, PolicyInfo, Violation
from infra.engine.plan import STACK_TYPE, UNKNOWN_PLACEHOLDER, Plan, PlanResource
from infra.errors import AidcError
from policies.protocol import CIS_PREFIX, REFERENCE_PREFIXES, decode_waived, judge_waivers

# What the engine sends for a value unknown at preview (pulumi's UnknownStringValue).
ENGINE_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
NOT_VERIFIABLE = "not verifiable at preview"

ENFORCEMENT_TO_PROTO = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "remediate": analyzer_pb2.REMEDIATE,
    "disabled": analyzer_pb2.DISABLED,
}
ENFORCEMENT_FROM_PROTO = {v: k for k, v in ENFORCEMENT_TO_PROTO.items()}
SEVERITY_FROM_PROTO = {
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}

# Reconciled config: each policy's (enforcement level, properties).
Config = dict[str, tuple[str, dict[str, Any]]]

# --- what the pack says about itself -----------------------------------------------------------

@dataclass(frozen=True)
class PackPolicy:
    """One policy as GetAnalyzerInfo describes it (built-in enforcement, before config)."""

    name: str
    description: str
    severity: str
    enforcement: str
    stack: bool
    remediation: str = ""
    url: str = ""
    tags: tuple[str, ...] = ()
    display_name: str = ""
    framework: Mapping[str, str] = field(default_factory=dict)
    config_schema: Mapping[str, Any] = field(default_factory=dict)
    required: tuple[str, ...] = ()

    @property
    def references(self) -> tuple[str, ...]:
        """CIS items, Checkov ids, policy-library templates, Pulumi policies, from the tags."""
        refs = [t for t in self.tags if t.startswith(REFERENCE_PREFIXES)]
        if self.framework.get("name") and not any(t.startswith(CIS_PREFIX) for t in refs):
            refs.insert(0, " ".join(filter(None, (self.framework.get("name"),
                                                  self.framework.get("version"),
                                                  self.framework.get("reference")))))
        return tuple(refs)

    def info(self, enforcement: str | None = None) -> PolicyInfo:
        return PolicyInfo(name=self.name, description=self.description, severity=self.severity,
                          enforcement=enforcement or self.enforcement, references=self.references,
                          remediation=self.remediation, url=self.url)


@dataclass(frozen=True)
class PackInfo:
    """The pack as GetAnalyzerInfo describes it: its policies and its built-in config."""

    name: str
    version: str
    description: str
    policies: tuple[PackPolicy, ...]
    initial_config: Mapping[str, tuple[str | None, Mapping[str, Any]]]

    def by_name(self) -> dict[str, PackPolicy]:
        return {p.name: p for p in self.policies}


def pack_info(resp: Any) -> PackInfo:
    """Decode a GetAnalyzerInfo response (`AnalyzerInfo`)."""
    policies = []
    for p in resp.policies:
        schema = json_format.MessageToDict(p.configSchema.properties) if p.HasField(
            "configSchema") else {}
        policies.append(PackPolicy(
            name=p.name,
            description=p.description,
            severity=SEVERITY_FROM_PROTO.get(p.severity, "medium"),
            enforcement=ENFORCEMENT_FROM_PROTO.get(p.enforcementLevel, "advisory"),
            stack=p.policy_type == analyzer_pb2.POLICY_TYPE_STACK,
            remediation=p.remediation_steps,
            url=p.url,
            tags=tuple(p.tags),
            display_name=p.displayName,
            framework={k: v for k, v in (("name", p.framework.name),
                                         ("version", p.framework.version),
                                         ("reference", p.framework.reference)) if v},
            config_schema=schema,
            required=tuple(p.configSchema.required),
        ))
    initial = {}
    for name, cfg in resp.initialConfig.items():
        level = ENFORCEMENT_FROM_PROTO.get(cfg.enforcementLevel)
        # proto3 cannot tell "advisory" (0) from "not given"; the engine reads it the same way.
        initial[name] = (level, json_format.MessageToDict(cfg.properties))
    return PackInfo(name=resp.name, version=resp.version, description=resp.description,
                    policies=tuple(policies), initial_config=initial)


# --- building requests -------------------------------------------------------------------------

def engine_value(value: Any) -> Any:
    """The value as the engine marshals it: the plan's unknown placeholder → pulumi's sentinel.
    Returns the same object when nothing changes (the common case), so no copy is made."""
    if isinstance(value, str):
        return ENGINE_UNKNOWN if value == UNKNOWN_PLACEHOLDER else value
    if isinstance(value, dict):
        changed = None
        for k, v in value.items():
            new = engine_value(v)
            if new is not v:
                if changed is None:
                    changed = dict(value)
                changed[k] = new
        return value if changed is None else changed
    if isinstance(value, list):
        items = [engine_value(v) for v in value]
        return value if all(a is b for a, b in zip(items, value)) else items
    return value


def to_struct(inputs: Mapping[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    if inputs:
        try:
            out.update(engine_value(dict(inputs)))
        except (TypeError, ValueError):  # values Struct.update cannot take: go through JSON
            json_format.ParseDict(json.loads(json.dumps(engine_value(dict(inputs)),
                                                        default=str)), out)
    return out


def split_provider_ref(ref: str) -> str:
    """A provider reference is '<urn>::<id>'; a URN alone has three '::' separators."""
    return ref.rsplit("::", 1)[0] if ref.count("::") >= 4 else ref


def urn_type_name(urn: str) -> tuple[str, str]:
    parts = urn.split("::")
    if len(parts) < 4:
        return "", urn
    return parts[2].rsplit("$", 1)[-1], "::".join(parts[3:])


class Encoded:
    """Each resource encoded once, shared by Analyze and AnalyzeStack. Resources can be added
    as they are registered: a provider is always registered before the resources using it."""

    def __init__(self, resources: Iterable[PlanResource] = ()) -> None:
        self.by_urn: dict[str, PlanResource] = {}
        self.structs: dict[str, struct_pb2.Struct] = {}
        self._providers: dict[str, analyzer_pb2.AnalyzerProviderResource | None] = {}
        for r in resources:
            self.add(r)

    def add(self, r: PlanResource) -> struct_pb2.Struct:
        self.by_urn[r.urn] = r
        return self.struct(r)

    def struct(self, r: PlanResource) -> struct_pb2.Struct:
        if r.urn not in self.structs:
            self.structs[r.urn] = to_struct(r.inputs)
        return self.structs[r.urn]

    def options(self, r: PlanResource) -> analyzer_pb2.AnalyzerResourceOptions:
        return analyzer_pb2.AnalyzerResourceOptions(
            protect=r.protect, parent=r.parent or "",
            customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts())

    def provider(self, r: PlanResource) -> analyzer_pb2.AnalyzerProviderResource | None:
        if not r.provider:
            return None
        if r.provider not in self._providers:
            urn = split_provider_ref(r.provider)
            found = self.by_urn.get(urn)
            ptype, pname = (found.type, found.name) if found else urn_type_name(urn)
            self._providers[r.provider] = analyzer_pb2.AnalyzerProviderResource(
                type=ptype, urn=urn, name=pname,
                properties=to_struct(found.inputs if found else {}))
        return self._providers[r.provider]

    def request(self, r: PlanResource, props: struct_pb2.Struct) -> analyzer_pb2.AnalyzeRequest:
        return analyzer_pb2.AnalyzeRequest(type=r.type, properties=props, urn=r.urn, name=r.name,
                                           options=self.options(r), provider=self.provider(r))

    def stack_resource(self, r: PlanResource, props: struct_pb2.Struct) -> Any:
        deps = {k: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(v))
                for k, v in r.property_dependencies.items() if v}
        return analyzer_pb2.AnalyzerResource(
            type=r.type, properties=props, urn=r.urn, name=r.name, options=self.options(r),
            provider=self.provider(r), parent=r.parent or "", dependencies=list(r.dependencies),
            propertyDependencies=deps)


# --- config: the engine's reconciliation --------------------------------------------------------

def _normalize_entry(key: str, value: Any) -> tuple[str | None, dict[str, Any]]:
    if isinstance(value, str):
        level, props = value, {}
    elif isinstance(value, Mapping):
        props = dict(value)
        level = props.pop("enforcementLevel", None)
    else:
        raise AidcError(f"policy pack config {key!r}: {value!r} is not valid; give an "
                        "enforcement level or an object of properties")
    if level is not None and level not in ENFORCEMENT_TO_PROTO:
        raise AidcError(f"policy pack config {key!r}: enforcement level {level!r} is not one of "
                        f"{', '.join(ENFORCEMENT_TO_PROTO)}")
    return level, props


def _waiver_fields(waiver: Any) -> tuple[str, dict[str, str]]:
    """(policy, the waiver as the pack config carries it: resource, reason, expires if any)."""
    def field_of(name: str) -> Any:
        return waiver.get(name) if isinstance(waiver, Mapping) else getattr(waiver, name, None)

    policy, resource, reason, expires = (field_of("policy"), field_of("resource"),
                                         field_of("reason"), field_of("expires"))
    if not policy or not resource or not str(reason or "").strip():
        raise AidcError(f"waiver {waiver!r}: needs a policy, a resource and a non-empty reason")
    entry = {"resource": str(resource), "reason": str(reason).strip()}
    if expires:
        entry["expires"] = expires.isoformat() if isinstance(expires, date) else str(expires)
    return str(policy), entry


def reconcile_config(info: PackInfo, pack_config: Mapping[str, Any] | None,
                     waivers: Iterable[Any] = ()) -> Config:
    """Each policy's (enforcement, properties), as `pulumi preview` computes it.

    Schema defaults and built-in levels first, then the pack's initial config, then the given
    config (`"all"` first, then per policy), then `waivers` appended to each policy's `waivers`
    property. Unknown policy names and properties the schema rejects raise AidcError.
    """
    policies = info.by_name()
    result: Config = {}
    for p in info.policies:
        defaults = {k: v["default"] for k, v in p.config_schema.items()
                    if isinstance(v, Mapping) and "default" in v}
        result[p.name] = (p.enforcement, defaults)

    def apply(config: Mapping[str, tuple[str | None, dict[str, Any]]]) -> None:
        if "all" in config and config["all"][0]:
            for name, (_, props) in result.items():
                result[name] = (config["all"][0] or "advisory", props)
        for name, (level, props) in config.items():
            if name == "all":
                continue
            old_level, old_props = result[name]
            result[name] = (level or old_level, {**old_props, **props})

    apply({k: v for k, v in info.initial_config.items() if k in result})
    given = {str(k): _normalize_entry(str(k), v) for k, v in (pack_config or {}).items()}
    unknown = sorted(set(given) - set(policies) - {"all"})
    if unknown:
        raise AidcError(f"policy pack config names unknown policies {', '.join(unknown)}; "
                        f"{info.name} has: {', '.join(sorted(policies))}")
    apply(given)

    for waiver in waivers:
        policy, entry = _waiver_fields(waiver)
        if policy not in policies:
            raise AidcError(f"waiver for unknown policy {policy!r}; {info.name} has: "
                            f"{', '.join(sorted(policies))}")
        if "waivers" in policies[policy].config_schema:
            level, props = result[policy]
            entries = list(props.get("waivers") or [])
            entries.append(entry)
            result[policy] = (level, {**props, "waivers": entries})

    errors = []
    for name, (_, props) in result.items():
        p = policies[name]
        if not p.config_schema and not p.required:
            continue
        schema = {"type": "object", "properties": dict(p.config_schema)}
        if p.required:
            schema["required"] = list(p.required)
        for err in jsonschema.Draft7Validator(schema).iter_errors(props):
            where = ".".join(str(x) for x in err.absolute_path)
            errors.append(f"{name}{'.' + where if where else ''}: {err.message}")
    if errors:
        raise AidcError("policy pack config is invalid: " + "; ".join(errors))
    return result


def configure_request(config: Config) -> Any:
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, (level, props) in config.items():
        entry = request.policyConfig[name]
        entry.enforcementLevel = ENFORCEMENT_TO_PROTO[level]
        if props:
            entry.properties.update(props)
    return request


# --- interpreting responses ---------------------------------------------------------------------

def _strip_description(message: str, description: str) -> str:
    if description and message.startswith(description):
        rest = message[len(description):].lstrip("\n")
        return rest or message
    return message


def interpret(plan: Plan, info: PackInfo, config: Config,
               responses: Iterable[tuple[str, Any]],
               not_applicable: list[tuple[str, str, str]] | None = None,
               ) -> tuple[list[Violation], list[Diagnostic]]:
    """Violations and diagnostics; `not_applicable` (if given) collects (policy, urn, reason)."""
    by_urn = plan.by_urn()
    policies = info.by_name()
    stack_name = f"{plan.project}-{plan.stack}".strip("-")
    violations: list[Violation] = []
    diagnostics: list[Diagnostic] = []

    def make(policy: str, urn: str, severity: str, enforcement: str, message: str,
             waiver: str | None = None) -> Violation:
        resource = by_urn.get(urn)
        p = policies.get(policy)
        return Violation(
            policy=policy, urn=urn,
            resource_type=resource.type if resource else STACK_TYPE,
            resource_name=resource.name if resource else stack_name,
            severity=severity or (p.severity if p else "medium"),
            enforcement=enforcement, message=message,
            remediation=p.remediation if p else "", waiver=waiver)

    for request_urn, response in responses:
        for d in response.diagnostics:
            urn = d.urn or request_urn
            marker = f"can't run policy '{d.policyName}'"
            if d.message.startswith(marker) and "during preview" in d.message:
                detail = d.message.split("during preview: ", 1)[-1]
                diagnostics.append(Diagnostic(policy=d.policyName, urn=urn,
                                              message=f"{NOT_VERIFIABLE}: {detail}"))
                continue
            level = ENFORCEMENT_FROM_PROTO.get(d.enforcementLevel, "advisory")
            violations.append(make(
                d.policyName, urn, SEVERITY_FROM_PROTO.get(d.severity, ""),
                "mandatory" if level == "remediate" else level,
                _strip_description(d.message, d.description)))
        for na in response.not_applicable:
            suppressed = decode_waived(na.reason)
            if suppressed is None:
                if not_applicable is not None:
                    not_applicable.append((na.policy_name, request_urn, na.reason))
                continue
            level = config.get(na.policy_name, ("advisory", {}))[0]
            for item in suppressed:
                v = make(na.policy_name, item.urn or request_urn, "",
                         "mandatory" if level == "remediate" else level, item.message,
                         waiver=item.reason or None)
                violations.append(replace(v, exemption=item.exemption) if item.exemption else v)
    return violations, diagnostics


def waiver_table(config: Config, waivers: Sequence[Any] = ()) -> dict[str, list[dict[str, Any]]]:
    """Every waiver by policy: those in the reconciled pack config and those given."""
    table: dict[str, list[dict[str, Any]]] = {}
    for name, (_, props) in config.items():
        table.setdefault(name, []).extend(
            w for w in props.get("waivers") or () if isinstance(w, Mapping))
    for w in waivers:
        policy, entry = _waiver_fields(w)
        if entry not in table.get(policy, []):
            table.setdefault(policy, []).append(entry)
    return table


def mark_waivers(violations: list[Violation], config: Config,
                 waivers: Sequence[Any], plan: Plan) -> list[Violation]:
    """Apply the stack's waivers to every violation not already waived or exempt: what a pack
    without waiver support reported, and findings of checks outside the pack. An active waiver
    waives; an expired one records when it expired (and says so in the message)."""
    return apply_waivers(violations, waiver_table(config, waivers))


def apply_waivers(violations: Sequence[Violation],
                  table: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[Violation]:
    """`mark_waivers` for any violations (pack or not) and waivers by policy name."""
    if not any(table.values()):
        return list(violations)
    out = []
    for v in violations:
        if v.waiver is not None or v.exemption is not None:
            out.append(v)
            continue
        verdict = judge_waivers(table.get(v.policy, ()), (v.urn, v.resource_name))
        if verdict.reason is not None:
            out.append(replace(v, waiver=verdict.reason))
        elif verdict.expired_on is not None:
            message = v.message if verdict.note in v.message else f"{v.message}; {verdict.note}"
            out.append(replace(v, message=message, waiver_expired=str(verdict.expired_on)
                               if verdict.expired_on != date.min else "unreadable date"))
        else:
            out.append(v)
    return out

