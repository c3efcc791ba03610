"""GKE's maintenance rules as pure functions: RFC 3339 parsing, the recurring window's
availability (48 hours in every 32 days, windows of 4 hours or more) and the RRULE check."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.errors import AidcError
from infra.gcp import maintenance

UTC = timezone.utc
SAT = datetime(2026, 1, 3, 3, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-01-03T03:00:00Z", datetime(2026, 1, 3, 3, tzinfo=UTC)),
    ("2026-01-03t03:00:00z", datetime(2026, 1, 3, 3, tzinfo=UTC)),
    ("2026-01-03T05:00:00+02:00", datetime(2026, 1, 3, 3, tzinfo=UTC)),
    ("2026-01-03T03:00:00.123456789Z", datetime(2026, 1, 3, 3, 0, 0, 123456, tzinfo=UTC)),
])
def test_parses_rfc3339(text: str, expected: datetime) -> None:
    assert maintenance.parse_rfc3339(text) == expected


@pytest.mark.parametrize("text", ["soon", "", "2026-01-03", "2026-01-03T03:00:00",
                                  "2026-01-03 03:00:00Z", "2026-13-03T03:00:00Z",
                                  "2026-02-30T03:00:00Z", "2026-01-03T24:00:00Z",
                                  "2026-01-03T03:00:00+2:00", "2026-01-03T03:00:00Z\n", 1767409200])
def test_rejects_what_is_not_rfc3339(text: object) -> None:
    with pytest.raises(AidcError, match="RFC 3339|not a valid date-time"):
        maintenance.parse_rfc3339(text)


def test_a_datetime_needs_its_offset() -> None:
    """YAML reads an unquoted timestamp as a datetime: accepted with its zone, written out."""
    assert maintenance.rfc3339(SAT) == "2026-01-03T03:00:00Z"
    with pytest.raises(AidcError, match="no UTC offset"):
        maintenance.rfc3339(SAT.replace(tzinfo=None))


@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1),
                    timezones=st.just(UTC)))
def test_round_trips_any_utc_time(when: datetime) -> None:
    assert maintenance.parse_rfc3339(maintenance.rfc3339(when)) == when


@pytest.mark.parametrize(("hours", "rule", "expected"), [
    (8, "FREQ=WEEKLY;BYDAY=SA,SU", 64),   # the default: 8 weekend days in any 32 days
    (8, "FREQ=WEEKLY;BYDAY=SA", 32),
    (4, "FREQ=DAILY", 128),
    (3, "FREQ=DAILY", 0),                 # windows under 4 hours do not count
    (48, "FREQ=MONTHLY", 48),
    (8, "FREQ=MONTHLY", 8),
    (24, "FREQ=DAILY", 768),              # back-to-back days merge into one window
])
def test_minimum_availability(hours: int, rule: str, expected: int) -> None:
    got = maintenance.minimum_availability(SAT, SAT + timedelta(hours=hours), rule)
    assert got == timedelta(hours=expected)


def test_a_finite_rule_leaves_no_time_once_it_ends() -> None:
    got = maintenance.minimum_availability(SAT, SAT + timedelta(hours=8), "FREQ=DAILY;COUNT=40")
    assert got == timedelta(0)


def test_a_rule_too_dense_to_expand_is_not_judged() -> None:
    """Every minute: its windows merge into one; the expansion cap stops before 32 days."""
    assert maintenance.minimum_availability(SAT, SAT + timedelta(hours=5), "FREQ=MINUTELY") is None


def test_rejects_recurring_window_below_48_hours() -> None:
    maintenance.check_recurring_window(SAT, SAT + timedelta(hours=8), "FREQ=WEEKLY;BYDAY=SA,SU")
    with pytest.raises(AidcError, match="leaves 32 hours .* at least 48 hours"):
        maintenance.check_recurring_window(SAT, SAT + timedelta(hours=8), "FREQ=WEEKLY;BYDAY=SA")


@pytest.mark.parametrize("rule", ["every weekend", "", "FREQ=WEEKLY\nDTSTART:20260101T000000Z",
                                  "FREQ=YEARLY;BYMONTH=13", "FREQ=DAILY;UNTIL=20270101T000000"])
def test_rejects_what_is_not_an_rrule(rule: str) -> None:
    with pytest.raises(AidcError, match="RRULE"):
        maintenance.check_recurring_window(SAT, SAT + timedelta(hours=8), rule)
