"""GKE maintenance policy rules: RFC 3339 times, the recurring window's availability, and the
limits on maintenance exclusions.

GKE refuses a maintenance policy that breaks these rules when the cluster is created or
updated, in the middle of a `pulumi up`; aidc checks them when the config is read.

- Times are RFC 3339 date-times with an offset (`2026-01-03T03:00:00Z`); the recurrence is an
  RFC 5545 RRULE. https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters#RecurringTimeWindow
  and https://www.rfc-editor.org/rfc/rfc3339#section-5.6
- "You must allow at least 48 hours of maintenance availability in a 32-day rolling window.
  Only contiguous availability windows of at least four hours are considered."
  https://cloud.google.com/kubernetes-engine/docs/how-to/maintenance-windows-and-exclusions#considerations
- A cluster holds at most 20 maintenance exclusions, and a "No upgrades" exclusion (the scope
  aidc sets) lasts at most 30 days.
  https://cloud.google.com/kubernetes-engine/docs/concepts/maintenance-windows-and-exclusions#limitations-maint-exclusions
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from itertools import islice

from dateutil.rrule import rrulestr

from infra.errors import AidcError

MIN_AVAILABILITY = timedelta(hours=48)
ROLLING_WINDOW = timedelta(days=32)
MIN_CONTIGUOUS = timedelta(hours=4)
MAX_EXCLUSIONS = 20
NO_UPGRADES_MAX = timedelta(days=30)

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})")
# How far ahead the recurring window is expanded to find its worst 32-day stretch: a year of
# occurrences covers every weekly and monthly pattern; the cap bounds the work for rules that
# recur every minute (whose windows merge into one anyway).
_HORIZON = timedelta(days=400)
_MAX_OCCURRENCES = 5000


def parse_rfc3339(value: object) -> datetime:
    """An RFC 3339 date-time with its offset, as an aware datetime; anything else is refused.
    A datetime (YAML reads an unquoted timestamp as one) must carry its time zone."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise AidcError(f"{value.isoformat()} has no UTC offset; write it as RFC 3339 with "
                            "one, e.g. '2026-01-03T03:00:00Z'")
        return value
    match = _RFC3339.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        shown = repr(value) if isinstance(value, str) and len(value) <= 40 else "the value"
        raise AidcError(f"{shown} is not an RFC 3339 date-time; write e.g. "
                        "'2026-01-03T03:00:00Z' (date, 'T', time, and 'Z' or an offset)")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        tz = timezone.utc if offset in "Zz" else timezone(
            (1 if offset[0] == "+" else -1) * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                        int((fraction or "0")[:6].ljust(6, "0")), tzinfo=tz)
    except ValueError as exc:
        raise AidcError(f"{value!r} is not a valid date-time ({exc})") from None


def rfc3339(value: object) -> str:
    """The value as RFC 3339 text: checked, and a datetime written out (UTC as 'Z')."""
    when = parse_rfc3339(value)
    if isinstance(value, str):
        return value
    return when.isoformat().replace("+00:00", "Z")


def _occurrences(start: datetime, recurrence: str) -> tuple[list[datetime], bool]:
    """The window's starts within the horizon, and whether the cap cut them short."""
    if "\n" in recurrence or "\r" in recurrence or not recurrence.upper().startswith(("FREQ=", "RRULE:FREQ=")):
        raise AidcError(f"{recurrence[:60]!r} is not an RFC 5545 RRULE; write e.g. "
                        "'FREQ=WEEKLY;BYDAY=SA,SU' or 'FREQ=DAILY'")
    try:
        rule = rrulestr(recurrence, dtstart=start, forceset=False)
        found = list(islice(rule.xafter(start, inc=True), _MAX_OCCURRENCES))
    except (ValueError, TypeError, OverflowError) as exc:
        raise AidcError(f"{recurrence[:60]!r} is not a valid RRULE ({exc}); write e.g. "
                        "'FREQ=WEEKLY;BYDAY=SA,SU'") from None
    if not found:
        raise AidcError(f"{recurrence[:60]!r} is an RRULE that never recurs from the start time; "
                        "write e.g. 'FREQ=WEEKLY;BYDAY=SA,SU'")
    return [when for when in found if when - start <= _HORIZON], len(found) == _MAX_OCCURRENCES


def minimum_availability(start: datetime, end: datetime, recurrence: str) -> timedelta | None:
    """The least maintenance time any 32-day stretch gets from this recurring window, counting
    only contiguous periods of at least four hours; None when the rule recurs so often that the
    expanded occurrences do not reach a whole 32-day stretch (such windows merge into one)."""
    length = end - start
    spans: list[list[datetime]] = []
    occurrences, capped = _occurrences(start, recurrence)
    for when in occurrences:
        if spans and when <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], when + length)
        else:
            spans.append([when, when + length])
    usable = [(a, b) for a, b in spans if b - a >= MIN_CONTIGUOUS]
    horizon = spans[-1][1] if capped else start + _HORIZON
    # The scarcest stretch starts where a window has just closed (or at the first window).
    starts = [start] + [b for _, b in spans]
    worst: timedelta | None = None
    for t in starts:
        if t + ROLLING_WINDOW > horizon:
            break
        got = sum((min(b, t + ROLLING_WINDOW) - max(a, t) for a, b in usable
                   if b > t and a < t + ROLLING_WINDOW), timedelta(0))
        worst = got if worst is None else min(worst, got)
    return worst


def check_recurring_window(start: datetime, end: datetime, recurrence: str) -> None:
    """GKE's availability rule for a recurring maintenance window, or an error saying what it
    gets instead."""
    found = minimum_availability(start, end, recurrence)
    if found is not None and found < MIN_AVAILABILITY:
        hours = found.total_seconds() / 3600
        raise AidcError(
            f"{recurrence!r} with a {_hours(end - start)} window leaves {hours:g} hours of "
            f"maintenance in the scarcest 32 days; GKE needs at least 48 hours in every 32-day "
            "stretch, counting only windows of 4 hours or more: lengthen the window or make it "
            "recur more often")


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:g}-hour"
