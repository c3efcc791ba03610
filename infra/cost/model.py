"""The cost report: a stack's monthly cost, resource by resource, at its pools' minimum and maximum.

Its JSON is a public contract (pull-request bots and budgets read it):

    {"currency": "USD", "as_of": "2026-12-03", "hours_per_month": 730,
     "resources": [{"urn", "type", "name", "monthly_min", "monthly_max", "basis",
                    "component", "charge", "capacity", "usage"}],
     "unpriced": [{"urn", "type", "name", "component", "reason"}],
     "total": {"monthly_min", "monthly_max"}, ...}

Every custom resource of the plan is in exactly one of ``resources`` (priced, or recognised as
carrying no fixed charge: ``charge`` says which) and ``unpriced`` (with the reason). Amounts are
USD rounded to cents per line; totals are the sums of the lines. Keys may be added; none may be
renamed or removed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from infra.catalog.source import Source
from infra.errors import AidcError

Charge = Literal["fixed", "usage", "free"]
"""fixed: a monthly figure; usage: no fixed charge, billed only by use; free: no charge at all."""


def cents(usd: float) -> float:
    """Round to the cent, the precision of every amount in a report."""
    return round(usd + 0.0, 2) + 0.0


def dollars(amount: float, *, signed: bool = False) -> str:
    """An amount as findings and pull-request comments quote it: `$1,234.56`, `+$12.00`."""
    sign = ("+" if amount >= 0 else "-") if signed else ("-" if amount < 0 else "")
    return f"{sign}${abs(amount):,.2f}"


@dataclass(frozen=True)
class CostLine:
    """One resource's monthly cost at the stack's minimum and maximum size, and why."""

    urn: str
    type: str
    name: str
    component: str | None
    monthly_min: float
    monthly_max: float
    basis: str
    charge: Charge = "fixed"
    capacity: str | None = None
    usage: tuple[str, ...] = ()
    sources: tuple[Source, ...] = field(default=(), compare=False)
    """Where the figures came from; the report lists them once (``CostReport.sources``)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "urn": self.urn, "type": self.type, "name": self.name,
            "monthly_min": self.monthly_min, "monthly_max": self.monthly_max, "basis": self.basis,
            "component": self.component, "charge": self.charge, "capacity": self.capacity,
            "usage": list(self.usage),
        }


@dataclass(frozen=True)
class Unpriced:
    """A resource aidc cannot put a figure on, and the reason."""

    urn: str
    type: str
    name: str
    component: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"urn": self.urn, "type": self.type, "name": self.name,
                "component": self.component, "reason": self.reason}


@dataclass(frozen=True)
class CostReport:
    """What a plan costs a month, as a typed value: render it, diff it, or budget against it."""

    project: str
    stack: str
    currency: str
    as_of: date
    hours_per_month: int
    lines: tuple[CostLine, ...]
    unpriced: tuple[Unpriced, ...] = ()
    sources: tuple[Source, ...] = field(default=(), compare=False)

    @property
    def monthly_min(self) -> float:
        return cents(sum(line.monthly_min for line in self.lines))

    @property
    def monthly_max(self) -> float:
        return cents(sum(line.monthly_max for line in self.lines))

    def by_component(self) -> list[dict[str, Any]]:
        """Component totals in the order components first appear, for reports and budgets."""
        totals: dict[str, list[float]] = {}
        for line in self.lines:
            key = line.component or ""
            pair = totals.setdefault(key, [0.0, 0.0])
            pair[0] += line.monthly_min
            pair[1] += line.monthly_max
        return [{"component": key or None, "monthly_min": cents(lo), "monthly_max": cents(hi)}
                for key, (lo, hi) in totals.items()]

    def largest(self, n: int = 5) -> list[CostLine]:
        """The ``n`` lines that weigh most at the maximum size."""
        return sorted(self.lines, key=lambda line: (-line.monthly_max, line.urn))[:n]

    def as_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "as_of": self.as_of.isoformat(),
            "hours_per_month": self.hours_per_month,
            "project": self.project,
            "stack": self.stack,
            "resources": [line.as_dict() for line in self.lines],
            "unpriced": [item.as_dict() for item in self.unpriced],
            "total": {"monthly_min": self.monthly_min, "monthly_max": self.monthly_max},
            "by_component": self.by_component(),
            "sources": [{"url": s.url, "as_of": s.as_of.isoformat(), "note": s.note}
                        for s in self.sources],
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2) + "\n"

    @classmethod
    def from_dict(cls, raw: Any, where: str = "cost report") -> CostReport:
        """A report read back from its JSON; a wrong shape names the field that is wrong."""
        if not is_cost_report(raw):
            raise AidcError(f"{where}: not an aidc cost report (expected currency, "
                            "hours_per_month, resources and total)")
        try:
            as_of = date.fromisoformat(str(raw.get("as_of")))
        except ValueError:
            raise AidcError(f"{where}.as_of: {raw.get('as_of')!r} is not a date "
                            "(YYYY-MM-DD)") from None
        return cls(
            project=str(raw.get("project", "")),
            stack=str(raw.get("stack", "")),
            currency=str(raw["currency"]),
            as_of=as_of,
            hours_per_month=_number(raw, "hours_per_month", where),
            lines=tuple(_line(item, f"{where}.resources[{i}]")
                        for i, item in enumerate(_list(raw, "resources", where))),
            unpriced=tuple(_unpriced(item, f"{where}.unpriced[{i}]")
                           for i, item in enumerate(_list(raw, "unpriced", where))),
        )


