"""The budget as policy: a plan whose monthly maximum cost exceeds the stack's budget
(`aidc:policy` `budget.monthly_max_usd`) is a violation of `budget-monthly-max`.

The figure is `aidc cost`'s: the plan priced by `infra.cost.estimate` against the shipped catalog,
every node pool at its maximum size. The finding is on the stack as a whole (waive it with
`resource: stack`), gives the total against the budget and names the largest lines with their
figures and bases, so the reviewer sees what to shrink. Resources aidc cannot price are not in
the total, and the finding says so, naming them: a total without them is a floor, never a
silent zero.

Without a budget the check finds nothing. Under its budget a plan passes even with unpriced
resources (a bucket is billed by what it stores, which no plan says); `aidc cost` lists them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from infra.check.plan_checks import Finding, PlanCheck
from infra.cost import estimate
from infra.cost.model import CostReport, dollars
from infra.engine.plan import Plan

if TYPE_CHECKING:
    from infra.config.policy import PolicySettings

BUDGET_CHECK = "budget-monthly-max"
LARGEST = 5
"""How many of the largest lines a finding names."""
UNPRICED_NAMED = 5
"""How many unpriced resources a finding names (it always counts them all)."""


def budget_message(report: CostReport, monthly_max_usd: float) -> str | None:
    """What a report's maximum does to a budget, or None when it fits: the total against the
    budget, the largest lines, and what the total leaves out."""
    total = report.monthly_max
    if total <= monthly_max_usd:
        return None
    over = total - monthly_max_usd
    largest = [line for line in report.largest(LARGEST) if line.monthly_max > 0]
    parts = [f"Monthly maximum {dollars(total)} exceeds the budget {dollars(monthly_max_usd)} "
             f"by {dollars(over)} ({over / monthly_max_usd:.1%} over)"]
    parts.append("Largest at maximum: " + "; ".join(
        f"{line.name} {dollars(line.monthly_max)} ({line.basis})" for line in largest))
    if report.unpriced:
        names = [item.name for item in report.unpriced]
        more = len(names) - UNPRICED_NAMED
        parts.append(f"The total excludes {len(names)} unpriced resource"
                     f"{'s' * (len(names) != 1)}, `aidc cost` gives each reason: "
                     + ", ".join(names[:UNPRICED_NAMED])
                     + (f" and {more} more" if more > 0 else ""))
    return ". ".join(parts) + "."


def over_budget(plan: Plan, settings: PolicySettings) -> Iterator[Finding]:
    """One finding on the stack when the plan's monthly maximum exceeds its budget."""
    if settings.budget is None:
        return
    message = budget_message(estimate(plan), settings.budget.monthly_max_usd)
    if message is not None:
        yield Finding("", message)


CHECKS: tuple[PlanCheck, ...] = (
    PlanCheck(
        name=BUDGET_CHECK, severity="high",
        description="The plan's monthly cost with every node pool at its maximum size (as "
                    "`aidc cost` prices it, list prices, 730 h) stays within the stack's budget "
                    "(aidc:policy budget.monthly_max_usd).",
        remediation="Lower the largest lines (a pool's max_nodes, its capacity mode: Spot or a "
                     "commitment), or raise the environment's budget in its stack file with the "
                     "approval your cost owner requires; `aidc cost STACK` shows every line.",
        references=("aidc: infra.cost.estimate", "aidc: infra.catalog.prices"),
        url="https://cloud.google.com/billing/docs/how-to/budgets",
        run=over_budget),
)
