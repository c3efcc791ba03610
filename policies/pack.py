"""Assemble the pack: each metadata record + its rule function → a pulumi-policy `Policy`.

The wrapper around every rule does the four things rules should not repeat: filter by resource
type, merge the policy's config over its declared defaults, honour waivers (and their expiry),
and honour the policy's named exemptions (`Exempt` findings, each listed in its metadata). A
waived or exempt finding is reported as *not applicable* with a reason that carries the
violation (so the verdict is the same under `pulumi preview --policy-pack` and offline, and
reports can still show what was waived or exempted and why); see `encode_waived` /
`decode_waived`. An expired waiver waives nothing, and the finding says when it expired.
"""

from __future__ import annotations

import inspect
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from google.protobuf import json_format
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)

from .metadata import POLICIES, RULES
from .protocol import (
    STACK_WAIVER_RESOURCE,
    Suppressed,
    WaiverVerdict,
    encode_waived,
    judge_waivers,
)
from .record import WAIVERS_SCHEMA, Exempt, PolicyMeta, Rule

PACK_NAME = "aidc-policies"
PACK_DESCRIPTION = ("aidc: encryption, access control and hardening for AI data centres on Google "
                    "Cloud (GCS, Filestore, KMS, VPC, GKE GPU/TPU pools, Kubernetes workloads).")

ResourceRule = Callable[[Any, Mapping[str, Any]], Iterable[str]]
StackRule = Callable[[Any, Mapping[str, Any]], Iterable[tuple[str, str | None]]]


# --- waivers and exemptions -----------------------------------------------------------------

def _judge(meta: PolicyMeta, config: Mapping[str, Any], findings: Iterable[Any],
           urn: str, names: Iterable[str | None]) -> tuple[list[str], list[Suppressed]]:
    """Split a rule's findings on one resource into messages to report (an expired waiver's
    note appended) and what a named exemption or an active waiver suppresses."""
    report: list[str] = []
    suppressed: list[Suppressed] = []
    verdict: WaiverVerdict | None = None
    for finding in findings:
        if isinstance(finding, Exempt):
            if finding.exemption not in meta.exemptions:
                raise ValueError(f"{meta.id}: exemption {finding.exemption.id!r} is not listed "
                                 "in the policy's metadata")
            suppressed.append(Suppressed(urn=urn, message=finding.message,
                                         exemption=finding.exemption.id))
            continue
        if verdict is None:
            verdict = judge_waivers(config.get("waivers") or (), names)
        if verdict.reason is not None:
            suppressed.append(Suppressed(urn=urn, message=finding, reason=verdict.reason))
        else:
            report.append(f"{finding}; {verdict.note}" if verdict.note else finding)
    return report, suppressed


# --- wrapping rules into pulumi-policy policies ------------------------------------------------

def _resource_validate(meta: PolicyMeta, rule: ResourceRule) -> Callable[[Any, Any], None]:
    types = frozenset(meta.resource_types)
    defaults = meta.config_defaults()

    def validate(args: Any, report_violation: Any) -> None:
        # Other types: simply no finding. (Reporting "not applicable" for each of ~50 policies on
        # every resource would multiply the response size for nothing a reviewer needs.)
        if args.resource_type not in types:
            return
        config = {**defaults, **(args.get_config() or {})}
        findings = list(rule(args, config))
        if not findings:
            return
        report, suppressed = _judge(meta, config, findings, args.urn, (args.name, args.urn))
        for message in report:
            report_violation(message, None)
        if suppressed:
            args.not_applicable(encode_waived(suppressed))

    validate.__name__ = getattr(rule, "__name__", meta.name)
    validate.__doc__ = rule.__doc__
    return validate


def _stack_validate(meta: PolicyMeta, rule: StackRule) -> Callable[[Any, Any], None]:
    defaults = meta.config_defaults()

    def validate(args: Any, report_violation: Any) -> None:
        config = {**defaults, **(args.get_config() or {})}
        names = {r.urn: r.name for r in args.resources}
        suppressed: list[Suppressed] = []
        for finding, urn in rule(args, config):
            name = names.get(urn) if urn else STACK_WAIVER_RESOURCE
            report, quiet = _judge(meta, config, [finding], urn or "", (name, urn))
            for message in report:
                report_violation(message, urn)
            suppressed += quiet
        if suppressed:
            args.not_applicable(encode_waived(suppressed))

    validate.__name__ = getattr(rule, "__name__", meta.name)
    validate.__doc__ = rule.__doc__
    return validate


def framework(meta: PolicyMeta) -> PolicyComplianceFramework | None:
    """The primary CIS item as pulumi-policy's compliance framework (the rest are tags)."""
    if not meta.cis:
        return None
    cis = meta.cis[0]
    return PolicyComplianceFramework(name=cis.framework_name, version=f"{cis.version}.0",
                                     reference=cis.item)


