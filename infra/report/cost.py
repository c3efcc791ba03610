"""Text renderings of a cost report and a cost diff, for terminals and CI logs.

Pure functions of the typed values (``infra.cost``); the JSON forms are the values' ``as_dict``.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from infra.cost.diff import CostDiff, ResourceChange
from infra.cost.model import CostLine, CostReport


def _usd(amount: float) -> str:
    return f"{amount:,.2f}"


def _signed(amount: float) -> str:
    return f"{amount:+,.2f}"


def _component_name(urn: str | None) -> str:
    if not urn:
        return "(no component)"
    name = urn.rsplit("::", 1)[-1]
    kind = urn.rsplit("::", 2)[-2] if urn.count("::") >= 2 else ""
    kind = kind.rsplit("$", 1)[-1]
    return f"{name}  <{kind}>" if kind else name


def render_cost(report: CostReport) -> str:
    """Priced lines grouped by component, the totals, what is unpriced and why, what is free."""
    fixed = [line for line in report.lines if line.charge == "fixed"]
    width = max([len(line.name) + len(f" [{line.capacity}]" if line.capacity else "")
                 for line in fixed] + [len("Total (priced resources)") - 2, 24])
    lines = [f"Cost of {report.project}/{report.stack}: {report.currency} a month "
             f"({report.hours_per_month} h), list prices, catalog as of {report.as_of.isoformat()}",
             "",
             f"  {'resource':<{width}}  {'minimum':>12}  {'maximum':>12}  basis"]
    groups: dict[str | None, list[CostLine]] = defaultdict(list)
    for line in fixed:
        groups[line.component].append(line)
    for component, members in groups.items():
        lo = sum(m.monthly_min for m in members)
        hi = sum(m.monthly_max for m in members)
        lines.append(f"{_component_name(component):<{width + 2}}  {_usd(lo):>12}  {_usd(hi):>12}")
        for m in members:
            label = m.name + (f" [{m.capacity}]" if m.capacity else "")
            lines.append(f"  {label:<{width}}  {_usd(m.monthly_min):>12}  "
                         f"{_usd(m.monthly_max):>12}  {m.basis}")
    lines.append(f"{'Total (priced resources)':<{width + 2}}  {_usd(report.monthly_min):>12}  "
                 f"{_usd(report.monthly_max):>12}")
    if report.unpriced:
        lines += ["", f"Unpriced ({len(report.unpriced)}), not in the total:"]
        lines += [f"  {item.name}  ({item.type}): {item.reason}" for item in report.unpriced]
    usage = Counter(u for line in report.lines for u in line.usage)
    if usage:
        lines += ["", "Billed by use, not in the figures:"]
        lines += [f"  {text}" + (f"  ({count} resources)" if count > 1 else "")
                  for text, count in usage.items()]
    no_charge = Counter((line.charge, line.type, line.basis) for line in report.lines
                        if line.charge != "fixed")
    if no_charge:
        lines += ["", f"No fixed charge ({sum(no_charge.values())}):"]
        lines += [f"  {count} x {kind}: {basis}" + (" (billed by use)" if charge == "usage" else "")
                  for (charge, kind, basis), count in no_charge.items()]
    return "\n".join(lines) + "\n"


def _change_row(change: ResourceChange) -> str:
    def pair(before: float | None, after: float | None) -> str:
        show = [("-" if v is None else _usd(v)) for v in (before, after)]
        return f"{show[0]} -> {show[1]}"

    row = (f"  {change.change:<12} {change.name}  max {pair(change.monthly_max_before, change.monthly_max_after)}"
           f" ({_signed(change.monthly_max_delta)}), min "
           f"{pair(change.monthly_min_before, change.monthly_min_after)}")
    return row + (f"\n      {change.note}" if change.note else "")


def render_cost_diff(diff: CostDiff) -> str:
    """Totals before and after, then every resource that moved them, largest change first."""
    base, head = diff.base, diff.head
    lines = [f"Cost change {base.project}/{base.stack} -> {head.project}/{head.stack}: "
             f"{head.currency} a month ({head.hours_per_month} h)",
             "",
             f"  {'':<8}  {'base':>12}  {'head':>12}  {'change':>12}",
             f"  {'minimum':<8}  {_usd(base.monthly_min):>12}  {_usd(head.monthly_min):>12}  "
             f"{_signed(diff.monthly_min_delta):>12}",
             f"  {'maximum':<8}  {_usd(base.monthly_max):>12}  {_usd(head.monthly_max):>12}  "
             f"{_signed(diff.monthly_max_delta):>12}"]
    if len(base.unpriced) or len(head.unpriced):
        lines.append(f"  unpriced resources, not in the totals: {len(base.unpriced)} -> "
                     f"{len(head.unpriced)}")
    if diff.changes:
        lines += ["", "Resources that changed, largest change at the maximum first:"]
        lines += [_change_row(change) for change in diff.changes]
    else:
        lines += ["", "No resource's cost changed."]
    return "\n".join(lines) + "\n"
