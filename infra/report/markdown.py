"""Markdown report for a pull-request comment: the verdict first, the details folded away.

A reviewer reads the first two lines and the severity table; everything else is in `<details>`
per policy, and a Mermaid picture of the components shows where the problems sit. Every piece
of text that comes from a plan or a policy is escaped, so a resource name cannot break a table
or inject HTML. GitHub rejects comments over 65,536 characters, so the details are cut (with a
note saying how many were left out) to keep the whole comment under `limit` UTF-8 bytes, which
bounds characters and UTF-16 units alike.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from itertools import chain

from infra.check.results import CheckResult, Diagnostic, PolicyInfo, Violation
from infra.report.mermaid import Diagram, component_flowchart
from infra.report.text import (
    Group,
    Tally,
    group_violations,
    split_urn,
    suppression,
    tally,
)

GITHUB_COMMENT_LIMIT = 65_536
MARKER = "<!-- aidc-policy-report -->"  # lets a CI job find and update its previous comment
MAX_CELL = 1_000  # characters of one message or remediation cell
MAX_PARAGRAPH = 3_000
_NOTE_RESERVE = 800  # bytes kept for the truncation note and the closing lines

_MD_ESCAPES = {ord(c): "\\" + c for c in "\\`*_[]|~"}
_MD_ESCAPES.update({ord("<"): "&lt;", ord(">"): "&gt;", ord("&"): "&amp;"})
_MENTION = re.compile(r"(?<![\w@])@(?=[A-Za-z0-9])")
_STATUS = {"mandatory": "❌ mandatory", "advisory": "⚠️ advisory", "disabled": "disabled"}


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _shorten(text: str, limit: int | None) -> str:
    if limit is not None and len(text) > limit:
        return text[: limit - 1] + "…"
    return text


def md_text(text: str, *, limit: int | None = None, breaks: bool = False) -> str:
    """Text that renders as itself in Markdown, table cells included (pipes are escaped),
    and that does not notify anyone it names.

    `breaks` keeps line breaks as `<br>`; otherwise they become spaces (a table row is one line).
    """
    out = _shorten(text, limit).translate(_MD_ESCAPES)
    out = _MENTION.sub("@\u2060", out)  # a waiver "approved by @alice" must not ping alice
    lines = out.splitlines() or [""]
    return ("<br>" if breaks else " ").join(line.strip() for line in lines)


def code(text: str) -> str:
    """An inline code span for a table cell, whatever backticks or pipes the text holds."""
    text = " ".join(text.splitlines())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}".replace("|", "\\|")


def _link(url: str, label: str) -> str:
    if not re.match(r"https?://", url):
        return ""
    safe = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C")
    return f"[{md_text(label)}]({safe.replace('>', '%3E')})"


def _summary(result: CheckResult, t: Tally) -> str:
    plan = result.plan
    passed = result.exit_code == 0
    icon, word = ("✅", "passed") if passed else ("❌", "failed")
    stack = code(plan.stack) if plan.stack else "(unnamed)"
    head = f"### {icon} aidc policy check {word} on stack {stack}"
    violated = len({v.policy for v in result.violations})
    counts = [f"**{t.mandatory} mandatory**", f"{t.advisory} advisory", f"{t.waived} waived"]
    counts += [f"{n} {label}" for n, label in ((t.exempt, "exempt"), (t.baseline, "in baseline"),
                                               (t.disabled, "disabled")) if n]
    counts.append(f"{len(result.violations)} violations of {violated} of "
                  f"{len(result.policies)} policies")
    counts.append(f"{len(plan.custom_resources())} resources")
    if result.diagnostics:
        counts.append(f"{len(result.diagnostics)} not verifiable at preview")
    where = []
    if plan.project:
        where.append(f"project {code(plan.project)}")
    if result.pack_name:
        where.append(f"pack {code(result.pack_name)}")
    line = " · ".join(counts) + (f" ({', '.join(where)})" if where else "")
    return f"{MARKER}\n{head}\n\n{line}\n\n"


def _severity_table(result: CheckResult) -> str:
    tallies = tally(result.violations)
    show_disabled = tallies.total.disabled > 0
    cols = ["Severity", "Mandatory", "Advisory", "Waived"] + (["Disabled"] if show_disabled else [])
    rows = [f"| {' | '.join(cols)} |", "|:--" + "|--:" * (len(cols) - 1) + "|"]

    def cells(t: Tally) -> list[str]:
        return [str(t.mandatory), str(t.advisory), str(t.waived)] + (
            [str(t.disabled)] if show_disabled else [])

    for sev, t in tallies.by_severity.items():
        rows.append(f"| {md_text(sev or 'unknown')} | {' | '.join(cells(t))} |")
    total = [f"**{c}**" for c in cells(tallies.total)]
    rows.append(f"| **Total** | {' | '.join(total)} |")
    return "\n".join(rows) + "\n\n"


def _status_cell(v: Violation) -> str:
    quiet = suppression(v)
    if quiet:
        return f"🔕 {quiet[0]}: {md_text(quiet[1], limit=MAX_CELL)}"
    cell = _STATUS.get(v.enforcement, md_text(v.enforcement))
    if v.waiver_expired:
        cell += f"<br>waiver expired {md_text(v.waiver_expired)}"
    return cell


def _resource_cell(v: Violation) -> str:
    if not v.resource_type and not v.resource_name:
        return "stack"
    return f"**{md_text(v.resource_name)}**<br>{code(v.resource_type)}"


class Section:
    """The opening, rows and closing of one block of the comment, to be cut row by row.

    Rows are produced lazily: past the limit, the rest are never formatted. Other modules add
    their own sections to the comment (`render_markdown(..., sections=...)`, e.g. the changes
    against a base plan, `infra.report.comparison`); `what` and `total` name and count the
    rows for the note that says what was cut.
    """

    def __init__(self, opening: str, rows: Iterator[str],
                 closing: str = "\n</details>\n\n", *, what: str = "", total: int = 0) -> None:
        self.opening, self.rows, self.closing = opening, rows, closing
        self.what, self.total = what, total




def _policy_section(group: Group, policy: PolicyInfo | None) -> Section:
    vs = group.violations
    t = Tally()
    for v in vs:
        t.add(v)
    parts = [f"{n} {name}" for n, name in
             ((t.mandatory, "mandatory"), (t.advisory, "advisory"), (t.waived, "waived"),
              (t.exempt, "exempt"), (t.baseline, "in baseline"), (t.disabled, "disabled")) if n]
    n = len(vs)
    summary = (f"<b>{html.escape(group.policy)}</b> · {html.escape(group.severity)} · "
               f"{n} violation{'s' if n != 1 else ''} ({', '.join(parts)})")
    body = [f"<details>\n<summary>{summary}</summary>\n\n"]
    if policy and policy.description:
        body.append(md_text(policy.description, limit=MAX_PARAGRAPH, breaks=True) + "\n\n")
    default_rem = policy.remediation if policy else ""
    remediations = {v.remediation or default_rem for v in vs}
    shared = len(remediations) == 1
    if shared and (rem := remediations.pop()):
        body.append(f"**Remediation:** {md_text(rem, limit=MAX_PARAGRAPH, breaks=True)}\n\n")
    refs = []
    if policy and policy.references:
        refs.append("**References:** " + ", ".join(md_text(r) for r in policy.references))
    if policy and policy.url and (link := _link(policy.url, "documentation")):
        refs.append(link)
    if refs:
        body.append(" · ".join(refs) + "\n\n")
    if shared:
        body.append("| Resource | Status | Message |\n|:--|:--|:--|\n")
    else:
        body.append("| Resource | Status | Message | Remediation |\n|:--|:--|:--|:--|\n")

    def rows() -> Iterator[str]:
        for v in vs:
            cells = [_resource_cell(v), _status_cell(v),
                     md_text(v.message, limit=MAX_CELL, breaks=True)]
            if not shared:
                cells.append(md_text(v.remediation or default_rem, limit=MAX_CELL, breaks=True))
            yield f"| {' | '.join(cells)} |\n"

    return Section("".join(body), rows())


def _diagnostics_section(diagnostics: Iterable[Diagnostic]) -> Section:
    ds = sorted(diagnostics, key=lambda d: (d.policy, d.urn, d.message))
    n = len(ds)
    opening = (f"<details>\n<summary><b>{n} check{'s' if n != 1 else ''} not verifiable at "
               "preview</b> (a value is unknown until deployment; not counted as a pass)"
               "</summary>\n\n| Resource | Policy | Why |\n|:--|:--|:--|\n")

    def rows() -> Iterator[str]:
        for d in ds:
            rtype, rname = split_urn(d.urn) if d.urn else ("", "")
            resource = f"**{md_text(rname)}**<br>{code(rtype)}" if d.urn else "stack"
            yield (f"| {resource} | {md_text(d.policy)} | "
                   f"{md_text(d.message, limit=MAX_CELL, breaks=True)} |\n")

    return Section(opening, rows())


def _diagram_block(diagram: Diagram) -> str:
    note = ""
    if diagram.aggregated:
        note = "_Too many components to draw one by one: each node is a component type._\n\n"
    return f"#### Components\n\n{note}```mermaid\n{diagram.source}```\n\n"


def _fit_diagram(result: CheckResult, allowance: int) -> str:
    """The component diagram, by type if drawn one by one it would not fit, else a note."""
    diagram = component_flowchart(result.plan, result.violations)
    block = _diagram_block(diagram)
    if _size(block) > allowance and not diagram.aggregated:
        block = _diagram_block(component_flowchart(result.plan, result.violations, aggregate=True))
    if _size(block) > allowance:
        block = "#### Components\n\n_The component diagram is too large for a comment._\n\n"
    return block


def render_markdown(result: CheckResult, *, limit: int = GITHUB_COMMENT_LIMIT,
                    sections: Iterable[Section] = ()) -> str:
    """The pull-request comment, at most `limit` UTF-8 bytes (for any realistic limit).
    `sections` (other modules' blocks) follow the violations, cut to the same limit."""
    head = _summary(result, tally(result.violations).total) + _severity_table(result)
    # The diagram may use at most half of what the head leaves; the details get the rest.
    diagram = _fit_diagram(result, (limit - _size(head) - _NOTE_RESERVE) // 2)
    budget = limit - _size(head) - _size(diagram) - _NOTE_RESERVE

    policies = {p.name: p for p in result.policies}
    groups = group_violations(result.violations)
    extra = list(sections)
    sections = [(_policy_section(g, policies.get(g.policy)), "violations") for g in groups]
    if result.diagnostics:
        sections.append((_diagnostics_section(result.diagnostics), "diagnostics"))
    sections += [(section, f"extra{i}") for i, section in enumerate(extra)]

    chunks = [head]
    if groups:
        chunks.append("#### Violations\n\n")
        budget -= _size(chunks[-1])
    shown = {"violations": 0, "diagnostics": 0, **{f"extra{i}": 0 for i in range(len(extra))}}
    cut = False
    for section, kind in sections:
        opened = empty = False
        for row in chain(section.rows, [None]):
            if row is None:  # a section without rows still says so ("No differences.")
                empty = not opened
                break
            # The closing is reserved when a section opens, so a cut never leaves one open.
            need = _size(row) + (0 if opened else _size(section.opening) + _size(section.closing))
            if need > budget:
                cut = True
                break
            if not opened:
                chunks.append(section.opening)
                opened = True
            chunks.append(row)
            budget -= need
            shown[kind] += 1
        if empty and _size(section.opening) + _size(section.closing) <= budget:
            chunks.append(section.opening)
            budget -= _size(section.opening) + _size(section.closing)
            opened = True
        if opened:
            chunks.append(section.closing)
        if cut:
            break
    if cut:
        left = [f"{len(result.violations) - shown['violations']} of "
                f"{len(result.violations)} violations"]
        if result.diagnostics:
            left.append(f"{len(result.diagnostics) - shown['diagnostics']} of "
                        f"{len(result.diagnostics)} unverifiable checks")
        left += [f"{section.total - shown[f'extra{i}']} of {section.total} {section.what}"
                 for i, section in enumerate(extra) if shown[f"extra{i}"] < section.total]
        chunks.append(
            "> [!WARNING]\n"
            f"> Not shown: {' and '.join(left)}, to keep this comment within GitHub's "
            f"{GITHUB_COMMENT_LIMIT:,}-character limit. The text, JSON and SARIF reports "
            "(and `aidc diff`) list every one.\n\n")
    chunks.append(diagram)
    return "".join(chunks).rstrip("\n") + "\n"
