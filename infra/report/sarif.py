"""SARIF 2.1.0 report, for GitHub code scanning and any other SARIF viewer.

Choices a code-scanning UI depends on:
- One rule per policy, carrying `security-severity` (GitHub's ranking: >= 9.0 critical,
  7.0-8.9 high, 4.0-6.9 medium, below low), the policy's references as tags, and its
  remediation as the rule's help.
- Each result points at the most useful place a reviewer can act on, from the plan
  (`PlanResource.location`): the stack file's line of the config key that built the resource,
  else the program's file and line that registered it, else the stack file's first line. URIs
  are relative to the repository root (`%SRCROOT%`), as code scanning needs to place them on a
  diff. The resource is named in a logical location and in the message; the program line is a
  related location when the config key is the primary one.
- Several resources come from one config key, so results share lines, and GitHub's own
  line-hash fingerprint would fold them into one alert; each result therefore brings
  `partialFingerprints` derived from (policy, urn), which also keeps an alert's identity across
  edits of the stack file.
- Waivers and named exemptions become `suppressions` (kind external: they live in stack config
  and in the policy's metadata), so the alert is shown as dismissed with its reason rather than
  vanishing; with a baseline, each result says whether it is new (`baselineState`).
- Checks not verifiable at preview are tool notifications, not results: they are not findings.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

from infra.check.results import CheckResult, PolicyInfo, Violation
from infra.engine.plan import STACK_TYPE, PlanResource, SourceLocation
from infra.report.markdown import md_text
from infra.report.text import split_urn, suppression, violation_sort_key

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
                    "sarif-schema-2.1.0.json")
TOOL_NAME = "aidc"
# Used until the distribution declares a Homepage in [project.urls].
DEFAULT_INFORMATION_URI = "https://github.com/aidc/aidc"
SRCROOT = "%SRCROOT%"

LEVELS = {"mandatory": "error", "advisory": "warning", "disabled": "none"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
FINGERPRINT_KEY = "aidcViolation/v1"


def default_source_file(stack: str) -> str:
    """A stack's config file when the plan names none, relative to the repository root."""
    return f"stacks/Pulumi.{stack}.yaml" if stack else "Pulumi.yaml"


def fingerprint(policy: str, urn: str) -> str:
    """Stable identity of a finding: the same policy on the same resource is the same alert."""
    return hashlib.sha256(f"{policy}\0{urn}".encode()).hexdigest()[:32]


def _tool_metadata() -> tuple[str, str, str]:
    """(version, semanticVersion, informationUri) of the installed distribution."""
    try:
        meta = metadata.metadata("aidc")
        version = meta["Version"] or "0.0.0"
        urls = meta.get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        version, urls = "0.0.0", []
    semver = re.match(r"\d+\.\d+\.\d+", version)
    info = DEFAULT_INFORMATION_URI
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() in {"homepage", "home", "repository", "source"} and url.strip():
            info = url.strip()
            break
    return version, semver.group(0) if semver else "0.0.0", info


def _first_sentence(text: str) -> str:
    first = text.strip().split("\n", 1)[0]
    m = re.match(r"(.+?[.!?])(\s|$)", first)
    return m.group(1) if m else first


def _rule(p: PolicyInfo) -> dict[str, Any]:
    description = p.description.strip() or p.name
    remediation = p.remediation.strip() or "No remediation is documented for this policy."
    refs = list(dict.fromkeys(r for r in p.references if r))  # SARIF tags must be unique
    help_text = remediation + ("\n\nReferences: " + ", ".join(refs) if refs else "")
    help_md = f"**Remediation**\n\n{md_text(remediation, breaks=True)}"
    if refs:
        help_md += "\n\n**References**\n\n" + "\n".join(f"- {md_text(r)}" for r in refs)
    rule: dict[str, Any] = {
        "id": p.name,
        "shortDescription": {"text": _first_sentence(description)},
        "fullDescription": {"text": description},
    }
    if p.url:
        rule["helpUri"] = p.url
    rule["help"] = {"text": help_text, "markdown": help_md}
    rule["defaultConfiguration"] = {"enabled": p.enforcement != "disabled",
                                    "level": LEVELS.get(p.enforcement, "warning")}
    rule["properties"] = {
        "tags": list(dict.fromkeys(["security", *refs])),
        "security-severity": SECURITY_SEVERITY.get(p.severity, SECURITY_SEVERITY["medium"]),
        "precision": "very-high",  # rules judge declared inputs: no heuristics
        "severity": p.severity,
        "enforcement": p.enforcement,
    }
    return rule


def _logical(urn: str) -> dict[str, Any]:
    return {"name": split_urn(urn)[1], "fullyQualifiedName": urn, "kind": "resource"}


def _physical(where: SourceLocation, artifacts: dict[str, int]) -> dict[str, Any]:
    """A physicalLocation: relative files under %SRCROOT%, absolute ones as file: URIs."""
    index = artifacts.setdefault(where.file, len(artifacts))
    if where.file.startswith("/"):
        artifact: dict[str, Any] = {"uri": Path(where.file).as_uri(), "index": index}
    else:
        artifact = {"uri": quote(where.file), "uriBaseId": SRCROOT, "index": index}
    return {"artifactLocation": artifact, "region": {"startLine": where.line}}


