"""Plain-text report: what a CI log shows and what `> report.txt` keeps.

Worst first (severity, then policy), every field spelled out so a reader never has to look a
policy up, and one closing verdict line a human can grep for. No ANSI codes: the same lines can
be coloured by `render_rich` for a terminal, but the file stays clean.

The grouping, ordering and counting here are shared with the Markdown and SARIF renderings, so
that every format tells the same story in the same order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import groupby
from typing import TYPE_CHECKING

from infra.check.results import CheckResult, Diagnostic, Violation
from policies.protocol import SEVERITIES

if TYPE_CHECKING:
    from rich.text import Text

NO_REASON = "(no reason given)"
_LABEL_WIDTH = 13  # len("enforcement: ")


def severity_rank(severity: str) -> int:
    """Known severities in their order of gravity; anything unknown after them."""
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        return len(SEVERITIES)


def violation_sort_key(v: Violation) -> tuple[int, str, str, str, str, str, str]:
    """Order independent of the analyzer's: severity, policy, then the resource."""
    return (severity_rank(v.severity), v.severity, v.policy, v.resource_type,
            v.resource_name, v.urn, v.message)


def status(v: Violation) -> str:
    """How a violation counts: waived, exempt, baseline, or its enforcement level."""
    return v.status


def suppression(v: Violation) -> tuple[str, str] | None:
    """(label, why) of what keeps the violation from counting, or None: a waiver's reason, a
    named exemption, the baseline. Every format shows it the same way."""
    if v.waiver is not None:
        return "waived", v.waiver or NO_REASON
    if v.exemption is not None:
        return "exempt", v.exemption
    if v.baseline:
        return "baseline", "in the baseline given with --baseline"
    return None


@dataclass(frozen=True)
class Group:
    """The violations of one policy at one severity, in report order."""

    severity: str
    policy: str
    violations: tuple[Violation, ...]


def group_violations(violations: Iterable[Violation]) -> list[Group]:
    """Severity first, then policy; within a policy by resource type and name."""
    ordered = sorted(violations, key=violation_sort_key)
    return [Group(sev, pol, tuple(vs))
            for (sev, pol), vs in groupby(ordered, key=lambda v: (v.severity, v.policy))]


@dataclass
class Tally:
    """Counts by status; `mandatory` means blocking (mandatory and not waived)."""

    mandatory: int = 0
    advisory: int = 0
    waived: int = 0
    disabled: int = 0
    exempt: int = 0
    baseline: int = 0

    def add(self, v: Violation) -> None:
        s = status(v)
        if s in ("waived", "mandatory", "advisory", "exempt", "baseline"):
            setattr(self, s, getattr(self, s) + 1)
        else:
            self.disabled += 1

    @property
    def total(self) -> int:
        return (self.mandatory + self.advisory + self.waived + self.disabled + self.exempt
                + self.baseline)


@dataclass
class Tallies:
    """The overall tally and one per severity (every known severity present, even at zero)."""

    total: Tally = field(default_factory=Tally)
    by_severity: dict[str, Tally] = field(default_factory=dict)


def tally(violations: Iterable[Violation]) -> Tallies:
    """Count once, in one pass, what every format's summary shows."""
    out = Tallies(by_severity={s: Tally() for s in SEVERITIES})
    for v in violations:
        out.total.add(v)
        out.by_severity.setdefault(v.severity, Tally()).add(v)
    # Unknown severities go after the known ones, in a stable order.
    known = {s: out.by_severity[s] for s in SEVERITIES}
    extra = {s: out.by_severity[s] for s in sorted(set(out.by_severity) - set(SEVERITIES))}
    out.by_severity = known | extra
    return out


def split_urn(urn: str) -> tuple[str, str]:
    """(type, name) of a URN, for diagnostics that carry nothing else."""
    parts = urn.split("::", 3)
    if len(parts) != 4:
        return "", urn
    return parts[2].rsplit("$", 1)[-1], parts[3]


def resource_label(resource_type: str, resource_name: str) -> str:
    """'type name', or 'stack' for a violation on the stack as a whole."""
    if not resource_type and not resource_name:
        return "stack"
    return f"{resource_type} {resource_name}".strip()


