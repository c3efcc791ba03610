"""JUnit XML report, for CI systems that show test results (GitLab, Jenkins, Azure DevOps...).

The mapping is the one scanners use for JUnit: one `<testsuite>` per policy, one `<testcase>`
per finding, named by the resource, with `file` and `line` where the reviewer can act on it (as
SARIF places it). A mandatory finding is a `<failure>` (what fails the gate fails the test run);
an advisory one passes with its message as `<system-out>` (it never fails `aidc check` either);
a waived, exempt or baseline finding is `<skipped>` with why. A policy with no finding is one
passing test case, so the totals count every policy; checks not verifiable at preview are
skipped test cases of their policy. Text that XML 1.0 cannot carry (control characters) is
dropped.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict

from infra.check.results import CheckResult, Diagnostic, Violation
from infra.engine.plan import PlanResource
from infra.report.text import resource_label, split_urn, suppression, violation_sort_key

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _XML_INVALID.sub("", text)


def _case(suite: ET.Element, classname: str, name: str, **attrs: str) -> ET.Element:
    return ET.SubElement(suite, "testcase", {"classname": _clean(classname), "name": _clean(name),
                                            **{k: _clean(v) for k, v in attrs.items()}})


def _where(v: Violation, resources: dict[str, PlanResource], fallback: str) -> dict[str, str]:
    resource = resources.get(v.urn) if v.urn else None
    location = resource.location if resource is not None else None
    if location is None:
        return {"file": fallback} if fallback else {}
    return {"file": location.file, "line": str(location.line)}


def _violation_case(suite: ET.Element, classname: str, v: Violation,
                    where: dict[str, str]) -> None:
    name = resource_label(v.resource_type, v.resource_name)
    case = _case(suite, classname, name, **where)
    quiet = suppression(v)
    text = "\n".join(filter(None, [v.message, v.urn and f"urn: {v.urn}",
                                   v.remediation and f"remediation: {v.remediation}"]))
    if quiet is not None:
        ET.SubElement(case, "skipped", {"message": _clean(f"{quiet[0]}: {quiet[1]}")})
        ET.SubElement(case, "system-out").text = _clean(text)
    elif v.enforcement == "mandatory":
        failure = ET.SubElement(case, "failure", {"message": _clean(v.message),
                                                  "type": _clean(v.severity or "violation")})
        failure.text = _clean(text)
    else:
        ET.SubElement(case, "system-out").text = _clean(f"{v.enforcement}: {text}")


def _diagnostic_case(suite: ET.Element, classname: str, d: Diagnostic) -> None:
    rtype, rname = split_urn(d.urn) if d.urn else ("", "")
    case = _case(suite, classname, resource_label(rtype, rname))
    ET.SubElement(case, "skipped", {"message": _clean(d.message)})


def render_junit(result: CheckResult) -> str:
    """The JUnit XML document, UTF-8, newline-terminated."""
    plan = result.plan
    prefix = f"aidc.{plan.stack or 'default'}"
    fallback = plan.extras.get("stackFile")
    resources = plan.by_urn()
    by_policy: dict[str, list[Violation]] = defaultdict(list)
    for v in sorted(result.violations, key=violation_sort_key):
        by_policy[v.policy].append(v)
    diagnostics: dict[str, list[Diagnostic]] = defaultdict(list)
    for d in sorted(result.diagnostics, key=lambda d: (d.policy, d.urn, d.message)):
        diagnostics[d.policy].append(d)
    names = [p.name for p in result.policies]
    names += [n for n in [*by_policy, *diagnostics] if n not in names]
    info = {p.name: p for p in result.policies}

    root = ET.Element("testsuites", {"name": f"aidc policy check {plan.project}/{plan.stack}"})
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for name in names:
        classname = f"{prefix}.{name}"
        suite = ET.SubElement(root, "testsuite", {"name": _clean(name)})
        policy = info.get(name)
        if policy is not None:
            props = ET.SubElement(suite, "properties")
            for key, value in (("severity", policy.severity), ("enforcement", policy.enforcement),
                               ("references", ", ".join(policy.references))):
                ET.SubElement(props, "property", {"name": key, "value": _clean(value)})
        for v in by_policy.get(name, []):
            _violation_case(suite, classname, v, _where(v, resources, str(fallback or "")))
        for d in diagnostics.get(name, []):
            _diagnostic_case(suite, classname, d)
        if not by_policy.get(name) and not diagnostics.get(name):
            skipped = name in result.skipped
            case = _case(suite, classname, "skipped by --skip-policy/--only-policy" if skipped
                         else "no violation")
            if skipped:
                ET.SubElement(case, "skipped", {"message": "not judged in this run"})
        cases = suite.findall("testcase")
        counts = {"tests": len(cases),
                  "failures": sum(1 for c in cases if c.find("failure") is not None),
                  "skipped": sum(1 for c in cases if c.find("skipped") is not None)}
        suite.attrib.update({k: str(n) for k, n in counts.items()}, errors="0")
        for k in totals:
            totals[k] += counts[k]
    root.attrib.update({k: str(n) for k, n in totals.items()}, errors="0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
