"""Plain-text renderings of a Plan and of a plan diff, for terminals and CI logs."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

from infra.engine.diff import ABSENT, PlanDiff, ValueChange
from infra.engine.plan import SECRET_PLACEHOLDER, STACK_TYPE, Plan, PlanResource


def _children(plan: Plan) -> dict[str | None, list[PlanResource]]:
    kids: dict[str | None, list[PlanResource]] = defaultdict(list)
    for res in plan.resources:
        kids[res.parent].append(res)
    return kids


def render_plan(plan: Plan, *, summary_only: bool = False) -> str:
    """The resource tree grouped by component, then counts by type."""
    custom = plan.custom_resources()
    components = [r for r in plan.resources if not r.custom and r.type != STACK_TYPE]
    lines = [f"Plan {plan.project}/{plan.stack}: {len(custom)} resources in "
             f"{len(components)} components", ""]
    if not summary_only:
        kids = _children(plan)
        roots = [r for r in plan.resources if r.type == STACK_TYPE] or \
                [r for r in plan.resources if r.parent is None]

        def walk(res: PlanResource, depth: int) -> None:
            pad = "  " * depth
            if res.custom:
                flag = " [protected]" if res.protect else ""
                lines.append(f"{pad}{res.name}  ({res.type}){flag}")
                return
            below = kids.get(res.urn, [])
            count = sum(1 for k in below if k.custom)
            lines.append(f"{pad}{res.name}  <{res.type}>  {count} resource(s)")
            # components first, then resources, each in registration order
            for kid in [k for k in below if not k.custom] + [k for k in below if k.custom]:
                walk(kid, depth + 1)

        for root in roots:
            for kid in [k for k in kids.get(root.urn, []) if not k.custom] + \
                       [k for k in kids.get(root.urn, []) if k.custom]:
                walk(kid, 0)
        lines.append("")
    lines.append("Resources by type:")
    counts = Counter(r.type for r in custom)
    width = max((len(t) for t in counts), default=0)
    for type_token, count in sorted(counts.items()):
        lines.append(f"  {type_token.ljust(width)}  {count}")
    if plan.extras.get("unsetSecrets"):
        lines += ["", "Secrets not set in the stack file (planned as [secret]; `pulumi up` "
                  "refuses until each is set with `pulumi config set --secret --path KEY VALUE`):",
                  *(f"  {key}" for key in plan.extras["unsetSecrets"])]
    if "capacity" in plan.extras:
        from infra.report.capacity import render_capacity

        lines += ["", *render_capacity(plan.extras["capacity"])]
    return "\n".join(lines) + "\n"


MAX_VALUE = 120  # characters of one side of a change in text


def value_text(value: Any) -> str:
    """A value as one short line: JSON (so strings are quoted), cut at MAX_VALUE."""
    text = repr(value) if value is ABSENT else json.dumps(value, ensure_ascii=False,
                                                             default=str)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def value_change_text(change: ValueChange) -> str:
    """`old -> new`, secrets as [secret] on both sides."""
    if change.secret:
        return f"{SECRET_PLACEHOLDER} -> {SECRET_PLACEHOLDER}"
    return f"{value_text(change.old)} -> {value_text(change.new)}"


def render_diff(diff: PlanDiff, base: Plan, target: Plan) -> str:
    lines = [f"Diff {base.project}/{base.stack} -> {target.project}/{target.stack}: "
             f"{len(diff.added)} added, {len(diff.removed)} removed, {len(diff.changed)} changed"]
    for urn, type_token, name in diff.added:
        lines.append(f"+ {name}  ({type_token})")
    for urn, type_token, name in diff.removed:
        lines.append(f"- {name}  ({type_token})")
    for change in diff.changed:
        mark = "+-" if change.replaces else "~ "
        lines.append(f"{mark} {change.name}  ({change.type})")
        for value in change.values:
            tag = "  [forces replacement]" if value.path in change.replaces else ""
            lines.append(f"      {value.path}: {value_change_text(value)}{tag}")
    replaced = [c for c in diff.changed if c.replaces]
    if replaced:
        lines.append(f"{len(replaced)} resource(s) would be REPLACED (destroyed and recreated): "
                     + ", ".join(c.name for c in replaced))
    if diff.empty:
        lines.append("no differences")
    return "\n".join(lines) + "\n"