def _result(v: Violation, index: int, fallback: SourceLocation, stack_urn: str,
            rule_remediation: str, resources: dict[str, PlanResource],
            artifacts: dict[str, int], baseline: bool) -> dict[str, Any]:
    urn = v.urn or stack_urn
    where = f"{v.resource_type} '{v.resource_name}'" if v.urn else "stack"
    resource = resources.get(v.urn) if v.urn else None
    primary = (resource.location if resource is not None else None) or fallback
    location: dict[str, Any] = {"physicalLocation": _physical(primary, artifacts)}
    if urn:
        location["logicalLocations"] = [_logical(urn)]
    fp = fingerprint(v.policy, v.urn)
    out: dict[str, Any] = {
        "ruleId": v.policy,
        "ruleIndex": index,
        "level": LEVELS.get(v.enforcement, "warning"),
        "message": {"text": f"{where}: {v.message or f'violates {v.policy}'}"},
        "locations": [location],
        # primaryLocationLineHash is GitHub's key; set here, the upload step keeps ours.
        "partialFingerprints": {FINGERPRINT_KEY: fp, "primaryLocationLineHash": fp},
        "properties": {
            "severity": v.severity,
            "enforcement": v.enforcement,
            "resourceType": v.resource_type,
            "resourceName": v.resource_name,
        },
    }
    if primary.key:
        out["properties"]["configKey"] = primary.key
    if resource is not None and resource.config_source and resource.source:
        out["relatedLocations"] = [{"id": 1, "message": {"text": "registered here"},
                                    "physicalLocation": _physical(resource.source, artifacts)}]
    if v.remediation and v.remediation.strip() != rule_remediation:
        out["properties"]["remediation"] = v.remediation  # only what the rule's help lacks
    quiet = suppression(v)
    if quiet is not None and quiet[0] != "baseline":
        why = quiet[1] if quiet[0] == "waived" else f"exempt by the policy's named rule {quiet[1]}"
        out["suppressions"] = [{"kind": "external", "status": "accepted", "justification": why}]
    if v.waiver_expired:
        out["properties"]["waiverExpired"] = v.waiver_expired
    if baseline:
        out["baselineState"] = "unchanged" if v.baseline else "new"
    return out


def build_sarif(result: CheckResult, *, source_file: str | None = None) -> dict[str, Any]:
    """The SARIF log as a dict (for callers that merge runs or post-process). `source_file`
    (relative to the repository root) is where findings without a location of their own point;
    default: the stack file the plan recorded, else `stacks/Pulumi.<stack>.yaml`."""
    plan = result.plan
    recorded = plan.extras.get("stackFile")
    source = source_file or (recorded if isinstance(recorded, str) and recorded
                             else default_source_file(plan.stack))
    fallback = SourceLocation(file=source, line=1)
    stack_urn = next((r.urn for r in plan.resources if r.type == STACK_TYPE), "")
    resources = plan.by_urn()
    artifacts: dict[str, int] = {source: 0}
    baseline = any(v.baseline for v in result.violations)

    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    remediation: dict[str, str] = {}
    known = {p.name for p in result.policies}
    # A violation of a policy the pack did not list still needs a rule.
    unlisted = [PolicyInfo(name=v.policy, description=v.policy, severity=v.severity,
                           enforcement=v.enforcement, remediation=v.remediation)
                for v in result.violations if v.policy not in known]
    for p in [*result.policies, *unlisted]:
        if p.name not in index:
            index[p.name] = len(rules)
            remediation[p.name] = p.remediation.strip()
            rules.append(_rule(p))

    results = [_result(v, index[v.policy], fallback, stack_urn, remediation[v.policy],
                       resources, artifacts, baseline)
               for v in sorted(result.violations, key=violation_sort_key)]

    notifications = []
    for d in sorted(result.diagnostics, key=lambda d: (d.policy, d.urn, d.message)):
        note: dict[str, Any] = {
            "level": "note",
            "message": {"text": f"Not verifiable at preview: {d.message}"},
            "associatedRule": {"id": d.policy},
        }
        if d.policy in index:
            note["associatedRule"]["index"] = index[d.policy]
        if d.urn:
            note["locations"] = [{"logicalLocations": [_logical(d.urn)]}]
        notifications.append(note)

    version, semver, info_uri = _tool_metadata()
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": TOOL_NAME,
            "informationUri": info_uri,
            "version": version,
            "semanticVersion": semver,
            "rules": rules,
        }},
        # GitHub keeps one set of alerts per category: one per stack, so stacks never clash.
        "automationDetails": {"id": f"{TOOL_NAME}/{plan.stack or 'default'}/"},
        "originalUriBaseIds": {SRCROOT: {"description": {"text": "The repository root."}}},
        "artifacts": [{"location": ({"uri": Path(f).as_uri()} if f.startswith("/") else
                                    {"uri": quote(f), "uriBaseId": SRCROOT})}
                      for f in sorted(artifacts, key=artifacts.__getitem__)],
        "invocations": [{
            "executionSuccessful": True,
            "exitCode": result.exit_code,
            "toolExecutionNotifications": notifications,
        }],
        "results": results,
        "properties": {"project": plan.project, "stack": plan.stack, "pack": result.pack_name},
    }
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def render_sarif(result: CheckResult, *, source_file: str | None = None) -> str:
    """The SARIF log as indented JSON; `source_file` defaults to `stacks/Pulumi.<stack>.yaml`."""
    return json.dumps(build_sarif(result, source_file=source_file), indent=2,
                      ensure_ascii=False) + "\n"
