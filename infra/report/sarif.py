"""SARIF 2.1.0 report, for GitHub code scanning and any other SARIF viewer.

Choices a code-scanning UI depends on:
- One rule per policy, carrying `security-severity` (GitHub's ranking: >= 9.0 critical,
  7.0-8.9 high, 4.0-6.9 medium, below low) and the policy's references as tags.
- Resources have no source line, so every result points at the stack's config file, line 1
  (what a UI can open), and names the resource in a logical location and in its message.
- Because every result sits on the same line, GitHub's own line-hash fingerprint would fold them
  into one alert; each result therefore brings `partialFingerprints` derived from (policy, urn),
  which also keeps an alert's identity across edits of the stack file.
- Waivers become `suppressions` (kind external: they live in stack config), so the alert is
  shown as dismissed with its reason rather than vanishing.
- Checks not verifiable at preview are tool notifications, not results: they are not findings.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import metadata
from typing import Any

from infra.engine.plan import STACK_TYPE
from infra.check.results import CheckResult, PolicyInfo, Violation
from infra.report.markdown import md_text
from infra.report.text import NO_REASON, split_urn, violation_sort_key

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
    """The stack's config file, relative to the repository root."""
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


def _result(v: Violation, index: int, source_file: str, stack_urn: str,
            rule_remediation: str) -> dict[str, Any]:
    urn = v.urn or stack_urn
    where = f"{v.resource_type} '{v.resource_name}'" if v.urn else "stack"
    location: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {"uri": source_file, "uriBaseId": SRCROOT, "index": 0},
            "region": {"startLine": 1},
        },
    }
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
    if v.remediation and v.remediation.strip() != rule_remediation:
        out["properties"]["remediation"] = v.remediation  # only what the rule's help lacks
    if v.waiver is not None:
        out["suppressions"] = [{"kind": "external", "status": "accepted",
                                "justification": v.waiver or NO_REASON}]
    return out


def build_sarif(result: CheckResult, *, source_file: str | None = None) -> dict[str, Any]:
    """The SARIF log as a dict (for callers that merge runs or post-process)."""
    plan = result.plan
    source = source_file or default_source_file(plan.stack)
    stack_urn = next((r.urn for r in plan.resources if r.type == STACK_TYPE), "")

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

    results = [_result(v, index[v.policy], source, stack_urn, remediation[v.policy])
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
        "artifacts": [{"location": {"uri": source, "uriBaseId": SRCROOT}}],
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
