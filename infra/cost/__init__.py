"""What a stack costs a month, and what a change adds: a Plan priced against the sourced catalog
(``infra.catalog.prices``) into a typed ``CostReport``, and two reports compared.

    report = estimate(plan)                      # pure: Plan (+ assumptions) -> CostReport
    change = diff_reports(base_report, report)   # pure: two reports -> CostDiff

Renderings live in ``infra.report.cost``; the CLI in ``infra.cli.cost``.
"""

from infra.cost.diff import CostDiff, ResourceChange, diff_reports
from infra.cost.pricing import Assumptions, estimate
from infra.cost.model import CostLine, CostReport, Unpriced

__all__ = ["Assumptions", "CostDiff", "CostLine", "CostReport", "ResourceChange", "Unpriced",
           "diff_reports", "estimate"]
