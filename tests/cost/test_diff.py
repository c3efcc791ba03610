"""Comparing two cost reports: per-resource changes, totals, and unpriced crossings made visible."""

from __future__ import annotations

from datetime import date

import pytest

from infra.cost import CostLine, CostReport, Unpriced, diff_reports
from infra.errors import AidcError


def report(*entries: CostLine | Unpriced, stack: str = "prod", currency: str = "USD") -> CostReport:
    return CostReport(project="aidc", stack=stack, currency=currency, as_of=date(2026, 12, 3),
                      hours_per_month=730,
                      lines=tuple(e for e in entries if isinstance(e, CostLine)),
                      unpriced=tuple(e for e in entries if isinstance(e, Unpriced)))


def priced(name: str, lo: float, hi: float, stack: str = "prod", charge: str = "fixed") -> CostLine:
    return CostLine(f"urn:pulumi:{stack}::aidc::t::{name}", "t", name, None, lo, hi, "basis",
                    charge=charge)  # type: ignore[arg-type]


def missing(name: str, stack: str = "prod") -> Unpriced:
    return Unpriced(f"urn:pulumi:{stack}::aidc::t::{name}", "t", name, None, "no price")


def test_changes_per_resource_and_in_total() -> None:
    """Changed, added and removed resources, largest maximum change first; totals are deltas."""
    base = report(priced("pool", 100, 300), priced("fee", 73, 73), priced("old", 10, 10))
    head = report(priced("pool", 100, 600), priced("fee", 73, 73), priced("new", 5, 50))
    diff = diff_reports(base, head)
    assert [(c.name, c.change, c.monthly_max_delta) for c in diff.changes] == [
        ("pool", "changed", 300.0), ("new", "added", 50.0), ("old", "removed", -10.0)]
    assert (diff.monthly_min_delta, diff.monthly_max_delta) == (-5.0, 340.0)
    raw = diff.as_dict()
    assert raw["total"]["monthly_min_delta"] == -5.0 and raw["total"]["monthly_max_delta"] == 340.0
    assert {"urn", "change", "monthly_max_before", "monthly_max_after"} <= set(raw["resources"][0])


def test_crossing_into_unpriced_is_listed_not_counted_as_a_saving() -> None:
    """A resource that becomes unpriced leaves the totals, and the diff says so by name."""
    diff = diff_reports(report(priced("pool", 100, 300)), report(missing("pool")))
    (change,) = diff.changes
    assert (change.change, change.monthly_max_before, change.monthly_max_after) == \
        ("now unpriced", 300, None)
    assert change.note == "no price"
    assert diff_reports(report(missing("pool")), report(priced("pool", 1, 2))).changes[0].change \
        == "now priced"


def test_unchanged_and_zero_cost_additions_are_not_listed() -> None:
    base = report(priced("pool", 100, 300))
    head = report(priced("pool", 100, 300), priced("iam", 0, 0, charge="free"))
    assert diff_reports(base, head).changes == ()


def test_reports_of_two_stacks_match_by_urn_without_the_stack() -> None:
    """dev -> staging compares the same resource in both, as plan diffs do."""
    diff = diff_reports(report(priced("pool", 1, 2, stack="dev"), stack="dev"),
                        report(priced("pool", 1, 4, stack="staging"), stack="staging"))
    assert [(c.name, c.change) for c in diff.changes] == [("pool", "changed")]


def test_rejects_reports_that_are_not_comparable() -> None:
    with pytest.raises(AidcError, match="not comparable"):
        diff_reports(report(), report(currency="EUR"))