def build_policy(meta: PolicyMeta, rule: Rule) -> Policy:
    common: dict[str, Any] = dict(
        name=meta.name,
        description=meta.description,
        enforcement_level=EnforcementLevel(meta.default_enforcement),
        config_schema=PolicyConfigSchema(properties={**meta.config, **WAIVERS_SCHEMA}),
        display_name=f"{meta.id} {meta.name}",
        severity=Severity(meta.severity),
        framework=framework(meta),
        tags=meta.tags,
        remediation_steps=meta.remediation,
        url=meta.url,
    )
    if meta.stack:
        return StackValidationPolicy(validate=_stack_validate(meta, rule), **common)
    return ResourceValidationPolicy(validate=_resource_validate(meta, rule), **common)


def build_policies() -> list[Policy]:
    """The whole roster, in metadata order."""
    return [build_policy(meta, RULES[policy_id]) for policy_id, meta in POLICIES.items()]


def initial_config() -> dict[str, dict[str, Any]]:
    """The pack's built-in level and threshold defaults, given to the engine in GetAnalyzerInfo.

    Each entry carries its enforcement level explicitly: protobuf cannot tell an unset level
    from ADVISORY (0), so the engine would otherwise read a properties-only entry as
    "advisory" and downgrade the policy.
    """
    return {m.name: {"enforcementLevel": EnforcementLevel(m.default_enforcement),
                     **m.config_defaults()}
            for m in POLICIES.values()}


# --- speed-ups: patches to pulumi-policy's servicer ---------------------------------------------
# They replace private internals of the pulumi-policy minor bounded in requirements.txt and
# pyproject.toml, and are installed only when aidc's offline driver asks (SPEEDUPS_ENV); a test
# runs every policy case with and without them and compares the verdicts.

def install_speedups() -> bool:
    """Both speed-ups below; False if the SDK is not the one they were written against."""
    decode = install_decode_cache()
    return install_type_index(resource_types_by_policy()) and decode


# --- decode once per request -------------------------------------------------------------------

def struct_to_dict(message: Any) -> dict[str, Any]:
    """json_format.MessageToDict for a google.protobuf.Struct: the same result, without the
    generic printer's descriptor walk for every value (1.4x faster on a 5,000-resource plan).
    Numbers stay floats as there; infinities and NaN, which JSON cannot carry, raise the same
    ValueError."""
    return {key: _value(value) for key, value in message.fields.items()}


def _value(value: Any) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        number = value.number_value
        if math.isinf(number) or math.isnan(number):
            raise ValueError(f"Fail to serialize {number} for Value.number_value")
        return number
    if kind == "bool_value":
        return value.bool_value
    if kind == "struct_value":
        return struct_to_dict(value.struct_value)
    if kind == "list_value":
        return [_value(item) for item in value.list_value.values]
    return None


def _message_to_dict(message: Any, *args: Any, **kwargs: Any) -> Any:
    if args or kwargs or message.DESCRIPTOR.full_name != "google.protobuf.Struct":
        return json_format.MessageToDict(message, *args, **kwargs)
    return struct_to_dict(message)