def is_cost_report(raw: Any) -> bool:
    """Whether parsed JSON has the shape of a cost report (as opposed to a plan)."""
    return (isinstance(raw, dict) and "currency" in raw and "hours_per_month" in raw
            and isinstance(raw.get("resources"), list) and isinstance(raw.get("total"), dict))


def read_json(path: Path) -> Any:
    """Parsed JSON of ``path``; unreadable or malformed files are an AidcError naming it."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise AidcError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise AidcError(f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: "
                        f"{exc.msg}") from None


def _list(raw: dict, key: str, where: str) -> list:
    value = raw.get(key, [])
    if not isinstance(value, list):
        raise AidcError(f"{where}.{key}: expected a list, got {type(value).__name__}")
    return value


def _number(raw: dict, key: str, where: str) -> Any:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AidcError(f"{where}.{key}: expected a number, got {value!r}")
    return value


def _text(raw: dict, key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str):
        raise AidcError(f"{where}.{key}: expected a string, got {value!r}")
    return value


def _line(raw: Any, where: str) -> CostLine:
    if not isinstance(raw, dict):
        raise AidcError(f"{where}: expected an object with urn, type, name, monthly_min, "
                        "monthly_max and basis")
    charge = raw.get("charge", "fixed")
    if charge not in ("fixed", "usage", "free"):
        raise AidcError(f"{where}.charge: {charge!r} is not one of fixed, usage, free")
    usage = raw.get("usage") or []
    return CostLine(
        urn=_text(raw, "urn", where), type=_text(raw, "type", where),
        name=_text(raw, "name", where), component=raw.get("component"),
        monthly_min=float(_number(raw, "monthly_min", where)),
        monthly_max=float(_number(raw, "monthly_max", where)),
        basis=str(raw.get("basis", "")), charge=charge, capacity=raw.get("capacity"),
        usage=tuple(str(u) for u in usage) if isinstance(usage, list) else (),
    )


def _unpriced(raw: Any, where: str) -> Unpriced:
    if not isinstance(raw, dict):
        raise AidcError(f"{where}: expected an object with urn, type and reason")
    return Unpriced(urn=_text(raw, "urn", where), type=_text(raw, "type", where),
                    name=str(raw.get("name") or raw["urn"].rsplit("::", 1)[-1]),
                    component=raw.get("component"), reason=str(raw.get("reason", "")))


def unique_sources(lines: Iterable[CostLine]) -> tuple[Source, ...]:
    """The sources behind ``lines``, each once, in first-use order."""
    return tuple(dict.fromkeys(source for line in lines for source in line.sources))
