"""What a change does to the bill: two cost reports compared resource by resource.

Resources are matched by URN (across two stacks, by the URN without its stack and project, as
plan diffs match them). A resource is ``added`` or ``removed``; ``changed`` when its monthly
minimum or maximum moved; ``now unpriced`` / ``now priced`` when it crossed between the report's
priced lines and its unpriced list. The totals compare priced lines only, so a change that makes a
resource unpriced is listed, never silently counted as a saving.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from infra.cost.model import CostLine, CostReport, Unpriced, cents
from infra.engine.diff import resource_key
from infra.errors import AidcError

Change = Literal["added", "removed", "changed", "now unpriced", "now priced"]


@dataclass(frozen=True)
class ResourceChange:
    """One resource whose cost differs between the base and the head report."""

    urn: str
    type: str
    name: str
    change: Change
    monthly_min_before: float | None
    monthly_min_after: float | None
    monthly_max_before: float | None
    monthly_max_after: float | None
    note: str = ""

    @property
    def monthly_max_delta(self) -> float:
        return cents((self.monthly_max_after or 0.0) - (self.monthly_max_before or 0.0))

    @property
    def monthly_min_delta(self) -> float:
        return cents((self.monthly_min_after or 0.0) - (self.monthly_min_before or 0.0))

    def as_dict(self) -> dict[str, Any]:
        return {
            "urn": self.urn, "type": self.type, "name": self.name, "change": self.change,
            "monthly_min_before": self.monthly_min_before,
            "monthly_min_after": self.monthly_min_after,
            "monthly_max_before": self.monthly_max_before,
            "monthly_max_after": self.monthly_max_after,
            "monthly_min_delta": self.monthly_min_delta,
            "monthly_max_delta": self.monthly_max_delta,
            "note": self.note,
        }


@dataclass(frozen=True)
class CostDiff:
    """Base and head totals, and every resource that moved them, largest maximum change first."""

    base: CostReport
    head: CostReport
    changes: tuple[ResourceChange, ...]

    @property
    def monthly_min_delta(self) -> float:
        return cents(self.head.monthly_min - self.base.monthly_min)

    @property
    def monthly_max_delta(self) -> float:
        return cents(self.head.monthly_max - self.base.monthly_max)

    def as_dict(self) -> dict[str, Any]:
        return {
            "currency": self.head.currency,
            "hours_per_month": self.head.hours_per_month,
            "base": _summary(self.base),
            "head": _summary(self.head),
            "total": {"monthly_min_delta": self.monthly_min_delta,
                      "monthly_max_delta": self.monthly_max_delta,
                      "monthly_min_before": self.base.monthly_min,
                      "monthly_min_after": self.head.monthly_min,
                      "monthly_max_before": self.base.monthly_max,
                      "monthly_max_after": self.head.monthly_max},
            "resources": [change.as_dict() for change in self.changes],
        }


def _summary(report: CostReport) -> dict[str, Any]:
    return {"project": report.project, "stack": report.stack, "as_of": report.as_of.isoformat(),
            "monthly_min": report.monthly_min, "monthly_max": report.monthly_max,
            "unpriced": len(report.unpriced)}


def diff_reports(base: CostReport, head: CostReport) -> CostDiff:
    """Compare two reports of the same currency and month; resources matched as plans are."""
    if (base.currency, base.hours_per_month) != (head.currency, head.hours_per_month):
        raise AidcError(f"the reports are not comparable: base is {base.currency} over "
                        f"{base.hours_per_month} h, head {head.currency} over "
                        f"{head.hours_per_month} h")
    across = base.stack != head.stack

    def index(report: CostReport) -> dict[str, CostLine | Unpriced]:
        entries: list[CostLine | Unpriced] = [*report.lines, *report.unpriced]
        return {resource_key(entry.urn, across): entry for entry in entries}

    old, new = index(base), index(head)
    changes = [change for key in [*old, *(k for k in new if k not in old)]
               if (change := _compare(old.get(key), new.get(key))) is not None]
    changes.sort(key=lambda c: (-abs(c.monthly_max_delta), -abs(c.monthly_min_delta), c.urn))
    return CostDiff(base, head, tuple(changes))


def _amounts(entry: CostLine | Unpriced | None) -> tuple[float | None, float | None]:
    return (entry.monthly_min, entry.monthly_max) if isinstance(entry, CostLine) else (None, None)


def _compare(before: CostLine | Unpriced | None,
             after: CostLine | Unpriced | None) -> ResourceChange | None:
    entry = after or before
    assert entry is not None
    (min_before, max_before), (min_after, max_after) = _amounts(before), _amounts(after)
    note = after.reason if isinstance(after, Unpriced) else (
        after.basis if isinstance(after, CostLine) else "")
    if (before is None or after is None) and isinstance(entry, CostLine) \
            and entry.charge != "fixed":
        return None  # a free or usage-only resource added or removed moves no figure
    if before is None:
        change: Change = "added"
    elif after is None:
        change, note = "removed", ""
    elif isinstance(before, CostLine) and isinstance(after, Unpriced):
        change = "now unpriced"
    elif isinstance(before, Unpriced) and isinstance(after, CostLine):
        change = "now priced"
    elif (min_before, max_before) != (min_after, max_after):
        change = "changed"
    else:
        return None
    return ResourceChange(entry.urn, entry.type, entry.name, change, min_before, min_after,
                          max_before, max_after, note)