def install_decode_cache() -> bool:
    """Decode each request's properties once instead of once per policy.

    pulumi-policy's servicer converts a request's protobuf Struct to proxied Python objects for
    every policy it runs (~50 here), which is most of the pack's time. Within one Analyze /
    AnalyzeStack call this memoises those three conversions by object identity (the cache keeps
    the objects alive, so ids cannot be reused). Policies get the same read-only view as before.
    Returns False (and changes nothing) if the SDK's internals are not as expected.
    """
    try:
        from pulumi_policy import policy as sdk

        servicer = sdk._PolicyAnalyzerServicer  # noqa: SLF001
        sdk_json_format = sdk.json_format
        deserialize = sdk.deserialize_properties
        proxy = sdk.unknown_checking_proxy
    except (ImportError, AttributeError):
        return False
    if getattr(servicer, "_aidc_decode_cache", False):
        return True
    expected = {"Analyze": 3, "AnalyzeStack": 3, "_get_resource_options": 2,
                "_get_provider_resource": 2}
    try:
        for method, arity in expected.items():
            if len(inspect.signature(getattr(servicer, method)).parameters) != arity:
                return False  # a different SDK than the one this was written against
    except (AttributeError, TypeError, ValueError):
        return False
    local = threading.local()

    def memo(fn: Callable[..., Any]) -> Callable[..., Any]:
        def cached(obj: Any, *rest: Any, **kw: Any) -> Any:
            cache = getattr(local, "cache", None)
            if cache is None or rest or kw:
                return fn(obj, *rest, **kw)
            hit = cache.get(id(obj))
            if hit is not None and hit[0] is obj:
                return hit[1]
            out = fn(obj)
            cache[id(obj)] = (obj, out)
            return out
        return cached

    class _JsonFormat:
        MessageToDict = staticmethod(memo(_message_to_dict))

        def __getattr__(self, name: str) -> Any:
            return getattr(sdk_json_format, name)

    def scoped(method: Callable[..., Any]) -> Callable[..., Any]:
        def run(self: Any, request: Any, context: Any) -> Any:
            local.cache = {}
            try:
                return method(self, request, context)
            finally:
                local.cache = None
        return run

    def memo_method(method: Callable[..., Any]) -> Callable[..., Any]:
        def run(self: Any, request: Any) -> Any:
            cache = getattr(local, "cache", None)
            if cache is None:
                return method(self, request)
            key = ("method", method.__name__, id(request))
            hit = cache.get(key)
            if hit is not None and hit[0] is request:
                return hit[1]
            out = method(self, request)
            cache[key] = (request, out)
            return out
        return run

    class _StackResource:
        """One AnalyzeStack resource with its fields read once: the servicer walks every
        resource once per stack policy, and each protobuf field access builds new objects."""

        __slots__ = ("_message", "type", "urn", "name", "properties", "options", "provider",
                     "parent", "dependencies", "propertyDependencies")

        def __init__(self, message: Any) -> None:
            self._message = message
            self.type, self.urn, self.name = message.type, message.urn, message.name
            self.properties, self.options = message.properties, message.options
            self.provider, self.parent = message.provider, message.parent
            self.dependencies = list(message.dependencies)
            deps = message.propertyDependencies
            self.propertyDependencies = {key: deps[key] for key in deps}

        def HasField(self, name: str) -> bool:  # noqa: N802 (protobuf's name)
            return self._message.HasField(name)

    class _StackRequest:
        __slots__ = ("resources",)

        def __init__(self, request: Any) -> None:
            self.resources = [_StackResource(r) for r in request.resources]

    def read_once(method: Callable[..., Any]) -> Callable[..., Any]:
        def run(self: Any, request: Any, context: Any) -> Any:
            return method(self, _StackRequest(request), context)
        return run

    sdk.json_format = _JsonFormat()
    sdk.deserialize_properties = memo(deserialize)
    sdk.unknown_checking_proxy = memo(proxy)
    # The resource's options and provider are the same for every policy too.
    servicer._get_resource_options = memo_method(servicer._get_resource_options)  # noqa: SLF001
    servicer._get_provider_resource = memo_method(servicer._get_provider_resource)  # noqa: SLF001
    servicer.Analyze = scoped(servicer.Analyze)
    servicer.AnalyzeStack = scoped(read_once(servicer.AnalyzeStack))
    servicer._aidc_decode_cache = True  # noqa: SLF001
    return True



# --- run only the policies that judge a resource's type ---------------------------------------

def install_type_index(types_by_policy: Mapping[str, frozenset[str]]) -> bool:
    """Let Analyze run only the policies that judge the request's resource type.

    pulumi-policy's servicer calls every resource policy for every resource, with per-policy
    set-up (enforcement lookup, a report closure, validation args) before our validate sees the
    type and returns; with ~50 policies that set-up is most of an Analyze call. A policy whose
    types do not include the resource's reports nothing, so skipping it changes no answer.
    GetAnalyzerInfo, AnalyzeStack and the rest still see every policy. Returns False (and
    changes nothing) if the SDK's internals are not as expected.
    """
    try:
        from pulumi_policy import policy as sdk

        servicer = sdk._PolicyAnalyzerServicer  # noqa: SLF001
        attr = "_PolicyAnalyzerServicer__policies"
        if len(inspect.signature(servicer.Analyze).parameters) != 3:
            return False
    except (ImportError, AttributeError, TypeError, ValueError):
        return False
    if getattr(servicer, "_aidc_type_index", False):
        return True
    local = threading.local()

    class _ByType(list):
        def __iter__(self) -> Any:
            resource_type = getattr(local, "resource_type", None)
            everything = list.__iter__(self)
            if resource_type is None:
                return everything
            return (p for p in everything
                    if resource_type in types_by_policy.get(p.name, (resource_type,)))

    original_init = servicer.__init__
    original_analyze = servicer.Analyze

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        setattr(self, attr, _ByType(getattr(self, attr)))

    def analyze(self: Any, request: Any, context: Any) -> Any:
        local.resource_type = request.type
        try:
            return original_analyze(self, request, context)
        finally:
            local.resource_type = None

    servicer.__init__ = init
    servicer.Analyze = analyze
    servicer._aidc_type_index = True  # noqa: SLF001
    return True


def resource_types_by_policy() -> dict[str, frozenset[str]]:
    """Each resource policy's name and the resource types it judges."""
    return {m.name: frozenset(m.resource_types) for m in POLICIES.values() if not m.stack}


# --- never outlive the engine -----------------------------------------------------------------

def exit_with_parent(poll_seconds: float = 0.5) -> threading.Thread:
    """Exit this process once the process that started it (the engine, or `aidc check`) is
    gone. The engine stops its analyzers on every normal path; this covers the one it cannot,
    being killed outright, which would otherwise leave the pack serving forever."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        os._exit(0)

    watcher = threading.Thread(target=watch, daemon=True, name="exit-with-parent")
    watcher.start()
    return watcher
