"""What the Markdown pull-request report adds when it is given a base plan (`aidc check
--format markdown --base PLAN.json`): one section per comparison, each from its own function.

A comparison is `(result, base plan) -> Section | None` (None: nothing to say); this module's are
the plan diff and the cost change (`infra.cost.diff`, the figures of `aidc cost diff`). Another
module adds its own by listing it in `BASE_PLAN_COMPARISONS`; `render_markdown` fits every
section into the comment's limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from infra.check.results import CheckResult
from infra.cost import diff_reports, estimate
from infra.cost.diff import ResourceChange
from infra.cost.model import dollars
from infra.engine.diff import diff_plans
from infra.engine.plan import Plan
from infra.report.markdown import MAX_CELL, Section, code, md_text
from infra.report.plan_text import value_change_text

Comparison = Callable[[CheckResult, Plan], "Section | None"]


def plan_diff_section(result: CheckResult, base: Plan) -> Section | None:
    """Added, removed and changed resources against the base plan, each change with its input
    paths and old -> new values (secrets as [secret]), replacements first."""
    diff = diff_plans(base, result.plan)
    n = len(diff.added) + len(diff.removed) + len(diff.changed)
    replaced = sum(1 for c in diff.changed if c.replaces)
    summary = (f"{len(diff.added)} added, {len(diff.removed)} removed, "
               f"{len(diff.changed)} changed" + (f", **{replaced} replaced**" if replaced else ""))
    opening = (f"#### Changes against the base plan\n\n{summary} "
               f"({code(base.stack or '-')} → {code(result.plan.stack or '-')})\n\n")
    if diff.empty:
        return Section(opening + "No differences.\n\n", iter(()), closing="")
    opening += ("<details>\n<summary>Resources that change</summary>\n\n"
                "| Change | Resource | Inputs (old → new) |\n|:--|:--|:--|\n")

    def resource(name: str, type_token: str) -> str:
        return f"**{md_text(name)}**<br>{code(type_token)}"

    def rows() -> Iterator[str]:
        for change in sorted(diff.changed, key=lambda c: (not c.replaces, c.type, c.name)):
            kind = "♻️ replaced" if change.replaces else "✏️ changed"
            values = "<br>".join(
                f"{code(v.path)}: {md_text(value_change_text(v), limit=MAX_CELL)}"
                + (" (forces replacement)" if v.path in change.replaces else "")
                for v in change.values)
            yield f"| {kind} | {resource(change.name, change.type)} | {values} |\n"
        for _, type_token, name in diff.added:
            yield f"| ➕ added | {resource(name, type_token)} | |\n"
        for _, type_token, name in diff.removed:
            yield f"| ➖ removed | {resource(name, type_token)} | |\n"

    return Section(opening, rows(), what="changed resources", total=n)


COST_MOVERS = 10
"""How many resources the cost section lists: those that moved the monthly maximum most."""


def cost_change_section(result: CheckResult, base: Plan) -> Section:
    """The monthly cost before and after (both plans priced as `aidc cost` prices them), the
    change, the resources that moved the maximum most, and how many are unpriced on each side."""
    change = diff_reports(estimate(base), estimate(result.plan))
    before, after = change.base, change.head
    opening = (
        "#### Monthly cost against the base plan\n\n"
        f"| {after.currency}, list prices, {after.hours_per_month} h a month "
        "| Minimum | Maximum |\n|:--|--:|--:|\n"
        f"| Base ({code(base.stack or '-')}) | {dollars(before.monthly_min)} "
        f"| {dollars(before.monthly_max)} |\n"
        f"| This change ({code(result.plan.stack or '-')}) | {dollars(after.monthly_min)} "
        f"| {dollars(after.monthly_max)} |\n"
        f"| **Change** | **{dollars(change.monthly_min_delta, signed=True)}** "
        f"| **{dollars(change.monthly_max_delta, signed=True)}** |\n\n"
        f"Unpriced resources, not in the totals: {len(before.unpriced)} in the base, "
        f"{len(after.unpriced)} here (`aidc cost` gives each reason).\n\n")
    if not change.changes:
        return Section(opening + "No resource changes its cost.\n\n", iter(()), closing="")
    movers = change.changes[:COST_MOVERS]
    shown = (f"the {len(movers)} of {len(change.changes)} that move the maximum most"
             if len(change.changes) > len(movers) else "largest change of the maximum first")
    opening += (f"<details>\n<summary>Resources whose cost changes ({shown})</summary>\n\n"
                "| Change | Resource | Maximum (before → after) | Δ maximum | Δ minimum |\n"
                "|:--|:--|--:|--:|--:|\n")

    def amount(value: float | None) -> str:
        return "-" if value is None else dollars(value)

    def row(moved: ResourceChange) -> str:
        note = f"<br>{md_text(moved.note, limit=MAX_CELL)}" if moved.note else ""
        return (f"| {md_text(moved.change)} "
                f"| **{md_text(moved.name)}**<br>{code(moved.type)}{note} "
                f"| {amount(moved.monthly_max_before)} → {amount(moved.monthly_max_after)} "
                f"| {dollars(moved.monthly_max_delta, signed=True)} "
                f"| {dollars(moved.monthly_min_delta, signed=True)} |\n")

    return Section(opening, (row(moved) for moved in movers), what="resources whose cost changes",
                   total=len(movers))


# Listed in the order they appear in the comment.
BASE_PLAN_COMPARISONS: list[Comparison] = [cost_change_section, plan_diff_section]


def base_plan_sections(result: CheckResult, base: Plan) -> list[Section]:
    """Every comparison's section for this result and base plan."""
    return [s for s in (compare(result, base) for compare in BASE_PLAN_COMPARISONS)
            if s is not None]