def verdict(result: CheckResult) -> str:
    """The closing line: PASS/FAIL and the counts a CI log reader looks for."""
    t = tally(result.violations).total
    parts = [f"{t.mandatory} mandatory", f"{t.advisory} advisory", f"{t.waived} waived"]
    parts += [f"{n} {label}" for n, label in ((t.exempt, "exempt"), (t.baseline, "in baseline"),
                                              (t.disabled, "disabled")) if n]
    word = "FAIL" if result.exit_code else "PASS"
    tail = f" ({len(result.diagnostics)} not verifiable at preview)" if result.diagnostics else ""
    return f"{word}: {', '.join(parts)}{tail}"


# --- line model shared by the plain and the rich renderings --------------------------------

_SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


def _field(label: str, value: str, indent: str) -> Iterator[str]:
    """A 'label: value' line; continuation lines of a multi-line value stay aligned."""
    lines = value.splitlines() or [""]
    yield f"{indent}{(label + ':').ljust(_LABEL_WIDTH)}{lines[0]}".rstrip()
    pad = indent + " " * _LABEL_WIDTH
    for extra in lines[1:]:
        yield f"{pad}{extra}".rstrip()


def _violation_lines(v: Violation) -> Iterator[str]:
    quiet = suppression(v)
    mark = f"  [{quiet[0].upper()}]" if quiet else ""
    yield f"    - {resource_label(v.resource_type, v.resource_name)}{mark}"
    indent = " " * 8
    if v.urn:
        yield from _field("urn", v.urn, indent)
    yield from _field("policy", v.policy, indent)
    yield from _field("severity", v.severity, indent)
    yield from _field("enforcement", v.enforcement, indent)
    yield from _field("message", v.message, indent)
    if v.remediation:
        yield from _field("remediation", v.remediation, indent)
    if quiet:
        yield from _field(*quiet, indent)
    if v.waiver_expired:
        yield from _field("waiver", f"expired on {v.waiver_expired}", indent)


def _diagnostic_lines(d: Diagnostic) -> Iterator[str]:
    rtype, rname = split_urn(d.urn) if d.urn else ("", "")
    yield f"    - {resource_label(rtype, rname)}"
    indent = " " * 8
    if d.urn:
        yield from _field("urn", d.urn, indent)
    yield from _field("policy", d.policy, indent)
    yield from _field("message", d.message, indent)


def _styled_lines(result: CheckResult) -> Iterator[tuple[str, str]]:
    """Every line of the report with the style a terminal would give it."""
    plan = result.plan
    yield (f"aidc policy check: project {plan.project or '-'}, stack {plan.stack or '-'}, "
           f"pack {result.pack_name or '-'}", "bold")
    yield (f"{len(plan.custom_resources())} resources checked against "
           f"{len(result.policies)} policies, {len(result.violations)} violations", "")
    groups = group_violations(result.violations)
    if not groups:
        yield "", ""
        yield "No violations.", "green"
    for severity, same_severity in groupby(groups, key=lambda g: g.severity):
        sev_groups = list(same_severity)
        count = sum(len(g.violations) for g in sev_groups)
        style = _SEVERITY_STYLE.get(severity, "")
        yield "", ""
        yield f"{(severity or 'unknown').upper()} ({count})", f"bold {style}".strip()
        for g in sev_groups:
            yield "", ""
            n = len(g.violations)
            yield f"  {g.policy} ({n} violation{'s' if n != 1 else ''})", style
            for v in g.violations:
                line_style = "dim" if suppression(v) else ""
                for line in _violation_lines(v):
                    yield line, line_style
    if result.skipped:
        yield "", ""
        yield f"Skipped policies ({len(result.skipped)}): {', '.join(result.skipped)}", "dim"
    if result.diagnostics:
        yield "", ""
        yield f"NOT VERIFIABLE AT PREVIEW ({len(result.diagnostics)})", "bold magenta"
        for d in sorted(result.diagnostics, key=lambda d: (d.policy, d.urn, d.message)):
            for line in _diagnostic_lines(d):
                yield line, ""
    yield "", ""
    yield verdict(result), "bold red" if result.exit_code else "bold green"


def render_text(result: CheckResult) -> str:
    """The report as plain text, newline-terminated."""
    return "\n".join(line for line, _ in _styled_lines(result)) + "\n"


def render_rich(result: CheckResult) -> Text:
    """The same lines, coloured by severity and verdict, for `rich.console.Console.print`."""
    from rich.text import Text

    out = Text()
    for line, style in _styled_lines(result):
        out.append(line + "\n", style=style or None)
    return out
